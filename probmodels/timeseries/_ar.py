"""ARRegressor: AR-X models for one series or many at once."""

from __future__ import annotations

from dataclasses import replace
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import GenerativeMixin, atomic_fit, check_n_samples
from ..utils.validation import check_series_scale, validate_series
from ._ar_cov import COV_TYPES, check_cov_kwds
from ._ar_dask import (
    GatheredResults,
    forecast_partitions,
    is_dask_dataframe,
    refuse_on_cluster,
    refuse_pickling,
    sample_partitions,
)
from ._ar_fit import (
    estimate,
    evaluate,
    warn_if_not_stationary,
)
from ._ar_forecast import forecast, sample_paths
from ._ar_math import one_step_predictions
from ._ar_panel import (
    PanelResults,
    estimate_panel,
    evaluate_panel,
    one_step_outputs,
)
from ._ar_panel_forecast import forecast_panel, sample_panel
from ._ar_results import ARResults, results_member
from ._ar_state import (
    PER_SERIES,
    fitted_record,
    fitted_terms,
    plain_state,
    publish,
    publish_per_series,
    upgraded_state,
)
from ._design import Terms
from ._index import TimeClock
from ._inputs import (
    check_glob,
    check_series_length,
    default_score_start,
    index_of,
    lag_set,
    num_steps,
    resolve_period,
    series_container,
    split_columns,
)
from ._panel import is_long_table, long_rows, read_input, wide_values

__all__ = ["ARRegressor"]


