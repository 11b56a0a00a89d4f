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

The d x d algebra is done in precision form, for all the patterns with m
missing entries at once (:class:`PatternBatch`): with ``Lambda_k`` the
precision in the pattern's [o, m] order (Bishop, PRML, eqs. 2.69-2.82),

    C_k             = Lambda_kmm^-1
    B_k             = -C_k Lambda_kmo
    Sigma_koo^-1    = Lambda_koo + Lambda_kom B_k     (a Schur complement)
    log |Sigma_koo^-1| = log |Lambda_k| - log |Lambda_kmm|,

so a pattern needs the inverse of its m x m block only, factored in one
batched call (:func:`~probmodels.mixture._observed.spd_log_det_inverse`).
"""

from __future__ import annotations

import numpy as np

from ..utils.chunks import iter_row_chunks
from ._em import _softmax_stats
from ._gaussian import features, symmetric_from_vech, vech_index
from ._observed import pattern_ids, spd_log_det_inverse

__all__ = ["MIN_PATTERN_ROWS", "PatternBatch", "PatternBlock", "split_by_pattern"]

#: Rows a pattern needs to be fitted as complete data on its observed
#: columns; below, its rows take the per-row pass. Measured per E-step at
#: N = 200,000, D = K = 16, 20% holes everywhere, three runs each: 512
#: rows gave 113 ms on separated components (124 at 128 rows) and 639 ms
#: on overlapping ones (621 at 128), since the per-row pass skips the
#: negligible (row, component) pairs and factors its blocks in one batch.
MIN_PATTERN_ROWS = 512


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
        self.phi = np.vstack([gaussian, onehot.T, onehot_missing.T])
        self.weight = weight
        self.chunks = [
            (rows.start, rows.stop)
            for rows in iter_row_chunks(len(X), 8 * (64 + len(self.phi)))
        ]

    def chunk_statistics(self, theta, lo, hi):
        """``(S, log-likelihood)`` of one chunk of the rows (complete-data E-step)."""
        phi = self.phi[:, lo:hi]
        weight = None if self.weight is None else self.weight[lo:hi]
        return _softmax_stats(theta @ phi, phi, weight)

    def labels(self, theta):
        """Most likely component of each row."""
        return (theta @ self.phi).argmax(axis=0)


def natural_from_precision(log_w, means, prec, log_det_prec) -> np.ndarray:
    """Theta of Gaussians given by precisions, batched over leading axes.

    ``Theta @ phi(x) = log w + log N(x; mu, prec^-1)`` with phi the "full"
    features (1, x, vech of x x^T), as
    :func:`~probmodels.mixture._gaussian.natural_parameters` gives from
    Cholesky factors.

    Parameters
    ----------
    log_w : ndarray of shape (...)
    means : ndarray of shape (..., a)
    prec : ndarray of shape (..., a, a)
    log_det_prec : ndarray of shape (...)

    Returns
    -------
    ndarray of shape (..., 1 + a + a (a + 1) / 2)
    """
    a = means.shape[-1]
    lin = np.einsum("...ij,...j->...i", prec, means)
    rows, cols = vech_index(a)
    # x^T L x = sum_i L_ii x_i^2 + 2 sum_{i<j} L_ij x_i x_j
    quad = -np.where(rows == cols, 0.5, 1.0) * prec[..., rows, cols]
    const = (
        log_w
        + 0.5 * log_det_prec
        - 0.5 * a * np.log(2 * np.pi)
        - 0.5 * np.einsum("...i,...i->...", lin, means)
    )
    return np.concatenate([const[..., None], lin, quad], axis=-1)


class PatternBatch:
    """The common patterns with the same number of missing entries, batched.

    The module's precision-form algebra for all of them and every component
    in a few array operations: each pattern's Theta over its rows' phi
    (:meth:`thetas`), then the expected sums of the complete rows from the
    observed ones (:meth:`moments`).

    Parameters
    ----------
    blocks : list of PatternBlock
        Patterns with the same number of missing entries.
    d : int
        Continuous columns.
    """

    def __init__(self, blocks, d):
        self.blocks = blocks
        self.a = len(blocks[0].o)
        # Each pattern's columns in [o, m] order, and the way back.
        self.order = np.array([np.concatenate([b.o, b.m]) for b in blocks])
        self.back = np.argsort(self.order, axis=1)
        # (i, j) of the columns' order at (back_i, back_j) of the pattern's.
        self._back_flat = (self.back[:, :, None] * d + self.back[:, None, :]).reshape(
            len(blocks), 1, d * d
        )
        self._conditional = None

    def thetas(self, log_w, means, prec, log_det_prec, log_probs) -> list:
        """Each pattern's Theta over its phi (continuous, categories, missing ones).

        Also keeps each pattern's conditional of the missing block for
        :meth:`moments`.

        Parameters
        ----------
        log_w : ndarray of shape (K,)
        means : ndarray of shape (K, d)
        prec : ndarray of shape (K, d, d)
        log_det_prec : ndarray of shape (K,)
        log_probs : ndarray of shape (K, n_onehot)

        Returns
        -------
        list of ndarray of shape (K, len(phi))
        """
        a, order = self.a, self.order
        # (P, K, d, d) and (P, K, d): every pattern's parameters in its order.
        lam = prec[:, order[:, :, None], order[:, None, :]].transpose(1, 0, 2, 3)
        mu = means[:, order].transpose(1, 0, 2)
        mu_o, mu_m = mu[..., :a], mu[..., a:]
        if a < lam.shape[-1]:
            log_det_mm, cond = spd_log_det_inverse(lam[..., a:, a:])
        else:  # complete rows
            log_det_mm, cond = np.zeros(lam.shape[:2]), lam[..., a:, a:]
        gain = -cond @ lam[..., a:, :a]
        prec_o = lam[..., :a, :a] + lam[..., :a, a:] @ gain
        shift = mu_m - np.einsum("pkma,pka->pkm", gain, mu_o)
        self._conditional = gain, shift, cond
        gaussian = natural_from_precision(
            np.broadcast_to(log_w, log_det_mm.shape),
            mu_o,
            prec_o,
            log_det_prec - log_det_mm,
        )
        missing = np.zeros_like(log_probs)
        return [np.hstack([g, log_probs, missing]) for g in gaussian]

    def moments(self, stats, log_probs):
        """Expected sums of the complete rows from the observed ones, summed.

        Parameters
        ----------
        stats : ndarray of shape (P, len(phi), K)
            Each pattern's summed statistics
            (:meth:`PatternBlock.chunk_statistics`), after :meth:`thetas`.
        log_probs : ndarray of shape (K, n_onehot)

        Returns
        -------
        mass : ndarray of shape (K,)
        first : ndarray of shape (K, d)
        second : ndarray of shape (K, d, d)
        categories : ndarray of shape (n_onehot, K)
            Expected category indicators (``pi_kj`` where one is missing).
        """
        a, n_onehot = self.a, log_probs.shape[1]
        n_patterns, _, k = stats.shape
        g = stats.shape[1] - 2 * n_onehot
        categories = (
            stats[:, g : g + n_onehot] + stats[:, g + n_onehot :] * np.exp(log_probs).T
        )
        s0 = stats[:, 0]  # (P, K)
        s1 = stats[:, 1 : 1 + a].transpose(0, 2, 1)  # (P, K, a)
        if a:
            vech = stats[:, 1 + a : g].transpose(0, 2, 1).reshape(-1, g - 1 - a)
            s2 = symmetric_from_vech(vech, a).reshape(n_patterns, k, a, a)
        else:  # only categories observed
            s2 = np.zeros((n_patterns, k, 0, 0))
        gain, shift, cond = self._conditional
        d = self.order.shape[1]
        first = np.empty((n_patterns, k, d))
        second = np.empty((n_patterns, k, d, d))
        first[..., :a] = s1
        second[..., :a, :a] = s2
        b_s1 = np.einsum("pkma,pka->pkm", gain, s1)
        first[..., a:] = shift * s0[..., None] + b_s1
        cross = s2 @ gain.swapaxes(-1, -2) + s1[..., :, None] * shift[..., None, :]
        second[..., :a, a:] = cross
        second[..., a:, :a] = cross.swapaxes(-1, -2)
        second[..., a:, a:] = (
            gain @ s2 @ gain.swapaxes(-1, -2)
            + b_s1[..., :, None] * shift[..., None, :]
            + shift[..., :, None] * b_s1[..., None, :]
            + s0[..., None, None] * (shift[..., :, None] * shift[..., None, :] + cond)
        )
        # Back to the columns' order, then summed over the patterns.
        first = np.take_along_axis(first, self.back[:, None, :], axis=2)
        second = np.take_along_axis(
            second.reshape(n_patterns, k, d * d), self._back_flat, axis=2
        )
        return (
            s0.sum(axis=0),
            first.sum(axis=0),
            second.sum(axis=0).reshape(k, d, d),
            categories.sum(axis=0),
        )
