"""What statsmodels' ``AutoRegResults`` offers, on the fitted ARRegressor.

Inference (``params_``, ``bse_``, ``tvalues_``, ``pvalues_``,
``cov_params_``, :meth:`~ARResultsMixin.conf_int`, ``summary``), residual
diagnostics, dynamic in-sample prediction, and new data without a refit
(``append``, ``apply``). Standard errors are the conditional MLE's,
``sigma2 (X'X)^{-1}`` with ``sigma2 = SSR / nobs``, and tests use the normal
distribution, as ``AutoReg.fit()`` does by default.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.utils.validation import check_is_fitted

from ..base import atomic_fit
from ..utils.validation import validate_series
from ._ar_fit import estimate, evaluate, residuals
from ._ar_math import interval_half_width, one_step_predictions
from ._diagnostics import arch_lm, jarque_bera, ljung_box, plot_diagnostics
from ._index import TimeClock
from ._inputs import future_exog
from ._summary import Summary, label_text, model_name, summary_text

__all__ = ["ARResultsMixin"]


class ARResultsMixin:
    """Inference, diagnostics and updates of a fitted :class:`ARRegressor`.

    With one series, each result has statsmodels' shape (a Series indexed by
    parameter names, a DataFrame per test). With several, a DataFrame with a
    column per series, or results stacked with the series name as the outer
    index level.
    """

    # ------------------------------------------------------------ parameters
    def _names(self):
        one = self._container.ndim == 1
        series = self._container.name if one else None
        return self._terms().names("y" if series is None else str(series))

    def _frame(self, values):
        """(n_series, n_params) values by parameter name (NaN if excluded)."""
        values = np.where(self._included, values, np.nan)
        names = self._names()
        if self._container.ndim == 1:
            # One series: the parameters its model has, as AutoReg lists them.
            keep = self._included[0]
            return pd.Series(values[0, keep], index=np.asarray(names)[keep].tolist())
        return pd.DataFrame(values.T, index=names, columns=self._series_labels())

    def _series_labels(self):
        c = self._container
        if c.kind == "dataframe":
            return c.columns
        return pd.RangeIndex(len(self._fitted_series))

    @property
    def params_(self):
        """Coefficients by ``AutoReg``'s parameter names (see the class docstring)."""
        check_is_fitted(self)
        return self._frame(self._params)

    def _bse(self):
        return np.sqrt(np.einsum("jkk->jk", self._cov))

    @property
    def bse_(self):
        """Standard errors of the coefficients, ``sqrt(diag(cov_params_))``."""
        check_is_fitted(self)
        return self._frame(self._bse())

    @property
    def tvalues_(self):
        """``params_ / bse_``: z-statistics of each coefficient."""
        check_is_fitted(self)
        return self._frame(self._params / self._bse())

    @property
    def pvalues_(self):
        """Two-sided p-values of the z-statistics under N(0, 1)."""
        check_is_fitted(self)
        return self._frame(2.0 * norm.sf(np.abs(self._params / self._bse())))

    @property
    def cov_params_(self):
        """Covariance of the coefficients, ``sigma2 (X'X)^{-1}``.

        A DataFrame indexed and columned by parameter name; with several
        series, the rows carry the series as an outer level.
        """
        check_is_fitted(self)
        names = self._names()
        if self._container.ndim == 1:
            keep = self._included[0]
            kept = np.asarray(names)[keep].tolist()
            return pd.DataFrame(
                self._cov[0][np.ix_(keep, keep)], index=kept, columns=kept
            )
        index = pd.MultiIndex.from_product([self._series_labels(), names])
        return pd.DataFrame(
            self._cov.reshape(-1, len(names)), index=index, columns=names
        )

    def conf_int(self, alpha=0.05):
        """Confidence intervals ``params -+ z_{1-alpha/2} bse`` of the coefficients.

        Parameters
        ----------
        alpha : float in (0, 1), default=0.05
            1 - coverage.

        Returns
        -------
        DataFrame
            Columns 0 (lower) and 1 (upper), as statsmodels; with several
            series, columns (series, 0) and (series, 1).
        """
        check_is_fitted(self)
        if not 0.0 < float(alpha) < 1.0:
            raise ValueError(f"alpha must be in (0, 1), e.g. 0.05; got {alpha!r}.")
        half = norm.ppf(1.0 - alpha / 2.0) * self._bse()
        lower, upper = (
            self._frame(self._params - half),
            self._frame(self._params + half),
        )
        if self._container.ndim == 1:
            return pd.DataFrame({0: lower, 1: upper})
        # Columns (series, 0), (series, 1) in the fitted order of the series.
        columns = pd.MultiIndex.from_product([lower.columns, [0, 1]])
        values = np.stack([lower.to_numpy(), upper.to_numpy()], axis=2)
        return pd.DataFrame(values.reshape(len(lower), -1), lower.index, columns)

    # -------------------------------------------------------------- residuals
    def _residuals(self):
        """(fitted, resid) as (n_series, n_steps) on the fitted data."""
        check_is_fitted(self)
        return residuals(self._data, self)

    def _in_sample(self, values):
        """(n_series, n_steps) values on the fitted steps, in the container."""
        first = int(self._start.min())
        index = None
        if self._container.kind != "ndarray":
            index = self._clock.labels(first, self._clock.n_steps)
        return self._container.wrap(self._unstack(values[:, first:].T), index)

    @property
    def resid_(self):
        """Residuals on the fitted steps (NaN before a series' first one)."""
        return self._in_sample(self._residuals()[1])

    @property
    def fittedvalues_(self):
        """One-step fitted values on the fitted steps."""
        return self._in_sample(self._residuals()[0])

    def _by_start(self, test):
        """Apply ``test`` to each series' own residual window; (n_series, ...)."""
        _, resid = self._residuals()
        out = {}
        for start in np.unique(self._start):
            rows = np.flatnonzero(self._start == start)
            for key, value in test(resid[rows, start:], rows).items():
                if key not in out:
                    out[key] = np.empty((len(resid),) + value.shape[1:], value.dtype)
                out[key][rows] = value
        return out

    def _default_lags(self, lags):
        nobs = int(np.min(self._data.shape[0] - self._start))
        return min(nobs // 5, 10) if lags is None else int(lags)

    def _stack(self, results, index):
        """Per-series result frames: one frame, or stacked by series."""
        frames = [
            pd.DataFrame({k: v[j] for k, v in results.items()}, index=index)
            for j in range(len(self._fitted_series))
        ]
        if self._container.ndim == 1:
            return frames[0]
        return pd.concat(frames, keys=list(self._series_labels()), names=["series"])

    # ------------------------------------------------------------ diagnostics
    def test_normality(self):
        """Jarque-Bera test of the residuals' normality (null: normal).

        Returns
        -------
        Series or DataFrame
            "Jarque-Bera", "P-value", "Skewness", "Kurtosis" (as statsmodels'
            ``test_normality``); a row per series when there are several.
        """
        out = self._by_start(lambda r, rows: jarque_bera(r))
        frame = pd.DataFrame(out, index=self._series_labels())
        return frame.iloc[0].rename(None) if self._container.ndim == 1 else frame

    def test_serial_correlation(self, lags=None, model_df=None):
        """Ljung-Box tests of residual autocorrelation at lags 1..lags.

        Parameters
        ----------
        lags : int, optional
            Largest lag; None gives ``min(nobs // 5, 10)``.
        model_df : int, optional
            Degrees of freedom subtracted for the fit; None gives the number
            of regression parameters (``AutoReg``'s ``df_model``).

        Returns
        -------
        DataFrame
            "Ljung-Box", "LB P-value", "DF" indexed by lag (stacked by series
            when there are several). The p-value is NaN where DF is 0.
        """
        lags = self._default_lags(lags)
        k = self._included.sum(axis=1)

        def test(r, rows):
            df = k[rows] if model_df is None else np.full(len(rows), int(model_df))
            return ljung_box(r, lags, df)

        return self._stack(self._by_start(test), pd.RangeIndex(1, lags + 1, name="Lag"))

    def test_heteroskedasticity(self, lags=None):
        """ARCH-LM tests of conditional heteroskedasticity at lags 1..lags.

        Parameters
        ----------
        lags : int, optional
            Largest lag; None gives ``min(nobs // 5, 10)``.

        Returns
        -------
        DataFrame
            "ARCH-LM", "P-value", "DF" indexed by lag (stacked by series when
            there are several).
        """
        lags = self._default_lags(lags)

        def test(r, rows):
            parts = [arch_lm(r, lag) for lag in range(1, lags + 1)]
            return {
                "ARCH-LM": np.stack([p["ARCH-LM"] for p in parts], axis=1),
                "P-value": np.stack([p["P-value"] for p in parts], axis=1),
                "DF": np.tile(np.arange(1, lags + 1), (len(rows), 1)),
            }

        return self._stack(self._by_start(test), pd.RangeIndex(1, lags + 1, name="Lag"))

    def diagnostic_summary(self):
        """The three residual tests as text tables, as statsmodels prints them.

        Returns
        -------
        Summary
        """
        parts = []
        for title, frame in (
            ("Test of No Serial Correlation", self.test_serial_correlation()),
            ("Test of Normality", self.test_normality()),
            ("Test of Conditional Homoskedasticity", self.test_heteroskedasticity()),
        ):
            parts += [title.center(78), "=" * 78, frame.to_string(), ""]
        return Summary("\n".join(parts))

    def plot_diagnostics(self, series=None, lags=10, fig=None, figsize=None):
        """Residual plots: over time, histogram and density, Q-Q, correlogram.

        Parameters
        ----------
        series : label, optional
            Which series, when there are several (default: the first).
        lags : int, default=10
            Lags in the correlogram.
        fig : matplotlib Figure, optional
        figsize : tuple, optional

        Returns
        -------
        matplotlib.figure.Figure
        """
        resid = self.resid_
        sigma2 = np.atleast_1d(self.sigma2_)
        j = 0
        if self._container.ndim != 1:
            labels = list(self._series_labels())
            j = 0 if series is None else labels.index(series)
            resid = resid.iloc[:, j] if hasattr(resid, "iloc") else resid[:, j]
        start = int(self._start[j] - self._start.min())
        resid = resid.iloc[start:] if hasattr(resid, "iloc") else resid[start:]
        return plot_diagnostics(resid, sigma2[j], lags, fig, figsize)

    def plot_predict(
        self,
        start=None,
        end=None,
        dynamic=False,
        alpha=0.05,
        exog=None,
        series=None,
        fig=None,
        figsize=None,
    ):
        """Plot the observed series, predictions and forecast intervals.

        As statsmodels' ``plot_predict``: :meth:`predict_in_sample` from
        ``start`` to ``end`` (past the sample, a forecast), with the
        ``1 - alpha`` band of the steps past the sample,
        ``z sqrt(sigma2 sum_{j<h} psi_j^2)``.

        Parameters
        ----------
        start, end, dynamic, exog
            As in :meth:`predict_in_sample`.
        alpha : float, default=0.05
            1 - level of the forecast band.
        series : label, optional
            Which series, when there are several (default: the first).
        fig : matplotlib Figure, optional
        figsize : tuple, optional

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        pred = self.predict_in_sample(start, end, dynamic, exog)
        j, labels = 0, list(self._series_labels())
        if self._container.ndim != 1:
            j = 0 if series is None else labels.index(series)
            pred = pred.iloc[:, j] if hasattr(pred, "iloc") else pred[:, j]
        values = np.asarray(pred, dtype=float)
        n = self._clock.n_steps
        lo = 0 if start is None else self._clock.locate(start)
        steps = np.arange(lo, lo + len(values))
        x = getattr(pred, "index", steps)
        if hasattr(x, "to_timestamp"):
            x = x.to_timestamp()
        fig = fig if fig is not None else plt.figure(figsize=figsize or (9, 4))
        ax = fig.add_subplot(1, 1, 1)
        seen = steps < n
        observed = self._data[steps[seen], self._fitted_series[j]]
        ax.plot(np.asarray(x)[seen], observed, color="black", lw=1, label="observed")
        ax.plot(x, values, color="tab:blue", label="prediction")
        oos = steps >= n
        if oos.any():
            coef = np.atleast_2d(self.coef_)[j : j + 1]
            sigma2 = np.atleast_1d(self.sigma2_)[j : j + 1]
            half = interval_half_width(coef, sigma2, int(oos.sum()), alpha)[0]
            ax.fill_between(
                np.asarray(x)[oos],
                values[oos] - half,
                values[oos] + half,
                color="tab:blue",
                alpha=0.25,
                label=f"{1 - alpha:.0%} forecast interval",
            )
        ax.legend(loc="best")
        return fig

    def summary(self, alpha=0.05):
        """Results in statsmodels' ``AutoReg`` layout, one block per series.

        Parameters
        ----------
        alpha : float, default=0.05
            For the confidence intervals.

        Returns
        -------
        Summary
            ``print(est.summary())`` shows it.
        """
        check_is_fitted(self)
        names, bse, roots = self._names(), self._bse(), np.atleast_2d(self.roots_)
        stats = {
            k: np.atleast_1d(getattr(self, f"{k}_"))
            for k in ("nobs", "llf", "sigma2", "aic", "bic", "hqic")
        }
        labels = list(self._series_labels())
        if self._container.ndim == 1:
            labels = [self._container.name or "y"]
        index = self._clock.labels(0, self._clock.n_steps)
        blocks = []
        for j, label in enumerate(labels):
            keep = self._included[j]
            lags = np.asarray(self._lags)[: self._n_lags[j]]
            model = model_name(
                int(lags.max(initial=0)),
                len(lags) < lags.max(initial=0),
                bool(self.period_),
                bool(self._exog_names),
            )
            blocks.append(
                summary_text(
                    series=str(label),
                    model=model,
                    sample=(label_text(index[self._start[j]]), label_text(index[-1])),
                    stats={k: v[j] for k, v in stats.items()},
                    names=[n for n, kept in zip(names, keep, strict=True) if kept],
                    params=self._params[j, keep],
                    bse=bse[j, keep],
                    alpha=alpha,
                    roots=roots[j][~np.isnan(roots[j])],
                )
            )
        return Summary("\n\n".join(blocks))

    # ------------------------------------------------------ dynamic prediction
    def predict_in_sample(self, start=None, end=None, dynamic=False, exog=None):
        """In-sample prediction, static or dynamic, running on past the end.

        statsmodels' ``AutoRegResults.predict(start, end, dynamic)`` under a
        name that leaves :meth:`predict` (sklearn's one-step prediction of
        new data) as it is.

        Parameters
        ----------
        start, end : int, str, Timestamp, Period or None
            First and last predicted step (inclusive): an int position
            (0 is the first fitted step) or a label of the fitted index.
            Defaults: the first step and the last fitted step. An ``end``
            past the sample forecasts up to it.
        dynamic : bool, int or label, default=False
            False: each step is predicted from observed lags (one step
            ahead). True: from ``start`` on, lags are earlier predictions. An
            int is an offset from ``start``, a label a step, where that
            begins.
        exog : DataFrame, array-like or None
            The regressors' values past the sample, when ``end`` is past it.

        Returns
        -------
        ndarray, Series or DataFrame
            Steps ``start..end`` (NaN before a series' first fitted step), in
            the fitted series' container.
        """
        check_is_fitted(self)
        self._require_data("predict_in_sample")
        clock, n = self._clock, self._clock.n_steps
        lo = 0 if start is None else clock.locate(start)
        hi = n - 1 if end is None else clock.locate(end)
        if not 0 <= lo <= n or hi < lo:
            raise ValueError(
                f"start={start!r} and end={end!r} give steps {lo}..{hi}: start must "
                f"be a step of the fitted series (0..{n}) and end at or after it."
            )
        if dynamic is False:
            first_dynamic = n
        elif dynamic is True:
            first_dynamic = lo
        elif isinstance(dynamic, (int, np.integer)):
            first_dynamic = lo + int(dynamic)
        else:
            first_dynamic = clock.locate(dynamic)
        if first_dynamic < lo and dynamic is not False:
            raise ValueError(
                f"dynamic={dynamic!r} falls before start ({lo}): dynamic "
                "prediction begins at or after the first predicted step."
            )
        oos = max(0, hi - (n - 1))
        rows = self._data[:, self._fitted_exog]
        if oos:
            future = future_exog(exog, tuple(self._exog_names), oos, clock)
            rows = np.vstack([rows, future])
        times = np.arange(1.0, n + oos + 1.0)
        shared = self._shared_part(times, rows)
        A = self._data[:, self._fitted_series].T
        coef = np.atleast_2d(self.coef_)
        p = coef.shape[1]
        pred = np.full((A.shape[0], n + oos), np.nan)
        # z holds observations, replaced by predictions from each series'
        # first dynamic step on; p zeros in front keep every slice full.
        z = np.zeros((A.shape[0], p + n + oos))
        z[:, p : p + n] = A
        pred[:, :n] = one_step_predictions(A, coef, shared[:, :n])
        begin = np.minimum(np.maximum(first_dynamic, self._start), n)
        newest_first = coef[:, ::-1]
        for t in range(int(begin.min()), n + oos):
            value = shared[:, t] + np.einsum("ji,ji->j", newest_first, z[:, t : t + p])
            moving = t >= begin
            pred[moving, t] = value[moving]
            z[moving, p + t] = value[moving]
        pred[np.arange(n + oos)[None, :] < self._start[:, None]] = np.nan
        index = None
        if self._container.kind != "ndarray":
            index = clock.labels(lo, hi + 1)
        return self._container.wrap(self._unstack(pred[:, lo : hi + 1].T), index)

    # ---------------------------------------------------------------- new data
    def _refresh(self, values, clock, refit):
        """Put new data under the model: refit, or keep the parameters."""
        regressors = self._fitted_exog
        terms = self._terms()
        self._check_length(terms, values.shape[0])
        if refit:
            fit = estimate(
                values,
                self._fitted_series,
                regressors,
                terms,
                n_lags=self._n_lags,
                **self._estimate_options(),
            )
        else:
            fit = evaluate(values, self, terms)
        self._data, self._clock = values, clock
        self._set_fit(fit, self._container.ndim == 1)
        return self

    def _require_data(self, what):
        if self._data.shape[0] != self._clock.n_steps:
            raise ValueError(
                f"{what} needs the fitted series, which this model file (saved by "
                "probmodels 0.1.0) does not hold. Refit the model on the series."
            )

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
        self._require_data("append")
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
        values, index = validate_series(self, X, reset=False)
        clock = TimeClock.from_index(index, values.shape[0])
        if not self._clock.same_frequency(clock):
            theirs = getattr(clock.freq, "freqstr", clock.kind)
            ours = getattr(self._clock.freq, "freqstr", self._clock.kind)
            raise ValueError(
                f"X's index has frequency {theirs}, the fitted one {ours}: the "
                "lags and seasons would not mean the same. Resample X to "
                f"{ours} (X.asfreq or X.resample) first."
            )
        return self._refresh(values, clock, refit)
