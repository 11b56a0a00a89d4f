"""ARRegressor: AR(p) models for one series or many at once."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._validation import and_more, check_series_scale, validate_series
from ..base import Container, GenerativeMixin, atomic_fit, check_n_samples
from ..exceptions import NonStationaryWarning
from ._ar_math import (
    TREND_POWERS,
    OrderFits,
    ar_roots,
    basis_gram,
    gaussian_llf,
    information_criteria,
    is_stationary,
    lag_cross_products,
    least_squares_in_basis,
    ma_weights,
    one_step_predictions,
    regression_in_basis,
    simulate_ar,
    trend_cross_products,
    trend_gram,
)
from ._index import TimeClock

__all__ = ["ARRegressor", "Forecast"]


class Forecast(NamedTuple):
    """Point forecasts with the bounds of their prediction interval.

    Each field has the container of the fitted series (ndarray, Series or
    DataFrame) and, for pandas, the index that continues it.
    """

    mean: Any
    lower: Any
    upper: Any


def default_score_start(n_steps: int) -> int:
    """Leading steps ``score`` leaves out when ``hold_back`` is None.

    ``floor(10 log10(n))``, R's default largest order for ``ar()``, capped at
    half the stretch, so that every order up to it is scored on the same steps.

    Parameters
    ----------
    n_steps : int
        Length of the scored stretch.

    Returns
    -------
    int
    """
    if n_steps < 2:
        return 0
    return int(min(np.floor(10.0 * np.log10(n_steps)), n_steps // 2))


class ARRegressor(GenerativeMixin, BaseEstimator):
    """Autoregressive model AR(p) fitted by conditional least squares.

    ``Y_t = mu + delta t + sum_{i=1..p} phi_i Y_{t-i} + u_t`` with
    ``u_t ~ N(0, sigma^2)``. Least squares on the steps after the first p
    (a mean-squared-error objective) is the conditional Gaussian
    maximum-likelihood estimate (Hamilton, Time Series Analysis, 1994,
    section 5.3); results equal statsmodels' ``AutoReg``.

    A 1-D array or Series is one series. The columns of a 2-D array or
    DataFrame are separate series observed at the same times; they are all
    fitted in one batched computation, each with its own parameters.

    Parameters
    ----------
    p : int, default=1
        Order: the number of lags. With ``ic``, the largest order considered.
    trend : {"n", "c", "t", "ct"}, default="c"
        Deterministic terms: none, a constant ``mu``, a time trend ``delta t``
        (t = 1, 2, ... over the fitted series), or both.
    ic : {"aic", "bic", "hqic"} or None, default=None
        Choose the order of each series among 0..p by this information
        criterion, all candidates compared on the same steps (as statsmodels'
        ``ar_select_order``), then refit with the chosen order.
    hold_back : int or None, default=None
        Leading steps that serve only as lags (statsmodels' ``hold_back``).
        In ``fit``, the regression starts at step ``hold_back`` (None: at p),
        so models of different orders can be fitted on the same steps. In
        ``score``, the mean leaves out the first ``hold_back`` steps of X; with
        None it leaves out ``max(p_, floor(10 log10 n))`` steps (capped at n/2),
        so that a grid search over p up to that value compares every order on
        the same steps.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the generator that :meth:`sample` draws from.

    Attributes
    ----------
    coef_ : ndarray of shape (order,) or (n_series, largest order)
        AR coefficients phi_1..phi_p per series (zero-padded past each
        series' own order when ``ic`` chose different orders).
    intercept_ : float or ndarray of shape (n_series,)
        Constant ``mu`` (0 when the trend has none).
    trend_coef_ : float or ndarray of shape (n_series,)
        Time-trend slope ``delta`` (0 when the trend has none).
    sigma2_ : float or ndarray of shape (n_series,)
        Innovation variance, SSR / nobs.
    p_ : int or ndarray of shape (n_series,)
        Order used (chosen by ``ic`` when set).
    nobs_ : int or ndarray of shape (n_series,)
        Number of steps in the regression.
    llf_, aic_, bic_, hqic_ : float or ndarray of shape (n_series,)
        Conditional log-likelihood and information criteria, as statsmodels.
    roots_ : ndarray of complex
        Roots of ``1 - phi_1 z - ... - phi_p z^p`` (computed on access); the
        fitted process is stationary when all lie outside the unit circle.
    n_features_in_ : int
        Number of series.
    feature_names_in_ : ndarray of str
        Series names, when fitted on a DataFrame with string columns.

    See Also
    --------
    statsmodels.tsa.ar_model.AutoReg : the reference this model matches.

    Examples
    --------
    >>> from probmodels import ARRegressor
    >>> from probmodels.datasets import load_sunspots
    >>> y = load_sunspots()
    >>> est = ARRegressor(p=9, random_state=0).fit(y)
    >>> mean, lower, upper = est.forecast(5, alpha=0.05)
    >>> paths = est.sample(5, n_paths=100)
    >>> paths.shape
    (5, 100)
    """

    _parameter_constraints: dict = {
        "p": [Interval(Integral, 1, None, closed="left")],
        "trend": [StrOptions({"n", "c", "t", "ct"})],
        "ic": [StrOptions({"aic", "bic", "hqic"}), None],
        "hold_back": [Interval(Integral, 0, None, closed="left"), None],
        "random_state": ["random_state", np.random.Generator],
    }

    def __init__(self, p=1, trend="c", ic=None, hold_back=None, random_state=None):
        self.p = p
        self.trend = trend
        self.ic = ic
        self.hold_back = hold_back
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    @atomic_fit
    def fit(self, X, y=None):
        """Fit the model to one series or to each column of X.

        Parameters
        ----------
        X : array-like of shape (n_steps,) or (n_steps, n_series), Series or DataFrame
            Complete, numeric series (no NaN), oldest step first.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : ARRegressor
            The fitted estimator.
        """
        p, powers = int(self.p), TREND_POWERS[self.trend]
        if self.hold_back is not None and self.hold_back < p:
            raise ValueError(
                f"hold_back={self.hold_back} is smaller than p={p}: the first p "
                "steps only serve as lags. Set hold_back >= p or leave it None."
            )
        values, index = validate_series(self, X, reset=True)
        n, m = values.shape
        start = p if self.hold_back is None else int(self.hold_back)
        needed = start + len(powers) + p + 1
        if n < needed:
            raise ValueError(
                f"{self!r} needs at least {needed} observations per series "
                f"({start} held back as lags, {len(powers) + p} regression "
                f"parameters and 1 for the noise variance); X has {n} sample(s) "
                "(time steps). Use a smaller p or a longer series."
            )
        check_series_scale(values, self._series_names())
        # Series-major: a view for DataFrames, whose blocks are stored so.
        A = values.T
        orders = self._select_orders(A, powers, start) if self.ic else np.full(m, p)
        fit = self._fit_orders(A, powers, orders)
        _, generative = self._generative_state(X, self.random_state)
        # One series: scalars and 1-D coefficients, as for a 1-D sklearn y.
        one = generative.container.ndim == 1

        def per_series(v):
            return (v[0] if v.ndim > 1 else v[0].item()) if one else v

        self.coef_ = per_series(fit.coef)
        self.intercept_ = per_series(fit.intercept)
        self.trend_coef_ = per_series(fit.trend_coef)
        self.sigma2_ = per_series(fit.sigma2)
        self.llf_ = per_series(fit.llf)
        self.aic_ = per_series(fit.aic)
        self.bic_ = per_series(fit.bic)
        self.hqic_ = per_series(fit.hqic)
        self.p_ = per_series(fit.p)
        self.nobs_ = per_series(fit.nobs)
        self._commit_generative_state(generative)
        self._clock = TimeClock.from_index(index, n)
        self._history = values[n - int(orders.max()) :].copy()
        self._warn_if_not_stationary()
        return self

    def _select_orders(self, A, powers, start):
        """Order per series minimising ``ic``, all orders on the same steps."""
        p = int(self.p)
        gram, shift, basis = self._gram(A, powers, p, start)
        nobs = A.shape[1] - start
        scores = np.empty((A.shape[0], p + 1))
        for order in range(p + 1):
            design, target = regression_in_basis(powers, basis, order, p, shift)
            _, ssr = self._solve(gram, design, target, order)
            llf = gaussian_llf(ssr / nobs, nobs)
            scores[:, order] = information_criteria(llf, nobs, len(powers) + order)[
                self.ic
            ]
        return scores.argmin(axis=1)  # first minimum: the smallest order on ties

    def _fit_orders(self, A, powers, orders):
        """Least squares for each series at its own order; per-series results."""
        m, n = A.shape
        q = len(powers)
        out = OrderFits.empty(m, orders)
        # One batched solve per distinct order: a loop over at most p + 1
        # orders, never over series.
        for order in np.unique(orders):
            rows = np.flatnonzero(orders == order)
            order = int(order)
            start = order if self.hold_back is None else int(self.hold_back)
            sub = A[rows] if len(rows) < m else A
            gram, shift, basis = self._gram(sub, powers, order, start)
            design, target = regression_in_basis(powers, basis, order, order, shift)
            beta, ssr = self._solve(gram, design, target, order, rows)
            nobs = n - start
            sigma2 = ssr / nobs
            llf = gaussian_llf(sigma2, nobs)
            crit = information_criteria(llf, nobs, q + order)
            out.coef[rows, :order] = beta[:, q:]
            for c, k in enumerate(powers):
                (out.intercept if k == 0 else out.trend_coef)[rows] = beta[:, c]
            out.sigma2[rows], out.llf[rows] = sigma2, llf
            out.aic[rows], out.bic[rows], out.hqic[rows] = (
                crit["aic"],
                crit["bic"],
                crit["hqic"],
            )
            out.nobs[rows] = nobs
        return out

    @staticmethod
    def _gram(A, powers, p, start):
        """Gram matrix of the centred lags and time terms over the window.

        Every series is centred on its mean, whatever the trend: the mean is
        added back exactly in :func:`regression_in_basis`, so a series with a
        large mean loses no digits even without a constant in the model.
        """
        shift = A.mean(axis=1)
        basis = (0, 1) if 1 in powers else (0,)
        gram = basis_gram(
            lag_cross_products(A, p, start, shift),
            trend_cross_products(A, basis, p, start, shift),
            trend_gram(basis, start, A.shape[1]),
        )
        return gram, shift, basis

    def _solve(self, gram, design, target, order, rows=None):
        """Least squares in the basis; name the series that cannot be fitted."""
        names = self._series_names()
        if rows is not None:
            names = [names[r] for r in rows]
        beta, ssr, singular = least_squares_in_basis(gram, design, target)
        if singular.any():
            bad = [names[j] for j in np.flatnonzero(singular)]
            fixes = "a smaller p" + (" or trend='n'" if self.trend != "n" else "")
            raise ValueError(
                f"The AR({order}) regression is singular for series {bad[:50]}"
                f"{and_more(bad)}: a series is constant or its lags are collinear. "
                f"Drop or difference those series, or use {fixes}."
            )
        # A residual sum of squares at rounding level means an exact fit: the
        # noise variance would be zero and the likelihood infinite.
        centred = gram[:, 0, 0]  # sum of squares of the centred target
        degenerate = ~(ssr > 1e-14 * np.maximum(centred, np.finfo(float).tiny))
        if degenerate.any():
            bad = [names[j] for j in np.flatnonzero(degenerate)]
            raise ValueError(
                f"Series {bad[:50]}{and_more(bad)} are fitted exactly by an AR({order}) "
                f"with trend={self.trend!r} (residual variance 0): they are "
                "constant or deterministic, and an AR model needs noise. Drop them."
            )
        return beta, ssr

    def _series_names(self):
        if hasattr(self, "feature_names_in_"):
            return list(self.feature_names_in_)
        return list(range(self.n_features_in_))

    def _warn_if_not_stationary(self):
        coef = np.atleast_2d(self.coef_)
        bad = np.flatnonzero(~is_stationary(coef))
        if bad.size:
            names = [self._series_names()[j] for j in bad[:5]]
            which = (
                "The fitted process is"
                if coef.shape[0] == 1
                else (
                    f"{bad.size} of {coef.shape[0]} fitted processes (e.g. {names}) are"
                )
            )
            warnings.warn(
                f"{which} not stationary (an AR root lies on or inside the unit "
                "circle): forecast intervals grow without bound. Consider "
                "trend='ct', differencing the series, or a lower p.",
                NonStationaryWarning,
                stacklevel=4,  # the user's fit call, past atomic_fit's wrapper
            )

    # ----------------------------------------------------- fitted quantities
    def _params(self):
        """Per-series parameters as 2-D / 1-D arrays, whatever was fitted."""
        return (
            np.atleast_2d(self.coef_),
            np.atleast_1d(self.intercept_),
            np.atleast_1d(self.trend_coef_),
            np.atleast_1d(self.sigma2_),
            np.atleast_1d(self.p_),
        )

    @property
    def roots_(self):
        """Roots of the AR polynomial of each series (see class docstring)."""
        check_is_fitted(self)
        coef, *_ = self._params()
        orders = np.atleast_1d(self.p_)
        roots = np.full(coef.shape, np.nan, dtype=complex)
        for order in np.unique(orders[orders > 0]):
            rows = np.flatnonzero(orders == order)
            roots[rows, :order] = ar_roots(coef[rows, :order])
        return roots[0] if np.ndim(self.p_) == 0 else roots

    def _deterministic(self, times):
        """Trend part (n_series, len(times)) at 1-based times."""
        _, intercept, slope, _, _ = self._params()
        return intercept[:, None] + slope[:, None] * times[None, :]

    # ------------------------------------------------------------- in sample
    def _one_step(self, X):
        """Validated X (series-major) and its one-step predictions."""
        check_is_fitted(self)
        values, index = validate_series(self, X, reset=False)
        n = values.shape[0]
        coef, _, _, _, orders = self._params()
        A = values.T
        times = self._clock.positions(index, n)
        pred = one_step_predictions(A, coef, self._deterministic(times))
        pred[np.arange(n)[None, :] < orders[:, None]] = np.nan
        return A, pred

    def predict(self, X):
        """One-step-ahead predictions for each step of X from its own past.

        Parameters
        ----------
        X : array-like of shape (n_steps,) or (n_steps, n_series), Series or DataFrame
            A stretch of the series (the same number of series as fitted). A
            pandas stretch whose index continues the fitted one gets the right
            time-trend values; other input counts time from 1.

        Returns
        -------
        ndarray, Series or DataFrame of X's shape
            Prediction of each step given the p steps before it; the first p
            steps have no prediction (NaN).
        """
        _, pred = self._one_step(X)
        return Container.of(X).wrap(self._unstack(pred.T, X), _index_of(X))

    def score_samples(self, X):
        """Conditional Gaussian log-likelihood of each step of X, in nats.

        ``log N(x_t; prediction_t, sigma2_)``, exact given the p steps before
        step t. The leading steps that :meth:`score` leaves out (those before
        ``hold_back``, see the class parameters, and at least the first p,
        which have no past) are NaN, so that ``score(X)`` is
        ``np.nanmean(score_samples(X))``.

        Parameters
        ----------
        X : array-like of shape (n_steps,) or (n_steps, n_series), Series or DataFrame
            A stretch of the series.

        Returns
        -------
        ndarray, Series or DataFrame of X's shape
        """
        A, pred = self._one_step(X)
        sigma2 = self._params()[3][:, None]
        logpdf = -0.5 * (np.log(2 * np.pi * sigma2) + (A - pred) ** 2 / sigma2)
        logpdf[:, : self._score_start(A.shape[1])] = np.nan
        return Container.of(X).wrap(self._unstack(logpdf.T, X), _index_of(X))

    def _score_start(self, n: int) -> int:
        """First step of X that :meth:`score` counts."""
        held = default_score_start(n) if self.hold_back is None else int(self.hold_back)
        return max(int(np.max(self.p_)), held)

    def score(self, X, y=None):
        """Mean conditional log-likelihood per step of X, in nats.

        The mean of :meth:`score_samples` over every series and over the steps
        from ``hold_back`` on (see the class parameters), the same steps
        whatever the order, so that held-out scores of different orders
        compare fairly: ``GridSearchCV(ARRegressor(), {"p": range(1, 16)},
        cv=TimeSeriesSplit(5))`` picks the order by held-out likelihood.

        Parameters
        ----------
        X : array-like of shape (n_steps,) or (n_steps, n_series), Series or DataFrame
            A stretch of the series.
        y : None
            Ignored.

        Returns
        -------
        float
        """
        check_is_fitted(self)
        n, start = _num_steps(X), self._score_start(_num_steps(X))
        if start >= n:
            raise ValueError(
                f"X has {n} steps, but score leaves out the first {start} "
                f"(hold_back={self.hold_back}, p_={int(np.max(self.p_))}); pass a "
                "longer stretch."
            )
        logpdf = np.asarray(self.score_samples(X), dtype=float).reshape(n, -1)
        return float(np.mean(logpdf[start:]))

    # --------------------------------------------------------- out of sample
    def _future(self, steps):
        """Trend part of the next ``steps`` steps, (steps, n_series)."""
        times = self._clock.n_steps + np.arange(1.0, steps + 1.0)
        return self._deterministic(times).T

    def _wrap_future(self, values):
        """(steps, n_series) future values in the fitted container."""
        c = self._container
        index = self._clock.future(len(values)) if c.kind != "ndarray" else None
        return c.wrap(values[:, 0] if c.ndim == 1 else values, index)

    def forecast(self, steps=1, alpha=None):
        """Forecast past the end of the fitted series.

        Parameters
        ----------
        steps : int, default=1
            Number of steps ahead.
        alpha : float in (0, 1) or None, default=None
            With a value, also return the bounds of the ``1 - alpha``
            prediction interval, ``mean -+ z_{1-alpha/2} sqrt(sigma2 sum_{j<h}
            psi_j^2)`` (statsmodels' intervals; parameter uncertainty ignored).

        Returns
        -------
        mean : ndarray, Series or DataFrame
            Point forecasts, shaped like the fitted input, indexed (pandas) by
            the continuation of the fitted index. Returned alone when ``alpha``
            is None.
        forecast : Forecast
            ``(mean, lower, upper)`` when ``alpha`` is given.
        """
        check_is_fitted(self)
        steps = check_n_samples(steps, "steps")
        coef, _, _, sigma2, _ = self._params()
        mean = simulate_ar(self._history.T, coef, self._future(steps))[..., 0]
        if alpha is None:
            return self._wrap_future(mean)
        if not isinstance(alpha, Real) or not 0.0 < alpha < 1.0:
            raise ValueError(
                f"alpha must be a float in (0, 1), e.g. 0.05 for 95% intervals; "
                f"got {alpha!r}."
            )
        psi = ma_weights(coef, steps)
        half = norm.ppf(1.0 - alpha / 2.0) * np.sqrt(
            sigma2[:, None] * np.cumsum(psi**2, axis=1)
        )
        return Forecast(
            self._wrap_future(mean),
            self._wrap_future(mean - half.T),
            self._wrap_future(mean + half.T),
        )

    def sample(self, n_samples=1, *, n_paths=1, random_state=None):
        """Simulate continuations of the fitted series with Gaussian noise.

        Parameters
        ----------
        n_samples : int, default=1
            Number of future steps per path.
        n_paths : int, default=1
            Number of independent paths (for fan charts).
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
        rng = self._sampling_generator(random_state)
        n_samples = check_n_samples(n_samples)
        n_paths = check_n_samples(n_paths, "n_paths")
        coef, _, _, sigma2, _ = self._params()
        shocks = rng.standard_normal((n_samples, coef.shape[0], n_paths))
        shocks *= np.sqrt(sigma2)[None, :, None]
        paths = simulate_ar(self._history.T, coef, self._future(n_samples), shocks)
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

    @staticmethod
    def _unstack(values, X):
        """(n_steps, n_series) results shaped like X (1-D in, 1-D out)."""
        return values[:, 0] if np.ndim(X) == 1 else values


def _num_steps(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _index_of(X):
    return X.index if isinstance(X, (pd.Series, pd.DataFrame)) else None
