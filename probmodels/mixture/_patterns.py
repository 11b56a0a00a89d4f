"""Many rows missing the same columns: complete-data EM on their observed columns.

Rows that share a pattern of missing entries are complete data on their
observed columns o: their responsibilities come from the marginal mixture
``sum_k w_k N(x_o; mu_ko, Sigma_koo)``, which is one matrix product
``Theta_o phi(x_o)`` as in complete-data EM (``_gaussian.py``), with
``phi(x_o)`` computed once per fit. Their expected statistics follow from
the observed ones, because the conditional mean of the missing block is
affine in x_o, ``E[x_m | x_o, k] = c_k + B_k x_o`` with ``B_k = Sigma_kmo
Sigma_koo^-1`` and ``c_k = mu_km - B_k mu_ko`` (the Gaussian conditional;
Bishop, PRML, eqs. 2.81-2.82):

    sum r x_m         = c S0 + B S1
    sum r x_o x_m^T   = S2 B^T + S1 c^T
    sum r x_m x_m^T   = B S2 B^T + B S1 c^T + c S1^T B^T + S0 (c c^T + C)

with ``S0, S1, S2`` the responsibility-weighted sums of 1, x_o and
x_o x_o^T, and C the conditional covariance. A pattern therefore costs two
matrix products over its rows (in cache-sized chunks, the complete-data
E-step's own pass) and some d x d algebra per component: the cost of
complete-data EM. Rows whose pattern is rare take the per-row pass
of ``_missing.py`` instead.
"""

from __future__ import annotations

import numpy as np

from ..utils.chunks import iter_row_chunks
from ._em import _softmax_stats
from ._gaussian import (
    features,
    natural_parameters,
    precision_cholesky,
    symmetric_from_vech,
)

__all__ = ["MIN_PATTERN_ROWS", "PatternBlock", "pattern_ids", "split_by_pattern"]

#: Rows a pattern needs to be fitted as complete data on its observed
#: columns; below, its rows take the per-row pass. Measured at N = 200,000,
#: D = K = 16, 20% holes everywhere: 128 rows gave 710 ms per iteration,
#: 32 gave 842 and 512 gave 852 (the per-pattern work costs about what a
#: hundred rows of the per-row pass cost, since its factorisations are
#: batched).
MIN_PATTERN_ROWS = 128


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


def split_by_pattern(missing: np.ndarray, min_rows: int = MIN_PATTERN_ROWS):
    """Rows grouped by their pattern of missing entries: common and rare ones.

    Parameters
    ----------
    missing : ndarray of shape (n_rows, d), bool
    min_rows : int
        Rows a pattern needs to count as common.

    Returns
    -------
    common : list of (rows, observed)
        Row indices and the observed mask of each common pattern.
    rare : ndarray of int
        The rows of the other patterns.
    """
    n = len(missing)
    if not missing.shape[1]:
        return [(np.arange(n), np.ones(0, bool))], np.empty(0, np.int64)
    first, inverse = pattern_ids(missing)
    counts = np.bincount(inverse)
    order = np.argsort(inverse, kind="stable")
    groups = np.split(order, np.cumsum(counts)[:-1])
    common = [
        (rows, ~missing[first[p]])
        for p, rows in enumerate(groups)
        if counts[p] >= min_rows
    ]
    rare = np.sort(
        np.concatenate(
            [rows for p, rows in enumerate(groups) if counts[p] < min_rows]
            or [np.empty(0, np.int64)]
        )
    )
    return common, rare


