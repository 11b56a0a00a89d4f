"""Neural classifiers against scikit-learn, and the engine against a bare loop.

In one run, on sklearn's digits, breast_cancer and wine (the same stratified
75/25 split, StandardScaler fitted on the training part):

1. FFNClassifier against sklearn's MLPClassifier with the same hidden layer
   (100,), the same number of epochs (200, no early stop), batch 200 and
   Adam at lr 1e-3: test accuracy and fit time (best of 3) of each.
2. TransformerClassifier test accuracy and fit time on digits, with 2x2
   patches as tokens (3-D input) and with each pixel as a token (2-D input):
   standardised, scaled to [0, 1] (MinMaxScaler), and skewed (exp(x / 3),
   then standardised), with the piecewise-linear (default) and the linear
   numeric embedding. The quick run fits the patches only.

The engine's overhead against a bare torch loop is ``bench_engine.py``.

Run: .venv/bin/python benchmarks/bench_classifiers.py [--device cuda]

Notes
-----
GPU timings (``--device cuda``) have not been measured yet: no GPU was lent to
the sessions that wrote this file. Record them here when they are run on one.
"""

import argparse
import time
import warnings

import numpy as np
import torch
from _results import QUICK, quick, record
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from probmodels import FFNClassifier, TransformerClassifier

EPOCHS = quick(200, 30)
SEEDS = quick(5, 1)


def split(loader):
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


def best_time(make, X, y, repeats=3):
    best, model = float("inf"), None
    for _ in range(repeats):
        model = make()
        t0 = time.perf_counter()
        model.fit(X, y)
        best = min(best, time.perf_counter() - t0)
    return best, model


def compare_ffn(device, seeds=SEEDS):
    print(
        f"FFNClassifier vs MLPClassifier: hidden (100,), {EPOCHS} epochs, batch 200, "
        f"Adam lr 1e-3; accuracy = mean over {seeds} seeds, time = best of 3"
    )
    print(
        f"  {'dataset':<14}{'sklearn acc':>12}{'ours acc':>10}{'sklearn s':>11}{'ours s':>9}{'speed-up':>10}"
    )
    for name, loader in [
        ("digits", load_digits),
        ("breast_cancer", load_breast_cancer),
        ("wine", load_wine),
    ]:
        Xtr, Xte, ytr, yte = split(loader)
        mlp = lambda seed=0: MLPClassifier(  # noqa: E731
            (100,),
            max_iter=EPOCHS,
            n_iter_no_change=EPOCHS + 1,
            tol=0.0,
            random_state=seed,
        )
        ffn = lambda seed=0: FFNClassifier(  # noqa: E731
            (100,),
            max_epochs=EPOCHS,
            batch_size=200,
            lr=1e-3,
            tol=None,
            device=device,
            random_state=seed,
        )
        FFNClassifier((100,), max_epochs=1, device=device).fit(Xtr, ytr)  # warm-up
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t_sk, _ = best_time(mlp, Xtr, ytr)
            acc_sk = np.mean(
                [mlp(s).fit(Xtr, ytr).score(Xte, yte) for s in range(seeds)]
            )
        t_ours, _ = best_time(ffn, Xtr, ytr)
        acc_ours = np.mean([ffn(s).fit(Xtr, ytr).score(Xte, yte) for s in range(seeds)])
        record(
            "classifiers",
            f"FFNClassifier (100,) on {name}, {EPOCHS} epochs",
            ours=t_ours,
            reference=t_sk,
            reference_name="scikit-learn MLPClassifier",
            metric="fit time (s)",
            quality=acc_ours - acc_sk,
            quality_name="test accuracy, ours minus sklearn's",
        )
        print(
            f"  {name:<14}{acc_sk:>12.4f}{acc_ours:>10.4f}"
            f"{t_sk:>11.3f}{t_ours:>9.3f}{t_sk / t_ours:>9.2f}x"
        )


def patches(X, size=2):
    images = X.reshape(-1, 8 // size, size, 8 // size, size).transpose(0, 1, 3, 2, 4)
    return images.reshape(len(X), (8 // size) ** 2, size * size)


def transformer_digits(device):
    Xtr, Xte, ytr, yte = split(load_digits)
    # Each pixel a token. With the linear embedding a token scales with its
    # value: standardising blows near-constant border pixels up to 30 and
    # more, and skewed features (exp(pixel / 3), as incomes and counts come)
    # reach 42. The piecewise-linear embedding's quantile bins do not care.
    X, y = load_digits(return_X_y=True)  # the same split as split()
    raw_tr, raw_te = train_test_split(X, test_size=0.25, random_state=0, stratify=y)
    minmax = MinMaxScaler().fit(raw_tr)
    skewed = StandardScaler().fit(np.exp(raw_tr / 3))
    print(
        "\nTransformerClassifier on digits (d_model 64, 4 heads, 2 layers, lr 3e-3, target >= 0.97)"
    )
    pixels_minmax = (minmax.transform(raw_tr), minmax.transform(raw_te))
    pixels_skewed = (
        skewed.transform(np.exp(raw_tr / 3)),
        skewed.transform(np.exp(raw_te / 3)),
    )
    routes = [
        (
            "2x2 patches as tokens (16 tokens, 3-D input)",
            patches(Xtr),
            patches(Xte),
            None,
        ),
        ("each pixel a token, StandardScaler", Xtr, Xte, "piecewise_linear"),
        ("each pixel a token, StandardScaler", Xtr, Xte, "linear"),
        ("each pixel a token, MinMaxScaler", *pixels_minmax, "linear"),
        ("skewed pixels, exp(x / 3), StandardScaler", *pixels_skewed, "linear"),
        (
            "skewed pixels, exp(x / 3), StandardScaler",
            *pixels_skewed,
            "piecewise_linear",
        ),
    ]
    epochs = quick(60, 5)
    for label, train, test, embedding in routes[:1] if QUICK else routes:
        clf = TransformerClassifier(
            max_epochs=epochs,
            lr=3e-3,
            device=device,
            random_state=0,
            numeric_embedding=embedding or "piecewise_linear",
        )
        if embedding:
            label = f"{label}, {embedding} embedding"
        t0 = time.perf_counter()
        clf.fit(train, ytr)
        seconds, accuracy = time.perf_counter() - t0, clf.score(test, yte)
        record(
            "classifiers",
            f"TransformerClassifier on digits, {label}, {epochs} epochs",
            ours=seconds,
            metric="fit time (s)",
            quality=accuracy,
            quality_name="test accuracy (target >= 0.97 at 60 epochs)",
        )
        print(
            f"  {label:<74} {epochs:>3} epochs: accuracy {accuracy:.4f} in {seconds:5.1f} s"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(f"device={args.device!r}, torch threads={torch.get_num_threads()}\n")
    compare_ffn(args.device)
    transformer_digits(args.device)


if __name__ == "__main__":
    main()
