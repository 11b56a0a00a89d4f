"""Imputation by a generative model, as a scikit-learn transformer.

:class:`GenerativeImputer` fits a generative estimator on data with missing
entries and fills them from the model's p(missing | observed): the
conditional mean, or draws for multiple imputation. See
``docs/user_guide/missing.rst``.
"""

from __future__ import annotations

from numbers import Integral

from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

__all__ = ["GenerativeImputer"]


class GenerativeImputer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Fill missing entries (NaN) from a generative model of the table.

    A scikit-learn transformer: ``fit`` fits a clone of ``estimator`` on X,
    missing entries included (under missing at random, on each row's
    observed entries); ``transform`` replaces each NaN by the conditional
    mean of the missing entries given the observed ones, or by a draw from
    that conditional. It goes into ``Pipeline``s and grid searches
    (``estimator__n_components``), keeps DataFrames and their dtypes, and
    supports ``set_output``.

    Parameters
    ----------
    estimator : estimator, default=None
        A generative estimator with an ``impute`` method, fitted on data with
        NaN; None is ``GaussianMixture(n_components=5)`` (exact conditionals).
    method : {"mean", "draw"}, default="mean"
        "mean": the conditional mean (a categorical column gets its most
        probable category); "draw": one draw from the conditional.
    n_draws : int, default=1
        Completed tables that :meth:`multiple_imputations` returns (with
        ``method="draw"``): combine analyses over them by Rubin's rules.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has string column names.

    See Also
    --------
    sklearn.impute.IterativeImputer : Round-robin regression imputation.
    GaussianMixture.impute : The imputation behind the default estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from probmodels.impute import GenerativeImputer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=300)
    >>> X[::3, 1] = np.nan
    >>> filled = GenerativeImputer().fit_transform(X)
    >>> bool(np.isnan(filled).any())
    False
    """

    _parameter_constraints = {
        "estimator": [None, HasMethods(["fit", "impute"])],
        "method": [StrOptions({"mean", "draw"})],
        "n_draws": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, estimator=None, *, method="mean", n_draws=1):
        self.estimator = estimator
        self.method = method
        self.n_draws = n_draws

    def _make_estimator(self):
        if self.estimator is None:
            from .mixture import GaussianMixture

            return GaussianMixture(n_components=5, random_state=0)
        return clone(self.estimator)

    def fit(self, X, y=None):
        """Fit the generative model on X, missing entries included.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._validate_params()
        estimator = self._make_estimator().fit(X)
        self.estimator_ = estimator
        self.n_features_in_ = estimator.n_features_in_
        names = estimator.__dict__.get("feature_names_in_")
        if names is not None:
            self.feature_names_in_ = names
        elif "feature_names_in_" in self.__dict__:
            del self.feature_names_in_
        return self

    def transform(self, X):
        """X with its missing entries filled.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
            Observed entries unchanged.
        """
        check_is_fitted(self)
        return self.estimator_.impute(X, method=self.method)

    def multiple_imputations(self, X):
        """``n_draws`` completed copies of X, each filled by its own draws.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        list of ndarray or DataFrame
            ``n_draws`` tables; fit the analysis on each and pool the
            estimates by Rubin's rules (the docs show how).
        """
        check_is_fitted(self)
        if self.method != "draw":
            raise ValueError(
                "multiple_imputations draws from the conditional: set "
                "method='draw' (method='mean' gives the same table each time)."
            )
        return [self.estimator_.impute(X, method="draw") for _ in range(self.n_draws)]

    def set_output(self, *, transform=None):
        """Choose the container of :meth:`transform`'s output, as in scikit-learn.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            "pandas" returns DataFrames with the input's column names;
            "default" keeps the input's container; None leaves it unchanged.

        Returns
        -------
        self : GenerativeImputer
        """
        return super().set_output(transform=transform)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
