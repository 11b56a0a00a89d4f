"""Densities and conditionals of Gaussian-mixture rows with missing entries.

The per-row algebra of :mod:`probmodels.mixture._missing`'s EM pass, also
used by scoring, prediction and imputation: the observed-entry log-density
of each row, the Gaussian of its missing block given what was observed
(precision form: only the ``Lambda_kmm`` blocks depend on the pattern, see
that module's docstring), rows filled with conditional means, and the
conversions between natural and moment parameters these need.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from ._em import exp_normalised
from ._patterns import pattern_ids

__all__ = [
    "MissingLayout",
    "Workspace",
    "fill_rows",
    "gaussian_conditionals",
    "mean_filled",
    "observed_conditionals",
    "observed_log_prob",
    "posterior",
]


def mean_filled(X: np.ndarray, weight=None) -> np.ndarray:
    """X with each NaN replaced by its column's (weighted) observed mean.

    Only to initialise EM (k-means and the first statistics); on one-hot
    blocks the mean is the categories' observed frequencies.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_columns)
    weight : ndarray of shape (n_rows,), optional

    Returns
    -------
    ndarray of shape (n_rows, n_columns)
    """
    missing = np.isnan(X)
    if not missing.any():
        return X
    w = np.ones(len(X)) if weight is None else weight
    seen = (~missing) * w[:, None]
    total = seen.sum(axis=0)
    mean = np.nan_to_num(X).T @ w / np.where(total > 0, total, 1.0)
    return np.where(missing, mean, X)


class MissingLayout:
    """Where rows miss continuous entries, grouped for batched algebra.

    Rows with the same number m of missing entries form a group; within it
    ``pattern[i]`` numbers row i's pattern and ``columns[p]`` lists the m
    missing columns of pattern p. Computed once per data set.

    Parameters
    ----------
    missing : ndarray of shape (n_rows, d), bool
    """

    def __init__(self, missing: np.ndarray):
        n, d = missing.shape
        self.observed = (~missing).astype(float)
        self.n_observed = self.observed.sum(axis=1)
        self.groups = []
        counts = missing.sum(axis=1)
        for m in np.unique(counts[counts > 0]):
            rows = np.flatnonzero(counts == m)
            first, pattern = pattern_ids(missing[rows])
            columns = np.nonzero(missing[rows[first]])[1].reshape(len(first), m)
            # Rows of one pattern side by side: the gathers below read runs.
            order = np.argsort(pattern, kind="stable")
            rows, pattern = rows[order], pattern[order]
            self.groups.append(
                _Group(
                    rows=rows,
                    pattern=pattern,
                    columns=columns,
                    cells=columns[pattern],
                    # Flat positions: in the (n, d) rows, and in a (d, d) block.
                    flat=rows[:, None] * d + columns[pattern],
                    block=columns[:, :, None] * d + columns[:, None, :],
                )
            )


@dataclass
class _Group:
    """Rows with the same number of missing entries (see :class:`MissingLayout`)."""

    rows: np.ndarray
    pattern: np.ndarray
    columns: np.ndarray
    cells: np.ndarray
    flat: np.ndarray
    block: np.ndarray


class Workspace:
    """Row-sized scratch arrays, one set per thread, reused across calls.

    The E-step over holes makes a few (n_rows, d) temporaries per component
    and iteration; fresh ones cost more (page faults) than the arithmetic.

    Parameters
    ----------
    shape : tuple of int
        ``(n_rows, d)``.
    """

    def __init__(self, shape):
        self.shape = shape
        self._local = threading.local()

    def __call__(self, name: str) -> np.ndarray:
        """The calling thread's array called ``name`` (contents undefined)."""
        arrays = self._local.__dict__.setdefault("arrays", {})
        if name not in arrays:
            arrays[name] = np.empty(self.shape)
        return arrays[name]


#: Below this many matrices, or above this size, numpy's LAPACK loop is
#: faster than :func:`spd_log_det_inverse`'s loops over the entries.
_BATCHED_MIN_MATRICES, _BATCHED_MAX_SIZE = 256, 6


