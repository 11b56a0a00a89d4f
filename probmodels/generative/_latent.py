"""The VAE's latent space as a scikit-learn transformer.

``transform`` gives posterior means ``E_q[z | x]``, ``inverse_transform``
decoded means ``E[x | z]``; with labels or without (then averaged over the
labels, by their posterior weights or by ``class_prior_``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from ..nn import zero_filled

__all__ = ["VAELatent"]


class VAELatent(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """``transform`` / ``inverse_transform`` of :class:`~probmodels.VAE`.

    A subclass of scikit-learn's ``TransformerMixin`` itself, because
    ``set_output`` wraps only the ``transform`` of the class that defines it.
    """

    def transform(self, X, y=None):
        """Posterior means ``E_q[z | x]``: the rows in latent space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or label, default=None
            Labels of a conditional VAE. Without them, the means under each
            label are averaged with the labels' posterior weights
            ``p(y | x)`` estimated from the ELBOs.

        Returns
        -------
        ndarray of shape (n_samples, latent_dim)
        """
        rows = self._scaled(X)
        c = self._labels(y, len(rows))

        def encode(rows, c):
            u, mask = zero_filled(rows)
            arrays = [u, c, self._codes_or_none(rows), mask]
            return self._map_rows(_encode, arrays, self._row_bytes())

        if self.classes_ is None or c is not None:
            return encode(rows, c)
        weights = softmax(
            self._per_class(self._bound, rows) + np.log(self.class_prior_), axis=1
        )
        return np.einsum("nk,nkd->nd", weights, self._per_class(encode, rows))

    def inverse_transform(self, Z, y=None):
        """Decoded means ``E[x | z]`` on the original scale.

        Parameters
        ----------
        Z : array-like of shape (n_samples, latent_dim)
        y : array-like of shape (n_samples,) or label, default=None
            Labels of a conditional VAE; without them, the mean of the mixture
            over labels, ``sum_y p(y) E[x | z, y]``.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self, "module_")
        Z = check_array(Z, dtype=np.float64)
        if Z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Z has {Z.shape[1]} columns but this VAE's latent space has "
                f"latent_dim={self.latent_dim}."
            )
        c = self._labels(y, len(Z))
        sizes = self._types.category_sizes

        def decode(Z, c):
            return self._map_rows(_decode, [Z, c], self._row_bytes())

        if self.classes_ is None or c is not None:
            out = decode(Z, c)
        else:
            out = np.einsum("k,nkd->nd", self.class_prior_, self._per_class(decode, Z))
        d = out.shape[1] - sum(sizes)
        means = self._scaler.inverse_transform(out[:, :d])
        if self._types.is_plain:
            return means
        blocks = np.split(out[:, d:], np.cumsum(sizes)[:-1], axis=1) if sizes else []
        codes = np.column_stack([b.argmax(axis=1) for b in blocks]) if sizes else None
        return self._types.decode(means, codes)

    def set_output(self, *, transform=None):
        """Choose the container of :meth:`transform`'s output, as in scikit-learn.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            "pandas" returns DataFrames with columns ``vae0, vae1, ...``;
            "default" returns arrays; None leaves the setting unchanged.

        Returns
        -------
        self : VAE
        """
        return super().set_output(transform=transform)

    @property
    def _n_features_out(self):
        return self.latent_dim


def _encode(module, u, c, codes, mask=None):
    return module(u, c, codes, mask)


def _decode(module, z, c):
    """The continuous columns' means, then every column's category logits."""
    import torch

    loc, _, logits = module.decode(z, c)
    if module.likelihood == "bernoulli":
        loc = torch.sigmoid(loc)
    return torch.cat([loc, *logits], dim=-1)
