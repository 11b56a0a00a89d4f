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

__all__ = [
    "MissingLayout",
    "Workspace",
    "bound_coefficients",
    "distance_features",
    "fill_rows",
    "gaussian_conditionals",
    "log_density_bounds",
    "mean_filled",
    "observed_conditionals",
    "observed_log_prob",
    "pair_posterior",
    "pattern_ids",
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


def pattern_ids(missing: np.ndarray):
    """Number each row's pattern of missing entries.

    Parameters
    ----------
    missing : ndarray of shape (n_rows, d), bool

    Returns
    -------
    first : ndarray of int
        A row of each pattern (the first), in the patterns' order.
    pattern : ndarray of shape (n_rows,), int
        Each row's pattern.
    """
    # One byte string per row makes np.unique a 1-d sort.
    packed = np.packbits(missing, axis=1)
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, pattern = np.unique(keys, return_index=True, return_inverse=True)
    return first, pattern.ravel()


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
        self._observed = (~missing).astype(float)
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

    @property
    def observed(self) -> np.ndarray:
        """1.0 where a row's entry was observed, else 0.0 (n_rows, d)."""
        if self._observed is None:  # a sub-layout's, made when asked for
            self._observed = np.ones(self._shape)
            flat = self._observed.ravel()
            for group in self.groups:
                flat[group.flat] = 0.0
        return self._observed

    def in_order(self):
        """The rows put in the groups' order, and their layout.

        Complete rows (in no group) first, then each group's rows in its
        order (runs of one pattern): the order :meth:`split` needs.

        Returns
        -------
        order : ndarray of int
            The rows, in that order.
        layout : MissingLayout
            The layout of ``rows[order]``.
        """
        n, d = self.observed.shape
        complete = np.ones(n, bool)
        for group in self.groups:
            complete[group.rows] = False
        order = np.concatenate(
            [np.flatnonzero(complete)] + [group.rows for group in self.groups]
        )
        out = MissingLayout.__new__(MissingLayout)
        out._observed, out.n_observed = self.observed[order], self.n_observed[order]
        out.groups = []
        start = int(complete.sum())
        for group in self.groups:
            rows = np.arange(start, start + len(group.rows))
            start += len(rows)
            out.groups.append(
                _Group(
                    rows=rows,
                    pattern=group.pattern,
                    columns=group.columns,
                    cells=group.cells,
                    flat=rows[:, None] * d + group.cells,
                    block=group.block,
                )
            )
        return order, out

    def split(self, rows, components, n_components) -> list:
        """The layouts of (row, component) pairs, one per component.

        For a layout :meth:`in_order`, whose groups' rows are consecutive.
        Each component's rows stay in that order, so within a group they
        form runs of one pattern, and its patterns are renumbered over
        those present: the batched factorisations cover only these.

        Parameters
        ----------
        rows, components : ndarray of int
            The pairs, rows ascending.
        n_components : int

        Returns
        -------
        list of (component, span, pairs, rows, MissingLayout)
            For each component with pairs: where its pairs lie once sorted
            by component (a slice), their positions in ``rows``, its rows
            and their layout.
        """
        # A stable sort of small integers is a radix sort in numpy.
        small = np.int16 if n_components < 2**15 else np.int64
        order = np.argsort(components.astype(small), kind="stable")
        rows, components = rows[order], components[order]
        edges = np.searchsorted(components, np.arange(n_components + 1))
        return [
            (c, slice(lo, hi), order[lo:hi], rows[lo:hi], self._sub_layout(rows[lo:hi]))
            for c, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True))
            if hi > lo
        ]

    def _sub_layout(self, rows) -> MissingLayout:
        """The layout of ``rows`` (ascending, of a layout :meth:`in_order`)."""
        d = self.observed.shape[1]
        sub = MissingLayout.__new__(MissingLayout)
        sub._observed, sub._shape = None, (len(rows), d)
        sub.n_observed = self.n_observed[rows]
        sub.groups = []
        firsts = [group.rows[0] for group in self.groups]
        edges = np.searchsorted(rows, firsts + [len(self.n_observed)])
        for group, first, lo, hi in zip(
            self.groups, firsts, edges[:-1], edges[1:], strict=True
        ):
            if hi == lo:
                continue
            at = rows[lo:hi] - first
            pattern = group.pattern[at]
            start = np.empty(len(pattern), bool)
            start[0], start[1:] = True, pattern[1:] != pattern[:-1]
            used = pattern[start]
            cells = group.cells[at]
            positions = np.arange(lo, hi)
            sub.groups.append(
                _Group(
                    rows=positions,
                    pattern=np.cumsum(start) - 1,
                    columns=group.columns[used],
                    cells=cells,
                    flat=positions[:, None] * d + cells,
                    block=group.block[used],
                )
            )
        return sub


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
    """Scratch arrays, one set per thread, reused across calls.

    The E-step over holes makes a few (n_rows, d) temporaries per component
    and iteration; fresh ones cost more (page faults) than the arithmetic.

    Parameters
    ----------
    shape : tuple of int
        ``(n_rows, d)``, the default shape.
    """

    def __init__(self, shape):
        self.shape = shape
        self._local = threading.local()

    def __call__(self, name: str, n_rows=None, shape=None) -> np.ndarray:
        """The calling thread's array called ``name`` (contents undefined).

        Parameters
        ----------
        name : str
        n_rows : int, optional
            Only that many rows of the default shape (a subset's pass).
        shape : tuple of int, optional
            Another shape: the array grows to hold it.
        """
        if shape is None:
            shape = (self.shape[0] if n_rows is None else n_rows, self.shape[1])
        size = math.prod(shape)
        arrays = self._local.__dict__.setdefault("arrays", {})
        if name not in arrays or arrays[name].size < size:
            arrays[name] = np.empty(size)
        return arrays[name][:size].reshape(shape)


