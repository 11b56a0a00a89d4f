"""What the neural classifiers share: labels, validation, loss, prediction."""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_array, check_is_fitted

from ..base import atomic_fit
from ..nn import TorchEstimatorMixin
from ..utils.validation import (
    check_finite,
    check_numeric_array,
    ndim_of,
    non_numeric,
    validate_table,
)

__all__ = ["NeuralClassifierMixin"]

_NAN_HINT = "Impute them first, e.g. with SimpleImputer in a Pipeline."


class NeuralClassifierMixin(ClassifierMixin, TorchEstimatorMixin):
    """Fit, partial_fit, predict and predict_proba for a torch classifier.

    Subclasses provide ``_build_module(n_features, n_classes, ndim)``, a
    network that outputs one logit per class and whose ``loss`` is the
    cross-entropy of its softmax (:class:`~probmodels.nn.modules.
    ClassificationLoss`), and may accept 3-D input by setting
    ``_allow_3d = True``.
    """

    _allow_3d = False

    @atomic_fit
    def fit(self, X, y):
        """Train the network on X and labels y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features (3-D ``(n_samples, seq_len, n_features)`` where
            the estimator accepts sequences).
        y : array-like of shape (n_samples,)
            Class labels of any type (ints, strings).

        Returns
        -------
        self
        """
        return self._fit(X, y, partial=False, classes=None)

    @atomic_fit
    def partial_fit(self, X, y, classes=None):
        """One more epoch over (X, y), continuing the network and optimiser.

        The learning rate is constant across calls (there is no horizon to
        anneal over) and no validation split is made.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like, default=None
            All labels that may appear; required on the first call.

        Returns
        -------
        self
        """
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the "
                "network's output layer needs every label up front."
            )
        return self._fit(X, y, partial=True, classes=classes)

    # --------------------------------------------------------------- fit
    _min_classes = 2

    def _fit(self, X, y, partial, classes):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        self._fit_network(X, y, partial=partial, classes=classes)
        return self

    def _network_shapes(self, X, codes):
        return {
            "n_features": X.shape[-1],
            "n_classes": len(self.classes_),
            "ndim": X.ndim,
        }

    # -------------------------------------------------------- validation
    def _validate_training_rows(self, X, reset):
        return self._validated(X, reset)

    def _validate_X(self, X):
        check_is_fitted(self, "module_")
        return self._validated(X, reset=False)

    def _validated(self, X, reset):
        """Rows (or sequences) as float32, every check naming the culprit."""
        ndim = ndim_of(X)
        if not reset:
            self._check_ndim(ndim)
        if not (self._allow_3d and ndim >= 3):
            values = validate_table(
                self, X, reset=reset, dtype=np.float32, hint=_NAN_HINT
            )
            if reset:
                self._input_ndim = 2
            return values
        if ndim > 3:
            raise ValueError(
                "X must be 2-D rows (n_samples, n_features) or 3-D sequences "
                f"(n_samples, seq_len, n_features); got shape {np.shape(X)}."
            )
        check_numeric_array(X)
        try:
            values = check_array(
                X, allow_nd=True, dtype=np.float32, ensure_all_finite=False
            )
        except ValueError as err:
            raise non_numeric(err) from None
        if 0 in values.shape[1:]:
            raise ValueError(
                f"X holds sequences of shape {values.shape[1:]}; each needs at "
                "least one step with at least one feature."
            )
        self._check_sequence_features(values, reset)
        check_finite(values, hint=_NAN_HINT, source=X)
        return values

    def _check_ndim(self, ndim):
        """Rows for a model fitted on rows, sequences for one on sequences."""
        if ndim in (2, 3) and ndim != self._input_ndim:
            fitted = (
                "3-D sequences (n_samples, seq_len, n_features)"
                if self._input_ndim == 3
                else "2-D rows (n_samples, n_features)"
            )
            raise ValueError(
                f"This model was fitted on {fitted}; pass X of that shape, not {ndim}-D."
            )

    def _check_sequence_features(self, X, reset):
        if reset:
            self.n_features_in_ = X.shape[-1]
            self._input_ndim = 3
        elif X.shape[-1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[-1]} features per step, but {type(self).__name__} "
                f"was fitted on sequences with {self.n_features_in_} features per step."
            )

    # --------------------------------------------------------- inference
    def predict_proba(self, X):
        """Class probabilities (softmax of the network's logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        X = self._validate_X(X)
        return softmax(self._forward_numpy(X).astype(np.float64), axis=1)

    def score(self, X, y, sample_weight=None):
        """Accuracy of :meth:`predict` on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
            Fraction of rows classified correctly (weighted).
        """
        return super().score(X, y, sample_weight=sample_weight)

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        X = self._validate_X(X)
        return self.classes_[self._forward_numpy(X).argmax(axis=1)]
