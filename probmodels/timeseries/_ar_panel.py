"""AR-X models of many series of different lengths, with missing steps.

:func:`estimate_panel` is conditional least squares for every series of a
:class:`~probmodels.timeseries._panel.Panel` in batched computations. The
series are sorted by length and cut into blocks of about the same length;
each block's regressions are built from the same columns, and a regression
row (a window: the target and its lags) is dropped where any of its values
is missing. Each series' estimate is then its own ``AutoReg``'s when it has
no missing step, and otherwise the conditional maximum-likelihood estimate
given its complete windows (unbiased when steps are missing at random).
Each block is solved by one stacked QR of ``[X | y]``: ``R``'s last column
gives ``Q'y`` and the residual sum of squares, accurate where the normal
equations would square the condition number.

Their forecasts and samples are :mod:`._ar_panel_forecast`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..utils.validation import and_more
from ._ar_cov import sandwich_covariance
from ._ar_fit import (
    ARFit,
    ARRecord,
    candidate_lag_masks,
    fit_statistics,
    lag_subset_columns,
)
from ._ar_math import gaussian_llf, information_criteria
from ._ar_results import ARResults, _check_alpha
from ._design import Terms
from ._inputs import check_hold_back
from ._panel import Panel

__all__ = [
    "PanelRecord",
    "PanelResults",
    "estimate_panel",
    "evaluate_panel",
    "fitted_windows",
    "in_sample_panel",
    "one_step_outputs",
    "one_step_panel",
]

#: Values per block of regressions (rows x columns x series), about 32 MB.
_BLOCK_VALUES = 4_000_000


@dataclass(frozen=True)
class PanelRecord:
    """A fitted AR-X model of a :class:`Panel`: its estimates and its data.

    The lag algebra (``coef``, ``orders``, ``sigma2``, ``roots``) is
    :class:`~probmodels.timeseries._ar_fit.ARRecord`'s.

    Parameters
    ----------
    fit : ARFit
    terms : Terms
    panel : Panel
    use_t : bool, default=False
    """

    fit: ARFit
    terms: Terms
    panel: Panel
    use_t: bool = False

    coef = ARRecord.coef
    orders = ARRecord.orders
    sigma2 = ARRecord.sigma2
    roots = ARRecord.roots
    one_series = False


# --------------------------------------------------------------- regressions
def regression_rows(panel: Panel, rows: np.ndarray, terms: Terms, start: int):
    """Targets, designs and complete windows of series ``rows`` from step ``start``.

    Parameters
    ----------
    panel : Panel
    rows : ndarray of int
        The series.
    terms : Terms
        The regression's columns.
    start : int
        First target step (0-based, from each series' own start).

    Returns
    -------
    y : ndarray of shape (n_rows, n_steps)
    X : ndarray of shape (n_rows, n_steps, n_params)
        Zero in the windows left out.
    valid : ndarray of bool, shape (n_rows, n_steps)
        Windows whose target, lags and regressors are all observed.
    """
    width = int(panel.lengths[rows].max())
    values = panel.values[rows, :width]
    T, n_det = max(width - start, 0), terms.n_deterministic
    X = np.empty((len(rows), T, terms.n_params))
    X[:, :, :n_det] = terms.deterministic(np.arange(start + 1.0, width + 1.0))
    for j, lag in enumerate(terms.lags):
        X[:, :, n_det + j] = values[:, start - lag : width - lag]
    if terms.n_exog:
        X[:, :, n_det + len(terms.lags) :] = panel.exog[rows, start:width]
    y = values[:, start:].copy()
    valid = ~np.isnan(y) & ~np.isnan(X).any(axis=2)
    X[~valid] = 0.0
    y[~valid] = 0.0
    return y, X, valid


def triangular_least_squares(y: np.ndarray, X: np.ndarray):
    """Least squares of each series by one stacked QR of ``[X | y]``.

    With ``[X | y] = Q R``, ``R[:k, :k] beta = R[:k, k]`` and the residual
    sum of squares is ``R[k, k]**2`` (Golub and Van Loan, Matrix
    Computations, 2013, section 5.3).

    Parameters
    ----------
    y : ndarray of shape (m, n)
    X : ndarray of shape (m, n, k)

    Returns
    -------
    beta : ndarray of shape (m, k)
    ssr : ndarray of shape (m,)
    xtx_inv : ndarray of shape (m, k, k)
    singular : ndarray of bool, shape (m,)
        Series whose columns are (numerically) collinear.
    """
    m, n, k = X.shape
    augmented = np.concatenate([X, y[:, :, None]], axis=2)
    if n < k + 1:  # QR needs at least as many rows as columns
        augmented = np.concatenate([augmented, np.zeros((m, k + 1 - n, k + 1))], axis=1)
    R = np.linalg.qr(augmented, mode="r")
    Rx = R[:, :k, :k]
    norms = np.sqrt(np.einsum("mtk,mtk->mk", X, X))
    kept = np.abs(np.einsum("mkk->mk", Rx))
    # What a column keeps once those before it are projected out, relative
    # to its norm: rounding level means exactly collinear (LAPACK's scale).
    tol = 10.0 * max(n, k) * np.finfo(float).eps
    singular = (kept <= tol * np.maximum(norms, np.finfo(float).tiny)).any(axis=1)
    Rx = np.where(singular[:, None, None], np.eye(k), Rx)
    R_inv = np.linalg.inv(Rx)
    beta = np.einsum("mij,mj->mi", R_inv, R[:, :k, k])
    xtx_inv = R_inv @ np.swapaxes(R_inv, 1, 2)
    return beta, R[:, k, k] ** 2, xtx_inv, singular


def _check_windows(nobs, k, names):
    short = np.flatnonzero(nobs < k + 1)
    if short.size:
        bad = [names[i] for i in short]
        raise ValueError(
            f"Series {bad[:20]}{and_more(bad, 20)} have fewer complete windows "
            f"(e.g. {int(nobs[short[0]])}) than the {k} regression parameters plus "
            "the noise variance: too short, or too many missing steps. Drop them, "
            "or use fewer lags or terms."
        )


def _solve_block(y, X, valid, names, terms):
    beta, ssr, xtx_inv, singular = triangular_least_squares(y, X)
    if singular.any():
        bad = [names[i] for i in np.flatnonzero(singular)]
        raise ValueError(
            f"The regression with {terms.names()} is singular for series "
            f"{bad[:20]}{and_more(bad, 20)}: a series is constant over its "
            "complete windows, or its lags and regressors are collinear. Drop or "
            "difference those series, or drop the redundant regressor."
        )
    nobs = valid.sum(axis=1)
    total, sum_sq = y.sum(axis=1), (y**2).sum(axis=1)
    centred = sum_sq - total**2 / nobs
    exact = ~(ssr > 1e-14 * np.maximum(centred, np.finfo(float).tiny))
    if exact.any():
        bad = [names[i] for i in np.flatnonzero(exact)]
        raise ValueError(
            f"Series {bad[:20]}{and_more(bad, 20)} are fitted exactly by the "
            f"regression with {terms.names()} (residual variance 0): they are "
            "constant or deterministic, and an AR model needs noise. Drop them."
        )
    return beta, ssr, xtx_inv, nobs, (sum_sq, total, np.zeros(len(y)))


def _blocks(lengths: np.ndarray, k: int):
    """Series in blocks of about the same length, each of bounded size."""
    order = np.argsort(lengths, kind="stable")
    lo = 0
    while lo < len(order):
        width = int(lengths[order[min(lo + 1, len(order)) - 1]])
        size = max(1, _BLOCK_VALUES // max(width * (k + 1), 1))
        # The block's width is its longest series': grow it only while
        # that stays within the budget.
        hi = min(lo + size, len(order))
        while (
            hi > lo + 1
            and lengths[order[hi - 1]] * (k + 1) * (hi - lo) > 2 * _BLOCK_VALUES
        ):
            hi = lo + max(1, (hi - lo) // 2)
        yield order[lo:hi]
        lo = hi


def _select_block(panel, rows, terms, start, ic, glob, names):
    """Each series' lag set minimising ``ic``, all compared on the same windows."""
    y, X, valid = regression_rows(panel, rows, terms, start)
    nobs = valid.sum(axis=1)
    _check_windows(nobs, terms.n_params, names)
    candidates = candidate_lag_masks(len(terms.lags), glob)
    scores = np.empty((len(rows), len(candidates)))
    for c, mask in enumerate(candidates):
        cols = lag_subset_columns(terms, mask)
        ssr = triangular_least_squares(y, X[:, :, cols])[1]
        llf = gaussian_llf(ssr / nobs, nobs)
        scores[:, c] = information_criteria(llf, nobs, len(cols))[ic]
    return candidates[scores.argmin(axis=1)]


def estimate_panel(
    panel: Panel,
    terms: Terms,
    *,
    hold_back: int | None,
    ic: str | None,
    glob: bool = False,
    lag_mask: np.ndarray | None = None,
    cov_type: str = "nonrobust",
    cov_kwds: dict | None = None,
    use_t: bool = False,
) -> ARFit:
    """Conditional least squares for each series of a panel (see the module).

    Parameters
    ----------
    panel : Panel
    terms : Terms
        The full model.
    hold_back : int or None
        First target step of every series (None: each model's largest lag).
    ic : str or None
        Criterion choosing each series' lags.
    glob : bool, default=False
        With ``ic``, compare every subset of the lags.
    lag_mask : ndarray of bool, shape (n_series, len(lags)), optional
        The lags of each series, to refit without choosing.
    cov_type, cov_kwds, use_t
        The coefficients' covariance (:mod:`._ar_cov`); ``cov_kwds`` checked.

    Returns
    -------
    ARFit
    """
    m, k = panel.n_series, terms.n_params
    names = panel.ids
    first = check_hold_back(hold_back, terms.max_lag)
    short = np.flatnonzero(panel.lengths <= first)
    if short.size:
        bad = names[short].tolist()
        raise ValueError(
            f"Series {bad[:20]}{and_more(bad, 20)} are shorter than their lags "
            f"(e.g. {int(panel.lengths[short[0]])} steps, and the first {first} only "
            "serve as lags). Drop them, or use fewer lags."
        )
    fit = ARFit(
        params=np.zeros((m, k)),
        included=np.zeros((m, k), dtype=bool),
        cov=np.full((m, k, k), np.nan),
        lag_mask=np.ones((m, len(terms.lags)), dtype=bool),
        start=np.empty(m, dtype=int),
        stats={},
    )
    if lag_mask is not None:
        fit.lag_mask[:] = lag_mask
    lags = np.asarray(terms.lags)
    for block in _blocks(panel.lengths, k):
        if ic and lag_mask is None:
            fit.lag_mask[block] = _select_block(
                panel, block, terms, first, ic, glob, names[block].tolist()
            )
        sets, which = np.unique(fit.lag_mask[block], axis=0, return_inverse=True)
        for s, mask in enumerate(sets):
            rows = block[which.reshape(-1) == s]
            sub = terms.with_lags(tuple(lags[mask]))
            start = sub.max_lag if hold_back is None else hold_back
            y, X, valid = regression_rows(panel, rows, sub, start)
            labels = names[rows].tolist()
            _check_windows(valid.sum(axis=1), sub.n_params, labels)
            beta, ssr, xtx_inv, nobs, sums = _solve_block(y, X, valid, labels, sub)
            if cov_type == "nonrobust":
                dof = nobs - (sub.n_params if use_t else 0)
                block_cov = (ssr / dof)[:, None, None] * xtx_inv
            else:
                e = y - np.einsum("mti,mi->mt", X, beta)
                block_cov = sandwich_covariance(
                    X, e, xtx_inv, cov_type, cov_kwds or {}, nobs=nobs
                )
            cols = lag_subset_columns(terms, mask)
            fit.params[np.ix_(rows, cols)] = beta
            fit.included[np.ix_(rows, cols)] = True
            cov = np.full((len(rows), k, k), np.nan)
            cov[:, cols[:, None], cols[None, :]] = block_cov
            fit.cov[rows] = cov
            fit.start[rows] = start
            stats = fit_statistics(ssr, nobs, sub.n_params, sums, terms.has_constant)
            for key, value in stats.items():
                fit.stats.setdefault(key, np.empty(m, dtype=value.dtype))[rows] = value
    return fit


def evaluate_panel(panel: Panel, record: PanelRecord) -> ARFit:
    """The fitted parameters on another panel of the same series.

    The coefficients and their covariance stay; the residual variance,
    likelihood and criteria are those of ``panel``'s complete windows, as
    statsmodels' ``AutoRegResults.apply(refit=False)`` gives them.

    Parameters
    ----------
    panel : Panel
        The same series (ids), other data.
    record : PanelRecord
        The fitted model.

    Returns
    -------
    ARFit
    """
    fit, terms, m = record.fit, record.terms, panel.n_series
    short = np.flatnonzero(panel.lengths <= fit.start)
    if short.size:
        bad = panel.ids[short].tolist()
        raise ValueError(
            f"Series {bad[:20]}{and_more(bad, 20)} are shorter than their lags "
            f"(e.g. {int(panel.lengths[short[0]])} steps)."
        )
    stats = {}
    for rows, _, y, X, valid, beta in fitted_windows(panel, fit, terms):
        nobs = valid.sum(axis=1)
        k = beta.shape[1]
        _check_windows(nobs, k, panel.ids[rows].tolist())
        ssr = np.sum((y - np.einsum("mti,mi->mt", X, beta)) ** 2, axis=1)
        sums = (np.sum(y**2, axis=1), np.sum(y, axis=1), np.zeros(len(rows)))
        part = fit_statistics(ssr, nobs, k, sums, terms.has_constant)
        for key, value in part.items():
            stats.setdefault(key, np.empty(m, dtype=value.dtype))[rows] = value
    return ARFit(fit.params, fit.included, fit.cov, fit.lag_mask, fit.start, stats)


def fitted_windows(panel: Panel, fit: ARFit, terms: Terms):
    """The regressions of a fit on a panel, a block of series of one lag set at a time.

    Yields
    ------
    rows : ndarray of int
        The series.
    start : int
        Their first target step.
    y, X, valid
        As :func:`regression_rows` gives them, for each series' own lags.
    beta : ndarray of shape (len(rows), k)
        Their fitted coefficients, in the columns of ``X``.
    """
    lags = np.asarray(terms.lags)
    for block in _blocks(panel.lengths, terms.n_params):
        sets, which = np.unique(fit.lag_mask[block], axis=0, return_inverse=True)
        for s, mask in enumerate(sets):
            rows = block[which.reshape(-1) == s]
            sub = terms.with_lags(tuple(lags[mask]))
            start = int(fit.start[rows[0]])
            y, X, valid = regression_rows(panel, rows, sub, start)
            beta = fit.params[np.ix_(rows, lag_subset_columns(terms, mask))]
            yield rows, start, y, X, valid, beta


# ------------------------------------------------------------------ in sample
def in_sample_panel(record: PanelRecord):
    """One-step fitted values on every complete window of every series.

    Returns
    -------
    series, steps : ndarray of int
        The (series, step) pair of each window, in series then time order.
    target, fitted : ndarray
    """
    parts = []
    for rows, start, y, X, valid, beta in fitted_windows(
        record.panel, record.fit, record.terms
    ):
        fitted = np.einsum("mti,mi->mt", X, beta)
        i, t = np.nonzero(valid)
        parts.append((rows[i], start + t, y[i, t], fitted[i, t]))
    series, steps, target, fitted = (
        np.concatenate(a) for a in zip(*parts, strict=True)
    )
    order = np.lexsort((steps, series))
    return series[order], steps[order], target[order], fitted[order]


def one_step_panel(record: PanelRecord, panel: Panel, origins: np.ndarray):
    """One-step predictions of new data of fitted series, and their series.

    Parameters
    ----------
    record : PanelRecord
        The fitted model.
    panel : Panel
        New data of (some of) the fitted series.
    origins : ndarray of int, shape (n_series of panel,)
        Each series' first step in ``panel`` counted on its fitted steps (0
        when it starts the count afresh), for the trend and seasons.

    Returns
    -------
    pred : ndarray of shape (n_series of panel, width)
        NaN where a lag or regressor is missing, for the first ``p_`` steps
        and past each series' end.
    which : ndarray of int
        Each series' position among the fitted ones.
    """
    which = record.panel.ids.get_indexer(panel.ids)
    if (which < 0).any():
        bad = panel.ids[which < 0].tolist()
        raise ValueError(
            f"X holds series {bad[:10]}{and_more(bad, 10)} that were not fitted; "
            "fit a model that includes them."
        )
    terms, params = record.terms, record.fit.params[which]
    coef, orders = record.coef[which], record.orders[which]
    m, width = panel.values.shape
    steps = np.arange(width)[None, :]
    positions = (origins[:, None] + steps + 1.0).ravel()
    beta = params[:, terms.shared_columns()]
    n_det = terms.n_deterministic
    det = terms.deterministic(positions).reshape(m, width, n_det)
    pred = np.einsum("mtd,md->mt", det, beta[:, :n_det])
    if terms.n_exog:
        pred += np.einsum("mtx,mx->mt", panel.exog, beta[:, n_det:])
    for lag in range(1, coef.shape[1] + 1):
        phi = coef[:, lag - 1 : lag]
        # A lag a series does not use leaves its missing values out.
        pred[:, lag:] += np.where(phi != 0.0, phi * panel.values[:, :-lag], 0.0)
    pred[(steps < orders[:, None]) | (steps >= panel.lengths[:, None])] = np.nan
    return pred, which


def one_step_outputs(record: PanelRecord, panel: Panel, what: str, starts: np.ndarray):
    """What ``predict``, ``score_samples`` and ``score`` return for new data.

    X's series are located on the fitted clock when its times are dates or
    steps of the fitted frequency, so their trend and seasons continue
    (:meth:`Panel.origins_on`); otherwise each counts from its own first
    step, as in ``fit``.

    Parameters
    ----------
    record : PanelRecord
    panel : Panel
        New data of fitted series.
    what : {"mean", "log_likelihood", "score"}
    starts : ndarray of int, shape (n_series of panel,)
        Each series' first scored step (``score`` leaves out those before).

    Returns
    -------
    ndarray of shape (n_series of panel, width), or float for "score"
    """
    pred, which = one_step_panel(record, panel, panel.origins_on(record.panel))
    if what == "mean":
        return pred
    sigma2 = record.sigma2[which][:, None]
    logpdf = -0.5 * (np.log(2 * np.pi * sigma2) + (panel.values - pred) ** 2 / sigma2)
    logpdf[np.arange(logpdf.shape[1])[None, :] < starts[:, None]] = np.nan
    if what != "score":
        return logpdf
    if np.isnan(logpdf).all():
        raise ValueError(
            "X has no step to score: each series needs more steps than score "
            f"leaves out (the first {int(starts.min())} or more) and observed lags."
        )
    return float(np.nanmean(logpdf))


# ------------------------------------------------------------------- results
class PanelResults(ARResults):
    """Inference of a panel's fits, a row per series (see ``ARRegressor``).

    ``params_``, ``bse_``, ``tvalues_`` and ``pvalues_`` are DataFrames
    indexed by series id with a column per parameter; ``cov_params_`` and
    :meth:`conf_int` have (id, parameter) rows; residuals and fitted values
    are indexed by (id, time).

    Parameters
    ----------
    record : PanelRecord
    """

    def _names(self):
        return self.record.terms.names(str(self.record.panel.columns["target"]))

    def _series_labels(self):
        return self.record.panel.ids

    def _frame(self, values):
        values = np.where(self.fit.included, values, np.nan)
        return pd.DataFrame(values, index=self._series_labels(), columns=self._names())

    @property
    def cov_params_(self):
        """Covariance of each series' coefficients, rows (id, parameter)."""
        names = self._names()
        index = pd.MultiIndex.from_product([self._series_labels(), names])
        return pd.DataFrame(
            self.fit.cov.reshape(-1, len(names)), index=index, columns=names
        )

    def conf_int(self, alpha=0.05):
        """Confidence intervals of the coefficients, rows (id, parameter).

        Parameters
        ----------
        alpha : float in (0, 1), default=0.05

        Returns
        -------
        DataFrame
            Columns 0 (lower) and 1 (upper), as statsmodels.
        """
        _check_alpha(alpha)
        half = self._reference().ppf(1.0 - alpha / 2.0) * self._bse()
        index = pd.MultiIndex.from_product([self._series_labels(), self._names()])
        lower = np.where(self.fit.included, self.fit.params - half, np.nan)
        upper = np.where(self.fit.included, self.fit.params + half, np.nan)
        return pd.DataFrame({0: lower.ravel(), 1: upper.ravel()}, index=index)

    def _windows(self, column):
        series, steps, target, fitted = in_sample_panel(self.record)
        panel = self.record.panel
        index = pd.MultiIndex.from_arrays(
            [panel.ids[series], panel.times(series, steps)],
            names=[panel.columns["id"], panel.columns["time"]],
        )
        values = {"resid": target - fitted, "fitted": fitted}[column]
        return pd.Series(values, index=index, name=column)

    @property
    def resid_(self):
        """Residuals on every complete window, indexed by (id, time)."""
        return self._windows("resid")

    @property
    def fittedvalues_(self):
        """One-step fitted values on every complete window, indexed by (id, time)."""
        return self._windows("fitted")

    def predict_in_sample(self, start=None, end=None, dynamic=False, exog=None):
        """One-step predictions on every complete window, as a long table.

        Parameters
        ----------
        start, end, dynamic, exog
            Only the defaults: per-series ranges and dynamic prediction are
            for one series (fit it alone).

        Returns
        -------
        DataFrame
            Columns id, time, the target and ``mean``.
        """
        if (
            start is not None
            or end is not None
            or dynamic is not False
            or exog is not None
        ):
            raise ValueError(
                "predict_in_sample of many series takes no start, end, dynamic or "
                "exog: it predicts every complete window one step ahead. Use "
                "forecast for the future, or fit one series alone for dynamic "
                "prediction over a range."
            )
        series, steps, target, fitted = in_sample_panel(self.record)
        panel = self.record.panel
        return panel.long_frame(
            series, steps, {panel.columns["target"]: target, "mean": fitted}
        )

    def _one_series_only(self, what):
        raise ValueError(
            f"{what} is for one series; this model holds {self.record.panel.n_series} "
            "series of a long table. Fit ARRegressor on one series' rows "
            "(df[df[id_col] == key]) for it."
        )

    def summary(self, alpha=0.05):
        """Not for many series: see :meth:`_one_series_only`."""
        self._one_series_only("summary")

    def test_normality(self):
        """Not for many series."""
        self._one_series_only("test_normality")

    def test_serial_correlation(self, lags=None, model_df=None):
        """Not for many series."""
        self._one_series_only("test_serial_correlation")

    def test_heteroskedasticity(self, lags=None):
        """Not for many series."""
        self._one_series_only("test_heteroskedasticity")

    def diagnostic_summary(self):
        """Not for many series."""
        self._one_series_only("diagnostic_summary")

    def plot_diagnostics(self, series=None, lags=10, fig=None, figsize=None):
        """Not for many series."""
        self._one_series_only("plot_diagnostics")

    def plot_predict(self, *args, **kwargs):
        """Not for many series."""
        self._one_series_only("plot_predict")

    def _require_data(self, what):
        return None
