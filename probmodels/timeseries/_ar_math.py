"""Pure maths of the AR(p) model, batched over many series.

Y_t = trend_t + sum_{i=1..p} phi_i Y_{t-i} + u_t, u_t ~ N(0, sigma^2), fitted by
conditional least squares on the steps t = start, ..., n - 1 (statsmodels'
``AutoReg`` with ``hold_back=start``). Series are rows of a series-major array
``A`` of shape (n_series, n_steps).

Least squares goes through the Gram matrix of the centred series' lags and
the time terms, whose entries are sums of lagged products. Each sum over the
fitted window equals the sum over the whole series minus a few terms at either
edge, so all of them cost p + 1 passes over the data and no lag matrix
(O(n_steps x n_series x p) memory) is ever built. The regression itself is
then solved in that basis by QR (:func:`least_squares_in_basis`); the
shared columns (trend, seasonal dummies, exogenous regressors) join the basis
in :mod:`probmodels.timeseries._design`.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

__all__ = [
    "BLOCK_STEPS",
    "ar_roots",
    "gaussian_llf",
    "information_criteria",
    "interval_half_width",
    "is_stationary",
    "lag_cross_products",
    "least_squares_in_basis",
    "ma_weights",
    "one_step_predictions",
    "simulate_ar",
    "upper_inverse",
]

#: Series per chunk when summing lagged products: a chunk of a long series
#: set stays in cache across the p + 1 lags.
CHUNK_SERIES = 64


def shift_part(shift: np.ndarray | None, lo: int) -> np.ndarray | None:
    """The shifts of the chunk of series starting at ``lo``."""
    return None if shift is None else shift[lo : lo + CHUNK_SERIES]


#: Steps per block when summing products with shared columns: bounds
#: temporaries to O(n_series x (block + p)) whatever the series length.
BLOCK_STEPS = 128


def _shifted(A: np.ndarray, cols: slice, shift: np.ndarray | None) -> np.ndarray:
    part = A[:, cols]
    return part if shift is None else part - shift[:, None]


def lag_cross_products(
    A: np.ndarray, p: int, start: int, shift: np.ndarray | None = None
) -> np.ndarray:
    """Sums of lagged products over the fitted window.

    Parameters
    ----------
    A : ndarray of shape (n_series, n_steps)
        The series.
    p : int
        Largest lag.
    start : int
        First fitted step (``start >= p``).
    shift : ndarray of shape (n_series,), optional
        Subtracted from each series first (x = A - shift).

    Returns
    -------
    G : ndarray of shape (n_series, p + 1, p + 1)
        ``G[j, a, b] = sum_{t=start}^{n-1} x[j, t-a] x[j, t-b]``.
    """
    m, n = A.shape
    # full[:, d] = sum_s x[s] x[s+d] over the whole series, s + d < n: one
    # batched dot product per lag over a cache-sized chunk of series.
    full = np.empty((m, p + 1))
    for lo in range(0, m, CHUNK_SERIES):
        x = _shifted(A[lo : lo + CHUNK_SERIES], slice(None), shift_part(shift, lo))
        for d in range(p + 1):
            full[lo : lo + len(x), d] = (x[:, None, : n - d] @ x[:, d:, None])[:, 0, 0]
    head_x = _shifted(A, slice(0, start + p), shift)
    tail_x = _shifted(A, slice(n - p, n), shift)
    G = np.empty((m, p + 1, p + 1))
    for d in range(p + 1):
        # Pair (a, b = a + d) sums x[s] x[s+d] over s in [start - b, n - 1 - b]:
        # the full sum minus its first start - b terms (head) and last a (tail).
        head = np.zeros((m, start + 1))
        np.cumsum(head_x[:, :start] * head_x[:, d : start + d], axis=1, out=head[:, 1:])
        tail = np.zeros((m, p - d + 1))
        last = tail_x[:, : p - d] * tail_x[:, d:]
        np.cumsum(last[:, ::-1], axis=1, out=tail[:, 1:])
        for a in range(p + 1 - d):
            b = a + d
            G[:, a, b] = G[:, b, a] = full[:, d] - head[:, start - b] - tail[:, a]
    return G


def least_squares_in_basis(
    gram: np.ndarray, design: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least squares ``min ||B (target - design beta)||`` from B's Gram matrix.

    With ``gram = R'R`` the problem is the small dense one
    ``min ||R target - R design beta||``, solved by a QR factorisation with
    unit-norm columns. Unlike the normal equations of the raw regressors, this
    never squares the condition number of ``design`` (which is large for a
    series whose mean is large next to its variation, without a constant),
    and the residual sum of squares is the squared norm of the residual, not
    the difference ``y'y - beta'X'y`` that loses its digits to cancellation.

    ``R`` is the Cholesky factor of the Jacobi-scaled Gram matrix; only for
    a matrix singular to rounding (a constant series, collinear lags or
    columns) is it a square root from the eigendecomposition, which is exact
    there too but several times slower.

    Parameters
    ----------
    gram : ndarray of shape (n_series, r, r)
        From :func:`~probmodels.timeseries._design.basis_gram`.
    design : ndarray of shape (n_series, r, k)
    target : ndarray of shape (n_series, r)
        From :func:`~probmodels.timeseries._design.regression_in_basis`.

    Returns
    -------
    beta : ndarray of shape (n_series, k)
    ssr : ndarray of shape (n_series,)
    singular : ndarray of bool, shape (n_series,)
        Regressors that are collinear (to rounding); their beta is not
        meaningful.
    xtx_inv : ndarray of shape (n_series, k, k)
        ``(X'X)^{-1}`` of the raw regressors ``X = B design``: times the noise
        variance, the covariance of ``beta``.
    """
    m, r, k = design.shape
    d = np.sqrt(np.einsum("jkk->jk", gram))
    d = np.where(d > 0, d, 1.0)
    scaled = gram / d[:, :, None] / d[:, None, :]
    try:
        root = np.linalg.cholesky(scaled).transpose(0, 2, 1)
        # A pivot this small means a Gram matrix singular to rounding, where
        # Cholesky's root is off by sqrt(eps) in the null direction; the
        # eigendecomposition puts that direction at exactly zero.
        near = np.einsum("jkk->jk", root).min(axis=1) < 1e-6
    except np.linalg.LinAlgError:
        root, near = np.empty_like(scaled), np.ones(m, dtype=bool)
    if near.any():
        values, vectors = np.linalg.eigh(scaled[near])
        # Eigenvalues at rounding level are zero: collinear columns then
        # coincide exactly in root space, and the QR below names them.
        values = np.where(values > 1e-13 * values[:, -1:], values, 0.0)
        root[near] = np.sqrt(values)[:, :, None] * vectors.transpose(0, 2, 1)
    lhs = root @ (d[:, :, None] * design)
    rhs = np.einsum("jab,jb->ja", root, d * target)
    norms = np.linalg.norm(lhs, axis=1)
    norms = np.where(norms > 0, norms, 1.0)
    # QR of [design | target] in root space, R alone: its leading block is
    # the design's R, its last column Q'target, and its corner the norm of
    # the residual (r > k: the target is a basis column of its own).
    aug = np.concatenate([lhs / norms[:, None, :], rhs[:, :, None]], axis=2)
    r_aug = np.linalg.qr(aug, mode="r")
    r_, qtb = r_aug[:, :k, :k].copy(), r_aug[:, :k, k]
    ssr = r_aug[:, k, k] ** 2
    diag = np.abs(np.einsum("jkk->jk", r_))
    singular = (diag <= 1e3 * np.finfo(float).eps).any(axis=1)
    # Invert only the regular systems; the others are reported.
    r_[singular] = np.eye(k)
    r_inv = upper_inverse(r_)
    beta = np.einsum("jab,jb->ja", r_inv, qtb) / norms
    # X'X = N R'R N with N the column norms, so its inverse is
    # N^-1 R^-1 R^-T N^-1.
    xtx_inv = r_inv @ r_inv.transpose(0, 2, 1) / norms[:, :, None] / norms[:, None, :]
    return beta, ssr, singular, xtx_inv


