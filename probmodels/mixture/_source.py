"""FitSource: the data of one mixture fit, as the EM loop sees it.

Apart from both its makers, the in-memory path (:mod:`~probmodels.mixture.
_base`) and the Dask path (:mod:`~probmodels.mixture._dask`), so that
neither imports the other. The passes over the data that the fit drives
declare one interface (:class:`DataPass`, and :class:`EStepPass` for EM):
``NumpyStatistics`` and ``TorchStatistics`` (complete rows, on the CPU or a
device), ``MissingStatistics`` (rows with holes), ``DaskStatistics``
(chunks where they live) and the gradient solver's ``GradientData``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["DataPass", "EStepPass", "FitSource"]


class DataPass(Protocol):
    """The data of a fit, open while the fit runs (a context manager).

    Entering may start worker threads or move the data to a device; leaving
    releases them.
    """

    def __enter__(self) -> DataPass:
        """Open the pass (threads, device memory)."""

    def __exit__(self, *exc) -> object:
        """Release what :meth:`__enter__` took."""

    def statistics(self, resp: np.ndarray) -> np.ndarray:
        """``S = Phi^T resp`` for given responsibilities (to initialise)."""

    def labels(self, theta: np.ndarray) -> np.ndarray:
        """Most likely component of each row under the natural parameters."""


class EStepPass(DataPass, Protocol):
    """A :class:`DataPass` that computes EM's E-step."""

    def __call__(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """Statistics ``S`` (n_statistics, K) and the weighted sum of log p(x).

        Parameters
        ----------
        theta : ndarray of shape (n_components, n_statistics)

        Returns
        -------
        stats : ndarray of shape (n_statistics, n_components)
        log_likelihood : float
        """


@dataclass
class FitSource:
    """The data of one fit, as the EM loop and the initialisation see it.

    Parameters
    ----------
    init_X : ndarray of shape (n_rows, n_features)
        Rows to initialise from: all of them in memory, a sample of a Dask
        array.
    init_weight : ndarray or None
        Their sample weights.
    inits : tuple
        The validated ``*_init`` arrays.
    center : ndarray of shape (n_features,)
        The weighted mean row of all the data.
    total : float
        Rows (or the sum of their weights) of all the data.
    data : DataPass
        The pass over the data: an :class:`EStepPass` for EM
        (``NumpyStatistics``, ``TorchStatistics``, ``MissingStatistics``,
        ``DaskStatistics``), the gradient solver's ``GradientData``.
    stats_of : callable, optional
        ``Phi^T resp`` of ``init_X``; ``data.statistics`` when None.
    """

    init_X: np.ndarray
    init_weight: np.ndarray | None
    inits: tuple
    center: np.ndarray
    total: float
    data: DataPass
    stats_of: object = None
