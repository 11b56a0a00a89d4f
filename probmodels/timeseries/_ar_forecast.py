"""Forecasts and simulated paths of a fitted ARRegressor, past the fitted series."""

from __future__ import annotations

from numbers import Real
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ..base import check_n_samples
from ._ar_math import interval_half_width, simulate_ar
from ._inputs import future_exog

__all__ = ["ARForecastMixin", "Forecast"]


class Forecast(NamedTuple):
    """Point forecasts with the bounds of their prediction interval.

    Each field has the container of the fitted series (ndarray, Series or
    DataFrame) and, for pandas, the index that continues it.
    """

    mean: Any
    lower: Any
    upper: Any


class ARForecastMixin:
    """``forecast`` and ``sample`` of :class:`ARRegressor`.

    Both run the AR recursion forward from the last fitted steps, with the
    deterministic terms at the positions that continue the fitted clock and
    the regressors' future rows; ``sample`` adds Gaussian innovations.
    """

    def _future(self, steps, exog):
        """Shared part of the next ``steps`` steps, (steps, n_series)."""
        rows = future_exog(exog, tuple(self._exog_names), steps, self._clock)
        times = self._clock.n_steps + np.arange(1.0, steps + 1.0)
        return self._shared_part(times, rows).T

    def _history(self):
        """Last max-lag observations of each series, (n_series, max lag)."""
        p = np.atleast_2d(self.coef_).shape[1]
        A = self._data[self._data.shape[0] - p :, self._fitted_series]
        return A.T

    def _wrap_future(self, values):
        """(steps, n_series) future values in the fitted container."""
        c = self._container
        index = self._clock.future(len(values)) if c.kind != "ndarray" else None
        return c.wrap(values[:, 0] if c.ndim == 1 else values, index)

    def forecast(self, steps=1, alpha=None, *, exog=None):
        """Forecast past the end of the fitted series.

        Parameters
        ----------
        steps : int, default=1
            Number of steps ahead.
        alpha : float in (0, 1) or None, default=None
            With a value, also return the bounds of the ``1 - alpha``
            prediction interval, ``mean -+ z_{1-alpha/2} sqrt(sigma2 sum_{j<h}
            psi_j^2)`` (statsmodels' intervals; parameter uncertainty ignored).
        exog : DataFrame, array-like or None, default=None
            The regressors' values at the forecast steps, when the model has
            ``exog``: at least ``steps`` rows, a DataFrame with the regressor
            columns (whose index continues the fitted one) or an array with
            one column per regressor.

        Returns
        -------
        mean : ndarray, Series or DataFrame
            Point forecasts, shaped like the fitted series, indexed (pandas)
            by the continuation of the fitted index. Returned alone when
            ``alpha`` is None.
        forecast : Forecast
            ``(mean, lower, upper)`` when ``alpha`` is given.
        """
        check_is_fitted(self)
        steps = check_n_samples(steps, "steps")
        if alpha is not None and (not isinstance(alpha, Real) or not 0.0 < alpha < 1.0):
            raise ValueError(
                f"alpha must be a float in (0, 1), e.g. 0.05 for 95% intervals; "
                f"got {alpha!r}."
            )
        coef = np.atleast_2d(self.coef_)
        mean = simulate_ar(self._history(), coef, self._future(steps, exog))[..., 0]
        if alpha is None:
            return self._wrap_future(mean)
        half = interval_half_width(coef, np.atleast_1d(self.sigma2_), steps, alpha)
        return Forecast(
            self._wrap_future(mean),
            self._wrap_future(mean - half.T),
            self._wrap_future(mean + half.T),
        )

    def sample(self, n_samples=1, *, n_paths=1, exog=None, random_state=None):
        """Simulate continuations of the fitted series with Gaussian noise.

        Parameters
        ----------
        n_samples : int, default=1
            Number of future steps per path.
        n_paths : int, default=1
            Number of independent paths (for fan charts).
        exog : DataFrame, array-like or None, default=None
            The regressors' future values, as in :meth:`forecast` (every path
            shares them).
        random_state : int, RandomState, Generator or None, default=None
            None draws from the generator seeded at fit (consecutive calls
            differ); a value makes this call repeatable.

        Returns
        -------
        ndarray, Series or DataFrame
            With ``n_paths=1``, the container and index of :meth:`forecast`.
            With more paths: for a 1-D array ``(n_samples, n_paths)``, for a
            2-D array ``(n_samples, n_series, n_paths)``, for a Series a
            DataFrame with one column per path, for a DataFrame one with
            (series, path) MultiIndex columns.
        """
        check_is_fitted(self)
        n_samples = check_n_samples(n_samples)
        n_paths = check_n_samples(n_paths, "n_paths")
        future = self._future(n_samples, exog)  # checked before any draw
        rng = self._sampling_generator(random_state)
        coef = np.atleast_2d(self.coef_)
        sigma2 = np.atleast_1d(self.sigma2_)
        shocks = rng.standard_normal((n_samples, coef.shape[0], n_paths))
        shocks *= np.sqrt(sigma2)[None, :, None]
        paths = simulate_ar(self._history(), coef, future, shocks)
        if n_paths == 1:
            return self._wrap_future(paths[..., 0])
        c = self._container
        if c.kind == "ndarray":
            return paths[:, 0, :] if c.ndim == 1 else paths
        index = self._clock.future(n_samples)
        if c.kind == "series":
            return pd.DataFrame(
                paths[:, 0, :], index=index, columns=pd.RangeIndex(n_paths, name="path")
            )
        columns = pd.MultiIndex.from_product(
            [c.columns, range(n_paths)], names=[c.columns.name or "series", "path"]
        )
        return pd.DataFrame(paths.reshape(n_samples, -1), index=index, columns=columns)
