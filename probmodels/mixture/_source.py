"""FitSource: the data of one mixture fit, as the EM loop sees it.

Apart from both its makers, the in-memory path (:mod:`~probmodels.mixture.
_base`) and the Dask path (:mod:`~probmodels.mixture._dask`), so that
neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FitSource"]


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
    data : context manager
        The E-step pass (``NumpyStatistics``, ``TorchStatistics``,
        ``DaskStatistics``, or the gradient solver's ``GradientData``).
    stats_of : callable, optional
        ``Phi^T resp`` of ``init_X``; ``data.statistics`` when None.
    """

    init_X: np.ndarray
    init_weight: np.ndarray | None
    inits: tuple
    center: np.ndarray
    total: float
    data: object
    stats_of: object = None
