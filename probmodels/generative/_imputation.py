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

from .._conditioning import given_frame, overlay_missing
from ..columns import Encoded

__all__ = ["IMPUTE_DRAWS", "VAEImputation"]

#: Posterior draws per row behind each imputation (MIWAE's importance sample).
IMPUTE_DRAWS = 100

_METHODS = ("mean", "draw")


class VAEImputation:
    """``impute`` and ``sample(given=...)`` of the VAE, and its zero-filled rows."""

    def _zero_filled(self, rows: Encoded):
        """Scaled continuous columns with 0 where missing, and the mask (or None).

        The mask (1 where observed) is None for complete rows, so those are
        read exactly as a model without missing values reads them.
        """
        missing = np.isnan(rows.continuous)
        if not missing.any() and not (rows.codes < 0).any():
            return rows.continuous, None
        return np.where(missing, 0.0, rows.continuous), (~missing).astype(np.float32)

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
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
        rows = self._scaled(X)
        rng = self._sampling_generator(random_state)
        filled = self._importance_fill(rows, y, method == "draw", rng)
        return overlay_missing(X, self._decoded_rows(filled, X))

    def _importance_fill(self, rows, y, draw, rng):
        """Continuous columns (scaled) and codes of rows with their holes filled."""
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
        u, mask = self._zero_filled(rows)
        if mask is None:
            mask = np.ones_like(u, dtype=np.float32)
        codes = self._codes_or_none(rows)

        def block(module, u, c, eps, codes, mask, noise, uniform):
            return module.importance_fill(u, c, eps, codes, mask, noise, uniform, draw)

        arrays = [u, c, eps, codes, mask, noise, uniform]
        out = self._map_rows(block, arrays, self._row_bytes(k))
        continuous = np.where(np.isnan(rows.continuous), out[:, :d], rows.continuous)
        filled_codes = np.where(rows.codes < 0, out[:, d:].astype(np.int64), rows.codes)
        return Encoded(continuous, filled_codes)

    def _decoded_rows(self, filled: Encoded, X):
        """Filled scaled rows back on the data's scale, in the fitted columns."""
        values = self._scaler.inverse_transform(filled.continuous)
        types = self._types
        if types.is_plain and types.quantiles is None:
            return values
        index = getattr(X, "index", None)
        codes = filled.codes if filled.codes.shape[1] else None
        return types.decode(values, codes, index=index)

    def _sample_given(self, n_samples, given, y, random_state):
        """``sample(given=...)``: the query rows filled by importance resampling."""
        check_is_fitted(self, "module_")
        frame = given_frame(self, given, n_samples)
        if self.__dict__.get("feature_names_in_") is None:
            frame = frame.to_numpy(dtype=float)
        rows = self._scaled(frame)
        rng = self._sampling_generator(random_state)
        filled = self._importance_fill(rows, y, True, rng)
        out = overlay_missing(frame, self._decoded_rows(filled, frame))
        if self._container.kind == "dataframe" or not hasattr(out, "to_numpy"):
            return out
        return out.to_numpy()
