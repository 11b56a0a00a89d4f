"""The E-step as one pass over the data, on the CPU or on a torch device.

The expectation step of Dempster, Laird and Rubin (1977) for a Gaussian
mixture (Bishop, PRML, 2006, section 9.2.2), written over sufficient
statistics; :class:`~probmodels.mixture._base.BaseMixture` holds the loop.

Given Theta (n_components x n_statistics) and the data's sufficient statistics
Phi^T (n_statistics x n_samples), one pass computes

    L = Theta Phi^T,   log p(x_n) = logsumexp_k L[k, n],   R = softmax_k L,
    S = Phi^T R^T (weighted by sample_weight),

so the M-step can follow from S alone. On the CPU the samples are cut into
chunks small enough for the responsibilities to stay in cache, the chunks are
spread over threads (numpy and BLAS release the GIL; BLAS is held to one thread
per worker so the two levels do not oversubscribe), and partial sums are added
in chunk order, so results do not depend on the thread count. Component-major
layout makes the per-sample max and sum reductions run along contiguous
memory, several times faster than over a short inner axis.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

from ..utils.chunks import iter_row_chunks

__all__ = [
    "NumpyStatistics",
    "TorchStatistics",
    "WorkerPool",
    "available_threads",
    "exp_normalised",
]

_controller = None


def _blas_controller():
    """Return the process's ThreadpoolController, built once.

    Building one scans the loaded libraries, which costs milliseconds.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


def _omp_threads() -> int | None:
    text = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


#: Read once, when the module is imported, as OpenMP runtimes read it: a
#: worker process gets it from its parent at start, while a LocalCluster
#: started later in this process (which sets it to 1 for its children) does
#: not change this process's own budget.
_OMP_THREADS = _omp_threads()


def available_threads() -> int:
    """Threads this process's E-step may use without oversubscribing.

    Inside a task of a Dask worker: one, since the worker already runs one
    task per thread. Otherwise ``OMP_NUM_THREADS`` as it was when probmodels
    was imported (joblib's loky workers and Dask's nanny set it for their
    worker processes to share the cores, and OpenMP runtimes honour it the
    same way), else the CPUs this process may run on.

    Returns
    -------
    int
    """
    if "distributed" in sys.modules:
        from distributed import get_worker

        try:
            get_worker()
            return 1
        except ValueError:  # not in a worker
            pass
    if _OMP_THREADS:
        return _OMP_THREADS
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def exp_normalised(logits: np.ndarray, axis: int):
    """``exp(logits - max)`` along ``axis``, in place; its sums and log-sum-exp.

    Parameters
    ----------
    logits : ndarray
        Overwritten with ``exp(logits - max)``.
    axis : int
        The axis of the components.

    Returns
    -------
    total : ndarray
        The sums along ``axis`` (kept as a dimension of size 1).
    log_norm : ndarray
        ``log sum exp(logits)`` along ``axis`` (likewise).
    """
    peak = logits.max(axis=axis, keepdims=True)
    logits -= peak
    # exp of arguments below about -708 takes a slow subnormal path (4x here,
    # with well-separated components); a responsibility of e^-700 ~ 1e-304
    # instead of an underflow changes no sum.
    np.maximum(logits, -700.0, out=logits)
    np.exp(logits, out=logits)
    total = logits.sum(axis=axis, keepdims=True)
    return total, np.log(total) + peak


def _softmax_stats(logits: np.ndarray, phi: np.ndarray, weight: np.ndarray | None):
    """Turn a (K, c) block of logits into its statistics, in place."""
    total, log_norm = exp_normalised(logits, axis=0)
    total, log_norm = total[0], log_norm[0]
    scale = 1.0 / total if weight is None else weight / total
    logits *= scale
    stats = phi @ logits.T
    ll = log_norm.sum() if weight is None else log_norm @ weight
    return stats, ll


