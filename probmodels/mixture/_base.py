"""BaseMixture: the fitting loop of mixture models, as a template method.

The shape of scikit-learn's ``sklearn/mixture/_base.py``: the base class holds
the loop over ``n_init`` starts and the EM iterations of Dempster, Laird and
Rubin (1977), and calls the model's ``_initialize``, ``_e_step`` and
``_m_step``; the maths those call are pure functions of arrays
(``_gaussian.py``). A solver other than EM plugs in through
``_single_run``, which returns a :class:`MixtureRun` like the EM loop does,
and ``partial_fit`` continues from the current parameters through
``_partial_run``. The hooks are abstract methods, as scikit-learn's are.
"""

from __future__ import annotations

import functools
import time
import types
import warnings
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import _check_sample_weight

from ..base import (
    GenerativeMixin,
    architecture,
    architecture_changes,
    atomic_fit,
    spawn_generators,
)
from ..engine import call_strategy
from ..exceptions import ConvergenceWarning
from ..utils.validation import check_squares, validate_table
from ._dask import is_dask_array
from ._source import FitSource

__all__ = ["BaseMixture", "FitSource", "MixtureRun", "available_with_solver"]


@dataclass
class MixtureRun:
    """What one initialisation produced.

    Parameters
    ----------
    params : tuple
        (weights, means, covariances, precisions_cholesky), means in the
        centred coordinates of the fit.
    lower_bounds : list of float
        Mean log-likelihood at each iteration.
    converged : bool
    n_iter : int
    """

    params: tuple
    lower_bounds: list = field(default_factory=list)
    converged: bool = False
    n_iter: int = 0

    @property
    def lower_bound(self) -> float:
        """The last mean log-likelihood; -inf when no iteration ran."""
        return self.lower_bounds[-1] if self.lower_bounds else -np.inf


class available_with_solver:  # noqa: N801 - used as a decorator, like available_if
    """A method that exists with one ``solver`` only.

    Like scikit-learn's ``available_if``, so ``hasattr(est, "partial_fit")``
    is False with another solver, but the error says why and what to do.

    Parameters
    ----------
    solver : str
        The solver the method needs.
    why : str
        What that solver does that the others cannot, for the message.
    """

    def __init__(self, solver: str, why: str):
        self.solver, self.why = solver, why

    def __call__(self, method):
        self.method = method
        functools.update_wrapper(self, method)
        return self

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.method
        if obj.solver != self.solver:
            raise AttributeError(
                f"{self.name} needs solver={self.solver!r}, {self.why}; this model "
                f"has solver={obj.solver!r}."
            )
        return types.MethodType(self.method, obj)


