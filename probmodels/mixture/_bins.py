"""One number column as the codes of a histogram with exact atoms.

:class:`ColumnBins` cuts a column of numbers into states that a categorical
distribution can hold, so that a latent class model gives numbers shapes
of their own (spikes, integers, skew), as the shallow mixture of TabPC
does:

- **atoms**: values that at least ``1 / n_bins`` of the training rows
  share (a gain that is 0 in 92% of rows; each value of a column with few
  distinct values) are states of their own, exact;
- **bins**: the other values are cut at their quantiles into at most
  ``n_bins`` bins; within a bin a continuous column is uniform, an integer
  column uniform over the integers in it that are not atoms;
- **tails**: below the training minimum and above the maximum, an
  exponential (geometric, for integers) tail with the column's standard
  deviation as its scale holds ``2 / (n + 1)`` of the mass, the chance that
  a new row falls outside the range of ``n`` exchangeable ones. Tails are
  the same in every component, so they scale each component's density by
  the same factor.

The density of a value is that of its state times the state's base
measure: ``log p(x) = log P(state) + log_base(x)`` with ``log_base`` 0 for
an atom, ``-log(width)`` (``-log(number of integers)``) for a bin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._inference import _draw_categories

__all__ = ["ColumnBins", "TableStates", "bins_state"]


@dataclass(frozen=True)
class ColumnBins:
    """The states of one number column (see the module docstring).

    Parameters
    ----------
    atoms : ndarray of shape (n_atoms,)
        Sorted exact values.
    edges : ndarray of shape (n_bins + 1,)
        Sorted bin edges (empty without bins); bin b is
        ``[edges[b], edges[b + 1])``, the last one closed.
    integer : bool
        Whether the column holds integers.
    low, high : float
        The training range.
    scale : float
        The tails' scale (the training standard deviation, or 1).
    tail_mass : float
        Mass outside ``[low, high]``, half on each side.
    """

    atoms: np.ndarray
    edges: np.ndarray
    integer: bool
    low: float
    high: float
    scale: float
    tail_mass: float

    @classmethod
    def fit(cls, x: np.ndarray, n_bins: int, integer: bool) -> ColumnBins:
        """The states of the observed training values ``x`` (no NaN).

        Parameters
        ----------
        x : ndarray of shape (n,)
        n_bins : int
            At most this many bins; values shared by ``n / n_bins`` rows or
            more become atoms.
        integer : bool

        Returns
        -------
        ColumnBins
        """
        values, counts = np.unique(x, return_counts=True)
        frequent = counts >= max(len(x) / n_bins, 2)
        atoms = values[frequent]
        rest = np.repeat(values[~frequent], counts[~frequent])
        edges = np.empty(0)
        if len(rest):
            edges = np.unique(np.quantile(rest, np.linspace(0, 1, n_bins + 1)))
            if integer:
                edges = np.unique(np.round(edges))
            if len(edges) == 1:  # one value left over: an atom after all
                atoms, edges = np.union1d(atoms, edges), np.empty(0)
        std = float(np.std(x))
        return cls(
            atoms=atoms,
            edges=edges,
            integer=integer,
            low=float(values[0]),
            high=float(values[-1]),
            scale=std if std > 0 else 1.0,
            tail_mass=2.0 / (len(x) + 1),
        )

    @property
    def n_states(self) -> int:
        """Atoms plus bins."""
        return len(self.atoms) + max(len(self.edges) - 1, 0)

    def _bin_sizes(self) -> np.ndarray:
        """Each bin's width, or for integers its count of non-atom integers."""
        lo, hi = self.edges[:-1], self.edges[1:]
        if not self.integer:
            return hi - lo
        # Integers in [lo, hi), the last bin closed, less the atoms inside.
        last = np.zeros(len(lo), bool)
        last[-1:] = True
        top = np.where(last, hi, hi - 1)
        return np.maximum(top - lo + 1 - self._atoms_within(lo, top), 1.0)

    def _atoms_within(self, lo, top):
        """How many atoms lie in each closed range ``[lo, top]``."""
        return (
            np.searchsorted(self.atoms, top, side="right")
            - np.searchsorted(self.atoms, lo, side="left")
        ).astype(float)

    def codes(self, x: np.ndarray) -> np.ndarray:
        """Each value's state; -1 where missing or outside the training range."""
        out = np.full(len(x), -1, dtype=np.int64)
        seen = ~np.isnan(x) & (x >= self.low) & (x <= self.high)
        v = x[seen]
        code = np.full(len(v), -1, dtype=np.int64)
        if len(self.atoms):
            at = np.clip(np.searchsorted(self.atoms, v), 0, len(self.atoms) - 1)
            hit = self.atoms[at] == v
            code[hit] = at[hit]
        if len(self.edges) > 1:
            free = code < 0
            b = np.searchsorted(self.edges, v[free], side="right") - 1
            b = np.clip(b, 0, len(self.edges) - 2)
            code[free] = len(self.atoms) + b
        out[seen] = code
        return out

    def log_base(self, codes: np.ndarray) -> np.ndarray:
        """``log`` of each state's base measure: 0 for an atom, -log(size) for a bin."""
        bins = self._bin_sizes() if len(self.edges) > 1 else []
        return -np.log(np.r_[np.ones(len(self.atoms)), bins])[codes]

    def log_tail(self, x: np.ndarray) -> np.ndarray:
        """Log-density of values outside the range under the tails (-inf inside)."""
        out = np.full(len(x), -np.inf)
        below, above = x < self.low, x > self.high
        gap = np.where(below, self.low - x, x - self.high)
        half = np.log(self.tail_mass / 2)
        if self.integer:
            # Geometric on 1, 2, ... steps out: P(g) = (1 - q) q^(g - 1).
            q = np.exp(-1.0 / self.scale)
            log = half + np.log1p(-q) + (gap - 1) * np.log(q)
        else:
            log = half - np.log(self.scale) - gap / self.scale
        out[below | above] = log[below | above]
        return out

    def draw(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A value of each state: the atom, or uniform within the bin."""
        out = np.empty(len(codes))
        n_atoms = len(self.atoms)
        is_atom = codes < n_atoms
        out[is_atom] = self.atoms[codes[is_atom]]
        b = codes[~is_atom] - n_atoms
        if len(b):
            lo, hi = self.edges[b], self.edges[b + 1]
            if not self.integer:
                out[~is_atom] = lo + rng.random(len(b)) * (hi - lo)
            else:
                out[~is_atom] = self._draw_integers(b, rng)
        return out

    def _draw_integers(self, b, rng):
        """Uniform over each bin's integers that are not atoms (by rejection)."""
        last = b == len(self.edges) - 2
        lo = self.edges[b]
        top = np.where(last, self.edges[b + 1], self.edges[b + 1] - 1)
        out = np.empty(len(b))
        todo = np.arange(len(b))
        while len(todo):
            v = lo[todo] + np.floor(rng.random(len(todo)) * (top[todo] - lo[todo] + 1))
            ok = ~np.isin(v, self.atoms)
            # A bin holding atoms only keeps its draw (its size counts as 1).
            ok |= top[todo] - lo[todo] + 1 <= self._atoms_within(lo[todo], top[todo])
            out[todo[ok]] = v[ok]
            todo = todo[~ok]
        return out

    def draw_tail(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` values from the two tails, half below the range, half above."""
        below = rng.random(n) < 0.5
        if self.integer:
            gap = rng.geometric(1 - np.exp(-1.0 / self.scale), n).astype(float)
        else:
            gap = rng.exponential(self.scale, n)
        return np.where(below, self.low - gap, self.high + gap)


@dataclass(frozen=True)
class TableStates:
    """A table's columns as the states of categorical distributions.

    The number columns' :class:`ColumnBins` (in the encoded order) then the
    categorical columns' categories: what the latent class model and the
    latent tree both hold one categorical distribution per column over.

    Parameters
    ----------
    bins : list of ColumnBins
        One per number column.
    category_sizes : list of int
        Categories of each categorical column.
    """

    bins: list
    category_sizes: list

    @property
    def n_states(self) -> list:
        """States of each column: number columns first."""
        return [b.n_states for b in self.bins] + list(self.category_sizes)

    @property
    def starts(self) -> np.ndarray:
        """Offsets of each column's states among all states, and their total."""
        return np.cumsum([0, *self.n_states])

    def encode(self, encoded):
        """Each entry's state (-1 missing or outside the range), and its log base.

        The log base of an entry is the log of its state's base measure, or
        its tail's log-density outside the range, plus ``log(1 - eps)``
        inside it; 0 for categories and missing entries.

        Parameters
        ----------
        encoded : EncodedTable
            From :meth:`probmodels.columns.ColumnTypes.encode`.

        Returns
        -------
        states : ndarray of shape (n, n_columns)
        log_base : ndarray of shape (n,)
        """
        n = len(encoded.continuous)
        states, base = [], np.zeros(n)
        for x, bins in zip(encoded.continuous.T, self.bins, strict=True):
            code = bins.codes(x)
            inside = code >= 0
            base[inside] += bins.log_base(code[inside]) + np.log1p(-bins.tail_mass)
            tail = bins.log_tail(np.where(np.isnan(x), 0.0, x))
            outside = ~np.isnan(x) & ~inside
            base[outside] += tail[outside]
            states.append(code)
        columns = states + list(encoded.codes.T)
        matrix = np.column_stack(columns) if columns else np.empty((n, 0), np.int64)
        return matrix.astype(np.int64), base

    def onehot(self, states):
        """Sparse (n, total states) indicator of each row's states; none where -1."""
        starts = self.starts
        rows, cols = np.nonzero(states >= 0)
        return sparse.csr_matrix(
            (np.ones(len(rows)), (rows, starts[cols] + states[rows, cols])),
            shape=(len(states), int(starts[-1])),
        )

    def draw_number(self, j, state, rng):
        """Values of number column ``j`` in the given states, tails included.

        Each draw falls in a tail with the tails' mass, whatever its state:
        the tails are shared by every class.
        """
        bins = self.bins[j]
        x = bins.draw(state, rng)
        tail = rng.random(len(state)) < bins.tail_mass
        if tail.any():
            x[tail] = bins.draw_tail(int(tail.sum()), rng)
        return x

    def state_means(self, j):
        """The mean of each state of number column ``j``: the atom, or the bin's midpoint."""
        bins = self.bins[j]
        mids = (bins.edges[:-1] + bins.edges[1:]) / 2 if len(bins.edges) > 1 else []
        return np.r_[bins.atoms, mids]

    def draw_rows(self, probs, rng):
        """Rows drawn from each column's state probabilities (encoded scale).

        Parameters
        ----------
        probs : list of ndarray of shape (n, n_states_j)
            Per column, each row's state probabilities.
        rng : numpy.random.Generator

        Returns
        -------
        continuous : ndarray of shape (n, n_number_columns)
        codes : ndarray of shape (n, n_categorical_columns) or None
        """
        n, d = len(probs[0]), len(self.bins)
        values = [
            self.draw_number(j, _draw_categories(p, rng), rng)
            for j, p in enumerate(probs[:d])
        ]
        continuous = np.column_stack(values) if values else np.empty((n, 0))
        codes = [_draw_categories(p, rng) for p in probs[d:]]
        return continuous, np.column_stack(codes) if codes else None

    def conditional_means(self, probs):
        """Each number column's mean and each categorical column's mode.

        The mean is of the histogram, each state at its atom or midpoint
        (the tails left out).

        Parameters
        ----------
        probs : list of ndarray of shape (n, n_states_j)
            Per column, each row's state distribution.

        Returns
        -------
        continuous : ndarray of shape (n, n_number_columns)
        codes : ndarray of shape (n, n_categorical_columns) or None
        """
        n, d = len(probs[0]), len(self.bins)
        means = [p @ self.state_means(j) for j, p in enumerate(probs[:d])]
        continuous = np.column_stack(means) if means else np.empty((n, 0))
        codes = [p.argmax(axis=1) for p in probs[d:]]
        return continuous, np.column_stack(codes) if codes else None


def bins_state(bins: ColumnBins) -> dict:
    """A ColumnBins as plain values, as model files hold it."""
    return {
        "atoms": bins.atoms,
        "edges": bins.edges,
        "integer": bool(bins.integer),
        "low": float(bins.low),
        "high": float(bins.high),
        "scale": float(bins.scale),
        "tail_mass": float(bins.tail_mass),
    }
