"""DDPM sample quality and speed, beside references, in one process.

Sample quality is the classifier two-sample test ``probmodels.metrics.c2st``:
the 5-fold accuracy of a gradient-boosting classifier telling real held-out
rows from samples (0.5: indistinguishable). Held-out ``score`` (nats per row,
a lower bound for the DDPM) is printed beside it.

1. Two moons: 8,000 points (noise 0.05) split into 4,000 to train on and
   4,000 held out (one draw split in two: make_moons places points on a fixed
   grid, so two separate draws would share positions). The DDPM with its
   defaults, ancestral (1,000 steps) and DDIM with 50 steps (default eta 0.5,
   and eta 0), beside sklearn's
   GaussianMixture(8) and real against real. Targets: C2ST <= 0.52, fit
   <= 2 minutes, DDIM-50 >= 15x faster and no more than 0.03 worse;
   DPM-Solver++(2M) with 20 steps >= 40x faster and within 0.03.
2. The 2-D toys of the flow literature (``probmodels.datasets.make_toy_2d``:
   8 Gaussians, pinwheel, checkerboard), 8,000 points to train on and 8,000
   held out, the DDPM with its defaults (ancestral) beside GaussianMixture(8).
   Target: C2ST <= 0.55 each. Full runs only (``--skip-toys`` leaves them).
3. Digits 8 x 8: half the images to train on (stratified), dequantised
   (+ U(0, 1)) so that held-out scores are densities; samples are floored back
   to the 0..16 grid and compared with the held-out integer images. The DDPM
   twice, batch 128, EMA 0.999, other parameters at their defaults: on rows
   (the 256-wide residual MLP x 3 a table gets, ``--digits-epochs`` epochs)
   and told the rows are images (``image_shape=(1, 8, 8)``, so "auto" picks
   the UNet; ``--unet-epochs`` epochs, lr 2e-3), beside the VAE, PCA +
   GaussianMixture and real against real; then a class-conditional DDPM on
   rows (a third of the MLP's epochs) with guided samples per class, judged
   by a logistic regression trained on real digits. Targets: C2ST <= 0.80
   with at most 10 minutes of training; >= 90% of guided samples recognised.

The engine's overhead against a bare torch loop (the same network, batches
and EMA) is ``bench_engine.py``.

Run: .venv/bin/python benchmarks/bench_ddpm.py [--device cuda] [--skip-digits]
"""

import argparse
import math
import time

import numpy as np
import torch
from _results import QUICK, quick, record
from sklearn.datasets import load_digits, make_moons
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture as SkMixture
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from probmodels import DDPM, VAE
from probmodels.datasets import make_toy_2d
from probmodels.metrics import c2st

# The UNet's epochs on digits that fit in 10 minutes on 2 CPU cores.
UNET_EPOCHS = 1350


def timed(fn, *args):
    tic = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - tic


def network_call_times(ddpm, n, t_full, calls=200):
    """Ancestral sampling's time per network call, and a bare loop's.

    The bare loop calls the same denoiser on a batch of the same size in
    inference mode, with nothing else per step: what remains of the ratio is
    the sampler's own work (the schedule's coefficients, the noise). Each is
    timed twice, alternately, and the faster kept, so that a stall of this
    shared machine during one of them does not decide the ratio.
    """
    net = ddpm.module_.denoiser
    device = next(net.parameters()).device
    x = torch.randn(n, ddpm._types.n_continuous, device=device)

    def bare():
        tic = time.perf_counter()
        with torch.inference_mode():
            y = x
            for t in range(calls, 0, -1):
                y = net(y, torch.full((n,), t, device=device), None)
        return (time.perf_counter() - tic) / calls

    first = bare()
    _, t_again = timed(lambda: ddpm.sample(n, random_state=0))
    return min(t_full, t_again) / ddpm.n_timesteps, min(first, bare())


