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
then solved in that basis by QR (:func:`least_squares_in_basis`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "TREND_POWERS",
    "OrderFits",
    "ar_roots",
    "basis_gram",
    "gaussian_llf",
    "information_criteria",
    "is_stationary",
    "lag_cross_products",
    "least_squares_in_basis",
    "ma_weights",
    "one_step_predictions",
    "regression_in_basis",
    "simulate_ar",
    "trend_cross_products",
    "trend_gram",
]

#: Powers of the 1-based time index t in the deterministic part of each trend.
TREND_POWERS = {"n": (), "c": (0,), "t": (1,), "ct": (0, 1)}


#: Steps per block when summing products: bounds temporaries to
#: O(n_series x (block + p)) whatever the series length.
BLOCK_STEPS = 128


def _blocks(A: np.ndarray, shift: np.ndarray | None, halo: int):
    """Yield (lo, hi, block): A[:, lo:hi + halo] minus ``shift``, block by block.

    Subtracting the shift here, a block at a time, centres series with a large
    mean (which the normal equations would otherwise square into lost digits)
    without copying the whole data set.
    """
    n = A.shape[1]
    for lo in range(0, n, BLOCK_STEPS):
        hi = min(n, lo + BLOCK_STEPS)
        block = A[:, lo : min(n, hi + halo)]
        yield lo, hi, block if shift is None else block - shift[:, None]


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
    # full[:, d] = sum_s x[s] x[s+d] over the whole series, s + d < n.
    full = np.zeros((m, p + 1))
    for lo, hi, block in _blocks(A, shift, p):
        for d in range(p + 1):
            width = min(hi, n - d) - lo
            if width > 0:
                full[:, d] += np.einsum(
                    "jt,jt->j", block[:, :width], block[:, d : d + width]
                )
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


def trend_cross_products(
    A: np.ndarray,
    powers: tuple[int, ...],
    p: int,
    start: int,
    shift: np.ndarray | None = None,
) -> np.ndarray:
    """Sums of trend terms times lagged values over the fitted window.

    Parameters
    ----------
    A : ndarray of shape (n_series, n_steps)
        The series.
    powers : tuple of int
        Powers (0 or 1) of the 1-based time index, one per trend term.
    p : int
        Largest lag.
    start : int
        First fitted step.
    shift : ndarray of shape (n_series,), optional
        Subtracted from each series first (x = A - shift).

    Returns
    -------
    C : ndarray of shape (n_series, len(powers), p + 1)
        ``C[j, c, a] = sum_{t=start}^{n-1} (t + 1)**powers[c] x[j, t - a]``.
    """
    m, n = A.shape
    C = np.empty((m, len(powers), p + 1))
    if not powers:
        return C
    time = np.arange(1.0, n + 1.0)
    # With s = t - a the sums run over s in [start - a, n - 1 - a], and
    # (t + 1) = (s + 1) + a: full sums of x and of (s + 1) x, minus edges.
    full0, full1 = np.zeros(m), np.zeros(m)
    for lo, hi, block in _blocks(A, shift, 0):
        full0 += block.sum(axis=1)
        full1 += block @ time[lo:hi]
    head_x = _shifted(A, slice(0, start), shift)
    tail_x = _shifted(A, slice(n - p, n), shift)[:, ::-1]
    head0, head1 = np.zeros((m, start + 1)), np.zeros((m, start + 1))
    np.cumsum(head_x, axis=1, out=head0[:, 1:])
    np.cumsum(head_x * time[:start], axis=1, out=head1[:, 1:])
    tail0, tail1 = np.zeros((m, p + 1)), np.zeros((m, p + 1))
    np.cumsum(tail_x, axis=1, out=tail0[:, 1:])
    np.cumsum(tail_x * time[n - p :][::-1], axis=1, out=tail1[:, 1:])
    for a in range(p + 1):
        s0 = full0 - head0[:, start - a] - tail0[:, a]
        s1 = full1 - head1[:, start - a] - tail1[:, a]
        for c, k in enumerate(powers):
            C[:, c, a] = s0 if k == 0 else s1 + a * s0
    return C


