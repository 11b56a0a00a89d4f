"""Pure maths of Gaussian mixtures, one branch per covariance type.

The log-density of component k is linear in the sufficient statistics of x,

    log w_k + log N(x; mu_k, Sigma_k) = theta_k . phi(x),

with phi(x) = [1, x, quadratic terms] (vech(x x^T) for "full" and "tied", x^2
for "diag", |x|^2 for "spherical"). So the E-step is one matrix product
Theta @ Phi^T, and the M-step needs only S = Phi^T R: per component the
weighted counts, sums and sums of squares (Bishop, PRML, 2006, eqs.
9.24-9.27; the maths page ``docs/user_guide/mixture.rst``). Data are centred
on their mean before phi is formed, which keeps the expansion
x^T Lambda x - 2 mu^T Lambda x + mu^T Lambda mu well conditioned.

Parameter layouts follow scikit-learn: ``precisions_cholesky`` holds upper
triangular U with precision U U^T ("full", "tied"), or the square roots of the
precisions ("diag", "spherical").

Categorical columns (the latent class model: within a component each
categorical column is independent of the rest, Hunt and Jorgensen, 2003)
keep the E-step one product: ``log pi_kjc`` is linear in the one-hot
indicators of x, so they are appended to phi as they are and the log
category probabilities to Theta (:func:`category_log_probabilities` is their
M-step, from the same ``S = Phi^T R``). Rows then hold the continuous
columns first and the one-hot blocks after them (``n_onehot`` columns).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from sklearn.utils.validation import check_array

from ..utils.chunks import iter_row_chunks

__all__ = [
    "COVARIANCE_TYPES",
    "category_log_probabilities",
    "check_init_parameters",
    "component_logits",
    "covariance_cholesky",
    "covariances_from_precisions",
    "features",
    "full_precisions",
    "log_det_cholesky",
    "moments_from_natural",
    "n_parameters",
    "n_statistics",
    "pack_statistics",
    "natural_parameters",
    "parameters_from_statistics",
    "precision_cholesky",
    "precision_cholesky_from_precisions",
    "precisions_from_cholesky",
    "statistics_of",
    "symmetric_from_vech",
    "vech_index",
]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def vech_index(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each entry of vech, the upper triangle row by row.

    The layout of the quadratic block of ``phi(x)`` for "full" and "tied"
    (``x_i x_j`` for ``j >= i``), of Theta's quadratic block and of ``S``'s.

    Parameters
    ----------
    d : int

    Returns
    -------
    rows, cols : ndarray of shape (d (d + 1) / 2,)
        Read-only: the pair is computed once per d (the E-step over
        patterns of missing entries asks for it per pattern).
    """
    return _vech_index(int(d))


@functools.lru_cache(maxsize=64)
def _vech_index(d):
    rows, cols = np.triu_indices(d)
    rows.flags.writeable = cols.flags.writeable = False
    return rows, cols


def symmetric_from_vech(quad: np.ndarray, d: int) -> np.ndarray:
    """The symmetric matrices whose vech are the rows of ``quad``.

    Parameters
    ----------
    quad : ndarray of shape (n, d (d + 1) / 2)
    d : int

    Returns
    -------
    ndarray of shape (n, d, d)
    """
    rows, cols = vech_index(d)
    out = np.empty((len(quad), d, d))
    out[:, rows, cols] = quad
    out[:, cols, rows] = quad
    return out


