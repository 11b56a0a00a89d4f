"""Gaussian mixtures whose entries go missing because of their values (MNAR).

A selection model (Little and Rubin, *Statistical Analysis with Missing
Data*, 2019, ch. 15): the full rows follow the mixture
``p(x) = sum_k w_k N(x; mu_k, Sigma_k)``, and each continuous column j goes
missing, independently given the row, with the self-masking logistic
probability of not-MIWAE (Ipsen, Mattei and Frellsen, ICLR 2021, eq. 11)

    P(m_j = 1 | x) = sigmoid(a_j + b_j x_j).

A row with observed entries o and missing entries m then has likelihood

    p(x_o, m) = prod_{j in o} sigmoid(-(a_j + b_j x_j))
                sum_k w_k N(x_o; mu_ko, Sigma_koo)
                      E[prod_{j in m} sigmoid(a_j + b_j x_j)],

the expectation over ``x_m ~ N(mu_km|o, Sigma_km|o)``, the Gaussian
conditional of :mod:`probmodels.mixture._observed`. With one missing
entry it is a one-dimensional integral, computed by Gauss-Hermite
quadrature to near machine precision; with more it has no closed form, and
S quasi-random draws stand for it (scrambled Sobol points through the
normal quantile). The nodes are the same at every iteration, so the
objective is a smooth function of the parameters.
EM then runs as Monte Carlo EM with importance weights (Wei and Tanner,
JASA 1990; Levine and Casella, 2001): the draws of row i under component k
weigh ``omega_iks ∝ prod_{j in m} sigmoid(a_j + b_j x_ijs)``; the
responsibilities use the estimated likelihood; the Gaussian M-step takes
the weighted draws' moments; the mask M-step is a weighted logistic
regression per column of ``m_j`` on x_j (observed values with label 0,
weighted draws with label 1), solved by Newton's method. The mask model
tilts the Gaussian conditional toward the values that go missing: the
mixture learns the part of each column that was never seen.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import expit, log_expit, logsumexp
from scipy.stats import norm, qmc

from ._gaussian import (
    features,
    moments_from_natural,
    n_statistics,
    pack_statistics,
)
from ._observed import (
    MissingLayout,
    fill_rows,
    gaussian_conditionals,
    mean_filled,
    posterior,
)

__all__ = [
    "N_DRAWS",
    "MaskData",
    "SelfMaskingStatistics",
    "mask_log_prob",
    "normal_points",
    "self_masking_log_prob",
    "tilted_conditionals",
]

#: Quasi-random draws per row and component in the E-step's expectation.
N_DRAWS = 64

#: Intercept of the columns without holes: P(missing) = sigmoid(-50) ~ 2e-22.
NEVER = -50.0

#: Ridge on each slope b_j, in units of the column's spread: deterministic
#: censoring (every value above a threshold missing) has an infinite MLE slope.
SLOPE_RIDGE = 0.1


def mask_log_prob(x, missing, intercept, coef):
    """``log P(m_j | x_j)`` of the self-masking logistic model, per entry.

    Parameters
    ----------
    x : ndarray
        Values (observed, or drawn where missing).
    missing : ndarray of bool, broadcastable to x
    intercept, coef : ndarray, broadcastable to x
        ``a_j`` and ``b_j``.

    Returns
    -------
    ndarray
        ``log sigmoid(a + b x)`` where missing, ``log sigmoid(-(a + b x))``
        where observed.
    """
    logit = intercept + coef * x
    return log_expit(np.where(missing, logit, -logit))


def normal_points(n_points: int, dim: int, seed=0):
    """Nodes and log-weights standing for ``E[f(z)]``, ``z ~ N(0, I_dim)``.

    One dimension: Gauss-Hermite quadrature (probabilists' Hermite
    polynomials), exact for polynomials of degree ``2 n_points - 1``.
    More: scrambled Sobol points through the normal quantile, equally
    weighted (randomised quasi-Monte Carlo).

    Returns
    -------
    points : ndarray of shape (n_points, dim)
    log_weights : ndarray of shape (n_points,)
        They sum (in probability) to 1.
    """
    if dim == 1:
        nodes, weights = hermegauss(n_points)
        return nodes[:, None], np.log(weights / math.sqrt(2 * math.pi))
    sobol = qmc.Sobol(dim, scramble=True, seed=seed)
    u = sobol.random(n_points)
    points = norm.ppf(np.clip(u, 1e-12, 1 - 1e-12))
    return points, np.full(n_points, -math.log(n_points))


def tilted_conditionals(layout, fills, covs, mask, points):
    """Draws of each row's missing block, and their self-masking weights.

    Parameters
    ----------
    layout : MissingLayout
    fills, covs : list
        Per group of the layout, one component's conditional means
        ``(n_rows, m)`` and covariances ``(n_patterns, m, m)``.
    mask : ndarray of shape (2, d)
        Intercepts and slopes of the mask model (centred units).
    points : list of tuple
        Per group, :func:`normal_points` of dimension m shared by its rows,
        or each row's own standard normal draws ``(n_rows, S, m)`` with
        equal log-weights.

    Returns
    -------
    log_tilt : ndarray of shape (n_rows,)
        ``log E[prod_{j in m} P(m_j = 1 | x_j)]`` (0 on complete rows).
    draws : list of ndarray
        Per group, the draws ``(n_group_rows, S, m)``.
    weights : list of ndarray
        Per group, the self-normalised weights ``(n_group_rows, S)``.
    """
    log_tilt = np.zeros(len(layout.observed))
    draws, weights = [], []
    for group, fill, cov, (eps, log_q) in zip(
        layout.groups, fills, covs, points, strict=True
    ):
        chol = np.linalg.cholesky(cov)[group.pattern]  # (n, m, m)
        rows_own = "n" if eps.ndim == 3 else ""  # draws of each row's own
        x = fill[:, None, :] + np.einsum(f"nij,{rows_own}sj->nsi", chol, eps)
        cells = group.cells[:, None, :]
        log_m = mask_log_prob(x, True, mask[0][cells], mask[1][cells]).sum(axis=2)
        log_m += log_q
        norm_ = logsumexp(log_m, axis=1, keepdims=True)
        log_tilt[group.rows] = norm_[:, 0]
        draws.append(x)
        weights.append(np.exp(log_m - norm_))
    return log_tilt, draws, weights


def observed_mask_log_prob(X0, missing, mask):
    """``sum_{j in o} log P(m_j = 0 | x_j)`` of each row: its entries' chance to be seen."""
    seen = mask_log_prob(X0, False, mask[0], mask[1])
    return np.where(missing, 0.0, seen).sum(axis=1)


