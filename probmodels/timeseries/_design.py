"""The regressors of an AR-X model and the least-squares basis they live in.

An AR-X regression of series ``y`` has three kinds of columns, in
statsmodels' ``AutoReg`` order: deterministic terms (constant, time trend,
squared trend, seasonal dummies), the lags of ``y`` in the model's lag set,
and exogenous regressors. Deterministic and exogenous columns are the same
for every series fitted together (*shared* columns); lags are each series'
own.

Least squares runs in a basis of the fitted window: the centred series'
lags ``x_a = y_{t-a} - c`` (``x_0`` the target) and the shared columns. Its
Gram matrix is built from sums of products, with no lag matrix ever
materialised, and every regression column is a combination of basis columns
(:func:`regression_in_basis`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._ar_math import BLOCK_STEPS, lag_cross_products

__all__ = [
    "TREND_POWERS",
    "Terms",
    "basis_gram",
    "regression_in_basis",
    "shared_basis",
    "shared_cross_products",
]

#: Powers of the 1-based time index in the deterministic part of each trend.
TREND_POWERS = {"n": (), "c": (0,), "t": (1,), "ct": (0, 1), "ctt": (0, 1, 2)}
_TREND_NAMES = {0: "const", 1: "trend", 2: "trend_squared"}


@dataclass(frozen=True)
class Terms:
    """The columns of an AR-X regression.

    Parameters
    ----------
    trend : {"n", "c", "t", "ct", "ctt"}
        Deterministic time polynomial.
    period : int
        Period of the seasonal dummies; 0 for none. With a constant the
        first season's dummy is dropped (``AutoReg``'s convention).
    lags : tuple of int
        Lags in the model, increasing.
    exog_names : tuple of str
        Names of the exogenous regressors.
    """

    trend: str
    period: int
    lags: tuple[int, ...]
    exog_names: tuple[str, ...] = ()

    @property
    def powers(self) -> tuple[int, ...]:
        """Powers of the time index in the trend."""
        return TREND_POWERS[self.trend]

    @property
    def first_season(self) -> int:
        """Index of the first season that has a dummy (1 with a constant)."""
        return 1 if 0 in self.powers else 0

    @property
    def n_deterministic(self) -> int:
        """Number of trend and seasonal columns."""
        seasons = self.period - self.first_season if self.period else 0
        return len(self.powers) + seasons

    @property
    def n_exog(self) -> int:
        """Number of exogenous regressors."""
        return len(self.exog_names)

    @property
    def n_params(self) -> int:
        """Number of regression coefficients (statsmodels' ``df_model``)."""
        return self.n_deterministic + len(self.lags) + self.n_exog

    @property
    def max_lag(self) -> int:
        """Largest lag (0 without lags)."""
        return max(self.lags, default=0)

    @property
    def has_constant(self) -> bool:
        """Whether the constant lies in the span of the deterministic terms."""
        return 0 in self.powers or self.period > 0

    def with_lags(self, lags: tuple[int, ...]) -> Terms:
        """The same terms with another lag set."""
        return replace(self, lags=tuple(lags))

    def lag_columns(self) -> np.ndarray:
        """Positions of the lag coefficients among the parameters."""
        start = self.n_deterministic
        return np.arange(start, start + len(self.lags))

    def shared_columns(self) -> np.ndarray:
        """Positions of the deterministic and exogenous coefficients."""
        det = np.arange(self.n_deterministic)
        exog = self.n_deterministic + len(self.lags) + np.arange(self.n_exog)
        return np.concatenate([det, exog])

    def names(self, series: str = "y") -> list[str]:
        """Parameter names in ``AutoReg``'s order.

        Parameters
        ----------
        series : str, default="y"
            Name of the series, prefixing the lags (``y.L1``).

        Returns
        -------
        list of str
        """
        names = [_TREND_NAMES[k] for k in self.powers]
        names += [
            f"s({s + 1},{self.period})" for s in range(self.first_season, self.period)
        ]
        names += [f"{series}.L{lag}" for lag in self.lags]
        return names + list(self.exog_names)

    def deterministic(self, positions: np.ndarray) -> np.ndarray:
        """Trend and seasonal columns at 1-based positions on the fitted clock.

        Parameters
        ----------
        positions : ndarray of shape (n,)
            Step numbers, 1 for the first fitted step. The season of step t is
            ``(t - 1) mod period``, as ``AutoReg``'s ``Seasonality`` counts
            from the first observation.

        Returns
        -------
        ndarray of shape (n, n_deterministic)
        """
        t = np.asarray(positions, dtype=np.float64)
        cols = [t**k for k in self.powers]
        if self.period:
            season = (t.astype(np.int64) - 1) % self.period
            cols += [
                (season == s).astype(np.float64)
                for s in range(self.first_season, self.period)
            ]
        return np.column_stack(cols) if cols else np.empty((len(t), 0))

    def shared(self, positions: np.ndarray, exog: np.ndarray | None) -> np.ndarray:
        """Deterministic then exogenous columns, (n, n_deterministic + n_exog)."""
        det = self.deterministic(positions)
        if not self.n_exog:
            return det
        return np.hstack([det, np.asarray(exog, dtype=np.float64)])


def shared_basis(
    shared: np.ndarray, start: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthonormal basis of the shared columns (and the constant) over the window.

    A centred lag is ``y_{t-a} - c``, so the basis must span the constant
    too. The shared columns and a column of ones, each scaled to unit norm,
    are factored by a singular value decomposition once for all series;
    directions with a relative singular value below 1e-12 (the constant when
    the trend or full seasonal dummies already span it) are dropped. Time
    polynomials, dummies and regressors with a large mean are then exact
    combinations of orthonormal columns, and lose no digits in the Gram
    matrix.

    Parameters
    ----------
    shared : ndarray of shape (n_steps, q)
        Shared columns at every step (:meth:`Terms.shared`).
    start : int
        First fitted step.

    Returns
    -------
    rows : ndarray of shape (n_steps - start, r)
        The orthonormal basis at the fitted steps.
    coords : ndarray of shape (r, q)
        Coordinates of each shared column: ``shared[start:] = rows @ coords``.
    one : ndarray of shape (r,)
        Coordinates of the constant.
    """
    window = np.hstack([shared[start:], np.ones((len(shared) - start, 1))])
    norms = np.linalg.norm(window, axis=0)
    norms = np.where(norms > 0, norms, 1.0)
    u, s, vt = np.linalg.svd(window / norms, full_matrices=False)
    keep = s > 1e-12 * s[0]
    coords = s[keep, None] * vt[keep] * norms
    return u[:, keep], coords[:, :-1], coords[:, -1]


def shared_cross_products(
    A: np.ndarray,
    rows: np.ndarray,
    offsets: tuple[int, ...],
    start: int,
    shift: np.ndarray,
) -> np.ndarray:
    """Sums of shared columns times lagged centred values over the window.

    Parameters
    ----------
    A : ndarray of shape (n_series, n_steps)
        The series.
    rows : ndarray of shape (n_steps - start, r)
        Columns shared by every series at the fitted steps.
    offsets : tuple of int
        Lags, each at most ``start``.
    start : int
        First fitted step.
    shift : ndarray of shape (n_series,)
        Centre of each series (x = A - shift).

    Returns
    -------
    ndarray of shape (n_series, r, len(offsets))
        ``C[j, c, i] = sum_{t=start}^{n-1} rows[t - start, c] x[j, t - offsets[i]]``.
    """
    m, n = A.shape
    halo = max(offsets, default=0)
    r, k = rows.shape[1], len(offsets)
    C = np.zeros((m, k * r))
    # Block by block, so that temporaries stay O(n_series x block) and the
    # centring (which keeps a large mean from cancelling) copies no series.
    # Each block is one matrix product against the shared columns placed at
    # every offset, so the block is read once for all lags.
    for lo in range(start, n, BLOCK_STEPS):
        hi = min(n, lo + BLOCK_STEPS)
        block = A[:, lo - halo : hi] - shift[:, None]
        placed = np.zeros((hi - lo + halo, k, r))
        for i, a in enumerate(offsets):
            placed[halo - a : halo - a + hi - lo, i] = rows[lo - start : hi - start]
        C += block @ placed.reshape(len(placed), k * r)
    C = C.reshape(m, k, r).transpose(0, 2, 1)
    return C


def basis_gram(
    A: np.ndarray,
    rows: np.ndarray,
    offsets: tuple[int, ...],
    start: int,
    shift: np.ndarray,
) -> np.ndarray:
    """Gram matrix of ``[x_{offsets[0]}, x_{offsets[1]}, ..., rows]`` over the window.

    Parameters
    ----------
    A : ndarray of shape (n_series, n_steps)
        The series.
    rows : ndarray of shape (n_steps - start, r)
        Orthonormal shared basis (:func:`shared_basis`).
    offsets : tuple of int
        ``(0, lag_1, ..., lag_L)``: the target, then the lags.
    start : int
        First fitted step.
    shift : ndarray of shape (n_series,)
        Centre of each series.

    Returns
    -------
    ndarray of shape (n_series, L + 1 + r, L + 1 + r)
    """
    idx = np.asarray(offsets)
    lags = lag_cross_products(A, int(idx.max()), start, shift)[:, idx][:, :, idx]
    cross = shared_cross_products(A, rows, offsets, start, shift)
    m, p1, r = A.shape[0], len(offsets), rows.shape[1]
    gram = np.empty((m, p1 + r, p1 + r))
    gram[:, :p1, :p1] = lags
    gram[:, :p1, p1:] = cross.transpose(0, 2, 1)
    gram[:, p1:, :p1] = cross
    gram[:, p1:, p1:] = rows.T @ rows
    return gram


def regression_in_basis(
    terms: Terms,
    offsets: tuple[int, ...],
    coords: np.ndarray,
    one: np.ndarray,
    shift: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of an AR-X regression's columns in the basis.

    With ``y = x + c``, lag ``a`` of y is ``x_a + c * 1`` and the target is
    ``x_0 + c * 1``; a deterministic or exogenous column has its coordinates
    in the shared basis.

    Parameters
    ----------
    terms : Terms
        The regression; its lags are among ``offsets``.
    offsets : tuple of int
        Lag offsets of the basis (0 first).
    coords : ndarray of shape (r, n_deterministic + n_exog)
        Coordinates of the shared columns (:func:`shared_basis`).
    one : ndarray of shape (r,)
        Coordinates of the constant.
    shift : ndarray of shape (n_series,)
        The centre subtracted from each series.

    Returns
    -------
    design : ndarray of shape (n_series, len(offsets) + r, n_params)
        Regressors in ``AutoReg``'s order.
    target : ndarray of shape (n_series, len(offsets) + r)
    """
    m, p1, r = len(shift), len(offsets), len(one)
    design = np.zeros((m, p1 + r, terms.n_params))
    design[:, p1:, terms.shared_columns()] = coords
    for i, lag in enumerate(terms.lags):
        col = terms.n_deterministic + i
        design[:, offsets.index(lag), col] = 1.0
        design[:, p1:, col] = shift[:, None] * one
    target = np.zeros((m, p1 + r))
    target[:, 0] = 1.0
    target[:, p1:] = shift[:, None] * one
    return design, target
