"""Gaussian mixtures on rows with missing entries (NaN), exactly.

Under missing at random the likelihood of a row is the density of what was
observed, ``p(x_o) = sum_k w_k N(x_o; mu_ko, Sigma_koo) prod_j pi_kj(x_j)``
over its observed continuous coordinates o and observed categories j. EM
stays closed-form (Ghahramani and Jordan, "Supervised learning from
incomplete data via an EM approach", NIPS 1994; Little and Rubin,
*Statistical Analysis with Missing Data*, 2019, ch. 11): the E-step takes
the responsibilities from these observed densities and the expectation of
phi(x) under ``p(x_m | x_o, k)``, a Gaussian with

    mean       mu_km + Sigma_kmo Sigma_koo^-1 (x_o - mu_ko)
    covariance Sigma_kmm - Sigma_kmo Sigma_koo^-1 Sigma_kom,

so ``E[x x^T]`` is the filled row's outer product plus that covariance on
the missing block, and a missing category's indicators are expected at
``pi_kj``. The M-step is then the complete-data one
(:func:`~probmodels.mixture._gaussian.parameters_from_statistics`) on
these expected statistics.

The algebra is done in precision form, which needs no factor of
``Sigma_koo`` per pattern: with ``r0`` the residual ``x - mu_k`` set to 0 on
the missing coordinates, ``y = Lambda_k r0`` and ``v = y_m``,

    quadratic form  (x_o - mu_ko)^T Sigma_koo^-1 (x_o - mu_ko) = r0^T y - v^T u
    conditional     mean mu_km - u,  covariance Lambda_kmm^-1,  u = Lambda_kmm^-1 v
    log-determinant log |Sigma_koo| = log |Sigma_k| + log |Lambda_kmm|

(the Schur complement; Bishop, PRML, 2006, eqs. 2.69-2.82). ``r0^T y`` is
one matrix product over all rows; only the small ``Lambda_kmm`` blocks
depend on the pattern, and they are factored in one batched call per
number of missing entries (:class:`MissingLayout`).
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ._em import _blas_controller, available_threads, exp_normalised
from ._gaussian import _vech_index, features, n_statistics
from ._patterns import (
    MIN_PATTERN_ROWS,
    PatternBlock,
    pattern_ids,
    split_by_pattern,
)

__all__ = [
    "MissingLayout",
    "MissingStatistics",
    "full_precisions",
    "gaussian_conditionals",
    "mean_filled",
    "posterior",
    "moments_from_natural",
    "observed_conditionals",
    "observed_log_prob",
]


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

    The inverse of :func:`~probmodels.mixture._gaussian.natural_parameters`
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
        rows, cols = _vech_index(d)
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


def _pattern_blocks(flat_prec, group):
    """Every component's ``Lambda_kmm`` blocks of a group: log-dets and inverses."""
    block = flat_prec[:, group.block]  # (K, P, m, m)
    chol = np.linalg.cholesky(block)
    log_det = 2 * np.log(np.diagonal(chol, axis1=2, axis2=3)).sum(axis=2)
    return log_det, np.linalg.inv(block)


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