#: Below this many matrices, or above this size, numpy's LAPACK loop is
#: faster than :func:`spd_log_det_inverse`'s loops over the entries.
_BATCHED_MIN_MATRICES, _BATCHED_MAX_SIZE = 256, 6

#: Matrices factored together by those loops: their arrays stay in cache.
_BATCHED_CHUNK = 2048


def spd_log_det_inverse(a: np.ndarray, out=None):
    """Log-determinants and inverses of a batch of positive definite matrices.

    A Cholesky factorisation ``A = L L^T``, then ``A^-1 = L^-T L^-1`` and
    ``log |A| = 2 sum log L_jj`` (Golub and Van Loan, *Matrix
    Computations*, 2013, section 4.2). Many small matrices (the
    ``Lambda_kmm`` block of every pattern and component) are done with the
    batch as the last axis and the loops over the m x m entries, so each
    step is one vectorised operation over a cache-sized chunk of the batch:
    numpy's ``linalg`` calls LAPACK once per matrix, which costs more than
    the arithmetic of a 5 x 5 inverse.

    Parameters
    ----------
    a : ndarray of shape (..., m, m)
    out : ndarray of shape (..., m, m), optional
        Where to write the inverses (a fresh large array costs page faults).

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
    count = math.prod(batch)
    inverse = np.empty(a.shape) if out is None else out
    if count < _BATCHED_MIN_MATRICES or m > _BATCHED_MAX_SIZE:
        chol = np.linalg.cholesky(a)
        log_det = 2 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
        inverse[...] = np.linalg.inv(a)
        return log_det, inverse
    flat = a.reshape(count, m, m)
    flat_inverse = inverse.reshape(count, m, m)
    log_det = np.empty(count)
    for lo in range(0, count, _BATCHED_CHUNK):
        hi = min(lo + _BATCHED_CHUNK, count)
        log_det[lo:hi] = _cholesky_inverse(flat[lo:hi], flat_inverse[lo:hi])
    return log_det.reshape(batch), inverse


def _cholesky_inverse(a, out):
    """:func:`spd_log_det_inverse` of a chunk ``(c, m, m)``: log-dets; inverses to out."""
    m = a.shape[-1]
    A = np.ascontiguousarray(np.moveaxis(a, 0, -1))  # (m, m, c)
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
    inv_l = np.moveaxis(inv_l, -1, 0)  # (c, m, m)
    np.matmul(np.swapaxes(inv_l, 1, 2), inv_l, out=out)
    return 2 * np.log(np.diagonal(L)).sum(axis=-1)  # diagonal: (c, m)


def _pattern_blocks(flat_prec, group):
    """Every component's ``Lambda_kmm`` blocks of a group: log-dets and inverses."""
    return spd_log_det_inverse(flat_prec[:, group.block])  # (K, P, m, m)


