"""The scores forecasters report: MASE, sMAPE, interval coverage and CRPS.

The definitions of the M4 competition (Makridakis et al., International
Journal of Forecasting, 2020) for the two point scores, and the continuous
ranked probability score of a sample of paths (Gneiting & Raftery, JASA
2007, eq. 21). Each takes one series as 1-D arrays or several as columns
(steps in rows, as :meth:`probmodels.ARRegressor.forecast` returns them)
and averages the per-series scores over the series, as the M4 tables do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["crps", "interval_coverage", "mase", "smape"]


def _steps_by_series(values, name: str) -> np.ndarray:
    """``values`` as a float (n_steps, n_series) array, refusing NaN."""
    if isinstance(values, (pd.Series, pd.DataFrame)):
        values = values.to_numpy()
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(
            f"{name} must be 1-D (one series) or 2-D (steps by series) with at "
            f"least one step; got shape {array.shape}."
        )
    if not np.isfinite(array).all():
        raise ValueError(
            f"{name} has missing or infinite values; score the observed steps only."
        )
    return array


def _same_shape(reference, other, names) -> None:
    if reference.shape != other.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape; got "
            f"{reference.shape} and {other.shape}."
        )


def _actual_and_forecast(y_true, y_pred):
    """Both as (n_steps, n_series) arrays of one shape."""
    true, pred = _steps_by_series(y_true, "y_true"), _steps_by_series(y_pred, "y_pred")
    _same_shape(true, pred, ("y_true", "y_pred"))
    return true, pred


def naive_scale(y_train, seasonality: int = 1) -> np.ndarray:
    """Mean absolute error of the seasonal naive forecast in the training steps.

    ``(1 / (T - m)) sum_{t > m} |y_t - y_{t - m}|`` per series: the scale of
    :func:`mase`.

    Parameters
    ----------
    y_train : array-like of shape (T,) or (T, n_series)
    seasonality : int, default=1
        ``m``: 1 for the naive forecast, the period for the seasonal one.

    Returns
    -------
    ndarray of shape (n_series,)
    """
    train = _steps_by_series(y_train, "y_train")
    if not isinstance(seasonality, (int, np.integer)) or seasonality < 1:
        raise ValueError(f"seasonality must be a positive integer; got {seasonality!r}.")
    if train.shape[0] <= seasonality:
        raise ValueError(
            f"y_train needs more than seasonality={seasonality} steps; got "
            f"{train.shape[0]}."
        )
    return np.abs(train[seasonality:] - train[:-seasonality]).mean(axis=0)


def mase(y_true, y_pred, y_train, *, seasonality=1) -> float:
    """Mean absolute scaled error (Hyndman & Koehler, 2006; the M4 definition).

    ``mean_t |y_t - yhat_t| / ((1 / (T - m)) sum_{t > m} |y_t - y_{t - m}|)``:
    the forecast's mean absolute error over the seasonal naive forecast's in
    the training steps. Below 1, the forecast beats the naive one's in-sample
    error.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (h,) or (h, n_series)
        Actual and forecast values.
    y_train : array-like of shape (T,) or (T, n_series)
        The series' training steps.
    seasonality : int, default=1

    Returns
    -------
    float
        The mean over series.
    """
    true, pred = _actual_and_forecast(y_true, y_pred)
    scale = naive_scale(y_train, seasonality)
    if scale.shape[0] != true.shape[1]:
        raise ValueError(
            f"y_train has {scale.shape[0]} series and y_true {true.shape[1]}."
        )
    if not (scale > 0).all():
        raise ValueError(
            "The naive forecast is exact on the training steps of series "
            f"{np.flatnonzero(scale <= 0).tolist()[:20]}: MASE is undefined there."
        )
    return float((np.abs(true - pred).mean(axis=0) / scale).mean())


def smape(y_true, y_pred) -> float:
    """Symmetric mean absolute percentage error, in percent (the M4 definition).

    ``(200 / h) sum_t |y_t - yhat_t| / (|y_t| + |yhat_t|)``, between 0 and
    200; a step where both are 0 counts as 0.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (h,) or (h, n_series)

    Returns
    -------
    float
        The mean over series.
    """
    true, pred = _actual_and_forecast(y_true, y_pred)
    denominator = np.abs(true) + np.abs(pred)
    ratio = np.divide(
        np.abs(true - pred),
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    return float(200.0 * ratio.mean())


def interval_coverage(y_true, lower, upper) -> float:
    """Share of actual values inside their forecast intervals (ends included).

    Parameters
    ----------
    y_true, lower, upper : array-like of shape (h,) or (h, n_series)
        Actual values and each interval's ends, as
        :meth:`probmodels.ARRegressor.forecast` returns them.

    Returns
    -------
    float
        Between 0 and 1: near ``1 - alpha`` for well-calibrated intervals.
    """
    true = _steps_by_series(y_true, "y_true")
    low, high = _steps_by_series(lower, "lower"), _steps_by_series(upper, "upper")
    _same_shape(true, low, ("y_true", "lower"))
    _same_shape(true, high, ("y_true", "upper"))
    if (low > high).any():
        raise ValueError("lower exceeds upper at some steps.")
    return float(((true >= low) & (true <= high)).mean())


def crps_ensemble(y, paths) -> np.ndarray:
    """CRPS of the empirical distribution of ``paths`` at each ``y``.

    ``E|X - y| - E|X - X'| / 2`` with X, X' drawn from the paths (Gneiting &
    Raftery, 2007, eq. 21), the mean absolute difference computed from the
    sorted paths, ``(2 / m^2) sum_i (2 i - m - 1) x_(i)``, in
    O(m log m) instead of O(m^2).

    Parameters
    ----------
    y : ndarray of shape (...)
    paths : ndarray of shape (..., m)

    Returns
    -------
    ndarray of shape (...)
    """
    m = paths.shape[-1]
    spread = np.abs(paths - y[..., None]).mean(axis=-1)
    ordered = np.sort(paths, axis=-1)
    weights = 2.0 * np.arange(1, m + 1) - m - 1
    mean_difference = 2.0 * (ordered * weights).sum(axis=-1) / m**2
    return spread - 0.5 * mean_difference


def crps(y_true, samples) -> float:
    """Continuous ranked probability score of sampled paths, averaged.

    The CRPS of the paths' empirical distribution at each actual value
    (:func:`crps_ensemble`), in the units of the series; 0 for paths that
    all equal the actual value, and for one path the absolute error.

    Parameters
    ----------
    y_true : array-like of shape (h,) or (h, n_series)
    samples : ndarray of shape (h, n_paths) or (h, n_series, n_paths), or DataFrame
        Paths with the path axis last, as :meth:`probmodels.ARRegressor.sample`
        returns them (a DataFrame: one column per path, or (series, path)
        columns).

    Returns
    -------
    float
        The mean over steps and series.
    """
    true = _steps_by_series(y_true, "y_true")
    if isinstance(samples, pd.DataFrame):
        n_series = (
            samples.columns.get_level_values(0).nunique()
            if isinstance(samples.columns, pd.MultiIndex)
            else 1
        )
        samples = samples.to_numpy().reshape(len(samples), n_series, -1)
    paths = np.asarray(samples, dtype=float)
    if paths.ndim == 2:
        paths = paths[:, None, :]
    if paths.ndim != 3 or paths.shape[:2] != true.shape or paths.shape[2] == 0:
        raise ValueError(
            f"samples must have y_true's shape {np.shape(y_true)} and the paths "
            f"on a last axis; got {np.shape(samples)}."
        )
    if not np.isfinite(paths).all():
        raise ValueError("samples has missing or infinite values.")
    return float(crps_ensemble(true, paths).mean())
