"""What a fitted mixture says of a row's missing entries: imputation, conditioning.

Given the observed entries ``x_o`` of a row, the mixture's conditional of
the rest is again a mixture, exactly:

    p(x_m | x_o) = sum_k r_k(x_o) N(x_m; mu_km|o, Sigma_km|o) prod_j pi_kj(x_j),

with ``r_k(x_o)`` the posterior of component k given the observed entries
(``predict_proba``) and the Gaussian conditionals of
:mod:`probmodels.mixture._missing`. ``impute(method="mean")`` returns its
mean (for a categorical column, the most probable category under the
mixed probabilities ``sum_k r_k pi_kj``); ``method="draw"`` and
``sample(given=...)`` draw a component from ``r(x_o)``, then the missing
entries from that component's conditional. Nothing is rejected or
approximated.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._conditioning import (
    check_impute_method,
    complete_rows,
    in_container,
    query_rows,
)
from ._inference import _draw_categories
from ._observed import fill_rows, observed_conditionals, posterior
from ._self_masking import normal_points, tilted_conditionals

#: Quasi-random draws per row and component when imputing under the mask model.
IMPUTE_DRAWS = 256

__all__ = ["ConditionalMixture"]


class ConditionalMixture:
    """``impute`` and the conditional draws behind ``sample(given=...)``."""

    def impute(self, X, *, method="draw", random_state=None):
        """Fill each row's missing entries (NaN) from p(missing | observed).

        Exact for the mixture (the conditional of a Gaussian mixture is a
        Gaussian mixture): see ``docs/user_guide/missing.rst``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows of the fitted columns, NaN (None, NaT, pd.NA) where missing.
            A row with nothing observed is refused.
        method : {"draw", "mean"}, default="draw"
            "draw": a draw from the conditional (for multiple imputation);
            "mean": its mean (for a categorical column its most probable
            category).
        random_state : int, RandomState, Generator or None, default=None
            For ``method="draw"``: None draws from the generator seeded at
            fit, as ``sample`` does; a value makes the call repeatable.

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
            X with the missing entries filled and the observed ones as they
            were, in X's container (a DataFrame in the fitted dtypes).
        """
        check_is_fitted(self)
        check_impute_method(method)
        rows = self._validate_X(X, reset=False)
        rng = self._sampling_generator(random_state) if method == "draw" else None
        continuous, codes, _ = self._conditional_fill(
            rows, method, rng, self_masked=True
        )
        return complete_rows(self._types, continuous, codes, X)

    # ------------------------------------------------------------ internals
    def _conditional_fill(self, rows, method, rng, self_masked=False):
        """Filled continuous block, filled codes and the components drawn.

        ``self_masked``: the holes of the rows went missing under the fitted
        mask model (``missing="mnar"``), which tilts each conditional; the
        query rows of ``sample(given=...)`` are not holes, and are not tilted.
        """
        log_w, means, prec = self._moments()
        k, d = means.shape
        logits, layout, X0, fills, covs = observed_conditionals(
            rows, log_w, means, prec, self._category_log_probs()
        )
        if self_masked and "mask_coef_" in self.__dict__:
            return self._self_masked_fill(method, rng, logits, layout, X0, fills, covs)
        resp = posterior(logits)[0]
        onehot = rows[:, d:]
        labels = None
        if method == "mean":
            filled = sum(
                resp[:, j, None] * fill_rows(X0, layout, fills[j]) for j in range(k)
            )
            filled = np.where(np.isnan(rows[:, :d]), filled, rows[:, :d])
        else:
            labels = _draw_categories(resp, rng)
            filled = _draw_gaussian(X0, layout, labels, fills, covs, rng)
        codes = self._fill_codes(onehot, resp, labels, rng)
        return filled, codes, labels

    def _self_masked_fill(self, method, rng, logits, layout, X0, fills, covs):
        """Holes filled from p(x_m | x_o, m) of the self-masking model.

        Each component's Gaussian conditional, reweighted by the mask
        model's ``P(m | x_m)`` over quasi-random draws
        (:func:`~probmodels.mixture._self_masking.tilted_conditionals`):
        the components' posterior takes the tilt, the mean is the weighted
        draws' mean, a draw picks a component, then a draw by its weight.
        """
        k = len(fills)
        mask = np.vstack([self.mask_intercept_, self.mask_coef_])
        if method == "mean":  # quadrature, or quasi-random points
            points = [
                normal_points(IMPUTE_DRAWS, g.columns.shape[1]) for g in layout.groups
            ]
        else:  # a draw resamples each row's own random draws by weight
            equal = np.full(IMPUTE_DRAWS, -np.log(IMPUTE_DRAWS))
            points = [
                (
                    rng.standard_normal(
                        (len(g.rows), IMPUTE_DRAWS, g.columns.shape[1])
                    ),
                    equal,
                )
                for g in layout.groups
            ]
        tilted = [
            tilted_conditionals(layout, fills[j], covs[j], mask, points)
            for j in range(k)
        ]
        for j, (log_tilt, _, _) in enumerate(tilted):
            logits[:, j] += log_tilt
        resp = posterior(logits)[0]
        labels = None if method == "mean" else _draw_categories(resp, rng)
        out = X0.copy()
        flat = out.ravel()
        for g, group in enumerate(layout.groups):
            draws = np.stack([t[1][g] for t in tilted])  # (K, n, S, m)
            weights = np.stack([t[2][g] for t in tilted])  # (K, n, S)
            r = resp[group.rows].T  # (K, n)
            if labels is None:
                values = np.einsum("kn,kns,knsm->nm", r, weights, draws)
            else:
                own, at = labels[group.rows], np.arange(len(group.rows))
                pick = _draw_categories(weights[own, at], rng)
                values = draws[own, at, pick]
            flat[group.flat] = values
        return out, None, labels

    def _fill_codes(self, onehot, resp, labels, rng):
        """Category codes with missing ones filled (mode, or a draw)."""
        sizes = self._types.category_sizes
        if not sizes:
            return None
        starts = np.cumsum([0, *sizes])
        codes = []
        for j, log_prob in enumerate(self.category_log_prob_):
            block = onehot[:, starts[j] : starts[j + 1]]
            code = np.nan_to_num(block).argmax(axis=1)
            missing = np.isnan(block[:, 0])
            if missing.any():
                if labels is None:
                    mixed = resp[missing] @ np.exp(log_prob)
                    code[missing] = mixed.argmax(axis=1)
                else:
                    probs = np.exp(log_prob[labels[missing]])
                    code[missing] = _draw_categories(probs, rng)
            codes.append(code)
        return np.column_stack(codes)

    def _sample_given(self, n_samples, given, rng):
        """``sample(given=...)``: the query rows filled by conditional draws."""
        query = query_rows(self._types, given, n_samples)
        rows = self._validate_X(query, reset=False)
        continuous, codes, labels = self._conditional_fill(rows, "draw", rng)
        out = complete_rows(self._types, continuous, codes, query)
        return in_container(out, self._container), labels


def _draw_gaussian(X0, layout, labels, fills, covs, rng):
    """Each row's missing entries drawn from its component's conditional."""
    out = X0.copy()
    flat = out.ravel()
    for g, group in enumerate(layout.groups):
        means = np.stack([fill[g] for fill in fills])  # (K, n_g, m)
        cov = np.stack([c[g] for c in covs])  # (K, P, m, m)
        chol = np.linalg.cholesky(cov)
        own = labels[group.rows]
        z = rng.standard_normal(means.shape[1:])
        noise = np.einsum("nij,nj->ni", chol[own, group.pattern], z)
        flat[group.flat] = means[own, np.arange(len(own))] + noise
    return out
