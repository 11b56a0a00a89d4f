"""The VAE on rows with missing entries: the network's view, imputation, conditioning.

A VAE fitted on rows with holes (the MIWAE bound; ``_network.py``) fills
them by self-normalised importance sampling over its posterior draws
(Mattei and Frellsen, "MIWAE: Deep generative modelling and imputation of
incomplete data sets", ICML 2019, section 3.3): approximate, unlike the
mixture's exact conditionals, and better with more draws
(:data:`IMPUTE_DRAWS` per row). See ``docs/user_guide/missing.rst``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from sklearn.utils.validation import check_is_fitted

from .._conditioning import (
    check_impute_method,
    complete_rows,
    in_container,
    query_rows,
)
from ..columns import Encoded
from ..nn import zero_filled

__all__ = ["IMPUTE_DRAWS", "VAEImputation"]

#: Posterior draws per row behind each imputation (MIWAE's importance sample).
IMPUTE_DRAWS = 100


class VAEImputation:
    """``impute`` and ``sample(given=...)`` of the VAE."""

    def impute(self, X, *, method="draw", y=None, random_state=None):
        """Fill each row's missing entries (NaN) from p(missing | observed).

        By importance resampling over :data:`IMPUTE_DRAWS` posterior draws per
        row (MIWAE, Mattei and Frellsen, 2019, section 3.3): approximate.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows of the fitted columns, NaN (None, NaT, pd.NA) where missing.
        method : {"draw", "mean"}, default="draw"
            "draw": one draw from the approximate conditional; "mean": its
            mean (for a categorical column, its most probable category).
        y : label or array-like of shape (n_samples,), default=None
            Labels of a conditional VAE. Without them each row takes the
            label most probable given its observed entries ("mean"), or one
            drawn from that posterior ("draw").
        random_state : int, RandomState, Generator or None, default=None
            None draws from the generator seeded at fit; a value makes the
            call repeatable.

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
            X with the missing entries filled and the observed ones as they
            were, in X's container.
        """
        check_is_fitted(self, "module_")
        check_impute_method(method)
        rows = self._scaled(X)
        rng = self._sampling_generator(random_state)
        filled = self._importance_fill(rows, y, method == "draw", rng, holes=True)
        return self._completed(filled, X)

    def _importance_fill(self, rows, y, draw, rng, holes=False):
        """Continuous columns (scaled) and codes of rows with their holes filled.

        ``holes``: the NaN went missing under the fitted mask model
        (``missing="mnar"``), which then weighs the draws; the query rows of
        ``sample(given=...)`` are not holes.
        """
        c = self._labels(y, len(rows))
        if self.classes_ is not None and c is None:
            posterior = softmax(
                self._per_class(self._bound, rows) + np.log(self.class_prior_), axis=1
            )
            if draw:
                cdf = np.cumsum(posterior, axis=1)
                u = rng.uniform(size=(len(cdf), 1)) * cdf[:, -1:]
                label = np.minimum((cdf < u).sum(axis=1), posterior.shape[1] - 1)
            else:
                label = posterior.argmax(axis=1)
            c = self._one_hot(label)
        n, k = len(rows), IMPUTE_DRAWS
        d, n_cat = rows.continuous.shape[1], rows.codes.shape[1]
        eps = rng.standard_normal((n, k, self.latent_dim), dtype=np.float32)
        noise = rng.standard_normal((n, d), dtype=np.float32)
        if self.likelihood == "bernoulli":
            noise = rng.uniform(size=(n, d)).astype(np.float32)
        uniform = rng.uniform(size=(n, 1 + n_cat)).astype(np.float32)
        x_noise = None
        if holes and getattr(self.module_, "self_masking", False):
            x_noise = rng.standard_normal((n, k, d), dtype=np.float32)
        u, mask = zero_filled(rows, always_mask=True)
        codes = self._codes_or_none(rows)

        def block(module, u, c, eps, codes, mask, noise, uniform, x_noise):
            return module.importance_fill(
                u, c, eps, codes, mask, noise, uniform, draw, x_noise
            )

        arrays = [u, c, eps, codes, mask, noise, uniform, x_noise]
        out = self._map_rows(block, arrays, self._row_bytes(k))
        continuous = np.where(np.isnan(rows.continuous), out[:, :d], rows.continuous)
        filled_codes = np.where(rows.codes < 0, out[:, d:].astype(np.int64), rows.codes)
        return Encoded(continuous, filled_codes)

    def _completed(self, filled: Encoded, X):
        """Filled scaled rows back on the data's scale, X's observed entries kept."""
        values = self._scaler.inverse_transform(filled.continuous)
        codes = filled.codes if filled.codes.shape[1] else None
        return complete_rows(self._types, values, codes, X)

    def _sample_given(self, n_samples, given, y, random_state):
        """``sample(given=...)``: the query rows filled by importance resampling."""
        check_is_fitted(self, "module_")
        query = query_rows(self._types, given, n_samples)
        rows = self._scaled(query)
        rng = self._sampling_generator(random_state)
        filled = self._importance_fill(rows, y, True, rng)
        return in_container(self._completed(filled, query), self._container)