class ARRegressor(GenerativeMixin, BaseEstimator):
    """Autoregressive model AR-X(p) fitted by conditional least squares.

    ``Y_t = d_t + sum_{l in lags} phi_l Y_{t-l} + x_t' beta + u_t`` with
    ``u_t ~ N(0, sigma^2)``, where ``d_t`` holds the trend and seasonal
    dummies and ``x_t`` the exogenous regressors. Least squares on the steps
    after ``hold_back`` is the conditional Gaussian maximum-likelihood
    estimate (Hamilton, Time Series Analysis, 1994, section 5.3); every
    number equals statsmodels' ``AutoReg`` on the same data.

    A 1-D array or Series is one series. The columns of a 2-D array or
    DataFrame are separate series observed at the same times, all fitted in
    one batched computation, each with its own parameters; the columns named
    by ``exog`` are regressors shared by every series.

    Parameters
    ----------
    p : int or list of int, default=1
        The lags: ``p`` lags ``1..p``, or a lag set such as ``[1, 2, 12]``
        (``AutoReg``'s ``lags``). With ``ic``, the largest set considered.
    trend : {"n", "c", "t", "ct", "ctt"}, default="c"
        Deterministic terms: none, a constant, a time trend ``t`` (t = 1, 2,
        ... over the fitted series), both, or both and ``t**2``.
    seasonal : bool, default=False
        Add seasonal dummies (``period - 1`` of them with a constant, else
        ``period``), counted from the first fitted step as ``AutoReg`` does.
    period : int or None, default=None
        Steps per seasonal cycle. None reads it from the frequency of a
        DatetimeIndex or PeriodIndex (12 for monthly data); a period that
        disagrees with that frequency is refused.
    exog : str, int, list or None, default=None
        The columns of X that are regressors rather than series: names for a
        DataFrame, positions for an array. Every other column is a series
        with those regressors. ``forecast`` and ``sample`` then take the
        regressors' future rows as ``exog=``.
    ic : {"aic", "bic", "hqic"} or None, default=None
        Choose the lags of each series by this information criterion among
        the leading parts of the lag set (``1..k`` for k = 0..p, as
        statsmodels' ``ar_select_order`` with ``glob=False``), all compared
        on the same steps, then refit with the chosen lags.
    glob : bool, default=False
        With ``ic``, compare every subset of the lag set instead of its
        leading parts (``ar_select_order(glob=True)``): ``2 ** len(lags)``
        regressions per series, so at most 16 lags.
    hold_back : int or None, default=None
        Leading steps that serve only as lags (statsmodels' ``hold_back``).
        In ``fit``, the regression starts at step ``hold_back`` (None: at the
        largest lag), so models of different orders can be fitted on the same
        steps. In ``score``, the mean leaves out the first ``hold_back`` steps
        of X; with None it leaves out ``max(p_, floor(10 log10 n))`` steps
        (capped at n/2), so that a grid search over p up to that value
        compares every order on the same steps.
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3", "HAC"}, default="nonrobust"
        The coefficients' covariance, as ``AutoReg.fit``'s: classical, White's
        heteroskedasticity-robust ones, or Newey-West's
        heteroskedasticity- and autocorrelation-robust one.
    cov_kwds : dict or None, default=None
        For "HAC": ``maxlags`` (required), ``kernel`` ("bartlett" or
        "uniform") and ``use_correction`` (multiply by ``nobs / (nobs -
        k)``; default False), as statsmodels takes them.
    use_t : bool, default=False
        Student's t with ``nobs - k`` degrees of freedom for p-values and
        confidence intervals instead of the normal; with "nonrobust" the
        variance estimate is then ``SSR / (nobs - k)`` instead of
        ``SSR / nobs`` (``AutoReg.fit``'s convention).
    id_col, time_col, target_col : str, default="unique_id", "ds", "y"
        A DataFrame with the ``id_col`` and ``time_col`` columns is a long
        table of many series, a row per (series, time), as statsforecast
        takes it; ``target_col`` holds the values, the columns named by
        ``exog`` each series' regressors. See :ref:`many-series`.
    freq : str, DateOffset, int or None, default=None
        The time step of a long table (``"D"``, ``"MS"``, or an int step
        for integer times); None infers it.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the generator that :meth:`sample` draws from.

    Attributes
    ----------
    params_ : Series or DataFrame
        Coefficients by ``AutoReg``'s names in its order (``const``,
        ``trend``, ``s(2,12)``, ..., ``y.L1``, ..., then the regressors); a
        DataFrame with a column per series when there are several. With
        ``bse_``, ``tvalues_``, ``pvalues_``, ``cov_params_`` and
        :meth:`conf_int` (computed by
        :class:`~probmodels.timeseries._ar_results.ARResults` from the
        fitted record).
    coef_ : ndarray of shape (max lag,) or (n_series, max lag)
        AR coefficients phi_1..phi_p per series, zero for lags not in the
        model (or not chosen by ``ic``).
    intercept_ : float or ndarray of shape (n_series,)
        Constant (0 when the trend has none).
    trend_coef_ : float or ndarray of shape (n_series,)
        Time-trend slope (0 when the trend has none).
    sigma2_ : float or ndarray of shape (n_series,)
        Innovation variance, SSR / nobs.
    p_ : int or ndarray of shape (n_series,)
        Largest lag used (chosen by ``ic`` when set).
    period_ : int or None
        Seasonal period used.
    nobs_ : int or ndarray of shape (n_series,)
        Number of steps in the regression.
    llf_, aic_, bic_, hqic_, aicc_, fpe_ : float or ndarray of shape (n_series,)
        Conditional log-likelihood and information criteria, as statsmodels.
    rsquared_ : float or ndarray of shape (n_series,)
        ``1 - SSR / TSS``, the TSS centred when the model spans a constant.
    resid_, fittedvalues_ : ndarray, Series or DataFrame
        Residuals and one-step fitted values on the fitted steps.
    roots_ : ndarray of complex
        Roots of ``1 - phi_1 z - ... - phi_p z^p`` (computed on access); the
        fitted process is stationary when all lie outside the unit circle.
    n_features_in_ : int
        Number of columns of X (series and regressors).
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame with string columns.

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
        "p": [Interval(Integral, 1, None, closed="left"), list, tuple],
        "trend": [StrOptions({"n", "c", "t", "ct", "ctt"})],
        "seasonal": ["boolean"],
        "period": [Interval(Integral, 2, None, closed="left"), None],
        "exog": [str, Integral, list, tuple, None],
        "ic": [StrOptions({"aic", "bic", "hqic"}), None],
        "glob": ["boolean"],
        "hold_back": [Interval(Integral, 0, None, closed="left"), None],
        "cov_type": [StrOptions(set(COV_TYPES))],
        "cov_kwds": [dict, None],
        "use_t": ["boolean"],
        "id_col": [str, Integral],
        "time_col": [str, Integral],
        "target_col": [str, Integral],
        "freq": "no_validation",
        "random_state": ["random_state", np.random.Generator],
    }

    def __init__(
        self,
        p=1,
        trend="c",
        seasonal=False,
        period=None,
        exog=None,
        ic=None,
        glob=False,
        hold_back=None,
        cov_type="nonrobust",
        cov_kwds=None,
        use_t=False,
        id_col="unique_id",
        time_col="ds",
        target_col="y",
        freq=None,
        random_state=None,
    ):
        self.p = p
        self.trend = trend
        self.seasonal = seasonal
        self.period = period
        self.exog = exog
        self.ic = ic
        self.glob = glob
        self.hold_back = hold_back
        self.cov_type = cov_type
        self.cov_kwds = cov_kwds
        self.use_t = use_t
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.freq = freq
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN marks where a series starts or ends, or a missing step.
        tags.input_tags.allow_nan = True
        return tags

    # ------------------------------------------------------------------ fit
    @atomic_fit
    def fit(self, X, y=None):
        """Fit the model to one series or to each series column of X.

        Parameters
        ----------
        X : array-like of shape (n_steps,) or (n_steps, n_columns), Series or DataFrame
            Numeric series, oldest step first, and the regressor columns
            named by ``exog``; or a long table (see ``id_col``). Leading and
            trailing NaN mark series that start or end at other times, NaN
            inside a series missing steps: such input is fitted as many
            series (see :ref:`many-series`).
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : ARRegressor
            The fitted estimator.
        """
        lags = lag_set(self.p)
        if is_dask_dataframe(X):
            return self._fit_dask(X, lags)
        panel, values, index = read_input(self, X, reset=True)
        if panel is not None:
            return self._fit_panel(X, panel, lags)
        n = values.shape[0]
        series, regressors, exog_names = split_columns(X, self.exog, values.shape[1])
        clock = TimeClock.from_index(index, n)
        period = resolve_period(self.seasonal, self.period, clock)
        terms = Terms(self.trend, period, lags, exog_names)
        self._fitted_series = series  # read by _series_names below
        self._fitted_exog = regressors
        self._panel = self._dask = None
        check_series_length(self, terms, n)
        check_series_scale(values[:, series], self._series_names())
        fit = estimate(
            values,
            series,
            regressors,
            terms,
            names=self._series_names(),
            **self._estimate_options(),
        )
        _, generative = self._generative_state(X, self.random_state)
        generative = replace(
            generative, container=series_container(X, series, regressors)
        )
        self._trend, self._lags, self.period_ = self.trend, list(lags), period or None
        self._exog_names = list(exog_names)
        self._data = values
        self._clock = clock
        self._commit_generative_state(generative)
        publish(self, fit)
        self._warn_if_not_stationary()
        return self

    def _fit_dask(self, X, lags):
        """Fit each partition of a Dask long table where it lives (:mod:`._ar_dask`)."""
        from ._ar_dask import fit_partitions

        self._dask, values = fit_partitions(self, X, PER_SERIES)
        validate_data(self, X._meta, reset=True, skip_check_array=True)
        _, generative = self._generative_state(X._meta, self.random_state)
        self._trend, self._lags = self.trend, list(lags)
        self.period_ = self._dask.period
        self._panel = self._data = None
        self._commit_generative_state(generative)
        for key, value in values.items():
            setattr(self, key, value)
        self._warn_if_not_stationary()
        return self

    def _fit_panel(self, X, panel, lags):
        """Fit many series of different lengths (:mod:`._ar_panel`)."""
        period = resolve_period(self.seasonal, self.period, panel.clock)
        terms = Terms(self.trend, period, lags, tuple(panel.columns["exog"]))
        fit = estimate_panel(panel, terms, **self._estimate_options())
        _, generative = self._generative_state(X, self.random_state)
        self._trend, self._lags, self.period_ = self.trend, list(lags), period or None
        self._exog_names = list(panel.columns["exog"])
        self._fitted_series = np.arange(panel.n_series)
        self._fitted_exog = np.arange(0)
        self._data, self._clock, self._panel, self._dask = (
            None,
            panel.clock,
            panel,
            None,
        )
        self._commit_generative_state(generative)
        publish(self, fit)
        self._warn_if_not_stationary()
        return self

    def _estimate_options(self):
        return {
            "hold_back": None if self.hold_back is None else int(self.hold_back),
            "ic": self.ic,
            "glob": check_glob(self.glob, self.ic, self.p),
            "cov_type": self.cov_type,
            "cov_kwds": check_cov_kwds(self.cov_type, self.cov_kwds),
            "use_t": bool(self.use_t),
        }

    def _results(self) -> ARResults:
        """``AutoRegResults``' inference and diagnostics of the fitted model."""
        check_is_fitted(self)
        if self._dask is not None:
            return GatheredResults(self._dask)
        if self._panel is not None:
            return PanelResults(fitted_record(self))
        return ARResults(fitted_record(self))

    def _series_names(self):
        if getattr(self, "_panel", None) is not None:
            return list(self._panel.ids)
        if getattr(self, "_dask", None) is not None:
            return list(self.p_.index)
        names = (
            list(self.feature_names_in_)
            if hasattr(self, "feature_names_in_")
            else list(range(self.n_features_in_))
        )
        return [names[j] for j in self._fitted_series]

    def _warn_if_not_stationary(self):
        # The user's fit call, past this method, fit and atomic_fit's wrapper.
        warn_if_not_stationary(
            self.coef_, self._series_names(), self._trend, stacklevel=5
        )

    # ----------------------------------------------------- fitted quantities
    @property
    def roots_(self):
        """Roots of the AR polynomial of each series (see class docstring)."""
        check_is_fitted(self)
        refuse_on_cluster(self._dask, "roots_")
        roots = fitted_record(self).roots
        return roots[0] if np.ndim(self.p_) == 0 else roots

    params_ = results_member("params_")
    bse_ = results_member("bse_")
    tvalues_ = results_member("tvalues_")
    pvalues_ = results_member("pvalues_")
    cov_params_ = results_member("cov_params_")
    conf_int = results_member("conf_int")
    summary = results_member("summary")
    resid_ = results_member("resid_")
    fittedvalues_ = results_member("fittedvalues_")
    test_normality = results_member("test_normality")
    test_serial_correlation = results_member("test_serial_correlation")
    test_heteroskedasticity = results_member("test_heteroskedasticity")
    diagnostic_summary = results_member("diagnostic_summary")
    plot_diagnostics = results_member("plot_diagnostics")
    predict_in_sample = results_member("predict_in_sample")
    plot_predict = results_member("plot_predict")

    def _split(self, values):
        """Series-major series and the regressor rows of validated X."""
        return (
            np.ascontiguousarray(values[:, self._fitted_series].T),
            values[:, self._fitted_exog],
        )

    # ------------------------------------------------------------- in sample
    def _one_step(self, X):
        """Validated series (series-major) and their one-step predictions."""
        check_is_fitted(self)
        values, index = validate_series(self, X, reset=False)
        A, exog = self._split(values)
        n = A.shape[1]
        times = self._clock.positions(index, n)
        record = fitted_record(self)
        pred = one_step_predictions(A, record.coef, record.shared_part(times, exog))
        orders = np.atleast_1d(self.p_)
        pred[np.arange(n)[None, :] < orders[:, None]] = np.nan
        return A, pred

    def predict(self, X):
        """One-step-ahead predictions for each step of X from its own past.

        Parameters
        ----------
        X : array-like of shape (n_steps,) or (n_steps, n_columns), Series or DataFrame
            A stretch of the series and regressors (the columns fitted). A
            pandas stretch whose index continues the fitted one gets the right
            trend and seasonal values; other input counts time from 1.

        Returns
        -------
        ndarray, Series or DataFrame
            Prediction of each step given the steps before it, in the fitted
            series' container; the first p steps have no prediction (NaN).
            See :meth:`predict_in_sample` for dynamic predictions.
        """
        check_is_fitted(self)
        refuse_on_cluster(self._dask, "predict")
        if self._panel is not None:
            return self._panel_one_step(X, "mean")
        _, pred = self._one_step(X)
        return self._container.wrap(self._unstack(pred.T), index_of(X))

    def score_samples(self, X):
        """Conditional Gaussian log-likelihood of each step of X, in nats.

        ``log N(x_t; prediction_t, sigma2_)``, exact given the steps before
        step t. The leading steps that :meth:`score` leaves out (those before
        ``hold_back``, see the class parameters, and at least the first p,
        which have no past) are NaN, so that ``score(X)`` is
        ``np.nanmean(score_samples(X))``.

        Parameters
        ----------
        X : array-like of shape (n_steps,) or (n_steps, n_columns), Series or DataFrame
            A stretch of the series and regressors.

        Returns
        -------
        ndarray, Series or DataFrame
            In the fitted series' container.
        """
        check_is_fitted(self)
        refuse_on_cluster(self._dask, "score_samples")
        if self._panel is not None:
            return self._panel_one_step(X, "log_likelihood")
        A, pred = self._one_step(X)
        sigma2 = np.atleast_1d(self.sigma2_)[:, None]
        logpdf = -0.5 * (np.log(2 * np.pi * sigma2) + (A - pred) ** 2 / sigma2)
        logpdf[:, : self._score_start(A.shape[1])] = np.nan
        return self._container.wrap(self._unstack(logpdf.T), index_of(X))

    def _panel_one_step(self, X, what):
        """:meth:`predict`, :meth:`score_samples` or :meth:`score` of many series."""
        panel, _, _ = read_input(self, X, reset=False, always_panel=True)
        starts = np.array([self._score_start(int(n)) for n in panel.lengths])
        values = one_step_outputs(fitted_record(self), panel, what, starts)
        if what == "score":
            return values
        if is_long_table(X, self.id_col, self.time_col):
            return long_rows(panel, {what: values})
        wide = wide_values(panel, values, num_steps(X))
        return self._container.wrap(self._unstack(wide), index_of(X))

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
        X : array-like of shape (n_steps,) or (n_steps, n_columns), Series or DataFrame
            A stretch of the series and regressors.
        y : None
            Ignored.

        Returns
        -------
        float
        """
        check_is_fitted(self)
        refuse_on_cluster(self._dask, "score")
        if self._panel is not None:
            return self._panel_one_step(X, "score")
        n, start = num_steps(X), self._score_start(num_steps(X))
        if start >= n:
            raise ValueError(
                f"X has {n} steps, but score leaves out the first {start} "
                f"(hold_back={self.hold_back}, p_={int(np.max(self.p_))}); pass a "
                "longer stretch."
            )
        logpdf = np.asarray(self.score_samples(X), dtype=float).reshape(n, -1)
        return float(np.mean(logpdf[start:]))

    def _unstack(self, values):
        """(n_steps, n_series) results shaped like the fitted series."""
        return values[:, 0] if self._container.ndim == 1 else values

    # ------------------------------------------------------------- the future
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
        if self._dask is not None:
            return forecast_partitions(self._dask, steps, alpha, exog)
        if self._panel is not None:
            return forecast_panel(fitted_record(self), steps, alpha, exog)
        return forecast(fitted_record(self), steps, alpha, exog)

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
        rng = self._sampling_generator(random_state)
        if self._dask is not None:
            return sample_partitions(self._dask, n_samples, n_paths, exog, rng)
        record = fitted_record(self)
        if self._panel is not None:
            return sample_panel(record, n_samples, n_paths, exog, rng)
        return sample_paths(record, n_samples, n_paths, exog, rng)

    # ------------------------------------------------------------- new data
    def _refresh(self, values, clock, refit):
        """Put new data under the model: refit, or keep the parameters."""
        terms = fitted_terms(self)
        check_series_length(self, terms, values.shape[0])
        if refit:
            fit = estimate(
                values,
                self._fitted_series,
                self._fitted_exog,
                terms,
                lag_mask=self._lag_mask,
                names=self._series_names(),
                **self._estimate_options(),
            )
        else:
            fit = evaluate(values, fitted_record(self))
        self._data, self._clock = values, clock
        publish(self, fit)
        return self

    @atomic_fit
    def append(self, X, refit=False):
        """Extend the fitted series with the steps that follow it.

        As statsmodels' ``AutoRegResults.append``: with ``refit=False`` the
        parameters and their covariance stay, and the residual variance,
        likelihood and criteria are recomputed on the longer series; forecasts
        then start from its new end. With ``refit=True`` the model is refitted
        on the longer series with the same lags (and the lags ``ic`` chose).

        Parameters
        ----------
        X : array-like, Series or DataFrame
            New steps of the series and regressors (the columns fitted). A
            pandas index must continue the fitted one, with no gap.
        refit : bool, default=False
            Re-estimate the parameters.

        Returns
        -------
        self : ARRegressor
            The updated estimator, so ``est.append(new).forecast(6)`` chains.
        """
        check_is_fitted(self)
        refuse_on_cluster(self._dask, "append")
        if self._panel is not None:
            raise ValueError(
                f"append extends series on one common index; this model holds "
                f"{self._panel.n_series} series of different lengths. Pass the "
                "longer table to apply(X) (refit=False keeps the parameters)."
            )
        self._results()._require_data("append")
        values, index = validate_series(self, X, reset=False)
        self._clock.check_continued_by(index, values.shape[0])
        data = np.vstack([self._data, values])
        return self._refresh(data, self._clock.extended(values.shape[0]), refit)

    @atomic_fit
    def apply(self, X, refit=False):
        """Put the fitted model on another stretch of data.

        As statsmodels' ``AutoRegResults.apply``: X replaces the fitted
        series (its trend and seasons count from its own first step); with
        ``refit=False`` the parameters stay and the variance, likelihood and
        criteria are those of X; forecasts start from X's end.

        Parameters
        ----------
        X : array-like, Series or DataFrame
            The new series and regressors (the columns fitted). A time index
            must have the fitted frequency.
        refit : bool, default=False
            Re-estimate the parameters on X with the same lags.

        Returns
        -------
        self : ARRegressor
            The updated estimator.
        """
        check_is_fitted(self)
        refuse_on_cluster(self._dask, "apply")
        if self._panel is not None:
            return self._apply_panel(X, refit)
        values, index = validate_series(self, X, reset=False)
        clock = TimeClock.from_index(index, values.shape[0])
        self._clock.check_same_frequency(clock)
        return self._refresh(values, clock, refit)

    def _apply_panel(self, X, refit):
        """:meth:`apply` for many series: the same series, other data."""
        panel, _, _ = read_input(self, X, reset=False, always_panel=True)
        panel.check_same_series(self._panel)
        if refit:
            fit = estimate_panel(
                panel,
                fitted_terms(self),
                lag_mask=self._lag_mask,
                **self._estimate_options(),
            )
        else:
            fit = evaluate_panel(panel, fitted_record(self))
        self._panel, self._clock = panel, panel.clock
        publish(self, fit)
        return self

    # ------------------------------------------------------------ model files
    def __getstate__(self):
        """The state, with a panel's per-series results as plain arrays (skops)."""
        if getattr(self, "_dask", None) is not None:
            refuse_pickling()
        return plain_state(dict(super().__getstate__()))  # never the live __dict__

    def __setstate__(self, state):
        """Read files of every earlier layout (:func:`._ar_state.upgraded_state`)."""
        super().__setstate__(upgraded_state(state))
        if self._panel is not None and "coef_" in state:
            publish_per_series(self, {k: np.asarray(state[k]) for k in PER_SERIES})
