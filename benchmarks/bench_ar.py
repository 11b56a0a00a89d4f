"""ARRegressor on 2,000 series x 1,000 steps against statsmodels AutoReg in a loop.

Both fit AR(10) with a constant to the same DataFrame in one process. Prints
each time, the ratio, the largest parameter difference, and our peak memory
beyond the data (tracemalloc sees numpy's allocations).

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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=quick(2000, 200))
    parser.add_argument("--steps", type=int, default=quick(1000, 300))
    parser.add_argument("--p", type=int, default=10)
    args = parser.parse_args()
    df, p = simulate(args.series, args.steps, args.p), args.p

    ours_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        est = ARRegressor(p=p).fit(df)
        ours_times.append(time.perf_counter() - t0)
    ours = min(ours_times)

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
    print(f"  probmodels ARRegressor   : {ours:8.3f} s  (best of 5)")
    print(f"  ratio                    : {theirs / ours:8.1f}x faster (target >= 50x)")
    print(
        f"  largest |param diff|     : {diff:.2e}  (relative {rel:.2e}; target <= 1e-8)"
    )
    print(
        f"  peak memory beyond data  : {peak / 2**20:.1f} MiB = {peak / scale:.1f} x "
        f"series x (p+1)^2 doubles (data: {data_bytes / 2**20:.1f} MiB)"
    )


if __name__ == "__main__":
    main()
