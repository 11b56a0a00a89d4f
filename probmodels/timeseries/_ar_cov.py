"""Covariances of least-squares coefficients: classical, White's and HAC.

Every function works on a batch of series at once: designs ``X`` of shape
(m, nobs, k), residuals ``e`` of shape (m, nobs) and ``(X'X)^{-1}`` of
shape (m, k, k). The sandwich is ``(X'X)^{-1} S (X'X)^{-1}`` with the meat
``S`` of each type, as statsmodels' ``OLS.fit(cov_type=...)`` computes it
(White, Econometrica 1980; MacKinnon & White, J. Econometrics 1985;
Newey & West, Econometrica 1987); ``docs/user_guide/ar.rst`` states them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COV_TYPES", "check_cov_kwds", "sandwich_covariance"]

#: The covariance types, as statsmodels names them.
COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "HAC")

_KERNELS = ("bartlett", "uniform")


def check_cov_kwds(cov_type: str, cov_kwds) -> dict:
    """The options of ``cov_type``, checked, with their defaults filled in.

    Parameters
    ----------
    cov_type : str
    cov_kwds : dict or None
        For "HAC": ``maxlags`` (int >= 0, required), ``kernel`` ("bartlett"
        or "uniform", default "bartlett"), ``use_correction`` (bool, default
        False: multiply by ``nobs / (nobs - k)``). The other types take none.

    Returns
    -------
    dict
    """
    kwds = dict(cov_kwds or {})
    if cov_type != "HAC":
        if kwds:
            raise ValueError(
                f"cov_type={cov_type!r} takes no cov_kwds; got {sorted(kwds)}."
            )
        return {}
    unknown = set(kwds) - {"maxlags", "kernel", "use_correction"}
    if unknown:
        raise ValueError(
            f"cov_kwds for HAC takes maxlags, kernel and use_correction; got "
            f"{sorted(unknown)}."
        )
    maxlags = kwds.get("maxlags")
    if isinstance(maxlags, bool) or not isinstance(maxlags, (int, np.integer)) or maxlags < 0:
        raise ValueError(
            "cov_type='HAC' needs cov_kwds={'maxlags': L} with an integer L >= 0 "
            f"(statsmodels' convention); got maxlags={maxlags!r}."
        )
    kernel = kwds.get("kernel", "bartlett")
    if kernel not in _KERNELS:
        raise ValueError(f"kernel must be one of {_KERNELS}; got {kernel!r}.")
    return {
        "maxlags": int(maxlags),
        "kernel": kernel,
        "use_correction": bool(kwds.get("use_correction", False)),
    }


def kernel_weights(maxlags: int, kernel: str) -> np.ndarray:
    """Weights of lags 0..maxlags: Bartlett's ``1 - l / (L + 1)``, or all 1.

    Parameters
    ----------
    maxlags : int
    kernel : {"bartlett", "uniform"}

    Returns
    -------
    ndarray of shape (maxlags + 1,)
    """
    if kernel == "uniform":
        return np.ones(maxlags + 1)
    return 1.0 - np.arange(maxlags + 1) / (maxlags + 1.0)


def leverage(X, xtx_inv) -> np.ndarray:
    """Diagonal of the hat matrix ``X (X'X)^{-1} X'`` of each series, (m, nobs)."""
    return np.einsum("mti,mij,mtj->mt", X, xtx_inv, X)


def hac_meat(scores, maxlags: int, kernel: str) -> np.ndarray:
    """``S = G_0 + sum_{l=1}^{L} w_l (G_l + G_l')`` with ``G_l = sum_t u_t u_{t-l}'``.

    Parameters
    ----------
    scores : ndarray of shape (m, nobs, k)
        ``u_t = x_t e_t`` of each series.
    maxlags : int
    kernel : str

    Returns
    -------
    ndarray of shape (m, k, k)
    """
    weights = kernel_weights(maxlags, kernel)
    meat = np.einsum("mti,mtj->mij", scores, scores)
    for lag in range(1, min(maxlags, scores.shape[1] - 1) + 1):
        g = np.einsum("mti,mtj->mij", scores[:, lag:], scores[:, :-lag])
        meat += weights[lag] * (g + np.swapaxes(g, 1, 2))
    return meat


def sandwich_covariance(X, e, xtx_inv, cov_type, cov_kwds, nobs=None) -> np.ndarray:
    """The robust covariance of each series' coefficients, as ``AutoReg.fit`` gives it.

    "HC0": the sandwich with meat ``sum_t e_t^2 x_t x_t'``; "HC1" that times
    ``nobs / (nobs - k)``; "HC2" and "HC3" with ``e_t^2 / (1 - h_t)`` and
    ``e_t^2 / (1 - h_t)^2``, ``h_t`` the leverage; "HAC": the meat of
    :func:`hac_meat` (Newey-West with Bartlett's kernel), times ``nobs /
    (nobs - k)`` with ``use_correction``. ("nonrobust" needs no rows: the
    fit scales ``(X'X)^{-1}`` by its residual variance.)

    Parameters
    ----------
    X : ndarray of shape (m, nobs, k)
    e : ndarray of shape (m, nobs)
    xtx_inv : ndarray of shape (m, k, k)
    cov_type : {"HC0", "HC1", "HC2", "HC3", "HAC"}
    cov_kwds : dict
        As :func:`check_cov_kwds` returns it.
    nobs : ndarray of shape (m,), optional
        Each series' number of regression rows, when some rows of ``X`` and
        ``e`` are zeros standing for dropped windows (series of different
        lengths); by default every row counts.

    Returns
    -------
    ndarray of shape (m, k, k)
    """
    k = X.shape[2]
    nobs = X.shape[1] if nobs is None else np.asarray(nobs, dtype=float)[:, None, None]
    if cov_type == "HAC":
        meat = hac_meat(X * e[:, :, None], cov_kwds["maxlags"], cov_kwds["kernel"])
        factor = nobs / (nobs - k) if cov_kwds["use_correction"] else 1.0
    else:
        weight = e**2
        if cov_type in ("HC2", "HC3"):
            h = leverage(X, xtx_inv)
            weight = weight / (1.0 - h) ** (1 if cov_type == "HC2" else 2)
        meat = np.einsum("mt,mti,mtj->mij", weight, X, X)
        factor = nobs / (nobs - k) if cov_type == "HC1" else 1.0
    return factor * np.einsum("mij,mjk,mkl->mil", xtx_inv, meat, xtx_inv)