def spd_log_det_inverse(a: np.ndarray):
    """Log-determinants and inverses of a batch of positive definite matrices.

    A Cholesky factorisation ``A = L L^T``, then ``A^-1 = L^-T L^-1`` and
    ``log |A| = 2 sum log L_jj`` (Golub and Van Loan, *Matrix
    Computations*, 2013, section 4.2). Many small matrices (the
    ``Lambda_kmm`` block of every pattern and component) are done with the
    batch as the last axis and the loops over the m x m entries, so each
    step is one vectorised operation over the whole batch: numpy's
    ``linalg`` calls LAPACK once per matrix, which costs more than the
    arithmetic of a 5 x 5 inverse.

    Parameters
    ----------
    a : ndarray of shape (..., m, m)

    Returns
    -------
    log_det : ndarray of shape (...)
    inverse : ndarray of shape (..., m, m)

    Raises
    ------
    numpy.linalg.LinAlgError
        If a matrix is not positive definite.
    """
    *batch, m, _ = a.shape
    count = int(np.prod(batch)) if batch else 1
    if count < _BATCHED_MIN_MATRICES or m > _BATCHED_MAX_SIZE:
        chol = np.linalg.cholesky(a)
        log_det = 2 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
        return log_det, np.linalg.inv(a)
    A = np.ascontiguousarray(np.moveaxis(a.reshape(count, m, m), 0, -1))  # (m, m, B)
    L = np.zeros_like(A)
    for j in range(m):
        pivot = A[j, j] - (L[j, :j] ** 2).sum(axis=0)
        if not np.all(pivot > 0):
            raise np.linalg.LinAlgError("Matrix is not positive definite")
        L[j, j] = np.sqrt(pivot)
        for i in range(j + 1, m):
            L[i, j] = (A[i, j] - (L[i, :j] * L[j, :j]).sum(axis=0)) / L[j, j]
    inv_l = np.zeros_like(L)  # L^-1, lower triangular, by forward substitution
    for j in range(m):
        inv_l[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, m):
            inv_l[i, j] = -(L[i, j:i] * inv_l[j:i, j]).sum(axis=0) / L[i, i]
    inv_l = np.moveaxis(inv_l, -1, 0)  # (B, m, m)
    inverse = np.swapaxes(inv_l, 1, 2) @ inv_l
    log_det = 2 * np.log(np.diagonal(L)).sum(axis=-1)  # diagonal: (B, m)
    return log_det.reshape(batch), inverse.reshape(*batch, m, m)


def _pattern_blocks(flat_prec, group):
    """Every component's ``Lambda_kmm`` blocks of a group: log-dets and inverses."""
    return spd_log_det_inverse(flat_prec[:, group.block])  # (K, P, m, m)