class BaseMixture(GenerativeMixin, BaseEstimator, metaclass=ABCMeta):
    """Fit, fit_predict and the best-of-``n_init`` loop of a mixture model.

    A subclass implements the abstract hooks below (``_fit_data``,
    ``_single_run``, ``_initialize``, ``_e_step``, ``_m_step``,
    ``_natural_parameters``, ``_set_parameters``, ``_current_parameters``,
    ``_check_init_parameters``, ``_dask_source``, and ``_partial_run`` for
    ``partial_fit``) and has the parameters ``n_components``, ``n_init``,
    ``max_iter``, ``tol``, ``random_state``, ``warm_start``, ``verbose``
    and ``verbose_interval`` of scikit-learn's mixtures.
    """

    # ------------------------------------------------------------ the hooks
    @abstractmethod
    def _fit_data(self, Xc, weight, strategy, partial=False):
        """The solver's view of centred rows: a context manager.

        It has ``statistics(resp)`` (``Phi^T resp``, to initialise) and
        ``labels(theta)`` (the most likely component of each row); for EM it
        is also the E-step pass ``(theta) -> (statistics, log-likelihood)``.
        ``strategy`` is the call's (one process, or DDP), for a solver that
        trains through the engine; ``partial`` asks for the view of
        ``partial_fit``'s solver.
        """

    @abstractmethod
    def _single_run(self, data, start, lower_bound, total, rng) -> MixtureRun:
        """Fit from ``start`` by the model's solver; a :class:`MixtureRun`."""

    @abstractmethod
    def _partial_run(self, data, start, rng) -> MixtureRun:
        """One more pass over a chunk from ``start`` (``partial_fit``).

        The solver keeps what it continues from next time (an optimiser's
        state) on the estimator; ``atomic_fit`` undoes it on failure.
        """

    @abstractmethod
    def _initialize(self, X, stats_of, weight, inits, rng, center):
        """Initial parameters, centred on ``center``."""

    @abstractmethod
    def _e_step(self, stats_pass, params, total):
        """Sufficient statistics and mean log-likelihood under ``params``."""

    @abstractmethod
    def _m_step(self, stats):
        """Parameters maximising the expected log-likelihood given ``stats``."""

    def _pass_arguments(self, params) -> tuple:
        """What the E-step pass is called with: the natural parameters."""
        return (self._natural_parameters(params),)

    @abstractmethod
    def _natural_parameters(self, params):
        """Theta of centred parameters (``Theta phi(x)`` are the logits)."""

    @abstractmethod
    def _set_parameters(self, weights, means_c, cov, prec_chol, center):
        """Set the fitted attributes from centred parameters."""

    @abstractmethod
    def _current_parameters(self, center):
        """The fitted parameters, centred on ``center``."""

    @abstractmethod
    def _check_init_parameters(self, X):
        """The validated ``*_init`` arrays for data of X's width."""

    @abstractmethod
    def _dask_source(self, X, sample_weight, rng) -> FitSource:
        """The :class:`FitSource` of a Dask array."""

    @abstractmethod
    def _fitted_width(self) -> int:
        """Columns of the rows the fitted parameters are of (a warm start's check)."""

    def _center(self, X, weight):
        """The point rows are centred on: their (weighted) mean."""
        return np.average(X, axis=0, weights=weight)

    @atomic_fit
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the mixture's parameters.

        Parameters
        ----------
        X : array-like or Dask array of shape (n_samples, n_features)
            A Dask array chunked by rows is fitted by EM chunk by chunk,
            where the chunks live (``docs/user_guide/scaling.rst``).
        y : None
            Ignored.
        sample_weight : array-like or Dask array of shape (n_samples,), default=None
            Non-negative weights; an integer weight counts like repeating the
            row that many times.

        Returns
        -------
        self
        """
        self._fit(X, sample_weight)
        return self

    @atomic_fit
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the most likely component of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self._fit(X, sample_weight)

    # ------------------------------------------------------------ the loop
    # An overflow can only end in non-finite parameters, which
    # _set_parameters refuses with its own message: numpy's warnings on the
    # way there would only point into our code.
    @np.errstate(over="ignore", invalid="ignore", divide="ignore")
    def _fit(self, X, sample_weight):
        """Fit on X; return the labels of its rows (a final E-step)."""
        strategy = call_strategy()
        fit_rng, generative = self._generative_state(
            X, strategy.agreed_random_state(self.random_state)
        )
        source = self._source(X, sample_weight, fit_rng, strategy)
        # A warm start continues only a model of the same shape; after
        # set_params(n_components=...) it starts over, as scikit-learn's does.
        warm = (
            self.warm_start
            and hasattr(self, "converged_")
            and not architecture_changes(self)
            and self._fitted_width() == source.init_X.shape[1]
        )
        self._fitted_architecture = architecture(self)  # undone if the fit fails
        center, total = source.center, source.total
        best = None
        with source.data as data:
            stats_of = source.stats_of or data.statistics
            for init in range(1 if warm else self.n_init):
                self._report(f"Initialization {init}", 1)
                if warm:
                    start, bound = self._current_parameters(center), self.lower_bound_
                else:
                    start = self._initialize(
                        source.init_X,
                        stats_of,
                        source.init_weight,
                        source.inits,
                        fit_rng,
                        center,
                    )
                    bound = -np.inf
                run = self._single_run(data, start, bound, total, fit_rng)
                self._report(
                    f"Initialization {'converged' if run.converged else 'did not converge'}"
                    f". lower bound {run.lower_bound:.5f}.",
                    1,
                )
                if best is None or run.lower_bound > best.lower_bound:
                    best = run
            # A last E-step, so fit_predict(X) equals fit(X).predict(X).
            labels = data.labels(*self._pass_arguments(best.params))
        if not best.converged and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different "
                "init parameters, increase max_iter or tol, or check for "
                "degenerate data.",
                ConvergenceWarning,
                stacklevel=5,  # past np.errstate, fit and atomic_fit
            )
        self._set_parameters(*best.params, center=center)
        self.converged_ = best.converged
        self.n_iter_ = best.n_iter
        self.lower_bounds_ = best.lower_bounds
        self.lower_bound_ = best.lower_bound
        self._commit_generative_state(generative)
        return labels

    def _fit_chunk(self, X, sample_weight):
        """``partial_fit``'s template: one more pass over a chunk of rows.

        The first call initialises from its chunk (``init_params`` or the
        ``*_init`` arrays), as ``fit`` does, and sets the sampling stream;
        later calls continue from the fitted parameters (those of ``fit``
        too) with the solver's state, through ``_partial_run``. Each chunk
        is centred on its own mean: the likelihood does not depend on the
        origin, the conditioning of the initial statistics does.
        """
        first = not hasattr(self, "converged_")
        changed = architecture_changes(self)
        if changed and not first:
            raise ValueError(
                f"partial_fit continues the fitted mixture, but {', '.join(changed)} "
                "changed since it was fitted. Call fit to start over with them."
            )
        self._fitted_architecture = architecture(self)  # undone if the call fails
        strategy = call_strategy()
        random_state = strategy.agreed_random_state(self.random_state)
        original = X
        X, weight, inits = self._prepare(X, sample_weight, reset=first)
        center = self._center(X, weight)
        with self._fit_data(X - center, weight, strategy, partial=True) as data:
            if first:
                fit_rng, generative = self._generative_state(original, random_state)
                start = self._initialize(
                    X, data.statistics, weight, inits, fit_rng, center
                )
                self._commit_generative_state(generative)
                # Seeds each call's shuffling; a numpy Generator pickles.
                self._partial_fit_rng, self._adam_state = fit_rng, None
                self.n_iter_, self.lower_bounds_ = 0, []
            else:
                start = self._current_parameters(center)
                if not hasattr(self, "_partial_fit_rng"):  # continuing after fit()
                    self._partial_fit_rng = spawn_generators(random_state, 3)[2]
                    self._adam_state = None
            run = self._partial_run(data, start, self._partial_fit_rng)
        self._set_parameters(*run.params, center=center)
        self.converged_ = False
        self.n_iter_ += run.n_iter
        self.lower_bounds_ = [*self.lower_bounds_, *run.lower_bounds]
        self.lower_bound_ = run.lower_bound
        return self

    def _run_em(self, stats_pass, params, lower_bound, total) -> MixtureRun:
        """EM iterations from ``params`` until the bound changes by < ``tol``.

        The loop of scikit-learn's ``BaseMixture.fit_predict``: each E-step
        (Bishop, PRML, eqs. 9.23) gives the statistics and the mean
        log-likelihood of the current parameters, each M-step (eqs. 9.24-9.27)
        new parameters from the statistics.
        """
        run = MixtureRun(params)
        tic = time.perf_counter()
        for n_iter in range(1, self.max_iter + 1):
            previous = lower_bound
            stats, lower_bound = self._e_step(stats_pass, run.params, total)
            run.params, run.n_iter = self._m_step(stats), n_iter
            run.lower_bounds.append(lower_bound)
            change = lower_bound - previous
            if n_iter % self.verbose_interval == 0:
                self._report(
                    f"  Iteration {n_iter}\t time lapse "
                    f"{time.perf_counter() - tic:.5f}s\t ll change {change:.5f}",
                    2,
                )
                tic = time.perf_counter()
            if abs(change) < self.tol:
                run.converged = True
                break
        return run

    # -------------------------------------------------------------- input
    def _validate_X(self, X, reset):
        return validate_table(
            self, X, reset=reset, ensure_min_samples=2 if reset else 1
        )

    def _source(self, X, sample_weight, rng, strategy) -> FitSource:
        """The data of a fit as the loop needs it (in memory, or a Dask array)."""
        if is_dask_array(X):
            return self._dask_source(X, sample_weight, rng)
        X, weight, inits = self._prepare(X, sample_weight, reset=True)
        center = self._center(X, weight)
        total = float(len(X) if weight is None else weight.sum())
        data = self._fit_data(X - center, weight, strategy)
        return FitSource(X, weight, inits, center, total, data)

    def _prepare(self, X, sample_weight, reset):
        """Validated data, sample weights and user-given initial parameters."""
        X = self._validate_X(X, reset=reset)
        n = X.shape[0]
        if reset and n < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {n}: each component needs data."
            )
        check_squares(X, "in the covariances")
        weight = None
        if sample_weight is not None:
            weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
            if not np.isfinite(weight.sum()):
                raise ValueError(
                    "sample_weight sums to more than float64 holds (the largest "
                    f"weight is {weight.max():.3g}); divide the weights by a "
                    "constant: only their ratios matter."
                )
            if weight.sum() <= 0:
                raise ValueError(
                    "sample_weight sums to 0: at least one row must count."
                )
        return X, weight, self._check_init_parameters(X) if reset else None

    def _report(self, message, level):
        """Print progress at ``verbose >= level``, as scikit-learn does."""
        if self.verbose >= level:
            print(message)
