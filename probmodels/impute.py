"""Imputation by a generative model, as a scikit-learn transformer.

:class:`GenerativeImputer` fits a generative estimator on data with missing
entries and fills them from the model's p(missing | observed): the
conditional mean, or draws for multiple imputation. :func:`ampute` makes
the holes imputers are compared on: missing completely at random, at random
given other columns, or because of the value itself. See
``docs/user_guide/missing.rst``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .base import make_generator
from .utils.validation import check_table

__all__ = ["GenerativeImputer", "ampute"]

#: The holes :func:`ampute` makes.
MECHANISMS = ("mcar", "mar", "mnar_logistic", "mnar_above_mean")


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


def _logistic_intercepts(z: np.ndarray, rate: float) -> np.ndarray:
    """Per column, ``b`` with ``mean(sigmoid(z + b)) = rate`` (bisection).

    The mean is increasing in ``b``, so 60 halvings of [-60, 60] pin it to
    rounding; all columns at once.
    """
    lo, hi = np.full(z.shape[1], -60.0), np.full(z.shape[1], 60.0)
    for _ in range(60):
        mid = (lo + hi) / 2.0
        above = expit(z + mid).mean(axis=0) > rate
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    return (lo + hi) / 2.0


def ampute(X, rate=0.3, mechanism="mcar", *, observed_share=0.3, random_state=None):
    """Which entries of a complete table to remove, by a missingness mechanism.

    The masks of the imputation benchmarks (HyperImpute, Jarrett et al.,
    2022, whose MAR and MNAR masks follow Muzellec et al., 2020; not-MIWAE,
    Ipsen et al., 2021):

    - ``"mcar"``: each entry independently with probability ``rate``.
    - ``"mar"``: a share ``observed_share`` of the columns (at least one,
      drawn at random) is always observed; an entry of another column is
      missing with probability ``sigmoid(w'x_obs + b)``, the observed
      columns' values of its row times random weights (scaled so that
      ``w'x_obs`` has unit variance), with ``b`` set per column so that its
      mean probability is ``rate``. Missingness then depends only on
      observed values.
    - ``"mnar_logistic"``: self-masked: entry (i, j) is missing with
      probability ``sigmoid(s_j z_ij + b_j)``, ``z`` the column's
      standardised value and ``s_j = +-1`` at random, ``b_j`` set for
      ``rate``: the value itself decides.
    - ``"mnar_above_mean"``: not-MIWAE's protocol: in the first half of the
      columns (``n_features // 2``, at least one), every value above its
      column's mean is missing; ``rate`` is not used (about half of those
      columns' entries go).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The complete table (numbers; standardise it first for the MNAR
        masks to act alike on every column).
    rate : float in (0, 1), default=0.3
        The probability of a missing entry: over the whole table ("mcar"),
        over the columns that can go missing ("mar"), per column
        ("mnar_logistic").
    mechanism : {"mcar", "mar", "mnar_logistic", "mnar_above_mean"}, default="mcar"
    observed_share : float in (0, 1), default=0.3
        "mar": the share of columns always observed.
    random_state : int, RandomState, Generator or None, default=None

    Returns
    -------
    mask : ndarray of bool, shape (n_samples, n_features)
        True where the entry is to be removed: ``X[mask] = np.nan``.

    Examples
    --------
    >>> import numpy as np
    >>> from probmodels.impute import ampute
    >>> X = np.random.default_rng(0).normal(size=(1000, 4))
    >>> mask = ampute(X, 0.3, "mnar_logistic", random_state=0)
    >>> round(float(mask.mean()), 2)
    0.3
    """
    X = check_table(X, hint="ampute takes the complete table.")
    if mechanism not in MECHANISMS:
        raise ValueError(f"mechanism must be one of {list(MECHANISMS)}; got {mechanism!r}.")
    for name, value in (("rate", rate), ("observed_share", observed_share)):
        if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < 1:
            raise ValueError(f"{name} must be a float in (0, 1); got {value!r}.")
    rng = make_generator(random_state)
    n, d = X.shape
    mask = np.zeros((n, d), dtype=bool)
    if mechanism == "mcar":
        return rng.random((n, d)) < rate
    if mechanism == "mnar_above_mean":
        half = max(d // 2, 1)
        mask[:, :half] = X[:, :half] > X[:, :half].mean(axis=0)
        return mask
    sd = X.std(axis=0)
    z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    if mechanism == "mnar_logistic":
        linear = z * rng.choice([-1.0, 1.0], size=d)
        probability = expit(linear + _logistic_intercepts(linear, rate))
        return rng.random((n, d)) < probability
    if d < 2:
        raise ValueError("mechanism='mar' needs at least 2 columns: one stays observed.")
    n_observed = min(max(int(observed_share * d), 1), d - 1)
    observed = rng.choice(d, n_observed, replace=False)
    amputed = np.setdiff1d(np.arange(d), observed)
    weights = rng.standard_normal((n_observed, len(amputed)))
    linear = z[:, observed] @ weights
    linear /= np.where(linear.std(axis=0) > 0, linear.std(axis=0), 1.0)
    probability = expit(linear + _logistic_intercepts(linear, rate))
    mask[:, amputed] = rng.random((n, len(amputed))) < probability
    return mask