def gaussian_conditionals(
    X0, layout: MissingLayout, means, precisions, log_det_cov, map_=map, work=None
) -> list:
    """Observed log-densities and the missing entries' conditionals, per component.

    The module's precision-form formulas, component by component.

    Parameters
    ----------
    X0 : ndarray of shape (n_rows, d)
        The continuous entries with 0 where missing.
    layout : MissingLayout
    means : ndarray of shape (n_components, d)
    precisions : ndarray of shape (n_components, d, d)
    log_det_cov : ndarray of shape (n_components,)
        ``log |Sigma_k|``.
    map_ : callable, default=map
        Maps the per-component work over the components (a thread pool's
        ``map`` runs them on several cores).
    work : Workspace, optional
        Scratch arrays to reuse (fresh ones without).

    Returns
    -------
    list of (log_density, fills, cond_covs), one per component
        ``log_density`` (n_rows,) is ``log N(x_o; mu_ko, Sigma_koo)``;
        ``fills`` per group of the layout, the conditional means of the
        missing entries (n_group_rows, m); ``cond_covs`` per group, the
        conditional covariance of each pattern (n_patterns, m, m).
    """
    k, d = means.shape
    flat_prec = np.ascontiguousarray(precisions).reshape(k, d * d)
    # Per group, every component's Lambda_kmm blocks in one batched call.
    blocks = list(map_(lambda group: _pattern_blocks(flat_prec, group), layout.groups))
    work = work or Workspace(X0.shape)

    def one(j):
        mu = means[j]
        r0, y = work("r0"), work("y")
        np.multiply(layout.observed, mu, out=r0)
        np.subtract(X0, r0, out=r0)
        np.matmul(r0, precisions[j], out=y)
        quad = np.einsum("nd,nd->n", r0, y)
        log_det_o = np.full(len(X0), log_det_cov[j])
        fills, cond_covs = [], []
        y_flat = y.ravel()
        for group, (log_det, cov) in zip(layout.groups, blocks, strict=True):
            v = y_flat[group.flat]
            u = np.einsum("nij,nj->ni", cov[j][group.pattern], v)
            log_det_o[group.rows] += log_det[j][group.pattern]
            quad[group.rows] -= np.einsum("ni,ni->n", v, u)
            fills.append(mu[group.cells] - u)
            cond_covs.append(cov[j])
        log_density = -0.5 * (
            layout.n_observed * math.log(2 * math.pi) + log_det_o + quad
        )
        return log_density, fills, cond_covs

    return list(map_(one, range(k)))


def fill_rows(X0, layout: MissingLayout, fills, out=None) -> np.ndarray:
    """X0 with each group's missing entries replaced by ``fills`` (into ``out``)."""
    out = X0.copy() if out is None else out
    if out is not X0:
        np.copyto(out, X0)
    flat = out.ravel()
    for group, fill in zip(layout.groups, fills, strict=True):
        flat[group.flat] = fill
    return out


def observed_conditionals(X, log_weights, means, precisions, log_probs=None):
    """Each row's component logits from its observed entries, and its missing block.

    Parameters
    ----------
    X : ndarray of shape (n_rows, d + n_onehot)
        Continuous columns (NaN where missing), then one-hot blocks (NaN
        blocks where a category is missing).
    log_weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, d)
    precisions : ndarray of shape (n_components, d, d)
    log_probs : ndarray of shape (n_components, n_onehot), optional

    Returns
    -------
    logits : ndarray of shape (n_rows, n_components)
        ``log w_k + log p_k(observed entries of x)``.
    layout : MissingLayout
    X0 : ndarray of shape (n_rows, d)
        The continuous columns with 0 where missing.
    fills, covs : list
        Per component, the conditionals of :func:`gaussian_conditionals`.
    """
    d = means.shape[1]
    layout = MissingLayout(np.isnan(X[:, :d]))
    X0 = np.nan_to_num(X[:, :d])
    log_det_cov = -np.linalg.slogdet(precisions)[1]
    parts = gaussian_conditionals(X0, layout, means, precisions, log_det_cov)
    logits = np.column_stack([dens for dens, _, _ in parts]) + log_weights
    if log_probs is not None and log_probs.shape[1]:
        logits += np.nan_to_num(X[:, d:]) @ log_probs.T
    fills = [fill for _, fill, _ in parts]
    covs = [cov for _, _, cov in parts]
    return logits, layout, X0, fills, covs


def observed_log_prob(X, log_weights, means, precisions, log_probs=None):
    """``log w_k + log p_k(observed entries of x)`` for every row and component.

    Parameters
    ----------
    X : ndarray of shape (n_rows, d + n_onehot)
    log_weights, means, precisions, log_probs
        As for :func:`observed_conditionals`.

    Returns
    -------
    ndarray of shape (n_rows, n_components)
    """
    return observed_conditionals(X, log_weights, means, precisions, log_probs)[0]


def posterior(logits):
    """Responsibilities and ``log sum_k exp(logits)`` of each row, in place.

    The complete-data E-step's normalisation (``exp_normalised``), over the
    components of each row; it overwrites ``logits``.
    """
    total, log_norm = exp_normalised(logits, axis=1)
    logits /= total
    return logits, log_norm[:, 0]