def pack_statistics(
    mass: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    covariance_type: str,
    categories: np.ndarray | None = None,
) -> np.ndarray:
    """``S`` in the layout of ``phi(x)``, from per-component moment sums.

    The inverse of how :func:`parameters_from_statistics` reads ``S``: the
    E-steps that compute expected moments rather than ``Phi^T R`` (rows with
    missing entries) hand them to the M-step through this.

    Parameters
    ----------
    mass : ndarray of shape (K,)
        ``sum_n r_nk``.
    first : ndarray of shape (K, d)
        ``sum_n r_nk E[x_n]``.
    second : ndarray of shape (K, d, d)
        ``sum_n r_nk E[x_n x_n^T]``.
    covariance_type : {"full", "tied", "diag", "spherical"}
    categories : ndarray of shape (n_onehot, K), optional
        Expected category indicators.

    Returns
    -------
    ndarray of shape (n_statistics + n_onehot, K)
    """
    d = first.shape[1]
    n_gauss = n_statistics(covariance_type, d)
    n_onehot = 0 if categories is None else len(categories)
    stats = np.empty((n_gauss + n_onehot, len(mass)))
    stats[0] = mass
    stats[1 : 1 + d] = first.T
    if covariance_type in ("full", "tied"):
        rows, cols = vech_index(d)
        stats[1 + d : n_gauss] = second[:, rows, cols].T
    elif covariance_type == "diag":
        stats[1 + d : n_gauss] = np.diagonal(second, axis1=1, axis2=2).T
    else:
        stats[1 + d] = np.trace(second, axis1=1, axis2=2)
    if n_onehot:
        stats[n_gauss:] = categories
    return stats


