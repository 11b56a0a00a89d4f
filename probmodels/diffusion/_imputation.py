"""The DDPM on rows with missing entries: imputation and conditioning by RePaint.

A DDPM trained on rows with holes (the denoising loss over observed
entries; :meth:`~probmodels.diffusion.GaussianDiffusion.loss`) fills them by
RePaint (Lugmayr et al., "RePaint: Inpainting using denoising diffusion
probabilistic models", CVPR 2022): the known entries follow the forward
process, the unknown ones the reverse one, with ``n_resample`` passes per
step. Approximate, unlike the mixture's exact conditionals; see
``docs/user_guide/missing.rst``.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._conditioning import (
    check_impute_method,
    complete_rows,
    in_container,
    query_rows,
)
from ..columns import Encoded
from ..nn import zero_filled

__all__ = ["IMPUTE_MEAN_DRAWS", "DDPMImputation"]

#: RePaint draws averaged by ``impute(method="mean")``.
IMPUTE_MEAN_DRAWS = 10


class DDPMImputation:
    """``impute`` and ``sample(given=...)`` of the DDPM."""

    def impute(self, X, *, method="draw", n_resample=10, y=None, random_state=None):
        """Fill each row's missing entries (NaN) by RePaint inpainting.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows of the fitted columns, NaN (None, NaT, pd.NA) where missing.
        method : {"draw", "mean"}, default="draw"
            "draw": one RePaint draw; "mean": the average of
            :data:`IMPUTE_MEAN_DRAWS` draws (for a categorical column the
            most frequent category among them).
        n_resample : int, default=10
            RePaint's resampling passes per timestep (1: none); the cost is
            ``n_timesteps * n_resample`` network evaluations per draw.
        y : label or array-like of shape (n_samples,), default=None
            Labels of a class-conditional model (the null label without).
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
        _check_resample(n_resample)
        rows = self._validate_X(X, reset=False)
        draws = 1 if method == "draw" else IMPUTE_MEAN_DRAWS
        filled = self._inpaint(rows, y, draws, n_resample, random_state)
        return complete_rows(self._types, *filled, X)

    def _inpaint(self, rows, y, n_draws, n_resample, random_state):
        """Continuous columns (data scale) and codes with the holes filled."""
        import torch

        n = len(rows)
        U = self._scaler.transform(rows.continuous)
        u0, mask = zero_filled(Encoded(U, rows.codes), always_mask=True)
        codes0 = self._codes_or_none(rows)
        labels = self._label_codes(y, n, missing=self._null_label)
        device = self._module_device()
        generator = self._torch_generator(random_state, device)
        clip = None
        if self.clip_denoised:
            clip = [self._to_tensor(b, device) for b in self._data_range]

        def tensor(a, dtype=None):
            a = np.tile(a, (n_draws,) + (1,) * (a.ndim - 1))
            if dtype is None:
                return self._to_tensor(a, device)
            return torch.as_tensor(a, dtype=dtype, device=device)

        x, codes = self.module_.inpaint(
            tensor(u0),
            tensor(mask),
            None if codes0 is None else tensor(codes0, torch.long),
            generator,
            n_resample=n_resample,
            labels=None if labels is None else tensor(np.asarray(labels), torch.long),
            clip=clip,
            variance_type=self.variance_type,
        )
        x = x.double().cpu().numpy().reshape(n_draws, n, -1)
        continuous = np.where(np.isnan(U), x.mean(axis=0), U)
        filled_codes = None
        if codes0 is not None:
            drawn = codes.cpu().numpy().reshape(n_draws, n, -1)
            # The most frequent category among the draws, column by column.
            mode = np.stack(
                [
                    (drawn[..., j, None] == np.arange(k)).sum(axis=0).argmax(axis=1)
                    for j, k in enumerate(self._types.category_sizes)
                ],
                axis=-1,
            )
            filled_codes = np.where(codes0 < 0, mode, codes0)
        return self._scaler.inverse_transform(continuous), filled_codes

    def _sample_given(self, n_samples, given, y, n_resample, random_state):
        """``sample(given=...)``: the query rows filled by RePaint."""
        _check_resample(n_resample)
        query = query_rows(self._types, given, n_samples)
        rows = self._validate_X(query, reset=False)
        filled = self._inpaint(rows, y, 1, n_resample, random_state)
        return in_container(complete_rows(self._types, *filled, query), self._container)


def _check_resample(n_resample):
    if isinstance(n_resample, bool) or not isinstance(n_resample, Integral):
        raise TypeError(f"n_resample must be a positive int; got {n_resample!r}.")
    if n_resample < 1:
        raise ValueError(f"n_resample must be at least 1; got {n_resample}.")
