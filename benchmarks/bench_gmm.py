"""GaussianMixture EM against scikit-learn's, side by side in one process.

N = 200,000, D = 16, K = 16 (make_blobs); both start from the same weights,
means and precisions and run a fixed number of EM iterations (tol=0) for
'full' and 'diag'. Prints the marginal time per iteration of each (from runs
of 10 and 50 iterations), the ratio, both final mean log-likelihoods, and the
peak memory each fit allocates (tracemalloc sees numpy's allocations).

Run: .venv/bin/python benchmarks/bench_gmm.py
     .venv/bin/python benchmarks/bench_gmm.py --n 1000000 --d 32 --k 32 --device cuda
         (on a machine with a GPU: ours on the device, sklearn on the CPU)

Notes
-----
GPU timing (N = 1,000,000, D = 32, K = 32, target 50x sklearn's CPU time) has
not been measured yet: no GPU was lent to the sessions that wrote this file.
Record it here when it is run on one.
"""

import argparse
import time
import tracemalloc
import warnings

from _results import quick, record
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SkMixture

from probmodels import GaussianMixture


def timed_fit(cls, X, k, n_iter, start, **kw):
    best, model = float("inf"), None
    for _ in range(2):
        t0 = time.perf_counter()
        model = cls(k, max_iter=n_iter, tol=0.0, **start, **kw).fit(X)
        best = min(best, time.perf_counter() - t0)
    return best, model


def peak_memory(cls, X, k, start, **kw):
    tracemalloc.start()
    cls(k, max_iter=3, tol=0.0, **start, **kw).fit(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=quick(200_000, 20_000))
    parser.add_argument("--d", type=int, default=16)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--iters", type=int, default=quick(50, 10))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--types", default="full,diag")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, _ = make_blobs(args.n, n_features=args.d, centers=args.k, random_state=0)
    print(f"EM on N={args.n:,}, D={args.d}, K={args.k}; ours on device={args.device!r}")
    for cov in args.types.split(","):
        ref = SkMixture(args.k, covariance_type=cov, max_iter=1, random_state=0).fit(X)
        start = {
            "weights_init": ref.weights_,
            "means_init": ref.means_,
            "precisions_init": ref.precisions_,
        }
        ours_kw = {"covariance_type": cov, "device": args.device}
        GaussianMixture(args.k, max_iter=1, **start, **ours_kw).fit(X)  # warm-up
        short = max(2, args.iters // 5)
        t_ours_s, _ = timed_fit(GaussianMixture, X, args.k, short, start, **ours_kw)
        t_ours, ours = timed_fit(
            GaussianMixture, X, args.k, args.iters, start, **ours_kw
        )
        t_sk_s, _ = timed_fit(SkMixture, X, args.k, short, start, covariance_type=cov)
        t_sk, sk = timed_fit(
            SkMixture, X, args.k, args.iters, start, covariance_type=cov
        )
        per_ours = (t_ours - t_ours_s) / (args.iters - short)
        per_sk = (t_sk - t_sk_s) / (args.iters - short)
        rel = abs(ours.lower_bound_ - sk.lower_bound_) / abs(sk.lower_bound_)
        record(
            "gmm",
            f"EM, covariance_type={cov!r}, N={args.n:,}, D={args.d}, K={args.k}",
            ours=per_ours,
            reference=per_sk,
            reference_name="scikit-learn GaussianMixture",
            metric="time per iteration (s)",
            quality=rel,
            quality_name="relative difference of the final log-likelihood (target <= 1e-6)",
        )
        print(f"\ncovariance_type={cov!r}, {args.iters} iterations from the same start")
        print(f"  sklearn   : {per_sk * 1e3:8.1f} ms/iteration  (total {t_sk:6.2f} s)")
        print(
            f"  probmodels: {per_ours * 1e3:8.1f} ms/iteration  (total {t_ours:6.2f} s)"
        )
        print(
            f"  ratio     : {per_sk / per_ours:8.1f}x per iteration, {t_sk / t_ours:.1f}x in total (target >= 8x)"
        )
        print(
            f"  final mean log-likelihood: sklearn {sk.lower_bound_:.10f}, ours {ours.lower_bound_:.10f} (relative difference {rel:.1e}; target <= 1e-6)"
        )
        if args.device == "cpu":
            m_sk = peak_memory(SkMixture, X, args.k, start, covariance_type=cov)
            m_ours = peak_memory(GaussianMixture, X, args.k, start, **ours_kw)
            print(
                f"  peak memory: sklearn {m_sk / 2**20:.0f} MiB, ours {m_ours / 2**20:.0f} MiB ({m_ours / m_sk:.2f}x; target <= 2x)"
            )


if __name__ == "__main__":
    main()
