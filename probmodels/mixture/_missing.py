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

Three paths share the rows. A pattern held by many rows is complete data on
its observed columns (``_patterns.py``). The other rows' (row, component)
pairs are bounded first, by distances and the precisions' extreme
eigenvalues (:func:`~probmodels.mixture._observed.log_density_bounds`): a
pair whose upper bound lies ``NEGLIGIBLE = 40`` below the row's best lower
bound has a responsibility under ``e^-40`` of the best's, which no sum
notices, and is skipped; each component then passes over its own pairs
(separated components: about one pair per row). When the bounds leave most
pairs, every pair is computed chunk by chunk of rows, all components at
once (:class:`~probmodels.mixture._dense_rows.DenseRowPass`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..utils.chunks import iter_row_chunks
from ._dense_rows import DenseRowPass
from ._em import WorkerPool, available_threads
from ._gaussian import features, moments_from_natural, n_statistics, pack_statistics
from ._observed import (
    MissingLayout,
    Workspace,
    bound_coefficients,
    distance_features,
    fill_rows,
    gaussian_conditionals,
    log_density_bounds,
    mean_filled,
    pair_posterior,
    posterior,
    spd_log_det_inverse,
)
from ._patterns import (
    MIN_PATTERN_ROWS,
    PatternBatch,
    PatternBlock,
    split_by_pattern,
)

__all__ = ["MissingStatistics"]

#: A component whose logit is this far below a row's best one has a
#: responsibility under e^-40 ~ 4e-18 of it: below the rounding of a sum.
NEGLIGIBLE = 40.0

#: Above this share of the pairs left after the bound, one batched pass
#: over every pair costs less than a pass over the pairs left.
DENSE_SHARE = 0.5


class _RareLogits(NamedTuple):
    """The rare rows' logits (see ``MissingStatistics._rare_logits``)."""

    rows: np.ndarray | None
    components: np.ndarray | None
    logits: np.ndarray
    pieces: list | None


@dataclass
class _Piece:
    """One component's pass over some rows.

    ``pairs`` are its positions among the (row, component) pairs, ``rows``
    the rows (indices into the rare rows) in the pass's order, ``filled``
    those rows with the component's conditional means in their holes.
    """

    component: int
    pairs: np.ndarray
    rows: np.ndarray
    layout: MissingLayout
    log_density: np.ndarray
    covs: list
    filled: np.ndarray


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
        # Their algebra batched over the patterns with as many holes.
        by_holes = {}
        for b, (_, block) in enumerate(self.blocks):
            by_holes.setdefault(len(block.m), []).append(b)
        self._batches = [
            (PatternBatch([self.blocks[b][1] for b in members], d), members)
            for members in by_holes.values()
        ]
        # The pool's tasks: every cache-sized chunk of every pattern.
        self._tasks = [
            (b, lo, hi)
            for b, (_, block) in enumerate(self.blocks)
            for lo, hi in block.chunks
        ]
        # The rare rows in the layout's order: each component's pass then
        # takes its rows in one sort by component (MissingLayout.split).
        order, self.layout = MissingLayout(np.isnan(Xc[self.rare, :d])).in_order()
        self.rare = self.rare[order]
        self.X0 = np.nan_to_num(Xc[self.rare, :d])
        # Each pass's filled rows, side by side, reused across iterations.
        self._filled = np.empty((0, d))
        self._last_split = None
        self._work = Workspace(self.X0.shape)
        self._distances = distance_features(self.X0, self.layout)
        self._row_chunks = list(iter_row_chunks(len(self.X0), 8 * (2 * d + 3)))
        # Threads only where there are rows enough to share out.
        self._workers = WorkerPool(min(available_threads(), len(Xc) // 1000 + 1))
        self._dense = DenseRowPass(self.X0, self.layout, self._workers.map)

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
        """Log-weights, means, precisions, their log-determinants, category log-probs."""
        n_stat = n_statistics(self.covariance_type, self.d)
        log_w, means, prec = moments_from_natural(
            theta[:, :n_stat], self.covariance_type, self.d
        )
        return log_w, means, prec, np.linalg.slogdet(prec)[1], theta[:, n_stat:]

    def _pattern_thetas(self, params) -> list:
        """Theta of each common pattern (:meth:`PatternBatch.thetas`)."""
        thetas = [None] * len(self.blocks)
        for batch, members in self._batches:
            for b, theta in zip(members, batch.thetas(*params), strict=True):
                thetas[b] = theta
        return thetas

    def _category_logits(self, rows, log_probs):
        """``sum_j log pi_kj(x_j)`` of the observed categories of some rows."""
        return self.onehot[rows] @ log_probs.T

    def _rare_logits(self, params):
        """Logits of the rare rows: of every pair, or of the pairs worth computing.

        A row's component whose logit is below its best one's by more than
        :data:`NEGLIGIBLE` has a responsibility under ``e^-40 ~ 4e-18`` of
        the best's, which changes no sum in the last digit. Such pairs are
        left out where
        :func:`~probmodels.mixture._observed.log_density_bounds` shows it
        without computing them (an upper bound that far below the best
        lower bound); every pair is computed, by :class:`DenseRowPass`,
        when that leaves out few.

        Returns
        -------
        _RareLogits
            ``logits`` of shape (n_rare, K) for every pair (``rows``,
            ``components`` and ``pieces`` None); else the pairs by row
            (ascending), their logits, and each component's pass.
        """
        log_w, means, prec, log_det_prec, log_probs = params
        n, k = len(self.rare), len(means)
        categories = (
            self._category_logits(self.rare, log_probs) if self.n_onehot else None
        )
        pairs = self._candidate_pairs(
            log_w, means, prec, categories, DENSE_SHARE * n * k
        )
        if pairs is None:  # overlapping components
            logits = self._dense.logits(log_w, means, prec, log_det_prec)
            if categories is not None:
                logits += categories
            return _RareLogits(None, None, logits, None)
        rows, components = pairs
        pieces = self._pieces(rows, components, params, -log_det_prec)
        logits = np.empty(len(rows))
        for piece in pieces:
            j = piece.component
            logits[piece.pairs] = piece.log_density + log_w[j]
            if categories is not None:
                logits[piece.pairs] += categories[piece.rows, j]
        return _RareLogits(rows, components, logits, pieces)

    def _candidate_pairs(self, log_w, means, prec, categories, most):
        """The pairs whose upper bound comes near their row's best lower bound.

        Within :data:`NEGLIGIBLE` (bounds of
        :func:`~probmodels.mixture._observed.log_density_bounds`); by row,
        computed chunk by chunk on the workers. None when there are more
        than ``most``.
        """
        coef = bound_coefficients(log_w, means, prec)

        def chunk(span):
            lower, upper = log_density_bounds(self._distances[span], coef)
            if categories is not None:
                lower += categories[span]
                upper += categories[span]
            return upper >= lower.max(axis=1, keepdims=True) - NEGLIGIBLE

        keep = self._workers.map(chunk, self._row_chunks)
        if sum(int(np.count_nonzero(part)) for part in keep) > most:
            return None
        parts = [np.nonzero(part) for part in keep]
        rows = [
            r + span.start for (r, _), span in zip(parts, self._row_chunks, strict=True)
        ]
        return np.concatenate(rows), np.concatenate([c for _, c in parts])

    def _pieces(self, rows, components, params, log_det_cov):
        """Each component's pass over its rows among the pairs (row, component)."""
        _, means, prec, _, _ = params
        if len(self._filled) < len(rows):
            self._filled = np.empty((int(1.25 * len(rows)), self.d))

        # From one iteration to the next the pairs rarely change: their
        # layouts are kept while they are the same.
        last = self._last_split
        if not (
            last is not None
            and np.array_equal(last[0], rows)
            and np.array_equal(last[1], components)
        ):
            splits = self.layout.split(rows, components, len(means))
            last = rows, components, splits, self._block_index(splits)
            self._last_split = last
        splits, index = last[2], last[3]
        blocks = self._factorised(prec, index, len(splits))

        def one(item):
            (j, span, pairs, rows, layout), factored = item
            X0 = np.take(self.X0, rows, axis=0, out=self._filled[span])
            ((dens, fills, covs),) = gaussian_conditionals(
                X0,
                layout,
                means[j : j + 1],
                prec[j : j + 1],
                log_det_cov[j : j + 1],
                work=self._work,
                blocks=factored,
            )
            filled = fill_rows(X0, layout, fills, out=X0)
            return _Piece(j, pairs, rows, layout, dens, covs, filled)

        return list(self._workers.map(one, zip(splits, blocks, strict=True)))

    def _block_index(self, splits):
        """Where each pass's ``Lambda_kmm`` blocks lie in the flat precisions.

        Grouped by block size over all the passes, so each size is factored
        in one batched call (:meth:`_factorised`), not one per pass and
        number of missing entries.
        """
        d2 = self.d * self.d
        by_size = {}
        for s, (j, _, _, _, layout) in enumerate(splits):
            for g, group in enumerate(layout.groups):
                by_size.setdefault(group.block.shape[1], []).append(
                    (s, g, j * d2 + group.block)
                )
        return [
            (
                np.concatenate([flat for _, _, flat in parts]),
                [(s, g, len(flat)) for s, g, flat in parts],
            )
            for parts in by_size.values()
        ]

    def _factorised(self, prec, index, n_splits):
        """Each pass's factored blocks, per group: log-determinants and inverses."""
        flat = np.ascontiguousarray(prec).ravel()
        blocks = [{} for _ in range(n_splits)]

        def factor(item):
            positions, parts = item
            log_det, inverse = spd_log_det_inverse(flat[positions])
            lo = 0
            for s, g, size in parts:
                blocks[s][g] = (
                    log_det[None, lo : lo + size],
                    inverse[None, lo : lo + size],
                )
                lo += size

        self._workers.map(factor, index)
        return [[found[g] for g in range(len(found))] for found in blocks]

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
        log_w, means, _, _, log_probs = params
        k, d = means.shape
        mass, ll = np.zeros(k), 0.0
        first_all, second_all = np.zeros((k, d)), np.zeros((k, d, d))
        categories = np.zeros((self.n_onehot, k))
        thetas = self._pattern_thetas(params)
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
        for batch, members in self._batches:
            stats = np.stack([sums[b] for b in members])
            n_k, first, second, cats = batch.moments(stats, log_probs)
            mass += n_k
            first_all += first
            second_all += second
            categories += cats
        if len(self.rare):
            rare = self._rare_logits(params)
            weight = (
                None if self.sample_weight is None else self.sample_weight[self.rare]
            )
            if rare.pieces is None:  # every pair, (n_rare, K)
                resp, log_norm = posterior(rare.logits)
                if weight is not None:
                    resp *= weight[:, None]
                first, second = self._dense.moments(resp)
                mass += resp.sum(axis=0)
            else:
                resp, log_norm = pair_posterior(rare.rows, rare.logits)
                if weight is not None:
                    resp *= weight[rare.rows]
                first, second = self._piece_moments(resp, rare.pieces, k, d)
                mass += np.bincount(rare.components, resp, minlength=k)
                if self.n_onehot:
                    dense = np.zeros((len(self.rare), k))
                    dense[rare.rows, rare.components] = resp
                    resp = dense
            ll += float(log_norm.sum() if weight is None else log_norm @ weight)
            first_all += first
            second_all += second
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

    def _piece_moments(self, resp, pieces, k, d):
        """The pieces' ``sum r E[x]`` and ``sum r E[x x^T]``, per component."""
        first, second = np.zeros((k, d)), np.zeros((k, d, d))
        moments = self._workers.map(
            lambda piece: self._second_moments(resp[piece.pairs], piece), pieces
        )
        for piece, (f, s) in zip(pieces, moments, strict=True):
            first[piece.component] += f
            second[piece.component] += s
        return first, second

    def _second_moments(self, r, piece):
        """``sum_n r_n E[x]`` and ``sum_n r_n E[x x^T]`` of one piece's rows."""
        d = self.d
        n = len(r)
        filled = piece.filled
        first = r @ filled
        scaled = np.multiply(filled, r[:, None], out=self._work("scaled", n))
        if self.covariance_type in ("full", "tied"):
            second = scaled.T @ filled
        else:
            second = np.diag(np.einsum("nd,nd->d", scaled, filled))
        # E[x_m x_m^T] adds the conditional covariance, pattern by pattern.
        for group, cov in zip(piece.layout.groups, piece.covs, strict=True):
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
        means = params[1]
        labels = np.empty(len(self.Xc), dtype=np.int64)
        for (rows, block), theta_o in zip(
            self.blocks, self._pattern_thetas(params), strict=True
        ):
            labels[rows] = block.labels(theta_o)
        if len(self.rare):
            rare = self._rare_logits(params)
            logits = rare.logits
            if rare.pieces is not None:
                logits = np.full((len(self.rare), len(means)), -np.inf)
                logits[rare.rows, rare.components] = rare.logits
            labels[self.rare] = logits.argmax(axis=1)
        return labels
