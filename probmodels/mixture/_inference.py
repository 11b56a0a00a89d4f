"""What a fitted Gaussian mixture answers: densities, posteriors, criteria, samples.

A mixin of :class:`~probmodels.mixture.GaussianMixture`, apart from the
fitting code (``_gmm.py``): every method works from the fitted attributes
(``weights_``, ``means_``, ``covariances_``, ``category_log_prob_``) and the
column types, on arrays, DataFrames of mixed columns, or Dask arrays.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from sklearn.utils.validation import check_is_fitted

from ..base import check_n_samples
from ._dask import is_dask_array
from ._gaussian import (
    component_logits,
    covariance_cholesky,
    full_precisions,
    n_parameters,
)
from ._observed import observed_conditionals, observed_log_prob
from ._self_masking import NEVER, self_masking_log_prob

__all__ = ["GaussianInference"]


class GaussianInference:
    """``score_samples``, ``predict_proba``, ``predict``, ``bic``, ``aic``, ``sample``."""

    def _component_log_prob(self, X):
        """``log pi_k + log N(x; mu_k, Sigma_k) (+ log pi_kj(x_j))`` per row of X."""
        check_is_fitted(self)
        return self._rows_log_prob(self._validate_X(X, reset=False))

    def _rows_log_prob(self, X):
        """:meth:`_component_log_prob` of validated rows."""
        if "mask_coef_" in self.__dict__:
            return self._self_masked_log_prob(X)
        if np.isnan(X.sum()):
            return self._observed_log_prob(X)
        # Any centre gives the same values; the mixture mean keeps the
        # quadratic expansion well conditioned.
        center = np.zeros(X.shape[1])
        center[: self.means_.shape[1]] = self.weights_ @ self.means_
        theta = self._natural_parameters(self._current_parameters(center))
        n_onehot = X.shape[1] - self.means_.shape[1]
        return component_logits(X, theta, self._covariance_type, center, n_onehot)

    def _self_masked_log_prob(self, X):
        """Component logits of what was seen, ``log w_k + log p_k(x_o, m)``.

        The fitted mask model's probability of each row's pattern of holes
        (``missing="mnar"``) joins the observed entries' density, so
        ``score``, ``bic`` and ``predict_proba`` are those of the likelihood
        the fit maximised.
        """
        log_w, means, prec = self._moments()
        logits, layout, X0, fills, covs = observed_conditionals(X, log_w, means, prec)
        mask = np.vstack([self.mask_intercept_, self.mask_coef_])
        return logits + self_masking_log_prob(X0, layout, fills, covs, mask)

    def _moments(self):
        """Log-weights, means and full (K, d, d) precisions of the fit."""
        k, d = self.means_.shape
        prec = full_precisions(self.precisions_, self._covariance_type, k, d)
        with np.errstate(divide="ignore"):
            log_w = np.log(self.weights_)
        return log_w, self.means_, prec

    def _fitted_category_log_probs(self) -> list:
        """``category_log_prob_``, or none for a model from 0.1.0 (numbers only)."""
        return self.__dict__.get("category_log_prob_") or []

    def _fitted_category_sizes(self) -> list[int]:
        """Categories of each column the fitted parameters are of.

        Read from the parameters, not the column types: a new fit has read
        the new data's types before its parameters replace these.
        """
        return [p.shape[1] for p in self._fitted_category_log_probs()]

    def _category_log_probs(self):
        log_probs = self._fitted_category_log_probs()
        return np.hstack(log_probs) if log_probs else None

    def _observed_log_prob(self, X):
        """Component logits of rows with missing entries: their observed density."""
        return observed_log_prob(X, *self._moments(), self._category_log_probs())

    # ------------------------------------------------------------ inference
    def score_samples(self, X):
        """Log-density of each row under the mixture, in nats (exact).

        Rows with missing entries score the density of their observed
        entries. A model fitted with ``missing="mnar"`` scores what was
        seen, observed values and holes: ``log p(x_o, m)``, the likelihood
        its fit maximised, with the mask model's probability of each
        row's holes (estimated with the fit's quasi-random nodes where a
        row has two holes or more; exact to quadrature with one).

        Parameters
        ----------
        X : array-like or Dask array of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            A lazy Dask array, computed chunk by chunk, for a Dask array.
        """
        if is_dask_array(X):
            return self._lazy(self.score_samples, X)
        check_is_fitted(self)
        rows = self._validate_X(X, reset=False)
        # Standardised dates: back to a density of the dates in seconds.
        jacobian = self._types.log_jacobian(rows[:, : self.means_.shape[1]])
        return logsumexp(self._rows_log_prob(rows), axis=1) + jacobian

    def predict_proba(self, X):
        """Posterior probability of each component for each row.

        Parameters
        ----------
        X : array-like or Dask array of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            A lazy Dask array for a Dask array.
        """
        if is_dask_array(X):
            return self._lazy(self.predict_proba, X, len(self.weights_))
        log_prob = self._component_log_prob(X)
        return np.exp(log_prob - logsumexp(log_prob, axis=1, keepdims=True))

    def predict(self, X):
        """Most likely component of each row.

        Parameters
        ----------
        X : array-like or Dask array of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            A lazy Dask array for a Dask array.
        """
        if is_dask_array(X):
            return self._lazy(self.predict, X).astype(np.int64)
        return self._component_log_prob(X).argmax(axis=1)

    def _lazy(self, method, X, n_columns=None):
        """``method`` over the chunks of a Dask array, checked up front."""
        from ._dask import map_rows, validate_dask_rows

        check_is_fitted(self)
        return map_rows(method, validate_dask_rows(self, X, reset=False), n_columns)

    def bic(self, X):
        """Bayesian information criterion on X (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        float
            ``-2 log L + n_parameters log n``.
        """
        n = _num_rows(X)
        return -2 * self.score(X) * n + self._n_parameters() * np.log(n)

    def aic(self, X):
        """Akaike information criterion on X (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        float
            ``-2 log L + 2 n_parameters``.
        """
        return -2 * self.score(X) * _num_rows(X) + 2 * self._n_parameters()

    def _n_parameters(self):
        k, d = self.means_.shape
        sizes = self._fitted_category_sizes()
        count = n_parameters(self._covariance_type, k, d, sizes)
        if "mask_coef_" in self.__dict__:  # two per column whose mask was fitted
            fitted = (self.mask_intercept_ != NEVER) | (self.mask_coef_ != 0)
            count += 2 * int(fitted.sum())
        return count

    def sample(
        self, n_samples=1, *, random_state=None, return_labels=False, given=None
    ):
        """Draw new rows from the fitted mixture, or from its conditional.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState, Generator or None, default=None
            None draws from the generator seeded at fit (consecutive calls
            differ); a value makes this call repeatable.
        return_labels : bool, default=False
            Also return the component each row was drawn from.
        given : dict or DataFrame, default=None
            Values some columns must take: a dict of column -> value (the
            same for every row), or a DataFrame of the given columns with
            one row per sample (``n_samples=len(given)``). Column names for
            a DataFrame fit, positions for an array fit; a category for a
            categorical column. The given columns equal these values and the
            others are drawn from the exact conditional p(rest | given):
            no rejection, so a rare condition costs what a common one does
            (``docs/user_guide/missing.rst``).

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, n_features)
            In the container the model was fitted on; rows in random order
            (not grouped by component).
        labels : ndarray of shape (n_samples,)
            Only with ``return_labels=True``.
        """
        rng = self._sampling_generator(random_state)
        n_samples = check_n_samples(n_samples)
        if given is not None:
            X, labels = self._sample_given(n_samples, given, rng)
            return (X, labels) if return_labels else X
        counts = rng.multinomial(n_samples, self.weights_ / self.weights_.sum())
        labels = rng.permutation(np.repeat(np.arange(len(self.weights_)), counts))
        z = rng.standard_normal((n_samples, self.means_.shape[1]))
        covariance_type = self._covariance_type
        chol = covariance_cholesky(self.covariances_, covariance_type)
        if covariance_type == "full":
            noise = np.einsum("nij,nj->ni", chol[labels], z)
        elif covariance_type == "tied":
            noise = z @ chol.T
        elif covariance_type == "diag":
            noise = z * chol[labels]
        else:
            noise = z * chol[labels][:, None]
        continuous = self.means_[labels] + noise
        codes = [
            _draw_categories(np.exp(log_prob[labels]), rng)
            for log_prob in self._fitted_category_log_probs()
        ]
        codes = np.column_stack(codes) if codes else None
        X = self._types.decode(continuous, codes, container=self._container)
        return (X, labels) if return_labels else X


def _draw_categories(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category per row from its probabilities, by the inverse CDF."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.uniform(size=(len(probs), 1)) * cdf[:, -1:]
    return np.minimum((cdf < u).sum(axis=1), probs.shape[1] - 1)


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)
