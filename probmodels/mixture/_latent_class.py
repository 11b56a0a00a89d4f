"""LatentClassMixture: a mixture whose columns have their own shapes.

Within each of ``K`` latent classes every column is independent and has a
one-dimensional distribution that fits its kind (Goodman, 1974; the
"shallow mixture" row of the tabular-generation benchmarks):

    p(x) = sum_k w_k prod_j p_kj(x_j),

a categorical distribution for a categorical column, and for a number
column the histogram with exact atoms of :class:`~._bins.ColumnBins`:
``p_kj(x) = (1 - eps_j) P_kj(state(x)) base_j(x)`` inside the training
range, a tail shared by all classes outside it. Dependence between columns
comes from the class alone. Every column being a categorical distribution
over its states, EM is exact and cheap: with ``M`` the sparse one-hot
matrix of the rows' states, the E-step is ``log w + M @ log P`` and the
M-step ``P ~ M^T R`` (Dirichlet-smoothed), one sparse product each.

Missing entries are left out of their row's product (missing at random):
scores are densities of what was observed, and ``impute`` and
``sample(given=...)`` draw from the exact conditional
``p(x_m | x_o) = sum_k r_k(x_o) prod_{j in m} p_kj(x_j)``.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._conditioning import check_impute_method, complete_rows, in_container, query_rows
from ..base import (
    GenerativeMixin,
    atomic_fit,
    check_n_samples,
    fitted_column_types,
    validate_params,
)
from ..columns import ColumnTypes
from ..columns._numbers import IntegerColumn
from ..exceptions import ConvergenceWarning
from ..utils.validation import check_rows_observed, validate_features
from ._bins import ColumnBins, TableStates, bins_state
from ._inference import _draw_categories

__all__ = ["LatentClassMixture"]


class LatentClassMixture(GenerativeMixin, BaseEstimator):
    """Latent class model with a histogram per number column and class.

    ``p(x) = sum_k w_k prod_j p_kj(x_j)``: within each class the columns are
    independent, each with a one-dimensional distribution of its own kind,
    so spikes, integers and skew are kept exactly where a Gaussian per
    component smears them. A categorical column gets a categorical
    distribution per class; a number column (integers and dates included)
    a histogram per class over shared states: values that ``1 / n_bins`` of
    the training rows share are exact atoms, the rest fall into at most
    ``n_bins`` quantile bins, uniform within each (over the non-atom
    integers of an integer column), and tails beyond the training range
    hold ``2 / (n + 1)`` of the mass. Fitted by EM on sparse one-hot
    statistics, which hundreds of classes afford; ``docs/user_guide/tables.rst``
    has the maths and the measurements on Adult.

    Parameters
    ----------
    n_components : int, default=300
        Latent classes.
    n_bins : int, default=256
        Bins per number column at most; values shared by at least
        ``1 / n_bins`` of the rows are atoms besides.
    smoothing : float, default=0.01
        Dirichlet pseudo-count added to every state of every class in the
        M-step (a MAP estimate), so a state a class never saw keeps a
        little probability; 0 gives maximum likelihood.
    max_iter : int, default=200
    tol : float, default=1e-4
        EM stops when the mean log-likelihood gains less than this.
    n_init : int, default=1
        Random initialisations; the best fit is kept.
    categorical_features : "from_dtype", array-like or None, default="from_dtype"
        Which columns are categorical, as for the other models
        (``docs/user_guide/tables.rst``): "from_dtype" reads category,
        object, string and bool columns as categorical.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the initialisation; :meth:`sample` draws from a generator
        seeded from it.
    verbose : int, default=0

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    state_log_prob_ : list of ndarray of shape (n_components, n_states_j)
        Per column, each class's log-probability of each state (a number
        column's atoms then bins; a categorical column's categories).
    bins_ : list of ColumnBins
        The states of each number column.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood of the training rows' states (without the
        bins' base measures) at the end of EM.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> from probmodels import LatentClassMixture
    >>> from probmodels.datasets import load_adult
    >>> adult = load_adult()
    >>> model = LatentClassMixture(20, random_state=0).fit(adult)
    >>> model.sample(3, random_state=0).shape
    (3, 15)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "smoothing": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "categorical_features": "no_validation",
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=300,
        n_bins=256,
        *,
        smoothing=0.01,
        max_iter=200,
        tol=1e-4,
        n_init=1,
        categorical_features="from_dtype",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.n_bins = n_bins
        self.smoothing = smoothing
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.categorical_features = categorical_features
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    # ----------------------------------------------------------------- fit
    @atomic_fit
    def fit(self, X, y=None):
        """Fit the classes by EM.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            NaN (None, NaT, pd.NA) where an entry is missing.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        validate_params(self)
        fit_rng, generative = self._generative_state(X, self.random_state)
        self._columns, encoded = ColumnTypes.fit(
            X,
            self.categorical_features,
            allow_nan=True,
            ensure_min_samples=2,
        )
        validate_features(self, X, reset=True)
        if len(encoded.continuous) < self.n_components:
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {len(encoded.continuous)}."
            )
        self._bin_states = [
            bins_state(ColumnBins.fit(col[~np.isnan(col)], self.n_bins, integer))
            for col, integer in zip(
                encoded.continuous.T, self._integer_columns(), strict=True
            )
        ]
        states = self._table().encode(encoded)[0]
        check_rows_observed(np.where(states < 0, np.nan, 0.0), getattr(X, "index", None))
        table = self._table()
        onehot, starts = table.onehot(states), table.starts
        best = None
        for _ in range(self.n_init):
            run = self._em(onehot, starts, fit_rng)
            if best is None or run[2] > best[2]:
                best = run
        log_w, log_p, bound, converged, n_iter = best
        if not converged and self.max_iter > 0:
            warnings.warn(
                "EM did not converge. Increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.weights_ = np.exp(log_w)
        self.state_log_prob_ = [
            log_p[a:b].T.copy() for a, b in zip(starts[:-1], starts[1:], strict=True)
        ]
        self.lower_bound_, self.converged_, self.n_iter_ = bound, converged, n_iter
        self._commit_generative_state(generative)
        return self

    def _em(self, onehot, starts, rng):
        """One EM run from random responsibilities: (log w, log P, bound, ...)."""
        n, K = onehot.shape[0], self.n_components
        resp = rng.dirichlet(np.ones(K), size=n)
        log_w, log_p = self._m_step(onehot, resp, starts)
        bound, converged, n_iter = -np.inf, False, 0
        for n_iter in range(1, self.max_iter + 1):
            resp, new = _responsibilities(log_w + onehot @ log_p)
            log_w, log_p = self._m_step(onehot, resp, starts)
            if self.verbose >= 2:
                print(f"  iteration {n_iter}: mean log-likelihood {new:.5f}")
            if new - bound < self.tol:
                bound, converged = new, True
                break
            bound = new
        return log_w, log_p, bound, converged, n_iter

    def _m_step(self, onehot, resp, starts):
        """Class weights and Dirichlet-smoothed state probabilities, in logs.

        ``starts`` are the offsets of each column's states in ``onehot``'s
        columns (:attr:`~._bins.TableStates.starts`): each column's block is normalised
        over its own states, all blocks in one ``reduceat``.
        """
        nk = resp.sum(axis=0)
        log_w = np.log(nk / nk.sum() + 1e-300)
        counts = np.asarray(onehot.T @ resp) + self.smoothing  # (total states, K)
        totals = np.add.reduceat(counts, starts[:-1], axis=0)  # (columns, K)
        log_p = np.log(counts) - np.repeat(np.log(totals), np.diff(starts), axis=0)
        return log_w, log_p

    # ------------------------------------------------------------- states
    @property
    def _types(self) -> ColumnTypes:
        return fitted_column_types(self)

    @property
    def bins_(self):
        """The states of each number column (see :class:`~._bins.ColumnBins`)."""
        check_is_fitted(self, "_bin_states")
        return [ColumnBins(**state) for state in self._bin_states]

    def _integer_columns(self):
        return [
            isinstance(c, IntegerColumn) for c in self._types.columns if not c.categorical
        ]

    def _table(self):
        """The columns as states (see :class:`~._bins.TableStates`)."""
        return TableStates(self.bins_, list(self._types.category_sizes))

    def _log_p(self):
        return np.concatenate([lp.T for lp in self.state_log_prob_], axis=0)

    def _joint(self, X):
        """Encoded rows, their states, log base measures and (n, K) joint logs."""
        check_is_fitted(self, "weights_")
        validate_features(self, X, reset=False)
        encoded = self._types.encode(X, allow_nan=True)
        states, base = self._table().encode(encoded)
        joint = np.log(self.weights_ + 1e-300) + self._table().onehot(states) @ self._log_p()
        return encoded, states, base, joint

    # ------------------------------------------------------------ inference
    def score_samples(self, X):
        """Log-density of each row's observed entries, in nats.

        With respect to the counting measure on categories, atoms and the
        values of integer columns, and Lebesgue measure on the bins of
        continuous columns (on a date column, per second).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        encoded, _, base, joint = self._joint(X)
        return (
            logsumexp(joint, axis=1)
            + base
            + self._types.log_jacobian(encoded.continuous)
        )

    def predict_proba(self, X):
        """Posterior probability of each class given each row's observed entries.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        joint = self._joint(X)[3]
        return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))

    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.predict_proba(X).argmax(axis=1)

    def bic(self, X):
        """Bayesian information criterion on X (lower is better).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        float
        """
        scores = self.score_samples(X)
        return -2 * scores.sum() + self._n_parameters() * np.log(len(scores))

    def _n_parameters(self):
        K = self.n_components
        return K - 1 + K * sum(s - 1 for s in self._table().n_states)

    # ------------------------------------------------------------- sampling
    def sample(self, n_samples=1, *, random_state=None, given=None):
        """Draw rows: a class, then each column from that class.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState, Generator or None, default=None
            None draws from the generator seeded at fit (consecutive calls
            differ); a value makes this call repeatable.
        given : dict or DataFrame, default=None
            Values some columns take (column -> value, or a DataFrame with
            one row per sample); the others are drawn from the exact
            conditional given them.

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
            In the container the model was fitted on.
        """
        n_samples = check_n_samples(n_samples)
        rng = self._sampling_generator(random_state)
        if given is not None:
            query = query_rows(self._types, given, n_samples)
            return in_container(self._fill(query, "draw", rng), self._container)
        labels = _draw_categories(np.tile(self.weights_, (n_samples, 1)), rng)
        continuous, codes = self._draw_columns(labels, rng)
        return self._types.decode(continuous, codes, container=self._container)

    def impute(self, X, *, method="draw", random_state=None):
        """Fill each row's missing entries from p(missing | observed), exactly.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        method : {"draw", "mean"}, default="draw"
            "draw": a draw from the conditional; "mean": for a number column
            the mean of its conditional histogram (the tails left out), for
            a categorical column its most probable category.
        random_state : int, RandomState, Generator or None, default=None

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
        """
        check_impute_method(method)
        rng = self._sampling_generator(random_state) if method == "draw" else None
        return self._fill(X, method, rng)

    def _fill(self, X, method, rng):
        encoded, states, _, joint = self._joint(X)
        resp = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
        d = encoded.continuous.shape[1]
        if method == "draw":
            labels = _draw_categories(resp, rng)
            continuous, codes = self._draw_columns(labels, rng)
        else:
            # Number columns: the conditional mean of the histogram (each
            # state at its atom or midpoint); categories: the mode.
            table = self._table()
            means = [
                resp @ (np.exp(lp) @ table.state_means(j))
                for j, lp in enumerate(self.state_log_prob_[:d])
            ]
            continuous = np.column_stack(means) if d else np.empty((len(resp), 0))
            codes = [
                (resp @ np.exp(lp)).argmax(axis=1) for lp in self.state_log_prob_[d:]
            ]
            codes = np.column_stack(codes) if codes else None
        continuous = np.where(np.isnan(encoded.continuous), continuous, encoded.continuous)
        if codes is not None:
            codes = np.where(encoded.codes < 0, codes, encoded.codes)
        return complete_rows(self._types, continuous, codes, X)

    def _draw_columns(self, labels, rng):
        """Each column drawn from the class of each row (encoded scale)."""
        n, d, table = len(labels), len(self.bins_), self._table()
        values = [
            table.draw_number(j, _draw_categories(np.exp(lp[labels]), rng), rng)
            for j, lp in enumerate(self.state_log_prob_[:d])
        ]
        continuous = np.column_stack(values) if values else np.empty((n, 0))
        codes = [
            _draw_categories(np.exp(lp[labels]), rng) for lp in self.state_log_prob_[d:]
        ]
        return continuous, np.column_stack(codes) if codes else None


def _responsibilities(joint):
    """Posterior of each row's class, and the mean log-likelihood, from joint logs.

    One pass of ``exp`` (``logsumexp`` then ``exp(joint - norm)`` would
    take two), in place: the E-step's largest cost after the product.
    """
    top = joint.max(axis=1, keepdims=True)
    joint -= top
    np.exp(joint, out=joint)
    total = joint.sum(axis=1, keepdims=True)
    joint /= total
    return joint, float((np.log(total) + top).mean())
