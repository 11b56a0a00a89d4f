"""Scale-out on Dask: EM on data 10x the cluster's memory, grid searches on it.

On a ``LocalCluster`` of 2 worker processes (1 thread each), in one run:

1. GaussianMixture EM (full, K = 16, D = 16) on a Dask array about 10 times
   the workers' total memory limit. The array is generated lazily, chunk by
   chunk, from a seeded random mixture, so it is never stored anywhere.
   Prints the time per EM iteration, the rows per second against the
   in-memory fit of a slice that fits, and each worker's peak memory, which
   must stay under its limit.
2. A 12-candidate x 3-fold grid search for a GaussianMixture and for an
   FFNClassifier, with ``joblib.parallel_backend("dask")`` on the 2 workers
   against ``n_jobs=1`` in this process: both times and the ratio.

Run: .venv/bin/python benchmarks/bench_scale.py [--worker-memory 400]
"""

import argparse
import threading
import time
import warnings

import dask
import dask.array as da
import joblib
import numpy as np
import psutil
from _results import quick, record
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits, make_blobs
from sklearn.model_selection import GridSearchCV, KFold

from probmodels import FFNClassifier, GaussianMixture

K, D = 16, 16
ROWS_PER_CHUNK = 100_000


def mixture(seed=0):
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=4.0, size=(K, D))
    chols = np.tril(rng.normal(scale=0.3, size=(K, D, D)), -1) + np.eye(D)
    return means, chols


def make_chunk(index, rows, seed=0):
    """Rows of chunk ``index``, the same every time it is computed."""
    means, chols = mixture(seed)
    rng = np.random.default_rng([seed, index])
    labels = rng.integers(K, size=rows)
    out = rng.standard_normal((rows, D))
    for k in range(K):  # a (rows, D, D) gather would be 32x the chunk
        members = labels == k
        out[members] = means[k] + out[members] @ chols[k].T
    return out


def lazy_data(n_chunks):
    parts = [
        da.from_delayed(
            dask.delayed(make_chunk)(i, ROWS_PER_CHUNK),
            shape=(ROWS_PER_CHUNK, D),
            dtype=np.float64,
        )
        for i in range(n_chunks)
    ]
    return da.concatenate(parts)


# A worker-side sampler of its own peak memory (resident set size);
# client.run passes the worker as ``dask_worker``.
def _start_sampler(dask_worker):
    worker = dask_worker
    process = psutil.Process()
    worker._bench_peak = process.memory_info().rss
    stop = threading.Event()

    def sample():
        while not stop.wait(0.05):
            worker._bench_peak = max(worker._bench_peak, process.memory_info().rss)

    threading.Thread(target=sample, daemon=True).start()
    worker._bench_stop = stop


def _peak(dask_worker):
    dask_worker._bench_stop.set()
    return dask_worker._bench_peak