class WorkerPool:
    """Worker threads for the passes of one fit, as a context manager.

    While open, each worker's BLAS runs on one thread: the workers already
    occupy every core, and nested threading would oversubscribe them. With
    one thread it runs the tasks in order, in the caller's thread.

    Parameters
    ----------
    n_threads : int
    """

    def __init__(self, n_threads: int):
        self.n_threads = max(1, int(n_threads))
        self._pool = self._limits = None

    def __enter__(self):
        if self.n_threads > 1:
            self._pool = ThreadPoolExecutor(self.n_threads)
            self._limits = _blas_controller().limit(limits=1, user_api="blas")
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown()
            self._limits.restore_original_limits()
            self._pool = self._limits = None

    def map(self, function, items) -> list:
        """``[function(item) for item in items]``, on the workers when open.

        Parameters
        ----------
        function : callable
        items : iterable

        Returns
        -------
        list
            In the order of ``items``.
        """
        if self._pool is None:
            return list(map(function, items))
        return list(self._pool.map(function, items))


class NumpyStatistics:
    """E-step statistics over a fixed data set, on the CPU.

    Parameters
    ----------
    phi : ndarray of shape (n_statistics, n_samples)
        Sufficient statistics of the (centred) data, from ``features``.
    sample_weight : ndarray of shape (n_samples,) or None
    n_threads : int, optional
        Worker threads (default: :func:`available_threads`).
    n_components : int
        Rows of Theta: sets how many samples a chunk holds.
    """

    def __init__(self, phi, sample_weight=None, n_threads=None, *, n_components):
        self.phi = phi
        self.sample_weight = sample_weight
        # Chunks whose (K, c) block of logits stays in cache.
        self._bounds = [
            (rows.start, rows.stop)
            for rows in iter_row_chunks(phi.shape[1], 8 * n_components)
        ]
        if n_threads is None:
            n_threads = available_threads()
        self.n_threads = max(1, min(int(n_threads or 1), len(self._bounds)))
        self._workers = WorkerPool(self.n_threads)

    def statistics(self, resp: np.ndarray) -> np.ndarray:
        """``S = Phi^T R`` for given responsibilities (to initialise)."""
        return self.phi @ resp

    def __enter__(self):
        self._workers.__enter__()
        return self

    def __exit__(self, *exc):
        self._workers.__exit__(*exc)

    def _chunk(self, theta, lo, hi):
        weight = None if self.sample_weight is None else self.sample_weight[lo:hi]
        return _softmax_stats(theta @ self.phi[:, lo:hi], self.phi[:, lo:hi], weight)

    def __call__(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """The E-step (:class:`~probmodels.mixture._source.EStepPass`), chunk by chunk."""
        parts = self._workers.map(lambda b: self._chunk(theta, *b), self._bounds)
        stats = parts[0][0].copy()
        ll = parts[0][1]
        for s, v in parts[1:]:
            stats += s
            ll += v
        return stats, float(ll)

    def labels(self, theta: np.ndarray) -> np.ndarray:
        """Most likely component of each sample, shape (n_samples,)."""
        return np.concatenate(
            [(theta @ self.phi[:, lo:hi]).argmax(axis=0) for lo, hi in self._bounds]
        )


class TorchStatistics:
    """E-step statistics with the data on a torch device (a GPU).

    Parameters
    ----------
    phi : ndarray of shape (n_statistics, n_samples)
    sample_weight : ndarray or None
    device : torch.device
    """

    def __init__(self, phi, sample_weight, device):
        import torch

        from ..engine import as_tensor

        self._torch = torch
        self.device = device
        self._host_phi = phi  # for the initial statistics, computed once
        self.phi = as_tensor(phi, device)
        self.sample_weight = (
            None if sample_weight is None else as_tensor(sample_weight, device)
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.phi = None  # free device memory as soon as fitting ends

    def statistics(self, resp: np.ndarray) -> np.ndarray:
        """``S = Phi^T R`` for given responsibilities (to initialise)."""
        return self._host_phi @ resp

    def labels(self, theta: np.ndarray) -> np.ndarray:
        """Most likely component of each sample, shape (n_samples,)."""
        logits = self._torch.as_tensor(theta, device=self.device) @ self.phi
        return logits.argmax(dim=0).cpu().numpy()

    def __call__(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """The E-step (:class:`~probmodels.mixture._source.EStepPass`) on the device."""
        torch = self._torch
        logits = torch.as_tensor(theta, device=self.device) @ self.phi
        log_norm = torch.logsumexp(logits, dim=0)
        resp = torch.exp(logits - log_norm)
        if self.sample_weight is not None:
            resp *= self.sample_weight
            ll = log_norm @ self.sample_weight
        else:
            ll = log_norm.sum()
        stats = self.phi @ resp.T
        return stats.cpu().numpy(), float(ll)