def self_masking_log_prob(X0, layout, fills, covs, mask):
    """``log P(m | x_o, k)`` of each row and component under the mask model.

    What the mask model adds to a component's logit
    ``log w_k + log N(x_o; mu_ko, Sigma_koo)``: the observed entries' chance
    to be seen, and the tilt ``log E[prod_{j in m} P(m_j = 1 | x_j)]`` over
    the component's conditional of the missing block, with the E-step's
    nodes (:data:`N_DRAWS` points of :func:`normal_points`), so a fitted
    model scores its training rows as its last E-step did.

    Parameters
    ----------
    X0 : ndarray of shape (n_rows, d)
        Continuous entries, 0 where missing.
    layout : MissingLayout
    fills, covs : list
        Per component, the conditionals of
        :func:`~probmodels.mixture._observed.gaussian_conditionals`.
    mask : ndarray of shape (2, d)
        Intercepts and slopes, in X0's units.

    Returns
    -------
    ndarray of shape (n_rows, n_components)
    """
    points = [normal_points(N_DRAWS, g.columns.shape[1]) for g in layout.groups]
    tilts = [
        tilted_conditionals(layout, fill, cov, mask, points)[0]
        for fill, cov in zip(fills, covs, strict=True)
    ]
    seen = observed_mask_log_prob(X0, layout.observed == 0, mask)
    return seen[:, None] + np.column_stack(tilts)