def upper_inverse(R: np.ndarray) -> np.ndarray:
    """Inverses of upper-triangular matrices by back substitution, batched.

    Parameters
    ----------
    R : ndarray of shape (n, k, k)
        Upper triangular, non-zero diagonal.

    Returns
    -------
    ndarray of shape (n, k, k)
    """
    m, k, _ = R.shape
    X = np.zeros((m, k, k))
    # Row i of R^-1: (e_i - R[i, i+1:] X[i+1:]) / R[i, i], last row first;
    # k vector operations over all matrices instead of one LAPACK call each.
    for i in range(k - 1, -1, -1):
        row = -np.einsum("jc,jcb->jb", R[:, i, i + 1 :], X[:, i + 1 :, :])
        row[:, i] += 1.0
        X[:, i, :] = row / R[:, i, i, None]
    return X


def gaussian_llf(sigma2: np.ndarray, nobs: np.ndarray) -> np.ndarray:
    """Maximised conditional Gaussian log-likelihood.

    ``llf = -nobs / 2 (log(2 pi) + log(sigma2) + 1)`` with ``sigma2 = SSR / nobs``.

    Parameters
    ----------
    sigma2 : array-like
        Residual variance (maximum-likelihood estimate).
    nobs : array-like
        Number of fitted steps.

    Returns
    -------
    ndarray
    """
    sigma2, nobs = np.asarray(sigma2, dtype=float), np.asarray(nobs, dtype=float)
    return -0.5 * nobs * (np.log(2 * np.pi * sigma2) + 1.0)