class MissingStatistics:
    """E-step statistics over rows with missing entries, on the CPU.

    The same pass as :class:`~probmodels.mixture._em.NumpyStatistics`
    (``(theta) -> (S, log-likelihood)``, ``statistics``, ``labels``), with
    the expected statistics of the module's formulas: ``S`` holds, per
    component, the responsibility-weighted sums of ``E[phi(x) | x_o, k]``,
    and the log-likelihood is that of the observed entries.

    Parameters
    ----------
    Xc : ndarray of shape (n_samples, d + n_onehot)
        Centred rows, NaN where missing.
    sample_weight : ndarray of shape (n_samples,) or None
    covariance_type : str
    n_onehot : int
    min_pattern_rows : int, optional
        Rows a pattern needs to be fitted as complete data on its observed
        columns (:data:`~probmodels.mixture._patterns.MIN_PATTERN_ROWS`).
    """

    def __init__(
        self, Xc, sample_weight, covariance_type, n_onehot, min_pattern_rows=None
    ):
        self.Xc, self.sample_weight = Xc, sample_weight
        self.covariance_type, self.n_onehot = covariance_type, n_onehot
        self.d = d = Xc.shape[1] - n_onehot
        # Common patterns as complete data on their observed columns
        # (_patterns.py); the rows of rare ones through the per-row pass.
        common, self.rare = split_by_pattern(
            np.isnan(Xc[:, :d]), min_pattern_rows or MIN_PATTERN_ROWS
        )
        self.onehot = onehot = np.nan_to_num(Xc[:, d:])
        self.onehot_missing = onehot_missing = np.isnan(Xc[:, d:]).astype(float)
        self.blocks = [
            (
                rows,
                PatternBlock(
                    Xc[rows, :d],
                    observed,
                    onehot[rows],
                    onehot_missing[rows],
                    None if sample_weight is None else sample_weight[rows],
                ),
            )
            for rows, observed in common
        ]
        # The pool's tasks: every cache-sized chunk of every pattern.
        self._tasks = [
            (b, lo, hi)
            for b, (_, block) in enumerate(self.blocks)
            for lo, hi in block.chunks
        ]
        self.X0 = np.nan_to_num(Xc[self.rare, :d])
        self.layout = MissingLayout(np.isnan(Xc[self.rare, :d]))
        self._pool = self._limits = None
        self._work = Workspace(self.X0.shape)

    def __enter__(self):
        threads = min(available_threads(), len(self.Xc) // 1000 + 1)
        if threads > 1:
            self._pool = ThreadPoolExecutor(threads)
            # One BLAS thread per worker: the components already occupy the cores.
            self._limits = _blas_controller().limit(limits=1, user_api="blas")
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown()
            self._limits.restore_original_limits()
            self._pool = self._limits = None

    def _map(self, function, items):
        if self._pool is None:
            return list(map(function, items))
        return list(self._pool.map(function, items))

    def statistics(self, resp: np.ndarray) -> np.ndarray:
        """``S = Phi^T resp`` of the mean-filled rows (to initialise)."""
        filled = mean_filled(self.Xc, self.sample_weight)
        return features(filled, self.covariance_type, self.n_onehot) @ resp

    def _parameters(self, theta):
        """Log-weights, means, precisions, covariances and category log-probs."""
        n_stat = n_statistics(self.covariance_type, self.d)
        log_w, means, prec = moments_from_natural(
            theta[:, :n_stat], self.covariance_type, self.d
        )
        return log_w, means, prec, np.linalg.inv(prec), theta[:, n_stat:]

    def _category_logits(self, rows, log_probs):
        """``sum_j log pi_kj(x_j)`` of the observed categories of some rows."""
        return self.onehot[rows] @ log_probs.T

    def _rare_logits(self, params):
        """Logits of the rows of rare patterns, and their missing blocks' Gaussians."""
        log_w, means, prec, _, log_probs = params
        log_det_cov = -np.linalg.slogdet(prec)[1]
        logits = np.empty((len(self.rare), len(means)))
        parts = []
        conditionals = gaussian_conditionals(
            self.X0, self.layout, means, prec, log_det_cov, self._map, self._work
        )
        for k, (dens, fills, covs) in enumerate(conditionals):
            logits[:, k] = dens + log_w[k]
            parts.append((fills, covs))
        if self.n_onehot:
            logits += self._category_logits(self.rare, log_probs)
        return logits, parts

    def _weighted(self, rows, logits):
        """Responsibilities (times the weights) and the weighted log-likelihood."""
        resp, log_norm = posterior(logits)
        if self.sample_weight is None:
            return resp, float(log_norm.sum())
        weight = self.sample_weight[rows]
        resp *= weight[:, None]
        return resp, float(log_norm @ weight)

    def _category_stats(self, rows, resp, log_probs):
        """Expected category indicators; a missing one counts ``pi_kj``."""
        return (
            self.onehot[rows].T @ resp
            + (self.onehot_missing[rows].T @ resp) * np.exp(log_probs).T
        )

    def __call__(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """Expected statistics S (n_statistics, K) and the observed log-likelihood.

        Parameters
        ----------
        theta : ndarray of shape (n_components, n_statistics)

        Returns
        -------
        stats : ndarray of shape (n_statistics, n_components)
        log_likelihood : float
        """
        params = self._parameters(theta)
        log_w, means, _, cov, log_probs = params
        k, d = means.shape
        mass, ll = np.zeros(k), 0.0
        first_all, second_all = np.zeros((k, d)), np.zeros((k, d, d))
        categories = np.zeros((self.n_onehot, k))
        thetas = [
            block.natural_parameters(log_w, means, cov, log_probs)
            for _, block in self.blocks
        ]
        sums = [None] * len(self.blocks)
        # Chunks summed in order, so results do not depend on the thread count.
        for (b, _, _), (stats, chunk_ll) in zip(
            self._tasks,
            self._map(
                lambda t: self.blocks[t[0]][1].chunk_statistics(thetas[t[0]], *t[1:]),
                self._tasks,
            ),
            strict=True,
        ):
            sums[b] = stats if sums[b] is None else sums[b] + stats
            ll += chunk_ll
        for (_, block), stats in zip(self.blocks, sums, strict=True):
            n_k, first, second, cats = block.moments(stats, means, cov, log_probs)
            mass += n_k
            first_all += first
            second_all += second
            categories += cats
        if len(self.rare):
            logits, parts = self._rare_logits(params)
            resp, rare_ll = self._weighted(self.rare, logits)
            ll += rare_ll
            mass += resp.sum(axis=0)
            moments = self._map(
                lambda j: self._second_moments(resp[:, j], *parts[j]), range(k)
            )
            for j, (first, second) in enumerate(moments):
                first_all[j] += first
                second_all[j] += second
            if self.n_onehot:
                categories += self._category_stats(self.rare, resp, log_probs)
        return self._pack(mass, first_all, second_all, categories), ll

    def _pack(self, mass, first_all, second_all, categories):
        """The statistics in the layout of ``phi(x)`` (``parameters_from_statistics``)."""
        d, quadratic = self.d, self.covariance_type in ("full", "tied")
        n_gauss = n_statistics(self.covariance_type, d)
        stats = np.empty((n_gauss + self.n_onehot, len(mass)))
        stats[0] = mass
        stats[1 : 1 + d] = first_all.T
        if quadratic:
            rows, cols = _vech_index(d)
            stats[1 + d : n_gauss] = second_all[:, rows, cols].T
        elif self.covariance_type == "diag":
            stats[1 + d : n_gauss] = np.diagonal(second_all, axis1=1, axis2=2).T
        else:
            stats[1 + d] = np.trace(second_all, axis1=1, axis2=2)
        stats[n_gauss:] = categories
        return stats

    def _second_moments(self, r, fills, covs):
        """``sum_n r_n E[x]`` and ``sum_n r_n E[x x^T]`` of one component."""
        d = self.d
        filled = fill_rows(self.X0, self.layout, fills, self._work("filled"))
        first = r @ filled
        scaled = np.multiply(filled, r[:, None], out=self._work("scaled"))
        if self.covariance_type in ("full", "tied"):
            second = scaled.T @ filled
        else:
            second = np.diag(np.einsum("nd,nd->d", scaled, filled))
        # E[x_m x_m^T] adds the conditional covariance, pattern by pattern.
        for group, cov in zip(self.layout.groups, covs, strict=True):
            mass = np.bincount(group.pattern, weights=r[group.rows])
            second += np.bincount(
                group.block.ravel(),
                weights=(mass[:, None, None] * cov).ravel(),
                minlength=d * d,
            ).reshape(d, d)
        return first, second

    def labels(self, theta: np.ndarray) -> np.ndarray:
        """Most likely component of each row, from its observed entries."""
        params = self._parameters(theta)
        log_w, means, _, cov, log_probs = params
        labels = np.empty(len(self.Xc), dtype=np.int64)
        for rows, block in self.blocks:
            theta_o = block.natural_parameters(log_w, means, cov, log_probs)
            labels[rows] = block.labels(theta_o)
        if len(self.rare):
            labels[self.rare] = self._rare_logits(params)[0].argmax(axis=1)
        return labels


def posterior(logits):
    """Responsibilities and ``log sum_k exp(logits)`` of each row, in place.

    The complete-data E-step's normalisation (``exp_normalised``), over the
    components of each row; it overwrites ``logits``.
    """
    total, log_norm = exp_normalised(logits, axis=1)
    logits /= total
    return logits, log_norm[:, 0]
