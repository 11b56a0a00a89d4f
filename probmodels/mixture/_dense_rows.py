"""Every (row, component) pair of rows with holes, chunk by chunk of rows.

When a mixture's components overlap, no pair of a row and a component can
be left out (``_missing.py``), and each component's pass over all the rows
(``_observed.gaussian_conditionals``) streams (n_rows, d) arrays through
memory a dozen times per component. Here the same precision-form formulas
run over cache-sized chunks of rows, all components at once: with ``o`` a
row's observed indicators and ``x0`` its entries (0 where missing), the
residual ``r0_k = x0 - o * mu_k`` gives

    y_k = Lambda_k r0_k = Lambda_k x0 - Lambda_k (o * mu_k),

two matrix products of the chunk with the (d, K d) stacks of ``Lambda_k``
and ``diag(mu_k) Lambda_k``. The rest is the module ``_observed.py``'s
algebra (quadratic form ``r0^T y - v^T u``, ``u = Lambda_kmm^-1 v``), and
the second pass sums ``r E[x | x_o, k]`` and ``r E[x x^T | x_o, k]`` from
the chunk's filled rows, again for all components at once. Rows must be in
their layout's order (:meth:`~probmodels.mixture._observed.MissingLayout.in_order`):
each group's rows are then consecutive, so a chunk meets each group in one
slice.
"""

from __future__ import annotations

import math

import numpy as np

from ..utils.chunks import iter_row_chunks
from ._observed import MissingLayout, spd_log_det_inverse

__all__ = ["DenseRowPass"]

#: Bytes of a chunk's (rows, K, d) arrays.
CHUNK_ROWS_BYTES = 2**22