def trend_gram(powers: tuple[int, ...], start: int, n: int) -> np.ndarray:
    """Gram matrix of the trend terms over the fitted window.

    Parameters
    ----------
    powers : tuple of int
        Powers of the 1-based time index.
    start, n : int
        Fitted steps are ``start, ..., n - 1`` (times ``start + 1, ..., n``).

    Returns
    -------
    ndarray of shape (len(powers), len(powers))
    """
    time = np.arange(start + 1.0, n + 1.0)
    D = np.column_stack([time**k for k in powers]) if powers else time[:, None][:, :0]
    return D.T @ D


def basis_gram(
    lag_gram: np.ndarray, trend_cross: np.ndarray, trend_gram_: np.ndarray
) -> np.ndarray:
    """Gram matrix of the basis ``[x_0, ..., x_p, time terms]`` of the window.

    ``x_a`` is the centred series lagged by ``a`` (``x_0`` the target) and the
    time terms are the powers of the 1-based time index (the constant, and
    the time itself when the trend has it). Every regressor and the target of
    an AR regression on the raw series is a combination of these columns
    (:func:`regression_in_basis`), so least squares can run in this basis,
    whose Gram matrix has no large-mean cancellation in it.

    Parameters
    ----------
    lag_gram : ndarray of shape (n_series, p + 1, p + 1)
        From :func:`lag_cross_products` on the centred series.
    trend_cross : ndarray of shape (n_series, q, p + 1)
        From :func:`trend_cross_products` with the basis' powers.
    trend_gram_ : ndarray of shape (q, q)
        From :func:`trend_gram` with the basis' powers.

    Returns
    -------
    ndarray of shape (n_series, p + 1 + q, p + 1 + q)
    """
    m, p1 = lag_gram.shape[:2]
    q = trend_gram_.shape[0]
    gram = np.empty((m, p1 + q, p1 + q))
    gram[:, :p1, :p1] = lag_gram
    gram[:, :p1, p1:] = trend_cross.transpose(0, 2, 1)
    gram[:, p1:, :p1] = trend_cross
    gram[:, p1:, p1:] = trend_gram_
    return gram