class PatternBlock:
    """The rows of one pattern, as complete data on their observed columns.

    Holds ``phi`` of the observed columns with the rows' category indicators
    (and indicators of missing categories) appended, as complete-data EM
    appends one-hot columns, so each chunk of rows is one pass of
    :func:`~probmodels.mixture._em._softmax_stats`.

    Parameters
    ----------
    X : ndarray of shape (n_rows, d)
        Centred continuous columns of these rows (NaN where missing).
    observed : ndarray of shape (d,), bool
    onehot : ndarray of shape (n_rows, n_onehot)
        Category indicators, 0 where a category is missing.
    onehot_missing : ndarray of shape (n_rows, n_onehot)
        1 on the block of a missing category.
    weight : ndarray of shape (n_rows,) or None
    """

    def __init__(self, X, observed, onehot, onehot_missing, weight=None):
        self.o = np.flatnonzero(observed)
        self.m = np.flatnonzero(~observed)
        self.n_onehot = onehot.shape[1]
        gaussian = features(np.ascontiguousarray(X[:, self.o]), "full")
        self.n_gauss = len(gaussian)
        self.phi = np.vstack([gaussian, onehot.T, onehot_missing.T])
        self.weight = weight
        self.chunks = [
            (rows.start, rows.stop)
            for rows in iter_row_chunks(len(X), 8 * (64 + len(self.phi)))
        ]

    def natural_parameters(self, log_w, means, cov, log_probs):
        """Theta of the marginal on the observed columns, category blocks appended."""
        o = self.o
        k = len(means)
        if len(o):
            prec_chol = precision_cholesky(cov[:, o[:, None], o], "full")
            theta = natural_parameters(np.ones(k), means[:, o], prec_chol, "full")
        else:  # only categories observed: the weights alone
            theta = np.zeros((k, 1))
        theta[:, 0] += log_w
        missing = np.zeros((k, self.n_onehot))
        return np.hstack([theta, log_probs, missing])

    def chunk_statistics(self, theta, lo, hi):
        """``(S, log-likelihood)`` of one chunk of the rows (complete-data E-step)."""
        phi = self.phi[:, lo:hi]
        weight = None if self.weight is None else self.weight[lo:hi]
        return _softmax_stats(theta @ phi, phi, weight)

    def labels(self, theta):
        """Most likely component of each row."""
        return (theta @ self.phi).argmax(axis=0)

    def moments(self, stats, means, cov, log_probs):
        """Expected sums of the complete rows from the observed ones.

        Parameters
        ----------
        stats : ndarray of shape (len(phi), K)
            The summed statistics of the rows (:meth:`chunk_statistics`).
        means : ndarray of shape (K, d)
        cov : ndarray of shape (K, d, d)
        log_probs : ndarray of shape (K, n_onehot)

        Returns
        -------
        mass : ndarray of shape (K,)
        first : ndarray of shape (K, d)
        second : ndarray of shape (K, d, d)
        categories : ndarray of shape (n_onehot, K)
            Expected category indicators (``pi_kj`` where one is missing).
        """
        o, m = self.o, self.m
        k, d = means.shape
        a, g = len(o), self.n_gauss
        s0, s1 = stats[0], stats[1 : 1 + a].T  # (K,), (K, a)
        categories = (
            stats[g : g + self.n_onehot]
            + stats[g + self.n_onehot :] * np.exp(log_probs).T
        )
        s2 = symmetric_from_vech(stats[1 + a : g].T, a)
        first = np.empty((k, d))
        second = np.empty((k, d, d))
        first[:, o] = s1
        second[:, o[:, None], o] = s2
        if not len(m):
            return s0, first, second, categories
        if not a:  # nothing continuous observed: the components' moments
            first[:] = means * s0[:, None]
            outer = means[:, :, None] * means[:, None, :]
            second[:] = s0[:, None, None] * (outer + cov)
            return s0, first, second, categories
        cov_oo = cov[:, o[:, None], o]
        cov_mo = cov[:, m[:, None], o]
        gain = np.linalg.solve(cov_oo, cov_mo.transpose(0, 2, 1)).transpose(0, 2, 1)
        shift = means[:, m] - np.einsum("kma,ka->km", gain, means[:, o])
        cond = cov[:, m[:, None], m] - gain @ cov_mo.transpose(0, 2, 1)
        b_s1 = np.einsum("kma,ka->km", gain, s1)
        first[:, m] = shift * s0[:, None] + b_s1
        cross = s2 @ gain.transpose(0, 2, 1) + s1[:, :, None] * shift[:, None, :]
        second[:, o[:, None], m] = cross
        second[:, m[:, None], o] = cross.transpose(0, 2, 1)
        second[:, m[:, None], m] = (
            gain @ s2 @ gain.transpose(0, 2, 1)
            + b_s1[:, :, None] * shift[:, None, :]
            + shift[:, :, None] * b_s1[:, None, :]
            + s0[:, None, None] * (shift[:, :, None] * shift[:, None, :] + cond)
        )
        return s0, first, second, categories