def moons(device):
    A, _ = make_moons(8000, noise=0.05, random_state=0)
    X, Xte = train_test_split(A, test_size=0.5, random_state=0)
    print("1. Two moons: 4,000 training points, 4,000 held out")
    print(f"   real vs real                  C2ST {c2st(X, Xte):.3f}")
    gmm = SkMixture(8, random_state=0).fit(X)
    print(
        f"   sklearn GaussianMixture(8)     C2ST {c2st(Xte, gmm.sample(4000)[0]):.3f}"
        f"   held-out score {gmm.score(Xte):.3f}"
    )
    epochs, n = quick(300, 15), quick(4000, 1000)
    ddpm, t_fit = timed(
        lambda: DDPM(max_epochs=epochs, device=device, random_state=0).fit(X)
    )
    full, t_full = timed(lambda: ddpm.sample(n, random_state=0))
    fast, t_fast = timed(lambda: ddpm.sample(n, n_steps=50, random_state=0))
    c_full, c_fast = c2st(Xte[:n], full), c2st(Xte[:n], fast)
    c_zero = c2st(Xte[:n], ddpm.sample(n, n_steps=50, eta=0.0, random_state=0))
    solver, t_solver = timed(
        lambda: ddpm.sample(n, sampler="dpmpp_2m", n_steps=20, random_state=0)
    )
    c_solver = c2st(Xte[:n], solver)
    record(
        "ddpm",
        f"two moons, {epochs} epochs: DDIM 50 steps against ancestral 1000",
        ours=t_fast,
        reference=t_full,
        reference_name="ancestral sampling, 1000 steps",
        metric=f"sampling time for {n} points (s)",
        quality=c_fast,
        quality_name=f"C2ST of DDIM-50 samples (ancestral: {c_full:.3f}; 0.5 = perfect)",
    )
    print(
        f"   DDPM defaults, ancestral 1000 C2ST {c_full:.3f}   held-out score "
        f"{ddpm.score(Xte):.3f} (bound)   fit {t_fit:.0f} s   sampling {t_full:.1f} s"
    )
    print(
        f"   DDPM, DDIM 50 steps (eta 0.5) C2ST {c_fast:.3f}   sampling {t_fast:.2f} s: "
        f"{t_full / t_fast:.0f}x faster, {c_fast - c_full:+.3f} C2ST"
    )
    print(
        f"   DDPM, DDIM 50 steps, eta 0    C2ST {c_zero:.3f}: {c_zero - c_full:+.3f} C2ST"
    )
    record(
        "ddpm",
        f"two moons, {epochs} epochs: DPM-Solver++(2M) 20 steps against ancestral 1000",
        ours=t_solver,
        reference=t_full,
        reference_name="ancestral sampling, 1000 steps",
        metric=f"sampling time for {n} points (s)",
        quality=c_solver,
        quality_name=(
            f"C2ST of dpmpp_2m-20 samples (ancestral: {c_full:.3f}; target within "
            "0.03, >= 40x faster)"
        ),
    )
    per_call, bare_call = network_call_times(ddpm, n, t_full)
    record(
        "ddpm",
        f"two moons, {epochs} epochs: ancestral sampling per network call",
        ours=per_call,
        reference=bare_call,
        reference_name="a bare torch loop of the same network (inference mode)",
        metric=f"time per network call, {n} points (s)",
        quality=per_call / bare_call,
        quality_name="ours / bare (target <= 1.1)",
    )
    print(
        f"   ancestral sampling per call   {per_call * 1e3:.2f} ms against "
        f"{bare_call * 1e3:.2f} ms for a bare loop: {per_call / bare_call:.3f}x "
        "(target <= 1.1)"
    )
    print(
        f"   DDPM, DPM-Solver++(2M) 20     C2ST {c_solver:.3f}   sampling "
        f"{t_solver:.2f} s: {t_full / t_solver:.0f}x faster, "
        f"{c_solver - c_full:+.3f} C2ST (target within 0.03, >= 40x)"
    )
    return ddpm


def toys(device):
    print("\n2. 2-D toys: 8,000 training points, 8,000 held out, DDPM defaults")
    for name in ("8gaussians", "pinwheel", "checkerboard"):
        X, Xte = train_test_split(
            make_toy_2d(name, 16000, random_state=0), test_size=0.5, random_state=0
        )
        gmm = SkMixture(8, random_state=0).fit(X)
        c_gmm = c2st(Xte, gmm.sample(len(Xte))[0])
        ddpm, t_fit = timed(DDPM(device=device, random_state=0).fit, X)
        c_full = c2st(Xte, ddpm.sample(len(Xte), random_state=0))
        c_solver = c2st(Xte, ddpm.sample(len(Xte), sampler="dpmpp_2m", random_state=0))
        record(
            "ddpm",
            f"{name}, defaults: ancestral samples",
            ours=t_fit,
            metric="fit time (s)",
            quality=c_full,
            quality_name=f"C2ST (target <= 0.55; GaussianMixture(8): {c_gmm:.3f})",
        )
        print(
            f"   {name:<13} C2ST ancestral {c_full:.3f}, dpmpp_2m-20 {c_solver:.3f}"
            f"   (GaussianMixture(8) {c_gmm:.3f})   held-out score "
            f"{ddpm.score(Xte):.3f}   fit {t_fit:.0f} s"
        )