def information_criteria(
    llf: np.ndarray, nobs: np.ndarray, k: np.ndarray, sigma2: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Information criteria of a fitted AR model, as statsmodels defines them.

    The noise variance counts as a parameter: with ``k`` regression
    parameters, ``aic = -2 llf + 2 (k + 1)``, ``bic = -2 llf + log(nobs)
    (k + 1)``, ``hqic = -2 llf + 2 log(log(nobs)) (k + 1)`` and the
    small-sample ``aicc = -2 llf + 2 (k + 1) nobs / (nobs - k - 2)``. With
    ``sigma2``, also Akaike's final prediction error
    ``fpe = sigma2 (nobs + k) / (nobs - k)`` (Lütkepohl, New Introduction to
    Multiple Time Series Analysis, 2005, section 4.3).

    Parameters
    ----------
    llf, nobs, k : array-like
        Log-likelihood, number of fitted steps, number of regression parameters.
    sigma2 : array-like, optional
        Maximum-likelihood noise variance, for ``fpe``.

    Returns
    -------
    dict with keys "aic", "bic", "hqic", "aicc" (and "fpe" with ``sigma2``)
    """
    llf, nobs = np.asarray(llf, dtype=float), np.asarray(nobs, dtype=float)
    k = np.asarray(k, dtype=float)
    n_params = k + 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "aic": -2.0 * llf + 2.0 * n_params,
            "bic": -2.0 * llf + np.log(nobs) * n_params,
            "hqic": -2.0 * llf + 2.0 * np.log(np.log(nobs)) * n_params,
            "aicc": -2.0 * llf + 2.0 * n_params * nobs / (nobs - n_params - 1.0),
        }
        if sigma2 is not None:
            out["fpe"] = np.asarray(sigma2, dtype=float) * (nobs + k) / (nobs - k)
    return out


def is_stationary(coef: np.ndarray) -> np.ndarray:
    """Whether each AR polynomial has all its roots outside the unit circle.

    Uses the Levinson step-down recursion: the process is stationary exactly
    when every reflection (partial autocorrelation) coefficient has modulus
    below one. That is O(p^2) vector operations, far cheaper than the
    eigenvalues of a companion matrix per series.

    Parameters
    ----------
    coef : ndarray of shape (n_series, p)
        ``phi_1, ..., phi_p`` per series.

    Returns
    -------
    ndarray of bool, shape (n_series,)
    """
    a = np.array(coef, dtype=float, ndmin=2)
    ok = np.ones(a.shape[0], dtype=bool)
    for k in range(a.shape[1], 0, -1):
        # A series already found non-stationary keeps being divided by 1,
        # and its values may overflow; they are no longer read.
        kappa = np.where(ok, a[:, k - 1], 0.0)
        ok &= np.abs(a[:, k - 1]) < 1.0
        kappa = np.where(ok, kappa, 0.0)
        denom = 1.0 - kappa**2
        # phi_{k-1, i} = (phi_{k, i} + kappa phi_{k, k-i}) / (1 - kappa^2)
        a = (a[:, : k - 1] + kappa[:, None] * a[:, : k - 1][:, ::-1]) / denom[:, None]
    return ok


def ar_roots(coef: np.ndarray) -> np.ndarray:
    """Roots of the AR polynomial ``1 - phi_1 z - ... - phi_p z^p``.

    Parameters
    ----------
    coef : ndarray of shape (n_series, p)
        Coefficients with ``phi_p != 0``.

    Returns
    -------
    ndarray of complex, shape (n_series, p)
        The inverses of the companion matrix's eigenvalues; the process is
        stationary when all have modulus above one.
    """
    coef = np.array(coef, dtype=float, ndmin=2)
    m, p = coef.shape
    companion = np.zeros((m, p, p))
    companion[:, 0, :] = coef
    companion[:, np.arange(1, p), np.arange(p - 1)] = 1.0
    return 1.0 / np.linalg.eigvals(companion)


def ma_weights(coef: np.ndarray, steps: int) -> np.ndarray:
    """MA(infinity) weights psi_0..psi_{steps-1} of an AR process.

    ``psi_0 = 1`` and ``psi_j = sum_{i=1}^{min(j, p)} phi_i psi_{j-i}``; the
    h-step forecast variance is ``sigma2 sum_{j<h} psi_j^2``.

    Parameters
    ----------
    coef : ndarray of shape (n_series, p)
    steps : int

    Returns
    -------
    ndarray of shape (n_series, steps)
    """
    coef = np.array(coef, dtype=float, ndmin=2)
    m, p = coef.shape
    psi = np.zeros((m, steps))
    psi[:, 0] = 1.0
    for j in range(1, steps):
        r = min(j, p)
        # coef[:, :r] pairs phi_1..phi_r with psi_{j-1}..psi_{j-r}
        psi[:, j] = np.einsum("ji,ji->j", coef[:, :r], psi[:, j - r : j][:, ::-1])
    return psi


def interval_half_width(
    coef: np.ndarray, sigma2: np.ndarray, steps: int, alpha: float
) -> np.ndarray:
    """Half-width of the ``1 - alpha`` forecast interval at 1..steps ahead.

    ``z_{1-alpha/2} sqrt(sigma2 sum_{j<h} psi_j^2)`` with the MA weights of
    :func:`ma_weights`; parameter uncertainty is ignored, as statsmodels does.

    Parameters
    ----------
    coef : ndarray of shape (n_series, p)
    sigma2 : ndarray of shape (n_series,)
    steps : int
    alpha : float

    Returns
    -------
    ndarray of shape (n_series, steps)
    """
    psi = ma_weights(coef, steps)
    variance = np.asarray(sigma2, dtype=float)[:, None] * np.cumsum(psi**2, axis=1)
    return norm.ppf(1.0 - alpha / 2.0) * np.sqrt(variance)


def one_step_predictions(
    A: np.ndarray, coef: np.ndarray, deterministic: np.ndarray
) -> np.ndarray:
    """One-step-ahead predictions ``trend_t + sum_i phi_i A[t - i]``.

    Lags before the start of the series count as zero; callers mask the first
    p steps of each series, where a lag is missing.

    Parameters
    ----------
    A : ndarray of shape (n_series, n_steps)
    coef : ndarray of shape (n_series, p)
    deterministic : ndarray of shape (n_series, n_steps)
        Trend part at each step.

    Returns
    -------
    ndarray of shape (n_series, n_steps)
    """
    pred = np.array(deterministic, dtype=float, copy=True)
    n = A.shape[1]
    for i in range(1, min(coef.shape[1], n - 1) + 1):
        pred[:, i:] += coef[:, i - 1 : i] * A[:, : n - i]
    return pred


def simulate_ar(
    history: np.ndarray,
    coef: np.ndarray,
    deterministic: np.ndarray,
    shocks: np.ndarray | None = None,
) -> np.ndarray:
    """Run the AR recursion forward from the last observations.

    Parameters
    ----------
    history : ndarray of shape (n_series, p)
        Last p observations, oldest first.
    coef : ndarray of shape (n_series, p)
    deterministic : ndarray of shape (steps, n_series)
        Trend part at each future step.
    shocks : ndarray of shape (steps, n_series, n_paths), optional
        Innovations; ``None`` gives the point forecast (one path, no noise).

    Returns
    -------
    ndarray of shape (steps, n_series, n_paths)
    """
    steps, m = deterministic.shape
    p = coef.shape[1]
    n_paths = 1 if shocks is None else shocks.shape[2]
    buf = np.empty((m, n_paths, p + steps))
    buf[:, :, :p] = history[:, None, :]
    newest_first = coef[:, ::-1]
    for h in range(steps):
        value = deterministic[h][:, None] + np.einsum(
            "ji,jki->jk", newest_first, buf[:, :, h : h + p]
        )
        if shocks is not None:
            value += shocks[h]
        buf[:, :, p + h] = value
    return buf[:, :, p:].transpose(2, 0, 1)
