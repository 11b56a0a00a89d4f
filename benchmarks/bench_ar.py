"""ARRegressor on 2,000 series x 1,000 steps against statsmodels AutoReg in a loop.

Two cases, each fitted by both to the same DataFrame in one process:

- AR(10) with a constant (also prints our peak memory beyond the data, as
  tracemalloc sees numpy's allocations);
- AR-X(3) with two shared regressors and monthly seasonal dummies, the
  period read from the DatetimeIndex.

Each prints both times, the ratio and the largest parameter difference.

Run: .venv/bin/python benchmarks/bench_ar.py [--series 2000] [--steps 1000]
"""

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd
from _results import quick, record
from statsmodels.tsa.ar_model import AutoReg

from probmodels import ARRegressor


def simulate(n_series, n_steps, p, seed=0):
    """Stationary AR(p) series with random coefficients, as a DataFrame."""
    rng = np.random.default_rng(seed)
    # Random stationary coefficients: shrink until every series is stationary.
    phi = rng.uniform(-0.5, 0.5, (n_series, p)) / np.arange(1, p + 1)
    y = np.zeros((n_steps + 200, n_series))
    e = rng.standard_normal(y.shape)
    for t in range(p, len(y)):
        y[t] = 2.0 + np.einsum("ji,ij->j", phi, y[t - p : t][::-1] - 2.0) + e[t]
    cols = [f"s{j}" for j in range(n_series)]
    return pd.DataFrame(y[200:], columns=cols)


def simulate_arx(n_series, n_steps, seed=1):
    """Monthly AR(2) series with two shared regressors and seasonal means."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("1940-01-01", periods=n_steps, freq="MS")
    exog = rng.standard_normal((n_steps, 2)).cumsum(axis=0) * 0.1
    season = np.sin(2 * np.pi * np.arange(n_steps) / 12)[:, None]
    phi = rng.uniform(-0.4, 0.4, (2, n_series))
    beta = rng.uniform(-1, 1, (2, n_series))
    y = np.zeros((n_steps, n_series))
    e = rng.standard_normal(y.shape)
    for t in range(2, n_steps):
        y[t] = phi[0] * y[t - 1] + phi[1] * y[t - 2] + e[t]
    y += 5.0 + 2.0 * season + exog @ beta
    frame = pd.DataFrame(y, index=index, columns=[f"s{j}" for j in range(n_series)])
    frame["price"], frame["holiday"] = exog[:, 0], exog[:, 1]
    return frame


def best_of(runs, fit):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        est = fit()
        times.append(time.perf_counter() - t0)
    return min(times), est


def report(case, ours, theirs, rel, runs):
    """Record one case for the report and print its times, ratio and parity."""
    record(
        "ar",
        case,
        ours=ours,
        reference=theirs,
        reference_name="statsmodels AutoReg, a loop over series",
        quality=rel,
        quality_name="largest relative parameter difference (target <= 1e-8)",
    )
    print(case)
    print(f"  statsmodels AutoReg loop : {theirs:8.3f} s")
    print(f"  probmodels ARRegressor   : {ours:8.3f} s  (best of {runs})")
    print(f"  ratio                    : {theirs / ours:8.1f}x faster (target >= 50x)")
    print(f"  largest relative diff    : {rel:.2e}  (target <= 1e-8)")


def plain_case(args):
    """AR(p) with a constant on many series against the AutoReg loop."""
    df, p = simulate(args.series, args.steps, args.p), args.p
    ours, est = best_of(5, lambda: ARRegressor(p=p).fit(df))
    t0 = time.perf_counter()
    ref = np.array([AutoReg(df[c].to_numpy(), p, trend="c").fit().params for c in df])
    theirs = time.perf_counter() - t0
    params = np.column_stack([est.intercept_, est.coef_])
    diff = np.max(np.abs(params - ref))
    rel = np.max(np.abs(params - ref) / np.abs(ref))

    tracemalloc.start()
    ARRegressor(p=p).fit(df)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    data_bytes = df.memory_usage(index=False).sum()
    scale = args.series * (p + 1) ** 2 * 8

    case = f"AR({p}) with constant, {args.series} series x {args.steps} steps"
    report(case, ours, theirs, rel, runs=5)
    print(f"  largest |param diff|     : {diff:.2e}")
    print(
        f"  peak memory beyond data  : {peak / 2**20:.1f} MiB = {peak / scale:.1f} x "
        f"series x (p+1)^2 doubles (data: {data_bytes / 2**20:.1f} MiB)"
    )


def arx_case(args):
    """AR-X(3) with two regressors and monthly dummies against the AutoReg loop."""
    df = simulate_arx(args.series, args.steps)
    exog = ["price", "holiday"]
    ours, est = best_of(3, lambda: ARRegressor(p=3, seasonal=True, exog=exog).fit(df))
    t0 = time.perf_counter()
    ref = np.array(
        [
            AutoReg(df[c], 3, seasonal=True, exog=df[exog]).fit().params.to_numpy()
            for c in df.columns[:-2]
        ]
    )
    theirs = time.perf_counter() - t0
    params = est.params_.to_numpy().T
    rel = np.max(np.abs(params - ref) / np.abs(ref))
    case = (
        f"AR-X(3), 2 regressors, monthly dummies, {args.series} series x "
        f"{args.steps} steps"
    )
    report(case, ours, theirs, rel, runs=3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=quick(2000, 200))
    parser.add_argument("--steps", type=int, default=quick(1000, 300))
    parser.add_argument("--p", type=int, default=10)
    args = parser.parse_args()
    plain_case(args)
    print()
    arx_case(args)


if __name__ == "__main__":
    main()
