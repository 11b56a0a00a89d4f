"""The training engine's overhead against a bare torch loop, old tree and new.

Two cases, each trained by ``probmodels.engine.Trainer`` and by a bare torch
loop doing the same work (same initial weights, same AdamW with the fused
kernel, same cosine schedule per step, same shuffled order each epoch):

1. FFN: an MLP (100,) on digits (75% of it, standardised), batch 200.
2. DDPM: the residual MLP (256 x 3) on standardised two moons, 1,000
   noising steps, batch 200, with an exponential moving average of the
   weights after every step.

Both are timed (best of 3, interleaved with the bare loop) in this tree and,
with ``--compare REV`` (default: 5f9cd19, the last commit before the engine
became ``probmodels/engine/`` with a named batch, the loss on the network and
data parallelism as a strategy), in that commit's tree, extracted with
``git archive`` into a temporary folder. Each tree runs in its own
subprocess, twice, alternately; the table shows each tree's best. The bare
loop is the same code in every run, so the overheads of the two trees can be
set side by side. The report records this tree's figures, with the old
tree's overhead as the quality figure.

Run: .venv/bin/python benchmarks/bench_engine.py [--device cuda] [--compare REV]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _results import QUICK, quick, record

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FFN_EPOCHS = quick(100, 20)
DDPM_STEPS = quick(1500, 200)
OLD = "5f9cd19"


# ------------------------------------------------------------ the worker
def _engine_api():
    """The engine of whichever tree is on the path (new or 0.1.0's layout).

    Read from the tree's files: an installed probmodels (an editable install)
    would otherwise answer for a module the old tree lacks.
    """
    import importlib

    import probmodels

    if (Path(probmodels.__file__).parent / "engine").is_dir():
        return importlib.import_module("probmodels.engine"), True
    return importlib.import_module("probmodels.nn._engine"), False


def _ffn(device, epochs):
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from probmodels.nn import modules

    engine, new = _engine_api()
    X, y = load_digits(return_X_y=True)
    Xtr, _, ytr, _ = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    Xtr = StandardScaler().fit_transform(Xtr)
    dev = torch.device(device)
    X = torch.tensor(Xtr, dtype=torch.float32, device=dev)
    y = torch.tensor(ytr, dtype=torch.long, device=dev)
    network = modules.MLPClassifierNetwork if new else modules.MLP
    with engine.seeded(0, dev):
        initial = network(X.shape[1], (100,), 10).to(dev).state_dict()
    batch, n = 200, len(X)
    steps = epochs * -(-n // batch)

    def fresh():
        module = network(X.shape[1], (100,), 10).to(dev)
        module.load_state_dict(initial)
        return module

    def run_engine():
        module = fresh()
        settings = dict(
            max_epochs=epochs, batch_size=batch, lr=1e-3, weight_decay=1e-4, tol=None
        )
        if new:
            config = engine.TrainingConfig(**settings, seeds=engine.Seeds(order=5))
            engine.Trainer(module, config, dev).fit(engine.Batch(X, y))
        else:
            config = engine.TrainingConfig(**settings, seed=5)

            def loss_fn(m, xb, yb):
                return F.cross_entropy(m(xb), yb)

            engine.Trainer(module, loss_fn, config, dev).fit((X, y))
        return module

    def run_bare():
        module = fresh()
        opt = torch.optim.AdamW(
            module.parameters(), lr=1e-3, weight_decay=1e-4, fused=True
        )
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        gen = torch.Generator().manual_seed(5)
        for _ in range(epochs):
            order = torch.randperm(n, generator=gen).to(dev)
            for lo in range(0, n, batch):
                idx = order[lo : lo + batch]
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(module(X[idx]), y[idx])
                loss.backward()
                opt.step()
                sched.step()
        return module

    return run_bare, run_engine


def _ddpm(device, n_steps):
    import torch
    from sklearn.datasets import make_moons

    from probmodels.nn.denoisers import ResidualMLP

    engine, new = _engine_api()
    dev = torch.device(device)
    A, _ = make_moons(4000, noise=0.05, random_state=0)
    X = torch.tensor((A - A.mean(0)) / A.std(0), dtype=torch.float32, device=dev)
    T, batch = 1000, 200
    epochs = n_steps // (len(X) // batch)
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    abar = torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, 0)])
    abar = abar.to(dev)
    with engine.seeded(0, dev):
        initial = ResidualMLP(2).state_dict()

    def noised(x0, generator):
        t = torch.randint(1, T + 1, (len(x0),), generator=generator, device=dev)
        eps = torch.randn(x0.shape, generator=generator, device=dev)
        a = abar[t].to(x0.dtype)[:, None]
        return a.sqrt() * x0 + (1 - a).sqrt() * eps, t, eps

    def fresh():
        module = ResidualMLP(2).to(dev)
        module.load_state_dict(initial)
        return module

    def run_engine():
        denoiser = fresh()
        hooks = [engine.ExponentialMovingAverage(0.999)]
        settings = dict(max_epochs=epochs, batch_size=batch, tol=None)
        if new:
            from probmodels.diffusion import GaussianDiffusion
            from probmodels.diffusion.schedule import NoiseSchedule

            module = GaussianDiffusion(denoiser, NoiseSchedule(betas)).to(dev)
            seeds = engine.Seeds(order=5, noise=6)
            config = engine.TrainingConfig(**settings, seeds=seeds)
            trainer = engine.Trainer(module, config, dev, callbacks=hooks)
            trainer.fit(engine.Batch(X))
        else:

            def loss_fn(m, x0, generator):
                xt, t, eps = noised(x0, generator)
                return ((m(xt, t) - eps) ** 2).mean()

            config = engine.TrainingConfig(**settings, seed=5)
            engine.Trainer(
                denoiser, loss_fn, config, dev, callbacks=hooks, noise=True
            ).fit((X,))
        return denoiser

    def run_bare():
        module = fresh()
        opt = torch.optim.AdamW(
            module.parameters(), lr=1e-3, weight_decay=0.0, fused=True
        )
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, epochs * (len(X) // batch)
        )
        shuffle = torch.Generator().manual_seed(5)
        noise = torch.Generator(device=dev).manual_seed(6)
        ema = [p.detach().clone() for p in module.parameters()]
        k = 0
        for _ in range(epochs):
            order = torch.randperm(len(X), generator=shuffle).to(dev)
            for lo in range(0, len(X), batch):
                xt, t, eps = noised(X[order[lo : lo + batch]], noise)
                loss = ((module(xt, t) - eps) ** 2).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                k += 1
                d = min(0.999, (1 + k) / (10 + k))
                torch._foreach_lerp_(
                    ema, [p.detach() for p in module.parameters()], 1 - d
                )
        with torch.no_grad():
            for p, s in zip(module.parameters(), ema, strict=True):
                p.copy_(s)
        return module

    return run_bare, run_engine


def worker(device: str) -> dict:
    """Best-of-3 times of the bare loop and the engine, per case, in this tree."""
    import torch

    torch.set_num_threads(1)  # the same threads for every run of every tree
    cases = {
        f"FFN: MLP (100,) on digits, {FFN_EPOCHS} epochs": _ffn(device, FFN_EPOCHS),
        f"DDPM: ResidualMLP (256 x 3) on moons, {DDPM_STEPS} steps with an EMA": _ddpm(
            device, DDPM_STEPS
        ),
    }
    out = {}
    for case, (bare, engine) in cases.items():
        best = {"bare": float("inf"), "engine": float("inf")}
        modules = {}
        for _ in range(3):
            for name, run in (("bare", bare), ("engine", engine)):
                tic = time.perf_counter()
                modules[name] = run()
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                best[name] = min(best[name], time.perf_counter() - tic)
        diff = max(
            float((a - b).detach().abs().max())
            for a, b in zip(
                modules["bare"].parameters(),
                modules["engine"].parameters(),
                strict=True,
            )
        )
        out[case] = {**best, "weight_difference": diff}
    return out


# ------------------------------------------------------------ the parent
def old_tree(rev: str, into: Path) -> Path | None:
    """``rev``'s ``probmodels/`` extracted into ``into``; None if git cannot."""
    archive = into / "old.tar"
    try:
        with open(archive, "wb") as out:
            subprocess.run(
                ["git", "archive", rev, "probmodels"],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.DEVNULL,
                check=True,
            )
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def measure(tree: Path, device: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1")
    env.pop("PROBMODELS_BENCH_RESULTS", None)
    result = subprocess.run(
        [sys.executable, str(HERE / "bench_engine.py"), "--worker", "--device", device],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"the worker failed in {tree}:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compare", default=OLD, help="git revision of the old tree")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.device)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        old = old_tree(args.compare, Path(tmp)) if args.compare else None
        trees = {"this tree": ROOT}
        if old is not None:
            trees[args.compare] = old
        best: dict = {}
        for _ in range(1 if QUICK else 2):  # alternate, so drift hits both
            for label, tree in trees.items():
                for case, figures in measure(tree, args.device).items():
                    mine = best.setdefault(case, {}).setdefault(label, figures)
                    for key in ("bare", "engine"):
                        mine[key] = min(mine[key], figures[key])
    print(
        f"Engine overhead against a bare torch loop, device={args.device!r}, one "
        "torch thread, best of 3 per run"
        + (f", {len(trees)} trees in one run" if len(trees) > 1 else "")
    )
    if old is None and args.compare:
        print(f"  (the old tree {args.compare} could not be read from git here)")
    for case, by_tree in best.items():
        print(f"\n  {case}")
        for label, f in by_tree.items():
            overhead = f["engine"] / f["bare"] - 1
            print(
                f"    {label:<10} bare {f['bare']:.3f} s, engine {f['engine']:.3f} s: "
                f"overhead {overhead:+.1%} (largest weight difference "
                f"{f['weight_difference']:.1e})"
            )
        mine = by_tree["this tree"]
        theirs = by_tree.get(args.compare)
        record(
            "engine",
            case,
            ours=mine["engine"],
            reference=mine["bare"],
            reference_name="a bare torch loop (same batches and updates)",
            metric="fit time (s)",
            quality=None if theirs is None else theirs["engine"] / theirs["bare"] - 1,
            quality_name=f"overhead of {args.compare}'s engine over the same loop",
        )


if __name__ == "__main__":
    main()