def gaussian_conditionals(
    X0,
    layout: MissingLayout,
    means,
    precisions,
    log_det_cov,
    map_=map,
    work=None,
    blocks=None,
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
    blocks : list, optional
        Per group, the ``(log_det, inverse)`` of every component's
        ``Lambda_kmm`` blocks of its patterns, ``(K, P)`` and
        ``(K, P, m, m)``, when already factored.

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
    if blocks is None:  # per group, every component's blocks in one batched call
        blocks = list(
            map_(lambda group: _pattern_blocks(flat_prec, group), layout.groups)
        )
    work = work or Workspace(X0.shape)
    n = len(X0)

    def one(j):
        mu = means[j]
        r0, y = work("r0", n), work("y", n)
        np.subtract(X0, mu, out=r0)
        r0_flat = r0.ravel()
        for group in layout.groups:  # the residual of the observed entries only
            r0_flat[group.flat] = 0.0
        np.matmul(r0, precisions[j], out=y)
        quad = np.einsum("nd,nd->n", r0, y)
        log_det_o = np.full(len(X0), log_det_cov[j])
        fills, cond_covs = [], []
        y_flat = y.ravel()
        for group, (log_det, cov) in zip(layout.groups, blocks, strict=True):
            v = y_flat[group.flat]
            m = v.shape[1]
            rows_cov = work("cov", shape=(len(v), m, m))
            np.take(cov[j], group.pattern, axis=0, out=rows_cov)
            u = np.einsum("nij,nj->ni", rows_cov, v)
            log_det_o[group.rows] += log_det[j][group.pattern]
            quad[group.rows] -= np.einsum("ni,ni->n", v, u)
            fills.append(mu[group.cells] - u)
            cond_covs.append(cov[j])
        log_density = -0.5 * (
            layout.n_observed * math.log(2 * math.pi) + log_det_o + quad
        )
        return log_density, fills, cond_covs

    return list(map_(one, range(k)))


def distance_features(X0, layout: MissingLayout) -> np.ndarray:
    """Each row's ``[x_o, o, |x_o|^2, |o|, 1]``, for :func:`log_density_bounds`.

    Parameters
    ----------
    X0 : ndarray of shape (n_rows, d)
        The continuous entries with 0 where missing.
    layout : MissingLayout
        Where X0's rows miss entries.

    Returns
    -------
    ndarray of shape (n_rows, 2 d + 3)
    """
    return np.column_stack(
        [
            X0,
            layout.observed,
            np.einsum("nd,nd->n", X0, X0),
            layout.n_observed,
            np.ones(len(X0)),
        ]
    )


def log_density_bounds(features, coefficients):
    """Bounds on ``log w_k + log N(x_o; mu_ko, Sigma_koo)``, cheaply.

    By Cauchy's interlacing theorem the eigenvalues of ``Sigma_koo`` lie
    between the extreme ones of ``Sigma_k`` (Horn and Johnson, *Matrix
    Analysis*, 2013, thm. 4.3.28), so with ``l_lo <= l_hi`` the extreme
    eigenvalues of the precision ``Lambda_k`` and ``r = x_o - mu_ko``,

        l_lo |r|^2 <= r^T Sigma_koo^-1 r <= l_hi |r|^2
        -|o| log l_hi <= log |Sigma_koo| <= -|o| log l_lo.

    ``|r|^2 = |x_o|^2 - 2 x_o . mu_k + o . mu_k^2`` is linear in the rows'
    :func:`distance_features`, so both bounds of every row and component
    are one matrix product, where the exact values need a factorisation
    per pattern and component.

    Parameters
    ----------
    features : ndarray of shape (n_rows, 2 d + 3)
        :func:`distance_features` of the rows.
    coefficients : ndarray of shape (2 d + 3, 2 n_components)
        :func:`bound_coefficients` of the mixture (made once per E-step,
        used for every chunk of rows).

    Returns
    -------
    lower, upper : ndarray of shape (n_rows, n_components)
    """
    both = features @ coefficients
    k = coefficients.shape[1] // 2
    return both[:, :k], both[:, k:]


def bound_coefficients(log_weights, means, precisions) -> np.ndarray:
    """The matrix that takes :func:`distance_features` to both bounds.

    See :func:`log_density_bounds`; the lower bounds' coefficients, then
    the upper bounds'.

    Parameters
    ----------
    log_weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, d)
    precisions : ndarray of shape (n_components, d, d)

    Returns
    -------
    ndarray of shape (2 d + 3, 2 n_components)
    """
    eig = np.linalg.eigvalsh(precisions)  # ascending
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    coef = []
    for scale, log_det_scale in ((eig[:, -1], eig[:, 0]), (eig[:, 0], eig[:, -1])):
        # -scale/2 |r|^2 + |o| (log(log_det_scale) - log 2 pi) / 2 + log w
        coef.append(
            np.vstack(
                [
                    scale * means.T,
                    -0.5 * scale * (means**2).T,
                    -0.5 * scale,
                    0.5 * np.log(log_det_scale) - half_log_2pi,
                    log_weights,
                ]
            )
        )
    return np.hstack(coef)


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


def pair_posterior(rows, logits):
    """Responsibilities and each row's ``log sum exp``, over (row, component) pairs.

    The sparse form of :func:`posterior`: a row's components are the pairs
    that name it (rows in ascending order, each at least once); it
    overwrites ``logits``.

    Parameters
    ----------
    rows : ndarray of int, ascending
    logits : ndarray of the same length

    Returns
    -------
    resp : ndarray
        ``logits``, overwritten with each pair's responsibility.
    log_norm : ndarray of shape (n_rows,)
    """
    starts = np.flatnonzero(np.diff(rows, prepend=-1))
    counts = np.diff(starts, append=len(rows))
    peak = np.maximum.reduceat(logits, starts)
    logits -= np.repeat(peak, counts)
    np.maximum(logits, -700.0, out=logits)  # as exp_normalised: no subnormals
    np.exp(logits, out=logits)
    total = np.add.reduceat(logits, starts)
    logits /= np.repeat(total, counts)
    return logits, np.log(total) + peak


def posterior(logits):
    """Responsibilities and ``log sum_k exp(logits)`` of each row, in place.

    The complete-data E-step's normalisation (``exp_normalised``), over the
    components of each row; it overwrites ``logits``.
    """
    total, log_norm = exp_normalised(logits, axis=1)
    logits /= total
    return logits, log_norm[:, 0]
