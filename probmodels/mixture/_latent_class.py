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
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import atomic_fit, validate_params
from ..exceptions import ConvergenceWarning
from ._inference import _draw_categories
from ._state_model import StateModel

__all__ = ["LatentClassMixture"]

#: ``n_components="auto"``: one class per this many training rows, at most
#: ``_MAX_AUTO_CLASSES`` (measured on Adult, docs/user_guide/tables.rst).
_ROWS_PER_AUTO_CLASS = 32
_MAX_AUTO_CLASSES = 1000


class LatentClassMixture(StateModel):
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
    n_components : int or "auto", default="auto"
        Latent classes. "auto" takes one per 32 training rows, at most
        1,000 (Adult's 32,561 rows get 1,000 and fit in about 35 s on two
        cores; detection rose from 0.79 at 300 classes to 0.87 at 1,000,
        ``docs/user_guide/tables.rst``).
    n_bins : int, default=256
        Bins per number column at most; values shared by at least
        ``1 / n_bins`` of the rows are atoms besides.
    smoothing : float, default=0.001
        Dirichlet pseudo-count added to every state of every class in the
        M-step (a MAP estimate), so a state a class never saw keeps a
        little probability; 0 gives maximum likelihood. With many small
        classes a larger count flattens each class's histograms (on Adult,
        0.01 with 1,000 classes: detection 0.82 against 0.87 at 0.001).
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
    n_components_ : int
        The number of classes fitted, n_classes below (``n_components``,
        or what "auto" chose).
    weights_ : ndarray of shape (n_classes,)
    state_log_prob_ : list of ndarray of shape (n_classes, n_states_j)
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

    _fitted_attribute = "weights_"

    _parameter_constraints = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
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
        n_components="auto",
        n_bins=256,
        *,
        smoothing=0.001,
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
        encoded, states, _ = self._fit_states(X)
        n = len(encoded.continuous)
        n_components = (
            min(_MAX_AUTO_CLASSES, max(1, n // _ROWS_PER_AUTO_CLASS))
            if self.n_components == "auto"
            else self.n_components
        )
        if n < n_components:
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = "
                f"{n_components}, n_samples = {n}."
            )
        table = self._table()
        onehot, starts = table.onehot(states), table.starts
        best = None
        for _ in range(self.n_init):
            run = self._em(onehot, starts, n_components, fit_rng)
            if best is None or run[2] > best[2]:
                best = run
        log_w, log_p, bound, converged, n_iter = best
        if not converged and self.max_iter > 0:
            warnings.warn(
                "EM did not converge. Increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.n_components_ = n_components
        self.weights_ = np.exp(log_w)
        self.state_log_prob_ = [
            log_p[a:b].T.copy() for a, b in zip(starts[:-1], starts[1:], strict=True)
        ]
        self.lower_bound_, self.converged_, self.n_iter_ = bound, converged, n_iter
        self._commit_generative_state(generative)
        return self

    def _em(self, onehot, starts, K, rng):
        """One EM run from random responsibilities: (log w, log P, bound, ...).

        The passes run in float32: on Adult a step takes a seventh of its
        float64 time (scipy's sparse products and numpy's ``exp`` are much
        faster there), and responsibilities need no more digits. The
        returned parameters come from one last M-step in float64 on the
        final responsibilities, so they are normalised to float64 precision.
        """
        n = onehot.shape[0]
        single = onehot.astype(np.float32)
        resp = rng.dirichlet(np.ones(K), size=n).astype(np.float32)
        log_w, log_p = self._m_step(single, resp, starts)
        bound, converged, n_iter = -np.inf, False, 0
        for n_iter in range(1, self.max_iter + 1):
            resp, new = _responsibilities(log_w + single @ log_p)
            log_w, log_p = self._m_step(single, resp, starts)
            if self.verbose >= 2:
                print(f"  iteration {n_iter}: mean log-likelihood {new:.5f}")
            if new - bound < self.tol:
                bound, converged = new, True
                break
            bound = new
        log_w, log_p = self._m_step(onehot, resp.astype(np.float64), starts)
        return log_w, log_p, bound, converged, n_iter

    def _m_step(self, onehot, resp, starts):
        """Class weights and Dirichlet-smoothed state probabilities, in logs.

        ``starts`` are the offsets of each column's states in ``onehot``'s
        columns (:attr:`~._bins.TableStates.starts`): each column's block is normalised
        over its own states, all blocks in one ``reduceat``.
        """
        nk = resp.sum(axis=0)
        log_w = np.log(nk / nk.sum() + np.finfo(resp.dtype).tiny)
        counts = np.asarray(onehot.T @ resp) + self.smoothing  # (total states, K)
        totals = np.add.reduceat(counts, starts[:-1], axis=0)  # (columns, K)
        log_p = np.log(counts) - np.repeat(np.log(totals), np.diff(starts), axis=0)
        return log_w, log_p

    # ------------------------------------------------------------- states
    def _log_p(self):
        return np.concatenate([lp.T for lp in self.state_log_prob_], axis=0)

    def _joint(self, states):
        """(n, K) joint logs of each row's class and observed states."""
        return np.log(self.weights_ + 1e-300) + self._table().onehot(states) @ self._log_p()

    def _posterior(self, states):
        joint = self._joint(states)
        return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))

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
        encoded, states, base = self._evidence(X)
        return (
            logsumexp(self._joint(states), axis=1)
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
        ndarray of shape (n_samples, n_classes)
        """
        return self._posterior(self._evidence(X)[1])

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

    def _n_parameters(self):
        K = len(self.weights_)
        return K - 1 + K * sum(s - 1 for s in self._table().n_states)

    # ------------------------------------------------------------- sampling
    def _column_state_probabilities(self, states, method, rng):
        """Each column's states: under a drawn class, or averaged over classes."""
        resp = self._posterior(states)
        if method == "draw":
            labels = _draw_categories(resp, rng)
            return [np.exp(lp[labels]) for lp in self.state_log_prob_]
        return [resp @ np.exp(lp) for lp in self.state_log_prob_]


def _responsibilities(joint):
    """Posterior of each row's class, and the mean log-likelihood, from joint logs.

    One pass of ``exp`` (``logsumexp`` then ``exp(joint - norm)`` would
    take two), in place: the E-step's largest cost after the product.
    """
    top = joint.max(axis=1, keepdims=True)
    joint -= top
    # exp below -87 gives float32 subnormals, which slow the next sparse
    # product tenfold; a floor of e^-80 against the row's best class moves
    # no responsibility by more than 1e-34.
    np.maximum(joint, -80.0, out=joint)
    np.exp(joint, out=joint)
    total = joint.sum(axis=1, keepdims=True)
    joint /= total
    # The mean in float64: a float32 sum over many rows would blur ``tol``.
    return joint, float(np.mean(np.log(total) + top, dtype=np.float64))