class MaskData:
    """The mask M-step's data: a weighted logistic regression per column.

    Observed entries count as label 0 with the row's weight; each missing
    entry's draws count as label 1 with weight ``row weight x r_ik x omega_iks``.

    Parameters
    ----------
    d : int
    scale : ndarray of shape (d,)
        Each column's spread, the unit of :data:`SLOPE_RIDGE`.
    start : ndarray of shape (2, d)
        The mask the E-step used: where the Newton steps start.
    """

    def __init__(self, d, scale, start):
        self.d, self.scale, self.start = d, scale, start
        self.columns, self.values, self.weights, self.labels = [], [], [], []

    def add(self, columns, values, weights, label):
        """Points of label 0 or 1 (flat arrays of the same length)."""
        # Draws of negligible weight change no sum the Newton steps take.
        keep = weights > 1e-10 * weights.max(initial=0.0)
        self.columns.append(columns[keep].ravel())
        self.values.append(values[keep].ravel())
        self.weights.append(weights[keep].ravel())
        self.labels.append(np.full(keep.sum(), float(label)))

    def maximise(self, n_steps=20) -> np.ndarray:
        """Newton's method from ``start``: the penalised MLE of a, b, ``(2, d)``."""
        col = np.concatenate(self.columns)
        x = np.concatenate(self.values) / self.scale[col]
        w, y = np.concatenate(self.weights), np.concatenate(self.labels)
        d = self.d
        a, b = self.start[0].copy(), self.start[1] * self.scale
        active = np.bincount(col, y, d) > 0  # the columns with holes
        for _ in range(n_steps):
            p = expit(a[col] + b[col] * x)
            r, h = w * (y - p), w * p * (1 - p)
            g_a = np.bincount(col, r, d)
            g_b = np.bincount(col, r * x, d) - SLOPE_RIDGE * b
            h_aa = np.bincount(col, h, d) + 1e-9
            h_ab = np.bincount(col, h * x, d)
            h_bb = np.bincount(col, h * x * x, d) + SLOPE_RIDGE
            det = h_aa * h_bb - h_ab**2
            step_a = (h_bb * g_a - h_ab * g_b) / det
            step_b = (h_aa * g_b - h_ab * g_a) / det
            step_a, step_b = step_a * active, step_b * active
            a, b = a + step_a, b + step_b
            if max(np.abs(step_a).max(), np.abs(step_b).max()) < 1e-6:
                break
        return np.vstack([a, b / self.scale])


