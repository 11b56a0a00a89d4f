"""What the neural generative models (VAE, DDPM) share, written once.

- :class:`Standardizer`: per-feature scaling of the inputs, with the
  log-Jacobian that puts a density of the scaled data back on the original
  scale: ``log p_x(x) = log p_u((x - m) / s) - sum_j log s_j``.
- :class:`NeuralGenerativeMixin`: the generative contract on top of
  :class:`~probmodels.nn._base.TorchEstimatorMixin`: a ``torch.Generator``
  for ``sample`` made from the fitted numpy stream (or a per-call seed),
  Monte Carlo draws keyed on each row (so ``score_samples`` of a row is a
  function of that row), chunked inference over rows, input validation and
  the labels of a conditional model.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..base import (
    GenerativeMixin,
    child_seed,
    fitted_column_types,
)
from ..columns import ColumnTypes, Encoded
from ..utils.chunks import iter_row_chunks
from ..utils.validation import check_rows_observed, check_squares, validate_features
from ._base import TorchEstimatorMixin
from ._labels import label_codes

__all__ = ["NeuralGenerativeMixin", "Standardizer", "has_missing", "zero_filled"]

_NAN_HINT = "Impute them first, e.g. with SimpleImputer in a Pipeline."


def zero_filled(rows, always_mask: bool = False):
    """Continuous columns with 0 where missing, and the mask of observed entries.

    The networks read rows with missing entries so (MIWAE's zero-filled
    input; the denoising loss over observed entries).

    Parameters
    ----------
    rows : Encoded
    always_mask : bool, default=False
        Give a mask of ones for complete rows too (else None for them, so
        complete rows travel as they did before missing values).

    Returns
    -------
    values : ndarray of shape (n_rows, n_continuous)
    mask : ndarray of shape (n_rows, n_continuous) or None
        1.0 where observed.
    """
    missing = np.isnan(rows.continuous)
    if not always_mask and not has_missing(rows):
        return rows.continuous, None
    return np.where(missing, 0.0, rows.continuous), (~missing).astype(np.float64)


def has_missing(rows) -> bool:
    """Whether encoded rows hold a missing entry (NaN, or category code -1).

    Parameters
    ----------
    rows : Encoded

    Returns
    -------
    bool
    """
    return bool(np.isnan(rows.continuous.sum()) or (rows.codes < 0).any())


@dataclass(frozen=True)
class Standardizer:
    """``u = (x - mean) / scale`` per feature, and back.

    Parameters
    ----------
    mean : ndarray of shape (n_features,)
    scale : ndarray of shape (n_features,)
        Positive; a constant column gets 1, so it maps to 0 rather than to a
        division by zero.
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, center: bool = True, scale: bool = True):
        """Mean and standard deviation of each column of X.

        A column is constant when its variance is within the rounding error
        of computing it (the bound of Chan, Golub and LeVeque's two-pass
        algorithm, the test of scikit-learn's ``StandardScaler``), relative
        to the data, so a column of values near 1e-13 is scaled like any
        other. A constant column keeps scale 1.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            NaN marks a missing entry: each column's moments are then those
            of its observed entries.
        center, scale : bool, default=True
            False keeps that part the identity (data already in [0, 1] for a
            Bernoulli likelihood, say).

        Returns
        -------
        Standardizer
        """
        n, d = X.shape
        if np.isnan(X.sum()):  # missing entries: the moments of what was observed
            n = np.maximum((~np.isnan(X)).sum(axis=0), 1)
            mean_of, var_of = np.nanmean, np.nanvar
        else:
            mean_of, var_of = np.mean, np.var
        mean = mean_of(X, axis=0) if center else np.zeros(d)
        if not scale:
            return cls(mean, np.ones(d))
        var = var_of(X, axis=0)
        eps = np.finfo(np.float64).eps
        constant = var <= n * eps * var + (n * mean_of(X, axis=0) * eps) ** 2
        return cls(mean, np.where(constant, 1.0, np.sqrt(var)))

    def transform(self, X):
        """Scaled rows ``(X - mean) / scale``."""
        return (X - self.mean) / self.scale

    def inverse_transform(self, U):
        """Rows on the original scale, ``U * scale + mean``."""
        return U * self.scale + self.mean

    @property
    def log_jacobian(self) -> float:
        """``log |du/dx| = -sum_j log scale_j``: add it to a scaled density."""
        return float(-np.log(self.scale).sum())

    def row_log_jacobian(self, X: np.ndarray) -> np.ndarray:
        """:attr:`log_jacobian` of each row, over its observed columns only.

        A row with missing entries is scored by the density of what was
        observed, so only those columns' scales enter its Jacobian.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_columns)
            NaN where an entry is missing.

        Returns
        -------
        ndarray of shape (n_rows,)
        """
        log_scale = np.log(self.scale)
        if not np.isnan(X.sum()):
            return np.full(len(X), -log_scale.sum())
        return -(~np.isnan(X) * log_scale).sum(axis=1)