class DenseRowPass:
    """The E-step over every (row, component) pair, chunk by chunk of rows.

    Parameters
    ----------
    X0 : ndarray of shape (n_rows, d)
        The continuous entries with 0 where missing, rows in ``layout``'s
        order.
    layout : MissingLayout
        A layout :meth:`~probmodels.mixture._observed.MissingLayout.in_order`.
    map_ : callable
        Maps the work over the chunks (a worker pool's ``map``).
    """

    def __init__(self, X0, layout: MissingLayout, map_):
        self.X0, self.layout, self.map = X0, layout, map_
        self._chunks = {}
        # Where each group starts: a chunk meets a group in one slice.
        self._starts = [group.rows[0] for group in layout.groups]
        self._fills = self._logits = None

    def _chunks_for(self, k):
        """Chunks of rows whose (rows, K, d) arrays fit in a cache-sized block."""
        if k not in self._chunks:
            n, d = self.X0.shape
            self._chunks[k] = [
                (rows, self._meets(rows))
                for rows in iter_row_chunks(n, 8 * k * d, budget=CHUNK_ROWS_BYTES)
            ]
        return self._chunks[k]

    def _meets(self, rows):
        """``(group, in_group, in_chunk)`` slices where the chunk meets each group."""
        out = []
        for g, (group, start) in enumerate(
            zip(self.layout.groups, self._starts, strict=True)
        ):
            lo = max(rows.start, start)
            hi = min(rows.stop, start + len(group.rows))
            if lo < hi:
                out.append(
                    (
                        g,
                        slice(lo - start, hi - start),
                        slice(lo - rows.start, hi - rows.start),
                    )
                )
        return out

    def logits(self, log_w, means, prec, log_det_prec) -> np.ndarray:
        """``log w_k + log N(x_o; mu_ko, Sigma_koo)`` of every row and component.

        Keeps each pair's conditional mean of the missing entries, and each
        pattern's conditional covariance, for :meth:`moments`.

        Parameters
        ----------
        log_w : ndarray of shape (K,)
        means : ndarray of shape (K, d)
        prec : ndarray of shape (K, d, d)
        log_det_prec : ndarray of shape (K,)

        Returns
        -------
        ndarray of shape (n_rows, K)
            The pass's own array, overwritten by the next call.
        """
        n, d = self.X0.shape
        k = len(means)
        flat_prec = np.ascontiguousarray(prec).reshape(k, d * d)
        if self._fills is None or self._fills[0].shape[0] != k:
            # Reused across iterations: fresh arrays of this size (tens of
            # MB) cost more in page faults than the arithmetic.
            shapes = [(k, len(g.rows), g.cells.shape[1]) for g in self.layout.groups]
            self._fills = [np.empty(shape) for shape in shapes]
            self._gathered = [np.empty((k, *g.block.shape)) for g in self.layout.groups]
            self._inverse = [np.empty_like(a) for a in self._gathered]
        # Each group's Lambda_kmm blocks, factored per (group, component).
        log_dets = [np.empty(a.shape[:2]) for a in self._gathered]

        def factor(task):
            g, j = task
            blocks = np.take(
                flat_prec[j], self.layout.groups[g].block, out=self._gathered[g][j]
            )
            log_dets[g][j] = spd_log_det_inverse(blocks, out=self._inverse[g][j])[0]

        self.map(
            factor, [(g, j) for g in range(len(self.layout.groups)) for j in range(k)]
        )
        self._blocks = list(zip(log_dets, self._inverse, strict=True))
        stacked = prec.transpose(1, 0, 2).reshape(d, k * d)  # [Lambda_1 .. Lambda_K]
        shifted = (means[:, :, None] * prec).transpose(1, 0, 2).reshape(d, k * d)
        const = log_w - 0.5 * (d * math.log(2 * math.pi) - log_det_prec)
        # Reused across iterations: a fresh (n_rows, K) array costs page faults.
        if self._logits is None or self._logits.shape != (n, k):
            self._logits = np.empty((n, k))
        logits = self._logits

        def chunk(item):
            rows, meets = item
            x0 = self.X0[rows]
            observed = self.layout.observed[rows]
            y = (x0 @ stacked).reshape(-1, k, d)
            y -= (observed @ shifted).reshape(-1, k, d)
            # r0_k . y_k = x0 . y_k - (o * mu_k) . y_k
            quad = np.einsum("nd,nkd->nk", x0, y)
            quad -= np.einsum("nd,kd,nkd->nk", observed, means, y)
            # |o| log 2 pi, and log |Sigma_koo| = log |Sigma_k| + log |Lambda_kmm|
            out = logits[rows]
            out[:] = const + 0.5 * (d - self.layout.n_observed[rows, None]) * math.log(
                2 * math.pi
            )
            for g, in_group, in_chunk in meets:
                group = self.layout.groups[g]
                log_det, inverse = self._blocks[g]
                cells = group.cells[in_group]
                pattern = group.pattern[in_group]
                v = np.take_along_axis(y[in_chunk], cells[:, None, :], axis=2)
                u = np.einsum("knij,nkj->kni", inverse[:, pattern], v)
                quad[in_chunk] -= np.einsum("nki,kni->nk", v, u)
                out[in_chunk] -= 0.5 * log_det[:, pattern].T
                np.subtract(means[:, cells], u, out=self._fills[g][:, in_group])
            out -= 0.5 * quad

        self.map(chunk, self._chunks_for(k))
        return logits

    def moments(self, resp):
        """``sum_n r_nk E[x]`` and ``sum_n r_nk E[x x^T]`` after :meth:`logits`.

        Parameters
        ----------
        resp : ndarray of shape (n_rows, K)
            Responsibilities (times the rows' weights).

        Returns
        -------
        first : ndarray of shape (K, d)
        second : ndarray of shape (K, d, d)
        """
        n, d = self.X0.shape
        k = resp.shape[1]

        def chunk(item):
            rows, meets = item
            r = resp[rows].T  # (K, n)
            filled = np.repeat(self.X0[None, rows], k, axis=0)  # (K, n, d)
            for g, in_group, in_chunk in meets:
                cells = self.layout.groups[g].cells[in_group]
                np.put_along_axis(
                    filled[:, in_chunk],
                    cells[None],
                    self._fills[g][:, in_group],
                    axis=2,
                )
            first = np.einsum("kn,knd->kd", r, filled)
            scaled = filled * r[:, :, None]
            return first, scaled.transpose(0, 2, 1) @ filled

        first, second = np.zeros((k, d)), np.zeros((k, d, d))
        # Chunks summed in order, so results do not depend on the thread count.
        for f, s in self.map(chunk, self._chunks_for(k)):
            first += f
            second += s
        # E[x_m x_m^T] adds each pattern's conditional covariance.
        flat = np.zeros(k * d * d)
        offsets = (np.arange(k) * d * d)[:, None, None, None]
        for group, (_, inverse), start in zip(
            self.layout.groups, self._blocks, self._starts, strict=True
        ):
            rows = slice(start, start + len(group.rows))
            # The group's rows come in runs of one pattern: each run's mass.
            runs = np.flatnonzero(np.diff(group.pattern, prepend=-1))
            mass = np.add.reduceat(resp[rows], runs, axis=0).T  # (K, P)
            flat += np.bincount(
                (offsets + group.block[None]).ravel(),
                weights=(mass[:, :, None, None] * inverse).ravel(),
                minlength=k * d * d,
            )
        second += flat.reshape(k, d, d)
        return first, second