def em_on_big_data(client, worker_memory, iterations, factor):
    limit = 2 * worker_memory * 2**20
    n_chunks = int(np.ceil(factor * limit / (ROWS_PER_CHUNK * D * 8)))
    X = lazy_data(n_chunks)
    n = X.shape[0]
    print(
        f"1. EM, full, K={K}, D={D}: {n:,} rows = {X.nbytes / 2**30:.1f} GiB, "
        f"{X.nbytes / limit:.1f}x the workers' {limit / 2**20:.0f} MiB"
    )
    means, chols = mixture()
    precisions = np.linalg.inv(chols @ chols.transpose(0, 2, 1))
    start = {"weights_init": np.full(K, 1 / K), "means_init": means, "precisions_init": precisions}
    # A fit is one pass to centre and check, one to sample rows, then one per
    # iteration: time the first two alone (max_iter=0) to isolate the rest.
    tic = time.perf_counter()
    GaussianMixture(K, max_iter=0, **start).fit(X)
    setup = time.perf_counter() - tic
    client.run(_start_sampler)
    tic = time.perf_counter()
    gm = GaussianMixture(K, max_iter=iterations, tol=0.0, **start).fit(X)
    total = time.perf_counter() - tic
    peaks = client.run(_peak)
    per_iteration = (total - setup) / iterations
    # In memory: a slice that fits, the same data, the same start.
    slice_rows = quick(1_000_000, 200_000)
    local = np.concatenate(
        [make_chunk(i, ROWS_PER_CHUNK) for i in range(slice_rows // ROWS_PER_CHUNK)]
    )
    GaussianMixture(K, max_iter=1, **start).fit(local[:1000])  # warm-up
    tic = time.perf_counter()
    GaussianMixture(K, max_iter=3, tol=0.0, **start).fit(local)
    t3 = time.perf_counter() - tic
    tic = time.perf_counter()
    GaussianMixture(K, max_iter=1, tol=0.0, **start).fit(local)
    t1 = time.perf_counter() - tic
    local_rate = len(local) / ((t3 - t1) / 2)
    dask_rate = n / per_iteration
    print(
        f"   Dask: {per_iteration:.1f} s per iteration, {dask_rate / 1e6:.2f} M rows/s; "
        f"in memory ({len(local):,} rows, this process): {local_rate / 1e6:.2f} M rows/s"
    )
    print(
        "   peak memory per worker: "
        + ", ".join(f"{p / 2**20:.0f} MiB" for p in peaks.values())
        + f" (limit {worker_memory} MiB each); mean log-likelihood {gm.lower_bound_:.4f}"
    )
    record(
        "scale",
        f"EM full K={K} D={D} on {X.nbytes / 2**30:.1f} GiB, "
        f"{X.nbytes / limit:.0f}x the 2 workers' memory",
        ours=1 / dask_rate,
        reference=1 / local_rate,
        reference_name="in-memory fit of a slice in this process",
        metric="seconds per row and iteration",
        quality=max(peaks.values()) / (worker_memory * 2**20),
        quality_name="largest worker peak / its memory limit (target < 1)",
    )


def grid_searches(client):
    X, _ = make_blobs(quick(100_000, 20_000), n_features=16, centers=6, random_state=0)
    digits, labels = load_digits(return_X_y=True)
    cases = [
        (
            "GaussianMixture",
            GaussianMixture(random_state=0),
            {"n_components": [1, 2, 3, 4, 5, 6], "covariance_type": ["full", "diag"]},
            X,
            None,
        ),
        (
            "FFNClassifier",
            FFNClassifier(max_epochs=quick(30, 5), random_state=0),
            {"hidden_layer_sizes": [(16,), (32,), (64,)], "lr": [1e-3, 3e-3, 1e-2, 3e-2]},
            digits / 16,
            labels,
        ),
    ]
    print("\n2. Grid search, 12 candidates x 3 folds")
    for name, est, grid, data, y in cases:
        times = {}
        for mode in ("sequential", "dask"):
            gs = GridSearchCV(est, grid, cv=KFold(3, shuffle=True, random_state=0))
            tic = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if mode == "dask":
                    with joblib.parallel_backend("dask"):
                        gs.set_params(n_jobs=-1).fit(data, y)
                else:
                    gs.fit(data, y)
            times[mode] = time.perf_counter() - tic
            best = gs.best_params_
        print(
            f"   {name}: n_jobs=1 {times['sequential']:.1f} s, 2 Dask workers "
            f"{times['dask']:.1f} s: {times['sequential'] / times['dask']:.2f}x (best {best})"
        )
        record(
            "scale",
            f"GridSearchCV of {name}, 12 candidates x 3 folds, 2 workers",
            ours=times["dask"],
            reference=times["sequential"],
            reference_name="n_jobs=1 in this process",
            metric="time (s)",
        )


def main():
    parser = argparse.ArgumentParser()
    # A worker holding numpy, scikit-learn and probmodels takes about 220 MiB
    # before any data: the limit leaves room for a few chunks beyond that.
    parser.add_argument("--worker-memory", type=int, default=400, help="MiB")
    parser.add_argument("--iterations", type=int, default=quick(4, 2))
    parser.add_argument(
        "--factor", type=float, default=quick(10, 1), help="data / total memory limit"
    )
    args = parser.parse_args()
    common = dict(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    # The EM part under a tight memory limit; the grid searches (whose
    # workers import torch) under the default one.
    with LocalCluster(memory_limit=f"{args.worker_memory}MiB", **common) as cluster:
        with Client(cluster) as client:
            em_on_big_data(client, args.worker_memory, args.iterations, args.factor)
    with LocalCluster(**common) as cluster, Client(cluster) as client:
        grid_searches(client)


if __name__ == "__main__":
    main()