class SelfMaskingStatistics:
    """The E-step pass of the self-masking mixture (see the module docstring).

    ``(theta, mask) -> ((S, MaskData), log-likelihood)``; the mask
    parameters travel beside theta, and :meth:`initial_mask` gives the MAR
    start (each column's missing rate, slope 0).

    Parameters
    ----------
    Xc : ndarray of shape (n_samples, d)
        Centred continuous rows, NaN where missing.
    sample_weight : ndarray of shape (n_samples,) or None
    covariance_type : str
    """

    def __init__(self, Xc, sample_weight, covariance_type):
        self.Xc, self.covariance_type = Xc, covariance_type
        self.n, self.d = Xc.shape
        self.weight = np.ones(self.n) if sample_weight is None else sample_weight
        self.missing = np.isnan(Xc)
        self.X0 = np.nan_to_num(Xc)
        self.layout = MissingLayout(self.missing)
        self.points = [
            normal_points(N_DRAWS, group.columns.shape[1])
            for group in self.layout.groups
        ]
        spread = np.nanstd(Xc, axis=0)
        self.scale = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
        # The observed entries: the mask regression's label-0 points, the
        # same at every iteration.
        seen = ~self.missing
        self._seen = (
            np.broadcast_to(np.arange(self.d), (self.n, self.d))[seen],
            self.X0[seen],
            np.broadcast_to(self.weight[:, None], (self.n, self.d))[seen],
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def initial_mask(self) -> np.ndarray:
        """Each column's observed missing rate as intercept, slope 0 (MAR)."""
        rate = np.average(self.missing, axis=0, weights=self.weight)
        clipped = np.clip(rate, 1e-3, 1 - 1e-3)
        logit = np.log(clipped / (1 - clipped))
        # A column without holes keeps a mask that never fires (not fitted).
        return np.vstack([np.where(rate > 0, logit, NEVER), np.zeros(self.d)])

    def statistics(self, resp: np.ndarray) -> np.ndarray:
        """``S = Phi^T resp`` of the mean-filled rows (to initialise)."""
        filled = mean_filled(self.Xc, self.weight)
        return features(filled, self.covariance_type) @ resp

    def _logits(self, theta, mask):
        """Row logits with the mask model, and each component's tilted draws."""
        n_stat = n_statistics(self.covariance_type, self.d)
        log_w, means, prec = moments_from_natural(
            theta[:, :n_stat], self.covariance_type, self.d
        )
        log_det_cov = -np.linalg.slogdet(prec)[1]
        parts = gaussian_conditionals(self.X0, self.layout, means, prec, log_det_cov)
        observed_mask = observed_mask_log_prob(self.X0, self.missing, mask)
        logits = np.empty((self.n, len(means)))
        tilted = []
        for k, (dens, fills, covs) in enumerate(parts):
            log_tilt, draws, weights = tilted_conditionals(
                self.layout, fills, covs, mask, self.points
            )
            logits[:, k] = dens + log_w[k] + log_tilt + observed_mask
            tilted.append((draws, weights))
        return logits, tilted

    def __call__(self, theta, mask=None):
        """Expected statistics, the mask M-step's data, and the log-likelihood.

        ``mask`` None is :meth:`initial_mask`. The mask data keep ``mask``
        as the start of their Newton steps.
        """
        if mask is None:
            mask = self.initial_mask()
        logits, tilted = self._logits(theta, mask)
        resp, log_norm = posterior(logits)
        ll = float(log_norm @ self.weight)
        resp *= self.weight[:, None]
        k, d = resp.shape[1], self.d
        first, second = np.zeros((k, d)), np.zeros((k, d, d))
        mask_data = MaskData(d, self.scale, mask)
        mask_data.add(*self._seen, 0)
        for j, (draws, weights) in enumerate(tilted):
            r = resp[:, j]
            means = [
                np.einsum("ns,nsm->nm", w, x)
                for x, w in zip(draws, weights, strict=True)
            ]
            filled = fill_rows(self.X0, self.layout, means)
            first[j] = r @ filled
            second[j] = (filled * r[:, None]).T @ filled
            for group, x, w, mu in zip(
                self.layout.groups, draws, weights, means, strict=True
            ):
                rg = r[group.rows]
                # The draws' spread about their weighted mean, on the missing block.
                dev = x - mu[:, None, :]
                per_row = np.einsum("n,ns,nsi,nsj->nij", rg, w, dev, dev, optimize=True)
                second[j] += np.bincount(
                    group.block[group.pattern].ravel(),
                    weights=per_row.ravel(),
                    minlength=d * d,
                ).reshape(d, d)
                cells = np.broadcast_to(group.cells[:, None, :], x.shape)
                weight = np.broadcast_to((rg[:, None] * w)[..., None], x.shape)
                mask_data.add(cells, x, weight, 1)
        stats = pack_statistics(resp.sum(axis=0), first, second, self.covariance_type)
        return (stats, mask_data), ll

    def labels(self, theta, mask=None) -> np.ndarray:
        """Most likely component of each row, the mask model included."""
        if mask is None:
            mask = self.initial_mask()
        return self._logits(theta, mask)[0].argmax(axis=1)
