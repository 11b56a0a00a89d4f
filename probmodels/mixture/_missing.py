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
number of missing entries (:class:`~probmodels.mixture._observed.MissingLayout`;
the per-row algebra lives in that module, the EM pass here).
"""

from __future__ import annotations

import numpy as np

from ._em import WorkerPool, available_threads
from ._gaussian import features, moments_from_natural, n_statistics, pack_statistics
from ._observed import (
    MissingLayout,
    Workspace,
    fill_rows,
    gaussian_conditionals,
    mean_filled,
    posterior,
)
from ._patterns import (
    MIN_PATTERN_ROWS,
    PatternBlock,
    split_by_pattern,
)

__all__ = ["MissingStatistics"]


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
        self._work = Workspace(self.X0.shape)
        # Threads only where there are rows enough to share out.
        self._workers = WorkerPool(min(available_threads(), len(Xc) // 1000 + 1))

    def __enter__(self):
        self._workers.__enter__()
        return self

    def __exit__(self, *exc):
        self._workers.__exit__(*exc)

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
            self.X0, self.layout, means, prec, log_det_cov, self._workers.map, self._work
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
        """The E-step (:class:`~probmodels.mixture._source.EStepPass`) on observed entries.

        ``S`` holds the expected statistics, and the log-likelihood is that of
        the observed entries.
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
            self._workers.map(
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
            moments = self._workers.map(
                lambda j: self._second_moments(resp[:, j], *parts[j]), range(k)
            )
            for j, (first, second) in enumerate(moments):
                first_all[j] += first
                second_all[j] += second
            if self.n_onehot:
                categories += self._category_stats(self.rare, resp, log_probs)
        stats = pack_statistics(
            mass,
            first_all,
            second_all,
            self.covariance_type,
            categories,
        )
        return stats, ll

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