class NeuralGenerativeMixin(GenerativeMixin, TorchEstimatorMixin):
    """The sample / score contract for estimators that train a torch module.

    ``fit`` calls :meth:`_fit_generative`, which commits the container, the
    sampling stream and the ``_score_seed`` that keys the scores' draws.
    """

    _labels_hint = "Call fit(X) for an unconditional model."

    #: Whether the model fits and scores rows with missing entries (NaN).
    _takes_missing = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._takes_missing
        return tags

    def _fit_generative(self, X, y):
        """The fit both models share: the one fit template, then the contract.

        :meth:`~probmodels.nn._base.TorchEstimatorMixin._fit_network`
        validates, scales (``_make_scaler``; kept when continuing), trains
        and commits the network; then the scores' seed and the sampling
        stream are committed, with the container of X for ``sample``'s
        output. A failure changes nothing (``fit`` is wrapped in
        ``atomic_fit``).

        Returns
        -------
        NetworkFit
        """
        fitted = self._fit_network(X, y)
        self._score_seed = fitted.seeds.score
        self._commit_generative_state(fitted.generative)
        return fitted

    def _fit_streams(self, X, random_state):
        """The fit's generator and the container and sampling stream to commit."""
        return self._generative_state(X, random_state)

    def _validate_training_rows(self, X, reset):
        return self._validate_X(X, reset=reset)

    def _network_input(self, X, continuing):
        """The continuous columns scaled (by the fitted scaler or a new one)."""
        if not continuing:
            self._scaler = self._make_scaler(X.continuous)
        return Encoded(self._scaler.transform(X.continuous), X.codes)

    def _make_scaler(self, X):
        """Per-column standardisation of the training rows."""
        return Standardizer.fit(X)

    def _network_shapes(self, X, codes):
        """The continuous columns, the categories and the classes.

        Rows with missing entries also give the network the masks of what
        was observed (``missing_inputs``).
        """
        shapes = super()._network_shapes(X.continuous, codes)
        sizes = self._types.category_sizes
        if sizes:
            shapes = {**shapes, "category_sizes": tuple(sizes)}
        if has_missing(X):
            shapes = {**shapes, "missing_inputs": True}
        return shapes

    def _training_batch(self, rows, codes, device):
        """Scaled continuous columns in ``x``, category codes in ``codes``.

        Missing entries: ``x`` holds 0 there and ``mask`` 1 where observed;
        a missing category is code -1.
        """
        import torch

        values, mask = zero_filled(rows)
        batch = super()._training_batch(values, codes, device)
        if mask is not None:
            batch = dataclasses.replace(batch, mask=self._to_tensor(mask, device))
        if not rows.codes.shape[1]:
            return batch
        tensor = self._to_tensor(rows.codes, device, dtype=torch.long)
        return dataclasses.replace(batch, codes=tensor)

    @property
    def _types(self) -> ColumnTypes:
        """The fitted column types (all continuous for a model from 0.1.0)."""
        return fitted_column_types(self)

    def _codes_or_none(self, encoded):
        """The category codes of encoded rows, or None without categorical columns."""
        return encoded.codes if encoded.codes.shape[1] else None

    def _torch_generator(self, random_state, device):
        """A ``torch.Generator`` for one ``sample`` call.

        Seeded from the generator made at fit (so consecutive calls differ and
        a seeded script repeats) or from ``random_state`` (so this call
        repeats). torch's global generator is never used.
        """
        import torch

        rng = self._sampling_generator(random_state)
        return torch.Generator(device=device).manual_seed(child_seed(rng))

    def _row_noise(self, *arrays, shape):
        """Standard normal draws of ``shape`` for each row, keyed on the row.

        The draws of a row come from a Philox stream keyed on the fitted
        ``_score_seed`` and a hash of the row's values, so a Monte Carlo score
        depends on the row alone: the same row gets the same score whatever
        else is scored with it (scikit-learn's subset and order invariance),
        and different rows get independent draws.

        Parameters
        ----------
        *arrays : ndarray or None
            Row-aligned inputs whose values key the draws.
        shape : tuple of int
            Draws per row.

        Returns
        -------
        ndarray of shape (n_rows, *shape), float32
        """
        parts = [np.ascontiguousarray(a) for a in arrays if a is not None]
        out = np.empty((len(parts[0]), *shape), dtype=np.float32)
        for i in range(len(out)):
            digest = hashlib.blake2b(digest_size=8)
            for part in parts:
                digest.update(part[i].tobytes())
            key = [int.from_bytes(digest.digest(), "little"), self._score_seed]
            rng = np.random.Generator(np.random.Philox(key=key))
            out[i] = rng.standard_normal(shape, dtype=np.float32)
        return out

    def _module_device(self):
        return next(self.module_.parameters()).device

    def _map_rows(self, fn, arrays, bytes_per_row, float64=True, module=None):
        """``fn(module, *block)`` over blocks of rows, in eval mode, no gradients.

        Parameters
        ----------
        fn : callable
            ``fn(module, *tensors) -> tensor`` for one block of rows; tensors
            are on the module's device (``None`` stays ``None``).
        arrays : sequence of ndarray, torch.Tensor or None
            Row-aligned inputs (tensors are used where they are).
        bytes_per_row : int
            Temporaries ``fn`` makes per row, to size the blocks.
        float64 : bool, default=True
            Run a float64 copy of the network: a row's result then does not
            depend, even in the last float32 digit, on how many rows share its
            block (BLAS blocks by size), and Monte Carlo bounds sum in double
            precision. False runs the float32 network itself (sampling).
        module : torch.nn.Module, default=None
            The network to run; None is the fitted ``module_``.

        Returns
        -------
        ndarray
            The blocks' outputs, concatenated along the rows, as float64.
        """
        import torch

        module = self.module_ if module is None else module
        device = next(module.parameters()).device
        dtype = torch.float64 if float64 else torch.float32
        module = copy.deepcopy(module).to(dtype) if float64 else module
        n = len(arrays[0])
        was_training = module.training
        module.eval()
        outputs = []
        try:
            with torch.inference_mode():
                for rows in iter_row_chunks(n, 2 * bytes_per_row):
                    block = [_block(self, a, rows, device, dtype) for a in arrays]
                    outputs.append(fn(module, *block).double().cpu().numpy())
        finally:
            module.train(was_training)
        return np.concatenate(outputs)

    def _validate_X(self, X, reset):
        """The rows as continuous values and category codes, validated.

        A table's column types are read at fit (``categorical_features``)
        and used after; a numeric array is all continuous. Continuous
        values whose squares overflow float64 are refused, as the mixture
        refuses them: their variance (the scaling) would be infinite.

        Returns
        -------
        Encoded
        """
        allow_nan = self._takes_missing
        if not reset:
            check_is_fitted(self, "module_")
            validate_features(self, X, reset=False)
            encoded = self._types.encode(X, hint=_NAN_HINT, allow_nan=allow_nan)
        else:
            self._columns, encoded = ColumnTypes.fit(
                X,
                getattr(self, "categorical_features", "from_dtype"),
                hint=_NAN_HINT,
                quantile_transform=getattr(self, "quantile_transform", False),
                allow_nan=allow_nan,
            )
            validate_features(self, X, reset=True)
            check_squares(
                encoded.continuous, "in the per-column variances that scale them"
            )
        if allow_nan and has_missing(encoded):
            values = encoded.continuous
            if encoded.codes.shape[1]:
                missing_codes = np.where(encoded.codes < 0, np.nan, 0.0)
                values = np.hstack([values, missing_codes])
            check_rows_observed(values, getattr(X, "index", None))
        self._check_values(encoded)
        return encoded

    def _check_values(self, X):
        """Model-specific checks of validated rows (none by default)."""

    def _label_codes(self, y, n_rows, missing=None):
        """Label codes for n rows of a fitted model, or None without labels.

        ``y`` may be one label or one per row. For a conditional model given
        no labels, ``missing(n_rows)`` supplies them (None: no labels).
        """
        check_is_fitted(self, "module_")
        if self.classes_ is None:
            if y is not None:
                raise ValueError(
                    f"y was given, but this {type(self).__name__} was fitted without "
                    "labels. Fit it with fit(X, y) to condition on labels, or leave "
                    "y out."
                )
            return None
        if y is None:
            return None if missing is None else missing(n_rows)
        return label_codes(y, self.classes_, n_rows)


def _block(estimator, array, rows, device, dtype):
    """Rows of one input of ``_map_rows`` as a tensor on ``device``.

    Integer arrays (category codes, class codes) stay integers (long);
    the others take ``dtype``.
    """
    import torch

    if array is None:
        return None
    if torch.is_tensor(array):
        kind = dtype if array.is_floating_point() else array.dtype
        return array[rows].to(device, kind)
    if np.asarray(array[:0]).dtype.kind in "iu":
        dtype = torch.long
    return estimator._to_tensor(array[rows], device, dtype)