def regression_in_basis(
    powers: tuple[int, ...],
    basis_powers: tuple[int, ...],
    order: int,
    p: int,
    shift: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of an AR(order) regression's columns in the basis.

    With ``y = x + c`` (``c`` the shift of each series), lag ``a`` of y is
    ``x_a + c * 1`` and the target is ``x_0 + c * 1``; a trend term is a
    time term of the basis.

    Parameters
    ----------
    powers : tuple of int
        Powers of the time index in the model's trend (statsmodels' order).
    basis_powers : tuple of int
        Powers of the time index in the basis; they include 0 and ``powers``.
    order : int
        Lags in the regression (``order <= p``).
    p : int
        Lags in the basis.
    shift : ndarray of shape (n_series,)
        The centre subtracted from each series.

    Returns
    -------
    design : ndarray of shape (n_series, p + 1 + q, len(powers) + order)
        Regressors: trend terms, then lags 1..order.
    target : ndarray of shape (n_series, p + 1 + q)
    """
    m, q, k = len(shift), len(powers), len(powers) + order
    const = p + 1 + basis_powers.index(0)
    design = np.zeros((m, p + 1 + len(basis_powers), k))
    for c, power in enumerate(powers):
        design[:, p + 1 + basis_powers.index(power), c] = 1.0
    for a in range(1, order + 1):
        design[:, a, q + a - 1] = 1.0
        design[:, const, q + a - 1] = shift
    target = np.zeros((m, p + 1 + len(basis_powers)))
    target[:, 0] = 1.0
    target[:, const] = shift
    return design, target


def least_squares_in_basis(
    gram: np.ndarray, design: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares ``min ||B (target - design beta)||`` from B's Gram matrix.

    With ``gram = R'R`` the problem is the small dense one
    ``min ||R target - R design beta||``, solved by a QR factorisation with
    unit-norm columns. Unlike the normal equations of the raw regressors, this
    never squares the condition number of ``design`` (which is large for a
    series whose mean is large next to its variation, without a constant),
    and the residual sum of squares is the squared norm of the residual, not
    the difference ``y'y - beta'X'y`` that loses its digits to cancellation.

    Parameters
    ----------
    gram : ndarray of shape (n_series, r, r)
        From :func:`basis_gram`.
    design : ndarray of shape (n_series, r, k)
    target : ndarray of shape (n_series, r)
        From :func:`regression_in_basis`.

    Returns
    -------
    beta : ndarray of shape (n_series, k)
    ssr : ndarray of shape (n_series,)
    singular : ndarray of bool, shape (n_series,)
        Regressors that are collinear (to rounding); their beta is not
        meaningful.
    """
    m, r, k = design.shape
    # Jacobi scaling, then a square root of the Gram matrix that cannot fail
    # on a semi-definite one (a constant series gives one).
    d = np.sqrt(np.einsum("jkk->jk", gram))
    d = np.where(d > 0, d, 1.0)
    values, vectors = np.linalg.eigh(gram / d[:, :, None] / d[:, None, :])
    root = np.sqrt(np.clip(values, 0.0, None))[:, :, None] * vectors.transpose(0, 2, 1)
    if k == 0:
        beta = np.zeros((m, 0))
    else:
        lhs = root @ (d[:, :, None] * design)
        rhs = np.einsum("jab,jb->ja", root, d * target)
        norms = np.linalg.norm(lhs, axis=1)
        norms = np.where(norms > 0, norms, 1.0)
        q_, r_ = np.linalg.qr(lhs / norms[:, None, :])
        diag = np.abs(np.einsum("jkk->jk", r_))
        singular = (diag <= 1e3 * np.finfo(float).eps).any(axis=1)
        # Solve only the regular systems; the others are reported.
        r_[singular] = np.eye(k)
        qtb = np.einsum("jak,ja->jk", q_, rhs)
        beta = np.linalg.solve(r_, qtb[..., None])[..., 0] / norms
    residual = target - np.einsum("jrk,jk->jr", design, beta)
    ssr = np.sum(np.einsum("jab,jb->ja", root, d * residual) ** 2, axis=1)
    if k == 0:
        singular = np.zeros(m, dtype=bool)
    return beta, ssr, singular


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
    llf: np.ndarray, nobs: np.ndarray, k: np.ndarray
) -> dict[str, np.ndarray]:
    """AIC, BIC and HQIC of a fitted AR model, as statsmodels defines them.

    The noise variance counts as a parameter: with ``k`` regression parameters,
    ``aic = -2 llf + 2 (k + 1)``, ``bic = -2 llf + log(nobs) (k + 1)`` and
    ``hqic = -2 llf + 2 log(log(nobs)) (k + 1)``.

    Parameters
    ----------
    llf, nobs, k : array-like
        Log-likelihood, number of fitted steps, number of regression parameters.

    Returns
    -------
    dict with keys "aic", "bic", "hqic"
    """
    llf, nobs = np.asarray(llf, dtype=float), np.asarray(nobs, dtype=float)
    n_params = np.asarray(k, dtype=float) + 1.0
    return {
        "aic": -2.0 * llf + 2.0 * n_params,
        "bic": -2.0 * llf + np.log(nobs) * n_params,
        "hqic": -2.0 * llf + 2.0 * np.log(np.log(nobs)) * n_params,
    }


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
        kappa = a[:, k - 1]
        ok &= np.abs(kappa) < 1.0
        denom = np.where(ok, 1.0 - kappa**2, 1.0)
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


@dataclass
class OrderFits:
    """Per-series least-squares results, one entry per series.

    Parameters
    ----------
    coef : ndarray of shape (n_series, p_max)
        Lag coefficients, zero-padded past each series' order.
    intercept, trend_coef, sigma2, llf, aic, bic, hqic : ndarray of shape (n_series,)
    p, nobs : ndarray of int of shape (n_series,)
    """

    coef: np.ndarray
    intercept: np.ndarray
    trend_coef: np.ndarray
    sigma2: np.ndarray
    llf: np.ndarray
    aic: np.ndarray
    bic: np.ndarray
    hqic: np.ndarray
    p: np.ndarray
    nobs: np.ndarray

    @classmethod
    def empty(cls, n_series: int, orders: np.ndarray) -> OrderFits:
        """Arrays to fill, for series of the given orders."""
        m = n_series
        return cls(
            coef=np.zeros((m, int(orders.max()))),
            intercept=np.zeros(m),
            trend_coef=np.zeros(m),
            sigma2=np.empty(m),
            llf=np.empty(m),
            aic=np.empty(m),
            bic=np.empty(m),
            hqic=np.empty(m),
            p=orders.astype(int),
            nobs=np.empty(m, dtype=int),
        )
