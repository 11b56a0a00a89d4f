"""What statsmodels' ``AutoRegResults`` offers, on a fitted AR-X record.

Inference (``params_``, ``bse_``, ``tvalues_``, ``pvalues_``,
``cov_params_``, :meth:`~ARResults.conf_int`, ``summary``), residual
diagnostics and dynamic in-sample prediction. :class:`ARResults` is handed
the fitted record whole (:class:`~probmodels.timeseries._ar_fit.ARRecord`)
and knows no estimator; ``ARRegressor`` offers each of its members under
the same name (:func:`results_member`). Standard errors are by default the
conditional MLE's, ``sigma2 (X'X)^{-1}`` with ``sigma2 = SSR / nobs``, and
tests use the normal distribution, as ``AutoReg.fit()`` does by default;
``cov_type`` and ``use_t`` give the others ``AutoReg.fit`` has
(:mod:`._ar_cov`).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as t_distribution

from ._ar_fit import ARRecord, residuals
from ._ar_math import interval_half_width, one_step_predictions
from ._diagnostics import arch_lm, jarque_bera, ljung_box, plot_diagnostics
from ._inputs import future_exog
from ._summary import Summary, label_text, model_name, summary_text

__all__ = ["ARResults", "results_member"]


def results_member(name: str):
    """An ``ARRegressor`` member that answers from :class:`ARResults`.

    The member keeps the results' docstring (and signature), so ``help()``
    on the estimator reads as if it were its own.

    Parameters
    ----------
    name : str
        A property or method of :class:`ARResults`.

    Returns
    -------
    property or function
    """
    member = getattr(ARResults, name)
    if isinstance(member, property):
        return property(lambda est: getattr(est._results(), name), doc=member.__doc__)

    @functools.wraps(member)
    def call(est, *args, **kwargs):
        return getattr(est._results(), name)(*args, **kwargs)

    return call


class ARResults:
    """Inference and diagnostics of a fitted AR-X model (``AutoRegResults``).

    With one series, each result has statsmodels' shape (a Series indexed by
    parameter names, a DataFrame per test). With several, a DataFrame with a
    column per series, or results stacked with the series name as the outer
    index level.

    Parameters
    ----------
    record : ARRecord
        The fitted model whole.
    """

    def __init__(self, record: ARRecord):
        self.record = record
        self.fit = record.fit

    # ------------------------------------------------------------ parameters
    def _names(self):
        container = self.record.container
        series = container.name if container.ndim == 1 else None
        return self.record.terms.names("y" if series is None else str(series))

    def _frame(self, values):
        """(n_series, n_params) values by parameter name (NaN if excluded)."""
        values = np.where(self.fit.included, values, np.nan)
        names = self._names()
        if self.record.one_series:
            # One series: the parameters its model has, as AutoReg lists them.
            keep = self.fit.included[0]
            return pd.Series(values[0, keep], index=np.asarray(names)[keep].tolist())
        return pd.DataFrame(values.T, index=names, columns=self._series_labels())

    def _series_labels(self):
        c = self.record.container
        if c.kind == "dataframe":
            return c.columns
        return pd.RangeIndex(len(self.record.series))

    @property
    def params_(self):
        """Coefficients by ``AutoReg``'s parameter names (see the class docstring)."""
        return self._frame(self.fit.params)

    def _bse(self):
        return np.sqrt(np.einsum("jkk->jk", self.fit.cov))

    @property
    def bse_(self):
        """Standard errors of the coefficients, ``sqrt(diag(cov_params_))``."""
        return self._frame(self._bse())

    def _df_resid(self):
        """``nobs - k`` of each series, (n_series, 1)."""
        k = self.fit.included.sum(axis=1)
        return (np.atleast_1d(self.fit.stats["nobs"]) - k)[:, None]

    def _reference(self):
        """The t-ratios' reference: Student's t(nobs - k) with ``use_t``, else N(0, 1)."""
        return t_distribution(self._df_resid()) if self.record.use_t else norm

    @property
    def tvalues_(self):
        """``params_ / bse_``: the t-ratio (z-statistic) of each coefficient."""
        return self._frame(self.fit.params / self._bse())

    @property
    def pvalues_(self):
        """Two-sided p-values of the t-ratios under N(0, 1), or t(nobs - k) with ``use_t``."""
        ratio = np.abs(self.fit.params / self._bse())
        return self._frame(2.0 * self._reference().sf(ratio))

    @property
    def cov_params_(self):
        """Covariance of the coefficients (``sigma2 (X'X)^{-1}`` by default).

        A DataFrame indexed and columned by parameter name; with several
        series, the rows carry the series as an outer level.
        """
        names = self._names()
        if self.record.one_series:
            keep = self.fit.included[0]
            kept = np.asarray(names)[keep].tolist()
            return pd.DataFrame(
                self.fit.cov[0][np.ix_(keep, keep)], index=kept, columns=kept
            )
        index = pd.MultiIndex.from_product([self._series_labels(), names])
        return pd.DataFrame(
            self.fit.cov.reshape(-1, len(names)), index=index, columns=names
        )

    def conf_int(self, alpha=0.05):
        """Confidence intervals ``params -+ q_{1-alpha/2} bse`` of the coefficients.

        ``q`` is the normal quantile, or Student's t(nobs - k) one with ``use_t``.

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
        _check_alpha(alpha)
        half = self._reference().ppf(1.0 - alpha / 2.0) * self._bse()
        lower, upper = (
            self._frame(self.fit.params - half),
            self._frame(self.fit.params + half),
        )
        if self.record.one_series:
            return pd.DataFrame({0: lower, 1: upper})
        # Columns (series, 0), (series, 1) in the fitted order of the series.
        columns = pd.MultiIndex.from_product([lower.columns, [0, 1]])
        values = np.stack([lower.to_numpy(), upper.to_numpy()], axis=2)
        return pd.DataFrame(values.reshape(len(lower), -1), lower.index, columns)

    # -------------------------------------------------------------- residuals
    def _residuals(self):
        """(fitted, resid) as (n_series, n_steps) on the fitted data."""
        return residuals(self.record.data, self.record)

    def _in_sample(self, values):
        """(n_series, n_steps) values on the fitted steps, in the container."""
        first = int(self.fit.start.min())
        index = None
        if self.record.container.kind != "ndarray":
            index = self.record.clock.labels(first, self.record.clock.n_steps)
        return self.record.container.wrap(self.record.unstack(values[:, first:].T), index)

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
        for start in np.unique(self.fit.start):
            rows = np.flatnonzero(self.fit.start == start)
            for key, value in test(resid[rows, start:], rows).items():
                if key not in out:
                    out[key] = np.empty((len(resid),) + value.shape[1:], value.dtype)
                out[key][rows] = value
        return out

    def _default_lags(self, lags):
        nobs = int(np.min(self.record.data.shape[0] - self.fit.start))
        if lags is None:
            return min(nobs // 5, 10)
        if isinstance(lags, (bool, np.bool_)) or not isinstance(lags, (int, np.integer)):
            raise TypeError(f"lags must be a whole number of lags, got {lags!r}.")
        if not 1 <= lags < nobs:
            raise ValueError(
                f"lags must be from 1 to {nobs - 1} (the residuals number {nobs}); "
                f"got {lags}."
            )
        return int(lags)

    def _stack(self, results, index):
        """Per-series result frames: one frame, or stacked by series."""
        frames = [
            pd.DataFrame({k: v[j] for k, v in results.items()}, index=index)
            for j in range(len(self.record.series))
        ]
        if self.record.one_series:
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
        return frame.iloc[0].rename(None) if self.record.one_series else frame

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
        k = self.fit.included.sum(axis=1)

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
        sigma2 = self.record.sigma2
        j = 0
        if not self.record.one_series:
            labels = list(self._series_labels())
            j = 0 if series is None else labels.index(series)
            resid = resid.iloc[:, j] if hasattr(resid, "iloc") else resid[:, j]
        start = int(self.fit.start[j] - self.fit.start.min())
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
        if not self.record.one_series:
            j = 0 if series is None else labels.index(series)
            pred = pred.iloc[:, j] if hasattr(pred, "iloc") else pred[:, j]
        values = np.asarray(pred, dtype=float)
        n = self.record.clock.n_steps
        lo = 0 if start is None else self.record.clock.locate(start)
        steps = np.arange(lo, lo + len(values))
        x = getattr(pred, "index", steps)
        if hasattr(x, "to_timestamp"):
            x = x.to_timestamp()
        fig = fig if fig is not None else plt.figure(figsize=figsize or (9, 4))
        ax = fig.add_subplot(1, 1, 1)
        seen = steps < n
        observed = self.record.data[steps[seen], self.record.series[j]]
        ax.plot(np.asarray(x)[seen], observed, color="black", lw=1, label="observed")
        ax.plot(x, values, color="tab:blue", label="prediction")
        oos = steps >= n
        if oos.any():
            coef = self.record.coef[j : j + 1]
            sigma2 = self.record.sigma2[j : j + 1]
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
        _check_alpha(alpha)
        names, bse, roots = self._names(), self._bse(), self.record.roots
        stats = {
            k: np.atleast_1d(self.fit.stats[k])
            for k in ("nobs", "llf", "sigma2", "aic", "bic", "hqic")
        }
        labels = list(self._series_labels())
        if self.record.one_series:
            labels = [self.record.container.name or "y"]
        index = self.record.clock.labels(0, self.record.clock.n_steps)
        blocks, df_resid = [], self._df_resid()
        for j, label in enumerate(labels):
            keep = self.fit.included[j]
            lags = np.asarray(self.record.terms.lags)[self.fit.lag_mask[j]]
            model = model_name(
                int(lags.max(initial=0)),
                len(lags) < lags.max(initial=0),
                bool(self.record.terms.period),
                bool(self.record.terms.exog_names),
            )
            blocks.append(
                summary_text(
                    series=str(label),
                    model=model,
                    sample=(label_text(index[self.fit.start[j]]), label_text(index[-1])),
                    stats={k: v[j] for k, v in stats.items()},
                    names=[n for n, kept in zip(names, keep, strict=True) if kept],
                    params=self.fit.params[j, keep],
                    bse=bse[j, keep],
                    alpha=alpha,
                    roots=roots[j][~np.isnan(roots[j])],
                    df=int(df_resid[j, 0]) if self.record.use_t else None,
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
        self._require_data("predict_in_sample")
        clock, n = self.record.clock, self.record.clock.n_steps
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
        rows = self.record.data[:, self.record.regressors]
        if exog is not None and not oos:
            raise ValueError(
                "exog gives the regressors' values past the sample, but "
                f"end={end!r} stays within it: drop exog (the fitted values are "
                "used), or predict past the sample."
            )
        if oos:
            future = future_exog(exog, tuple(self.record.terms.exog_names), oos, clock)
            rows = np.vstack([rows, future])
        times = np.arange(1.0, n + oos + 1.0)
        shared = self.record.shared_part(times, rows)
        A = self.record.data[:, self.record.series].T
        coef = self.record.coef
        p = coef.shape[1]
        pred = np.full((A.shape[0], n + oos), np.nan)
        # z holds observations, replaced by predictions from each series'
        # first dynamic step on; p zeros in front keep every slice full.
        z = np.zeros((A.shape[0], p + n + oos))
        z[:, p : p + n] = A
        pred[:, :n] = one_step_predictions(A, coef, shared[:, :n])
        begin = np.minimum(np.maximum(first_dynamic, self.fit.start), n)
        newest_first = coef[:, ::-1]
        for t in range(int(begin.min()), n + oos):
            value = shared[:, t] + np.einsum("ji,ji->j", newest_first, z[:, t : t + p])
            moving = t >= begin
            pred[moving, t] = value[moving]
            z[moving, p + t] = value[moving]
        pred[np.arange(n + oos)[None, :] < self.fit.start[:, None]] = np.nan
        index = None
        if self.record.container.kind != "ndarray":
            index = clock.labels(lo, hi + 1)
        return self.record.container.wrap(self.record.unstack(pred[:, lo : hi + 1].T), index)

    # ------------------------------------------------------------ the data
    def _require_data(self, what):
        if self.record.data.shape[0] != self.record.clock.n_steps:
            raise ValueError(
                f"{what} needs the fitted series, which this model file (saved by "
                "probmodels 0.1.0) does not hold. Refit the model on the series."
            )


def _check_alpha(alpha) -> None:
    """Refuse an interval's ``alpha`` outside (0, 1)."""
    try:
        inside = not isinstance(alpha, (bool, np.bool_)) and 0.0 < float(alpha) < 1.0
    except (TypeError, ValueError):
        inside = False
    if not inside:
        raise ValueError(f"alpha must be in (0, 1), e.g. 0.05; got {alpha!r}.")