def n_statistics(covariance_type: str, d: int, n_onehot: int = 0) -> int:
    """Length of phi(x): 1 + d + the number of quadratic terms (+ one-hot).

    Parameters
    ----------
    covariance_type : {"full", "tied", "diag", "spherical"}
    d : int
        Number of continuous features.
    n_onehot : int, default=0
        Categories of all categorical columns together.

    Returns
    -------
    int
    """
    quad = {"full": d * (d + 1) // 2, "tied": d * (d + 1) // 2, "diag": d}
    return 1 + d + quad.get(covariance_type, 1) + n_onehot


def features(Xc: np.ndarray, covariance_type: str, n_onehot: int = 0) -> np.ndarray:
    """Sufficient statistics phi(x) of each row, component-major.

    Parameters
    ----------
    Xc : ndarray of shape (n_samples, n_features)
        Centred continuous columns, then ``n_onehot`` one-hot columns.
    covariance_type : {"full", "tied", "diag", "spherical"}
    n_onehot : int, default=0

    Returns
    -------
    ndarray of shape (n_statistics, n_samples)
        Rows: a row of ones, the d coordinates, the quadratic terms, then
        the one-hot indicators.
    """
    if n_onehot:
        gaussian = features(Xc[:, :-n_onehot], covariance_type)
        return np.vstack([gaussian, Xc[:, -n_onehot:].T])
    n, d = Xc.shape
    out = np.empty((n_statistics(covariance_type, d), n))
    out[0] = 1.0
    out[1 : 1 + d] = Xc.T
    if covariance_type in ("full", "tied"):
        # vech row by row: x_i * x_j for j >= i, written in place (fancy
        # indexing would build two temporaries the size of the output).
        xt = out[1 : 1 + d]  # x^T, already laid out contiguously above
        start = 1 + d
        for i in range(d):
            np.multiply(xt[i], xt[i:], out=out[start : start + d - i])
            start += d - i
    elif covariance_type == "diag":
        np.square(Xc.T, out=out[1 + d :])
    else:
        np.einsum("nd,nd->n", Xc, Xc, out=out[1 + d])
    return out


def component_logits(
    X: np.ndarray, theta: np.ndarray, covariance_type: str, center=0.0, n_onehot=0
):
    """``log w_k + log N(x_n; mu_k, Sigma_k) = Theta phi(x_n - center)`` per row.

    With categorical columns, ``+ sum_j log pi_kj(x_nj)``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    theta : ndarray of shape (n_components, n_statistics)
        From :func:`natural_parameters`, built in coordinates centred on
        ``center``.
    covariance_type : str
    center : ndarray of shape (n_features,) or float, default=0.0
        Subtracted chunk by chunk, so X is never copied whole (0 on the
        one-hot columns).
    n_onehot : int, default=0

    Returns
    -------
    ndarray of shape (n_samples, n_components)
    """
    out = np.empty((len(X), len(theta)))
    for rows in iter_row_chunks(len(X), 8 * sum(theta.shape)):
        phi = features(X[rows] - center, covariance_type, n_onehot)
        out[rows] = (theta @ phi).T
    return out


def statistics_of(Xc: np.ndarray, resp: np.ndarray, covariance_type: str, n_onehot=0):
    """``S = Phi^T R``, without holding phi of every row at once.

    Parameters
    ----------
    Xc : ndarray of shape (n_samples, n_features)
        Centred rows (one-hot columns last).
    resp : ndarray of shape (n_samples, n_components)
        Responsibilities (times sample weights).
    covariance_type : str
    n_onehot : int, default=0

    Returns
    -------
    ndarray of shape (n_statistics, n_components)
    """
    d = Xc.shape[1] - n_onehot
    per_row = 8 * n_statistics(covariance_type, d, n_onehot)
    return sum(
        features(Xc[rows], covariance_type, n_onehot) @ resp[rows]
        for rows in iter_row_chunks(len(Xc), per_row)
    )


def category_log_probabilities(
    counts: np.ndarray, nk: np.ndarray, sizes: list[int]
) -> np.ndarray:
    """M-step of the categorical columns: ``log pi_kjc`` from weighted counts.

    ``pi_kjc = (sum_n r_nk [x_nj = c] + eps) / (n_k + C_j eps)``: the
    responsibility-weighted share of each category in each component (the
    one-hot rows of ``S = Phi^T R``), with ``eps = 10 * machine epsilon`` as
    scikit-learn adds to ``n_k``, so a category a component never holds has
    a tiny, finite log-probability.

    Parameters
    ----------
    counts : ndarray of shape (n_onehot, n_components)
        The one-hot rows of S.
    nk : ndarray of shape (n_components,)
        Component masses (the row of ones of S).
    sizes : list of int
        Categories of each categorical column.

    Returns
    -------
    ndarray of shape (n_components, n_onehot)
        Log-probabilities, one block of ``sizes[j]`` per column.
    """
    eps = 10 * np.finfo(float).eps
    out = np.empty(counts.T.shape)
    start = 0
    for size in sizes:
        block = counts[start : start + size].T + eps
        out[:, start : start + size] = np.log(block) - np.log(
            block.sum(axis=1, keepdims=True)
        )
        start += size
    return out


def log_det_cholesky(prec_chol: np.ndarray, covariance_type: str, d: int) -> np.ndarray:
    """Log-determinant of the precision Cholesky factor, per component.

    Parameters
    ----------
    prec_chol : ndarray
        Precision Cholesky factors in scikit-learn's layout.
    covariance_type : {"full", "tied", "diag", "spherical"}
    d : int
        Number of features.

    Returns
    -------
    ndarray of shape (n_components,) (a scalar for "tied")
    """
    if covariance_type == "full":
        return np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.log(np.diag(prec_chol)).sum()
    if covariance_type == "diag":
        return np.log(prec_chol).sum(axis=1)
    return d * np.log(prec_chol)


def precisions_from_cholesky(prec_chol: np.ndarray, covariance_type: str) -> np.ndarray:
    """Precision matrices (or vectors) from their Cholesky factors.

    Parameters
    ----------
    prec_chol : ndarray
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    ndarray of the same shape
    """
    if covariance_type == "full":
        return prec_chol @ prec_chol.transpose(0, 2, 1)
    if covariance_type == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol**2


def covariances_from_precisions(
    precisions: np.ndarray, covariance_type: str
) -> np.ndarray:
    """Covariance matrices (or vectors) from precisions: their inverses.

    Parameters
    ----------
    precisions : ndarray
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    ndarray of the same shape
    """
    if covariance_type in ("full", "tied"):
        return np.linalg.inv(precisions)
    return 1.0 / precisions


def natural_parameters(
    weights: np.ndarray,
    means: np.ndarray,
    prec_chol: np.ndarray,
    covariance_type: str,
) -> np.ndarray:
    """Theta with ``Theta @ phi(x) = log w_k + log N(x; mu_k, Sigma_k)``.

    Parameters
    ----------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
        Means in the centred coordinates phi was built in.
    prec_chol : ndarray
        Precision Cholesky factors.
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    ndarray of shape (n_components, n_statistics)
    """
    k, d = means.shape
    theta = np.empty((k, n_statistics(covariance_type, d)))
    prec = precisions_from_cholesky(prec_chol, covariance_type)
    if covariance_type in ("full", "tied"):
        prec_k = np.broadcast_to(prec, (k, d, d))
        lin = np.einsum("kij,kj->ki", prec_k, means)
        rows, cols = vech_index(d)
        # x^T L x = sum_i L_ii x_i^2 + 2 sum_{i<j} L_ij x_i x_j
        theta[:, 1 + d :] = -np.where(rows == cols, 0.5, 1.0) * prec_k[:, rows, cols]
    elif covariance_type == "diag":
        lin = prec * means
        theta[:, 1 + d :] = -0.5 * prec
    else:
        lin = prec[:, None] * means
        theta[:, 1 + d] = -0.5 * prec
    theta[:, 1 : 1 + d] = lin
    with np.errstate(divide="ignore"):  # an empty component gets log(0) = -inf
        log_w = np.log(weights)
    theta[:, 0] = (
        log_w
        + log_det_cholesky(prec_chol, covariance_type, d)
        - 0.5 * d * math.log(2 * math.pi)
        - 0.5 * np.einsum("kd,kd->k", lin, means)
    )
    return theta


def full_precisions(precisions, covariance_type: str, n_components: int, d: int):
    """Every component's precision as a (d, d) matrix, whatever the type.

    Parameters
    ----------
    precisions : ndarray
        In scikit-learn's layout for ``covariance_type`` (``precisions_``).
    covariance_type : {"full", "tied", "diag", "spherical"}
    n_components, d : int

    Returns
    -------
    ndarray of shape (n_components, d, d)
    """
    if covariance_type == "full":
        return np.asarray(precisions)
    if covariance_type == "tied":
        return np.broadcast_to(precisions, (n_components, d, d))
    diag = np.broadcast_to(
        np.asarray(precisions).reshape(n_components, -1), (n_components, d)
    )
    out = np.zeros((n_components, d, d))
    out[:, np.arange(d), np.arange(d)] = diag
    return out


def moments_from_natural(theta: np.ndarray, covariance_type: str, d: int):
    """Log-weights, means and precisions from the natural parameters Theta.

    The inverse of :func:`natural_parameters`
    (on its Gaussian block): the quadratic terms give the precision, the
    linear ones ``Lambda mu``, the constant ``log w`` once the
    normaliser is taken off.

    Parameters
    ----------
    theta : ndarray of shape (n_components, n_statistics)
        The Gaussian block (no category columns).
    covariance_type : {"full", "tied", "diag", "spherical"}
    d : int

    Returns
    -------
    log_weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, d)
    precisions : ndarray of shape (n_components, d, d)
    """
    k = len(theta)
    lin, quad = theta[:, 1 : 1 + d], theta[:, 1 + d :]
    if covariance_type in ("full", "tied"):
        rows, cols = vech_index(d)
        prec = np.empty((k, d, d))
        prec[:, rows, cols] = -np.where(rows == cols, 2.0, 1.0) * quad
        prec[:, cols, rows] = prec[:, rows, cols]
    else:
        diag = -2.0 * np.broadcast_to(quad, (k, d))
        prec = np.zeros((k, d, d))
        prec[:, np.arange(d), np.arange(d)] = diag
    means = np.linalg.solve(prec, lin[..., None])[..., 0]
    _, log_det_prec = np.linalg.slogdet(prec)
    log_weights = (
        theta[:, 0]
        - 0.5 * log_det_prec
        + 0.5 * d * math.log(2 * math.pi)
        + 0.5 * np.einsum("kd,kd->k", lin, means)
    )
    return log_weights, means, prec


def parameters_from_statistics(
    stats: np.ndarray, covariance_type: str, reg_covar: float, d: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M-step: component masses, means and covariances from ``S = Phi^T R``.

    As scikit-learn, ``nk`` gets ``10 eps`` so an empty component divides
    safely, and ``reg_covar`` is added to the diagonal of each covariance.

    Parameters
    ----------
    stats : ndarray of shape (n_statistics, n_components)
        Responsibility-weighted sums of phi(x) per component.
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float or ndarray of shape (n_features,)
        One value for every feature, or one per feature (see
        :func:`diagonal_regularisation`).
    d : int
        Number of features.

    Returns
    -------
    nk : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
        In the centred coordinates of phi.
    covariances : ndarray
        In scikit-learn's layout for ``covariance_type``.
    """
    reg_covar = diagonal_regularisation(reg_covar, covariance_type)
    nk = stats[0] + 10 * np.finfo(float).eps
    means = stats[1 : 1 + d].T / nk[:, None]
    quad = stats[1 + d :].T / nk[:, None]
    if covariance_type in ("full", "tied"):
        second = symmetric_from_vech(quad, d)
        if covariance_type == "full":
            cov = second - means[:, :, None] * means[:, None, :]
        else:
            cov = np.einsum(
                "k,kij->ij", nk, second - means[:, :, None] * means[:, None, :]
            )
            cov /= nk.sum()
        cov[..., np.arange(d), np.arange(d)] += reg_covar
    elif covariance_type == "diag":
        cov = quad - means**2 + reg_covar
    else:
        cov = (quad[:, 0] - (means**2).sum(axis=1)) / max(d, 1) + reg_covar
    return nk, means, cov


def diagonal_regularisation(reg_covar, covariance_type: str):
    """What is added to the covariances' diagonal: per feature, or one value.

    A spherical covariance has one variance, the mean of the features'; it
    gets the mean of per-feature values.

    Parameters
    ----------
    reg_covar : float or ndarray of shape (n_features,)
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    float or ndarray of shape (n_features,)
    """
    if np.ndim(reg_covar) and covariance_type == "spherical":
        return float(np.mean(reg_covar))
    return reg_covar


_SINGULAR = (
    "Fitting the mixture failed: the covariance of component(s) {which} is not "
    "positive definite (a component collapsed onto a few points or a feature is "
    "constant). Increase reg_covar (now {reg}), use fewer components, or scale "
    "the data."
)


def covariance_cholesky(
    covariances: np.ndarray, covariance_type: str, reg_covar: float | None = None
) -> np.ndarray:
    """Lower Cholesky factors of the covariances (square roots for diag types).

    Parameters
    ----------
    covariances : ndarray
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float, optional
        Only quoted in the error message.

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        Naming the components whose covariance is not positive definite.
    """
    if covariance_type in ("full", "tied"):
        batch = covariances if covariance_type == "full" else covariances[None]
        try:
            chol = np.linalg.cholesky(batch)
        except np.linalg.LinAlgError:
            bad = [k for k, c in enumerate(batch) if np.linalg.eigvalsh(c).min() <= 0]
            which = "tied" if covariance_type == "tied" else bad[:10]
            raise ValueError(_SINGULAR.format(which=which, reg=reg_covar)) from None
        return chol if covariance_type == "full" else chol[0]
    bad = np.argwhere(~(np.asarray(covariances) > 0))
    if bad.size:
        raise ValueError(
            _SINGULAR.format(which=sorted(set(bad[:, 0].tolist()))[:10], reg=reg_covar)
        )
    return np.sqrt(covariances)


def precision_cholesky(
    covariances: np.ndarray, covariance_type: str, reg_covar: float | None = None
) -> np.ndarray:
    """Precision Cholesky factors (scikit-learn's ``precisions_cholesky_``).

    Parameters
    ----------
    covariances : ndarray
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float, optional
        Only quoted in the error message.

    Returns
    -------
    ndarray
        ``inv(L)^T`` for the lower Cholesky factor L of each covariance, or
        ``1 / sqrt(variance)``.
    """
    chol = covariance_cholesky(covariances, covariance_type, reg_covar)
    if covariance_type in ("full", "tied"):
        return np.swapaxes(np.linalg.inv(chol), -1, -2)
    return 1.0 / chol


def precision_cholesky_from_precisions(
    precisions: np.ndarray, covariance_type: str
) -> np.ndarray:
    """Upper factor U with ``U U^T = precision``, as scikit-learn computes it.

    Reversing rows and columns turns the lower Cholesky factor of the reversed
    matrix into the upper factor of the original.

    Parameters
    ----------
    precisions : ndarray
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    ndarray
    """
    if covariance_type in ("full", "tied"):
        flipped = precisions[..., ::-1, ::-1]
        return np.linalg.cholesky(flipped)[..., ::-1, ::-1]
    return np.sqrt(precisions)


def n_parameters(covariance_type: str, k: int, d: int, sizes=()) -> int:
    """Number of free parameters of the mixture (for BIC and AIC).

    Parameters
    ----------
    covariance_type : {"full", "tied", "diag", "spherical"}
    k, d : int
        Components and continuous features.
    sizes : sequence of int, default=()
        Categories of each categorical column: ``C_j - 1`` free
        probabilities per column and component.

    Returns
    -------
    int
    """
    cov = {
        "full": k * d * (d + 1) // 2,
        "tied": d * (d + 1) // 2,
        "diag": k * d,
        "spherical": k if d else 0,
    }[covariance_type]
    return cov + k * d + k - 1 + k * sum(size - 1 for size in sizes)


def check_init_parameters(
    weights_init, means_init, precisions_init, covariance_type: str, k: int, d: int
) -> tuple:
    """Validate user-given initial parameters; return them as float arrays.

    The checks and their wording are scikit-learn's (``_check_weights``,
    ``_check_means``, ``_check_precisions`` in ``sklearn/mixture``), so code
    written against its messages keeps working; non-finite values are refused
    as ``check_array`` refuses them.

    Parameters
    ----------
    weights_init, means_init, precisions_init : array-like or None
    covariance_type : {"full", "tied", "diag", "spherical"}
    k, d : int
        Components and features.

    Returns
    -------
    tuple of (ndarray or None)
    """
    weights = means = precisions = None
    if weights_init is not None:
        weights = _init_array(weights_init, (k,), "weights")
        if np.any(weights < 0) or np.any(weights > 1):
            raise ValueError(
                "The parameter 'weights' should be in the range [0, 1], but got "
                f"max value {weights.max():.5f}, min value {weights.min():.5f}"
            )
        if not np.allclose(np.abs(1.0 - weights.sum()), 0.0, rtol=0.0, atol=1e-8):
            raise ValueError(
                "The parameter 'weights' should be normalized, but got "
                f"sum(weights) = {weights.sum():.5f}"
            )
    if means_init is not None:
        means = _init_array(means_init, (k, d), "means")
    if precisions_init is not None:
        shape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
        name = f"{covariance_type} precision"
        precisions = _init_array(precisions_init, shape[covariance_type], name)
        if covariance_type in ("full", "tied"):
            mats = precisions if covariance_type == "full" else precisions[None]
            symmetric = np.allclose(mats, mats.transpose(0, 2, 1))
            if not symmetric or np.linalg.eigvalsh(mats).min() <= 0:
                raise ValueError(f"'{name}' should be symmetric, positive-definite")
        elif np.any(precisions <= 0):
            raise ValueError(f"'{name}' should be positive")
    return weights, means, precisions


def _init_array(value, shape: tuple, name: str) -> np.ndarray:
    """A finite float array of ``shape``, in scikit-learn's wording."""
    array = check_array(
        value,
        dtype=np.float64,
        ensure_2d=False,
        allow_nd=True,
        input_name=("precisions" if "precision" in name else name) + "_init",
    )
    if array.shape != shape:
        raise ValueError(
            f"The parameter '{name}' should have the shape of {shape}, but got "
            f"{array.shape}"
        )
    return array