def digits(device, epochs, unet_epochs):
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(
        X, y, test_size=0.5, random_state=0, stratify=y
    )
    # Dequantised: x + u, u ~ U(0, 1), so that held-out scores are densities;
    # samples go back to the integer grid by flooring.
    rng = np.random.default_rng(0)
    Dtr, Dte = Xtr + rng.uniform(size=Xtr.shape), Xte + rng.uniform(size=Xte.shape)
    grid = lambda S: np.clip(np.floor(S), 0, 16)  # noqa: E731
    print(f"\n3. Digits: {len(Xtr)} training images (+ U(0,1)), {len(Xte)} held out")
    print(f"   real vs real                   C2ST {c2st(Xtr, Xte):.3f}")
    pca_gmm = make_pipeline(PCA(20), SkMixture(10, random_state=0)).fit(Dtr)
    Z = pca_gmm[-1].sample(len(Xte))[0]
    print(
        f"   PCA(20) + GaussianMixture(10)  C2ST "
        f"{c2st(Xte, grid(pca_gmm[0].inverse_transform(Z))):.3f}"
    )
    vae, t_vae = timed(lambda: VAE(device=device, random_state=0).fit(Dtr))
    print(
        f"   VAE (defaults)                 C2ST "
        f"{c2st(Xte, grid(vae.sample(len(Xte), random_state=0))):.3f}   held-out "
        f"score {vae.score(Dte):.1f} (ELBO)   fit {t_vae:.0f} s"
    )
    # Rows (the residual MLP, as for any table) and images: image_shape tells
    # the DDPM the 64 columns are an 8 x 8 grid, and "auto" picks the UNet.
    for label, kwargs, n_epochs in (
        ("rows (residual MLP)", {}, epochs),
        (
            "image_shape=(1, 8, 8) (UNet), lr 2e-3",
            {"image_shape": (1, 8, 8), "lr": 2e-3},
            unet_epochs,
        ),
    ):
        ddpm, t_fit = timed(
            lambda kwargs=kwargs, n_epochs=n_epochs: DDPM(
                batch_size=128,
                max_epochs=n_epochs,
                device=device,
                random_state=0,
                **kwargs,
            ).fit(Dtr)
        )
        samples, t_sample = timed(
            lambda ddpm=ddpm: ddpm.sample(len(Xte), random_state=0)
        )
        steps = n_epochs * math.ceil(len(Xtr) / 128)
        c_full = c2st(Xte, grid(samples))
        record(
            "ddpm",
            f"digits, {label}, {n_epochs} epochs: ancestral samples",
            ours=t_fit,
            metric="fit time (s)",
            quality=c_full,
            quality_name="C2ST against held-out digits (target <= 0.80 within 600 s)",
        )
        print(f"   DDPM, {label}, {n_epochs} epochs ({steps} steps)")
        print(
            f"     ancestral                    C2ST {c_full:.3f}   held-out "
            f"score {ddpm.score(Dte):.1f} (bound)   fit {t_fit:.0f} s   "
            f"sampling {t_sample:.0f} s"
        )
        fast = ddpm.sample(len(Xte), n_steps=100, random_state=0)
        solver = ddpm.sample(len(Xte), sampler="dpmpp_2m", n_steps=50, random_state=0)
        print(f"     DDIM 100 steps               C2ST {c2st(Xte, grid(fast)):.3f}")
        print(f"     DPM-Solver++(2M) 50 steps    C2ST {c2st(Xte, grid(solver)):.3f}")

    cond, t_cond = timed(
        lambda: DDPM(
            batch_size=128, max_epochs=epochs // 3, device=device, random_state=0
        ).fit(Dtr, ytr)
    )
    judge = LogisticRegression(max_iter=5000).fit(Xtr, ytr)
    labels = np.repeat(np.arange(10), 30)
    print(
        f"   class-conditional DDPM, fit {t_cond:.0f} s; a logistic regression judges:"
    )
    for w in (0.0, 1.0, 3.0):
        guided = cond.sample(
            300, y=labels, guidance_scale=w, n_steps=100, random_state=1
        )
        hit = (judge.predict(grid(guided)) == labels).mean()
        print(
            f"   guided, w = {w:.0f}, DDIM 100        recognised as the requested class {hit:.1%}"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--digits-epochs", type=int, default=6000)
    parser.add_argument("--unet-epochs", type=int, default=UNET_EPOCHS)
    parser.add_argument("--skip-digits", action="store_true")
    parser.add_argument("--skip-toys", action="store_true")
    args = parser.parse_args()
    print(f"device={args.device!r}, torch threads={torch.get_num_threads()}\n")
    moons(args.device)
    if not (args.skip_toys or QUICK):
        toys(args.device)
    if not (args.skip_digits or QUICK):
        digits(args.device, args.digits_epochs, args.unet_epochs)


if __name__ == "__main__":
    main()
