"""Estimating an AR-X model for many series at once, and evaluating it on new data.

:func:`estimate` is conditional least squares for every series in one
batched computation: one Gram matrix per distinct lag set, solved in the
basis of :mod:`probmodels.timeseries._design`. :func:`evaluate` keeps given
parameters and recomputes what depends on the data (residual variance,
likelihood, criteria), as statsmodels' ``AutoRegResults.append`` and
``apply`` with ``refit=False``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..base import Container
from ..exceptions import NonStationaryWarning
from ..utils.validation import and_more
from ._ar_cov import sandwich_covariance
from ._ar_math import (
    ar_roots,
    gaussian_llf,
    information_criteria,
    is_stationary,
    least_squares_in_basis,
    one_step_predictions,
)
from ._design import Terms, basis_gram, regression_in_basis, shared_basis
from ._index import TimeClock

__all__ = [
    "ARFit",
    "ARRecord",
    "estimate",
    "evaluate",
    "residuals",
    "upgrade_0_1_0",
    "warn_if_not_stationary",
]


@dataclass
class ARFit:
    """Per-series results of a fit, with every parameter of the full lag set.

    Parameters
    ----------
    params : ndarray of shape (n_series, n_params)
        Coefficients in ``AutoReg``'s order; 0 for lags a series does not use.
    included : ndarray of bool, shape (n_series, n_params)
        Which coefficients each series' model has (``ic`` may drop lags).
    cov : ndarray of shape (n_series, n_params, n_params)
        ``sigma2 (X'X)^{-1}``; NaN in rows and columns of excluded lags.
    lag_mask : ndarray of bool, shape (n_series, len(lags))
        Which lags of the lag set each series uses: all of them, its leading
        ones (``ic``), or any subset (``ic`` with ``glob=True``).
    start : ndarray of int, shape (n_series,)
        First fitted step of each series.
    stats : dict of str to ndarray of shape (n_series,)
        ``sigma2``, ``llf``, ``aic``, ``bic``, ``hqic``, ``aicc``, ``fpe``,
        ``rsquared`` and ``nobs``.
    """

    params: np.ndarray
    included: np.ndarray
    cov: np.ndarray
    lag_mask: np.ndarray
    start: np.ndarray
    stats: dict


@dataclass(frozen=True)
class ARRecord:
    """A fitted AR-X model whole: its estimates and what they were fitted on.

    What the results (:class:`~probmodels.timeseries._ar_results.ARResults`)
    and the forecasts (:mod:`~probmodels.timeseries._ar_forecast`) read,
    handed to them by ``ARRegressor._record`` rather than read from the
    estimator's private members.

    Parameters
    ----------
    fit : ARFit
        The per-series estimates.
    terms : Terms
        The regression's columns (trend, seasons, lags, regressors).
    data : ndarray of shape (n_steps, n_columns)
        The fitted series and regressors (a 0.1.0 file: the last p steps).
    series, regressors : ndarray of int
        Positions of the series' and the regressors' columns in ``data``.
    clock : TimeClock
        The fitted index.
    container : Container
        The fitted series' container, for outputs of the same kind.
    use_t : bool, default=False
        Whether inference uses Student's t with ``nobs - k`` degrees of
        freedom (``ARRegressor(use_t=True)``) or the normal.
    """

    fit: ARFit
    terms: Terms
    data: np.ndarray
    series: np.ndarray
    regressors: np.ndarray
    clock: TimeClock
    container: Container
    use_t: bool = False

    @property
    def coef(self) -> np.ndarray:
        """AR coefficients of lags 1..p per series, (n_series, p); 0 where unused."""
        lags = np.asarray(self.terms.lags, dtype=int)
        coef = np.zeros((self.fit.params.shape[0], self.terms.max_lag))
        coef[:, lags - 1] = self.fit.params[:, self.terms.lag_columns()]
        return coef[:, : int(self.orders.max(initial=0))]

    @property
    def orders(self) -> np.ndarray:
        """The largest lag each series uses, (n_series,) (``p_``)."""
        lags = np.asarray(self.terms.lags, dtype=int)
        return np.where(self.fit.lag_mask, lags, 0).max(axis=1, initial=0)

    @property
    def sigma2(self) -> np.ndarray:
        """The noise variance of each series, (n_series,)."""
        return np.asarray(self.fit.stats["sigma2"], dtype=float).reshape(-1)

    @property
    def roots(self) -> np.ndarray:
        """Roots of each series' AR polynomial, (n_series, p); NaN past its order."""
        coef, orders = self.coef, self.orders
        roots = np.full(coef.shape, np.nan, dtype=complex)
        for order in np.unique(orders[orders > 0]):
            rows = np.flatnonzero(orders == order)
            roots[rows, :order] = ar_roots(coef[rows, :order])
        return roots

    @property
    def one_series(self) -> bool:
        """Whether the fitted series is one (1-D results, as ``AutoReg``'s)."""
        return self.container.ndim == 1

    def shared_part(self, positions, exog) -> np.ndarray:
        """Deterministic plus regressor part, (n_series, len(positions)).

        Parameters
        ----------
        positions : ndarray of shape (n_steps,)
            Steps on the fitted clock (1 is the first fitted step).
        exog : ndarray of shape (n_steps, n_regressors)

        Returns
        -------
        ndarray
        """
        beta = self.fit.params[:, self.terms.shared_columns()]
        return beta @ self.terms.shared(positions, exog).T

    def unstack(self, values: np.ndarray) -> np.ndarray:
        """(n_steps, n_series) results shaped like the fitted series."""
        return values[:, 0] if self.one_series else values


def check_identified(shared: np.ndarray, terms: Terms) -> None:
    """Refuse regressors in the span of the deterministic terms and earlier ones.

    A December flag beside monthly dummies, ``exog = t`` with ``trend="ct"``
    or a constant driver leaves some coefficients unidentified. In the
    columns' order (trend, seasons, then the regressors), the first that adds
    no dimension to those before it is named: one QR of the columns.

    Parameters
    ----------
    shared : ndarray of shape (n_steps, n_shared)
        The deterministic and regressor columns, in ``terms``' order.
    terms : Terms
    """
    if not shared.shape[1]:
        return
    norms = np.linalg.norm(shared, axis=0)
    scaled = shared / np.where(norms > 0, norms, 1.0)
    # Without pivoting, |R_jj| is what column j keeps once the columns before
    # it are projected out: the first that keeps nothing is the culprit.
    kept_norms = np.zeros(scaled.shape[1])
    diagonal = np.abs(np.diag(np.linalg.qr(scaled, mode="r")))
    kept_norms[: len(diagonal)] = diagonal
    tol = max(scaled.shape) * np.finfo(float).eps * 1e3
    dependent = np.flatnonzero(kept_norms <= tol)
    if len(dependent):
        j = int(dependent[0])
        names = [terms.names()[i] for i in terms.shared_columns()]
        others = names[:j]
        raise ValueError(
            f"The column {names[j]!r} is a combination of the terms before it "
            f"({others or 'none: it is all zeros'}), so its coefficient cannot be "
            "estimated (a flag beside seasonal dummies, a time index beside "
            "trend='ct', a constant beside trend='c'). Drop it from exog, or "
            "change trend / seasonal."
        )


def warn_if_not_stationary(coef, names, trend, stacklevel) -> None:
    """Warn when a fitted AR process has a root on or inside the unit circle.

    Parameters
    ----------
    coef : ndarray of shape (p,) or (n_series, p)
        The AR coefficients.
    names : list
        The series' names, to name the first few that are not stationary.
    trend : str
        The fitted trend (the advice adds ``trend='ct'`` without one).
    stacklevel : int
        ``warnings.warn``'s, so that the warning points at the user's call.
    """
    coef = np.atleast_2d(coef)
    bad = np.flatnonzero(~is_stationary(coef))
    if not bad.size:
        return
    if coef.shape[0] == 1:
        which = "The fitted process is"
    else:
        examples = [names[j] for j in bad[:5]]
        which = f"{bad.size} of {coef.shape[0]} fitted processes (e.g. {examples}) are"
    fixes = "" if trend in ("ct", "ctt") else "trend='ct', "
    warnings.warn(
        f"{which} not stationary (an AR root lies on or inside the unit "
        "circle): forecast intervals grow without bound. Consider "
        f"{fixes}differencing the series, or a lower p.",
        NonStationaryWarning,
        stacklevel=stacklevel,
    )


def lag_subset_columns(terms: Terms, mask: np.ndarray) -> np.ndarray:
    """Positions, among the full model's parameters, of the model with ``mask``'s lags."""
    n_det, n_lag = terms.n_deterministic, len(terms.lags)
    return np.concatenate(
        [
            np.arange(n_det),
            n_det + np.flatnonzero(mask),
            n_det + n_lag + np.arange(terms.n_exog),
        ]
    )


def candidate_lag_masks(n_lags: int, glob: bool) -> np.ndarray:
    """The lag sets ``ic`` compares, as masks, in statsmodels' order.

    The leading ones (none, the first, the first two, ...), or with ``glob``
    every subset, subset ``b`` holding lag ``i + 1`` when bit ``i`` of ``b``
    is set (``ar_select_order``'s enumeration, so ties resolve alike).

    Parameters
    ----------
    n_lags : int
    glob : bool

    Returns
    -------
    ndarray of bool, shape (n_candidates, n_lags)
    """
    if not glob:
        return np.arange(n_lags)[None, :] < np.arange(n_lags + 1)[:, None]
    codes = np.arange(2**n_lags)[:, None]
    return (codes >> np.arange(n_lags)[None, :]) & 1 == 1


def _positions(n: int) -> np.ndarray:
    return np.arange(1.0, n + 1.0)


def _solve(A, shared, terms, sub_terms, start, names):
    """Least squares of ``sub_terms`` in the basis of ``terms``' lags."""
    shift = A.mean(axis=1)
    rows, coords, one = shared_basis(shared, start)
    offsets = (0, *terms.lags)
    gram = basis_gram(A, rows, offsets, start, shift)
    design, target = regression_in_basis(sub_terms, offsets, coords, one, shift)
    beta, ssr, singular, xtx_inv = least_squares_in_basis(gram, design, target)
    if singular.any():
        bad = [names[j] for j in np.flatnonzero(singular)]
        fixes = "a smaller p" + (" or trend='n'" if sub_terms.trend != "n" else "")
        raise ValueError(
            f"The regression with {sub_terms.names()} is singular for series "
            f"{bad[:50]}{and_more(bad)}: a series is constant, or its lags and "
            "regressors are collinear (a constant regressor beside the trend's "
            "constant, two equal regressors). Drop or difference those series, "
            f"drop the redundant regressor, or use {fixes}."
        )
    # A residual sum of squares at rounding level means an exact fit: the
    # noise variance would be zero and the likelihood infinite.
    centred = gram[:, 0, 0]  # sum of squares of the centred target
    degenerate = ~(ssr > 1e-14 * np.maximum(centred, np.finfo(float).tiny))
    if degenerate.any():
        bad = [names[j] for j in np.flatnonzero(degenerate)]
        raise ValueError(
            f"Series {bad[:50]}{and_more(bad)} are fitted exactly by the "
            f"regression with {sub_terms.names()} (residual variance 0): they "
            "are constant or deterministic, and an AR model needs noise. Drop them."
        )
    # Sums of the target over the window, for R-squared: sum x0 is the
    # constant's direction in the shared basis.
    sum_x0 = np.einsum("r,jr->j", one, gram[:, 0, len(offsets) :])
    return beta, ssr, xtx_inv, (gram[:, 0, 0], sum_x0, shift)


def _select(A, shared, terms, start, ic, names, glob=False) -> np.ndarray:
    """The lag set per series minimising ``ic``, all on the same steps (masks)."""
    nobs = A.shape[1] - start
    candidates = candidate_lag_masks(len(terms.lags), glob)
    lags = np.asarray(terms.lags)
    scores = np.empty((A.shape[0], len(candidates)))
    for c, mask in enumerate(candidates):
        sub = terms.with_lags(tuple(lags[mask]))
        ssr = _solve(A, shared, terms, sub, start, names)[1]
        llf = gaussian_llf(ssr / nobs, nobs)
        scores[:, c] = information_criteria(llf, nobs, sub.n_params)[ic]
    # The first minimum, as statsmodels' stable sort: fewest lags on ties.
    return candidates[scores.argmin(axis=1)]


def fit_statistics(ssr, nobs, k, sums, has_constant):
    """Variance, likelihood, criteria and R-squared from the residual sum.

    ``sums`` are the window's sum of squares and sum of the centred target
    ``x0 = y - shift``, and the shift: the total sum of squares is about the
    window's mean when the model spans a constant, else about zero.
    """
    sigma2 = ssr / nobs
    llf = gaussian_llf(sigma2, nobs)
    sum_sq, total, shift = sums
    if has_constant:
        tss = sum_sq - total**2 / nobs
    else:
        tss = sum_sq + 2.0 * shift * total + nobs * shift**2
    return {
        "sigma2": sigma2,
        "llf": llf,
        **information_criteria(llf, nobs, k, sigma2),
        "rsquared": 1.0 - ssr / tss,
        "nobs": np.full(len(ssr), nobs, dtype=int),
    }


def estimate(
    values: np.ndarray,
    series: np.ndarray,
    regressors: np.ndarray,
    terms: Terms,
    *,
    hold_back: int | None,
    ic: str | None,
    names: list,
    lag_mask: np.ndarray | None = None,
    glob: bool = False,
    cov_type: str = "nonrobust",
    cov_kwds: dict | None = None,
    use_t: bool = False,
) -> ARFit:
    """Conditional least squares for each series column of ``values``.

    Parameters
    ----------
    values : ndarray of shape (n_steps, n_columns)
        Series and regressor columns, validated.
    series, regressors : ndarray of int
        Positions of the series and of the regressors among the columns.
    terms : Terms
        The full model.
    hold_back : int or None
        First fitted step (None: each model's largest lag).
    ic : str or None
        Criterion choosing the leading lags of each series.
    names : list
        Series names, for error messages.
    lag_mask : ndarray of bool, shape (n_series, len(lags)), optional
        The lags of each series, to refit a chosen model without choosing.
    glob : bool, default=False
        With ``ic``, compare every subset of the lags, not only leading ones.
    cov_type, cov_kwds, use_t
        The coefficients' covariance (:mod:`._ar_cov`); ``cov_kwds`` checked.

    Returns
    -------
    ARFit
    """
    n = values.shape[0]
    # Series-major: a view when there are no regressors (DataFrame blocks
    # are stored so), one copy otherwise.
    A = values.T if not len(regressors) else np.ascontiguousarray(values[:, series].T)
    shared = terms.shared(_positions(n), values[:, regressors])
    check_identified(shared, terms)
    m, k = A.shape[0], terms.n_params
    if lag_mask is None:
        lag_mask = np.ones((m, len(terms.lags)), dtype=bool)
        if ic:
            start = terms.max_lag if hold_back is None else hold_back
            lag_mask = _select(A, shared, terms, start, ic, names, glob)
    fit = ARFit(
        params=np.zeros((m, k)),
        included=np.zeros((m, k), dtype=bool),
        cov=np.full((m, k, k), np.nan),
        lag_mask=np.asarray(lag_mask, dtype=bool).reshape(m, len(terms.lags)),
        start=np.empty(m, dtype=int),
        stats={},
    )
    stats = {}
    # One batched solve per distinct lag set: a loop over the sets chosen,
    # never over series.
    lags = np.asarray(terms.lags)
    sets, which = np.unique(fit.lag_mask, axis=0, return_inverse=True)
    for s, mask in enumerate(sets):
        rows = np.flatnonzero(which.reshape(-1) == s)
        sub = terms.with_lags(tuple(lags[mask]))
        start = sub.max_lag if hold_back is None else hold_back
        part = A[rows] if len(rows) < m else A
        beta, ssr, xtx_inv, sums = _solve(
            part, shared, sub, sub, start, [names[j] for j in rows]
        )
        cols = lag_subset_columns(terms, mask)
        fit.params[np.ix_(rows, cols)] = beta
        fit.included[np.ix_(rows, cols)] = True
        cov = np.full((len(rows), k, k), np.nan)
        if cov_type == "nonrobust":
            # The classical covariance needs only the residual sum: SSR / nobs
            # (AutoReg's default) or, with use_t, SSR / (nobs - k).
            dof = n - start - (sub.n_params if use_t else 0)
            block = (ssr / dof)[:, None, None] * xtx_inv
        else:
            block = _robust_block(
                part, shared, sub, start, beta, xtx_inv, cov_type, cov_kwds
            )
        cov[:, cols[:, None], cols[None, :]] = block
        fit.cov[rows] = cov
        fit.start[rows] = start
        part_stats = fit_statistics(
            ssr, n - start, sub.n_params, sums, terms.has_constant
        )
        for key, value in part_stats.items():
            stats.setdefault(key, np.empty(m, dtype=value.dtype))[rows] = value
    fit.stats = stats
    return fit


def design_matrices(A, shared, terms: Terms, start: int):
    """Each series' regression: targets (m, nobs) and designs (m, nobs, k).

    The columns in ``AutoReg``'s order: deterministic terms, lags, regressors.
    """
    n, n_det = A.shape[1], terms.n_deterministic
    nobs = n - start
    lags = np.empty((len(A), nobs, len(terms.lags)))
    for i, lag in enumerate(terms.lags):
        lags[:, :, i] = A[:, start - lag : n - lag]
    rows = shared[start:]
    X = np.concatenate(
        [
            np.broadcast_to(rows[:, :n_det], (len(A), nobs, n_det)),
            lags,
            np.broadcast_to(rows[:, n_det:], (len(A), nobs, rows.shape[1] - n_det)),
        ],
        axis=2,
    )
    return A[:, start:], X


#: Series per block of the robust covariances (their designs are materialised).
_COV_BLOCK = 2048


def _robust_block(A, shared, terms, start, beta, xtx_inv, cov_type, cov_kwds):
    """The sandwich covariance of each series' coefficients (:func:`sandwich_covariance`)."""
    out = np.empty_like(xtx_inv)
    for lo in range(0, len(A), _COV_BLOCK):
        part = slice(lo, lo + _COV_BLOCK)
        y, X = design_matrices(A[part], shared, terms, start)
        e = y - np.einsum("mti,mi->mt", X, beta[part])
        out[part] = sandwich_covariance(X, e, xtx_inv[part], cov_type, cov_kwds or {})
    return out


def residuals(values: np.ndarray, record: ARRecord) -> tuple[np.ndarray, np.ndarray]:
    """One-step fitted values and residuals of the fitted model on ``values``.

    Parameters
    ----------
    values : ndarray of shape (n_steps, n_columns)
        Series and regressors, on positions 1..n_steps of the model's clock.
    record : ARRecord
        The fitted model (its parameters and column positions).

    Returns
    -------
    fitted, resid : ndarray of shape (n_series, n_steps)
        NaN before each series' first fitted step.
    """
    A = values[:, record.series].T
    n = A.shape[1]
    shared = record.shared_part(_positions(n), values[:, record.regressors])
    fitted = one_step_predictions(A, record.coef, shared)
    fitted[np.arange(n)[None, :] < record.fit.start[:, None]] = np.nan
    return fitted, A - fitted


def evaluate(values: np.ndarray, record: ARRecord) -> ARFit:
    """The fitted parameters on new data: variance, likelihood and criteria.

    The coefficients and their covariance stay as fitted; everything that
    depends on the data is recomputed from the residuals on ``values``, as
    statsmodels' ``AutoRegResults.apply(refit=False)`` does.

    Parameters
    ----------
    values : ndarray of shape (n_steps, n_columns)
        Series and regressors.
    record : ARRecord
        The fitted model.

    Returns
    -------
    ARFit
    """
    _, resid = residuals(values, record)
    fit = record.fit
    A = values[:, record.series].T
    m, n = A.shape
    stats = {}
    for start in np.unique(fit.start):
        rows = np.flatnonzero(fit.start == start)
        ssr = np.sum(resid[rows, start:] ** 2, axis=1)
        k = fit.included[rows].sum(axis=1)
        y = A[rows, start:]
        sums = (np.sum(y**2, axis=1), np.sum(y, axis=1), np.zeros(len(rows)))
        part = fit_statistics(ssr, n - start, k, sums, record.terms.has_constant)
        for key, value in part.items():
            stats.setdefault(key, np.empty(m, dtype=value.dtype))[rows] = value
    return ARFit(
        params=fit.params,
        included=fit.included,
        cov=fit.cov,
        lag_mask=fit.lag_mask,
        start=fit.start,
        stats=stats,
    )


def upgrade_0_1_0(state: dict) -> dict:
    """An AR(p) of probmodels 0.1.0 in today's fitted state (no seasons, exog)."""
    state = dict(state)
    coef = np.atleast_2d(state["coef_"])
    m, p = coef.shape
    terms = Terms(state["trend"], 0, tuple(range(1, p + 1)))
    params = np.zeros((m, terms.n_params))
    for c, power in enumerate(terms.powers):
        params[:, c] = state["intercept_" if power == 0 else "trend_coef_"]
    params[:, terms.lag_columns()] = coef
    nan = np.full(m, np.nan) if m > 1 else np.nan
    state.update(
        _trend=state["trend"],
        _lags=list(range(1, p + 1)),
        period_=None,
        _exog_names=[],
        _fitted_series=np.arange(m),
        _fitted_exog=np.arange(0),
        _params=params,
        _included=np.ones(params.shape, dtype=bool),
        _cov=np.full(params.shape + (params.shape[1],), np.nan),
        _lag_mask=np.ones((m, p), dtype=bool),
        _start=np.full(m, p),
        # Only the last p steps were kept: enough to forecast and sample.
        _data=state.pop("_history"),
        aicc_=nan,
        fpe_=nan,
        rsquared_=nan,
    )
    return state
