"""Forecasts and simulated paths of a fitted AR-X record, past the fitted series.

Both run the AR recursion forward from the last fitted steps, with the
deterministic terms at the positions that continue the fitted clock and the
regressors' future rows; :func:`sample_paths` adds Gaussian innovations.
They read the fitted record whole
(:class:`~probmodels.timeseries._ar_fit.ARRecord`), not the estimator.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ._ar_fit import ARRecord
from ._ar_math import interval_half_width, simulate_ar
from ._inputs import future_exog

__all__ = ["Forecast", "forecast", "sample_paths"]


class Forecast(NamedTuple):
    """Point forecasts with the bounds of their prediction interval.

    Each field has the container of the fitted series (ndarray, Series or
    DataFrame) and, for pandas, the index that continues it.
    """

    mean: Any
    lower: Any
    upper: Any


def _future(record: ARRecord, steps: int, exog) -> np.ndarray:
    """Shared part of the next ``steps`` steps, (steps, n_series)."""
    rows = future_exog(exog, tuple(record.terms.exog_names), steps, record.clock)
    times = record.clock.n_steps + np.arange(1.0, steps + 1.0)
    return record.shared_part(times, rows).T


def _history(record: ARRecord) -> np.ndarray:
    """Last max-lag observations of each series, (n_series, max lag)."""
    p = record.coef.shape[1]
    return record.data[record.data.shape[0] - p :, record.series].T


def _wrap_future(record: ARRecord, values: np.ndarray):
    """(steps, n_series) future values in the fitted container."""
    c = record.container
    index = record.clock.future(len(values)) if c.kind != "ndarray" else None
    return c.wrap(values[:, 0] if c.ndim == 1 else values, index)


def forecast(record: ARRecord, steps: int, alpha: float | None, exog):
    """Point forecasts, with the ``1 - alpha`` interval when ``alpha`` is given.

    Parameters
    ----------
    record : ARRecord
    steps : int
    alpha : float in (0, 1) or None
    exog : DataFrame, array-like or None
        The regressors' values at the forecast steps.

    Returns
    -------
    mean, or Forecast
        In the fitted container (see ``ARRegressor.forecast``).
    """
    coef = record.coef
    mean = simulate_ar(_history(record), coef, _future(record, steps, exog))[..., 0]
    if alpha is None:
        return _wrap_future(record, mean)
    half = interval_half_width(coef, record.sigma2, steps, alpha)
    return Forecast(
        _wrap_future(record, mean),
        _wrap_future(record, mean - half.T),
        _wrap_future(record, mean + half.T),
    )


def sample_paths(record: ARRecord, n_samples: int, n_paths: int, exog, rng):
    """Simulated continuations with Gaussian innovations.

    Parameters
    ----------
    record : ARRecord
    n_samples, n_paths : int
        Steps per path, and paths.
    exog : DataFrame, array-like or None
        The regressors' future values (every path shares them), checked
        before any draw.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, Series or DataFrame
        As ``ARRegressor.sample`` describes.
    """
    future = _future(record, n_samples, exog)
    coef, sigma2 = record.coef, record.sigma2
    shocks = rng.standard_normal((n_samples, coef.shape[0], n_paths))
    shocks *= np.sqrt(sigma2)[None, :, None]
    paths = simulate_ar(_history(record), coef, future, shocks)
    if n_paths == 1:
        return _wrap_future(record, paths[..., 0])
    c = record.container
    if c.kind == "ndarray":
        return paths[:, 0, :] if c.ndim == 1 else paths
    index = record.clock.future(n_samples)
    if c.kind == "series":
        return pd.DataFrame(
            paths[:, 0, :], index=index, columns=pd.RangeIndex(n_paths, name="path")
        )
    columns = pd.MultiIndex.from_product(
        [c.columns, range(n_paths)], names=[c.columns.name or "series", "path"]
    )
    return pd.DataFrame(paths.reshape(n_samples, -1), index=index, columns=columns)
