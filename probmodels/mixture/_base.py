"""BaseMixture: the fitting loop of mixture models, as a template method.

The shape of scikit-learn's ``sklearn/mixture/_base.py``: the base class holds
the loop over ``n_init`` starts and the EM iterations of Dempster, Laird and
Rubin (1977), and calls the model's ``_initialize``, ``_e_step`` and
``_m_step``; the maths those call are pure functions of arrays
(``_gaussian.py``). A solver other than EM plugs in through
``_single_run``, which returns a :class:`MixtureRun` like the EM loop does.
"""

from __future__ import annotations

import functools
import time
import types
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import _check_sample_weight

from .._validation import validate_table
from ..base import (
    GenerativeMixin,
    architecture,
    architecture_changes,
    atomic_fit,
)
from ..exceptions import ConvergenceWarning
from ..nn._distributed import agreed_random_state
from ._dask import is_dask_array

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


@dataclass
class FitSource:
    """The data of one fit, as the EM loop and the initialisation see it.

    Parameters
    ----------
    init_X : ndarray of shape (n_rows, n_features)
        Rows to initialise from: all of them in memory, a sample of a Dask
        array.
    init_weight : ndarray or None
        Their sample weights.
    inits : tuple
        The validated ``*_init`` arrays.
    center : ndarray of shape (n_features,)
        The weighted mean row of all the data.
    total : float
        Rows (or the sum of their weights) of all the data.
    data : context manager
        The E-step pass (``NumpyStatistics``, ``TorchStatistics``,
        ``DaskStatistics``, or the gradient solver's ``GradientData``).
    stats_of : callable, optional
        ``Phi^T resp`` of ``init_X``; ``data.statistics`` when None.
    """

    init_X: np.ndarray
    init_weight: np.ndarray | None
    inits: tuple
    center: np.ndarray
    total: float
    data: object
    stats_of: object = None


class BaseMixture(GenerativeMixin, BaseEstimator):
    """Fit, fit_predict and the best-of-``n_init`` loop of a mixture model.

    Subclasses provide ``_fit_data(Xc, weight)`` (a context manager with
    ``statistics(resp)`` and ``labels(theta)``), ``_single_run(data, start,
    lower_bound, total, rng)``, ``_initialize``, ``_e_step``, ``_m_step``,
    ``_natural_parameters``, ``_set_parameters`` and ``_current_parameters``,
    and the parameters ``n_init``, ``max_iter``, ``tol``, ``warm_start``,
    ``verbose`` and ``verbose_interval`` of scikit-learn's mixtures.
    """

    def __getstate__(self):
        # The gradient solver's Adam state as arrays: a saved model holds no
        # torch object.
        state = dict(super().__getstate__())
        if state.get("_adam_state") is not None:
            from ..nn._device import tensors_to_numpy

            state["_adam_state"] = tensors_to_numpy(state["_adam_state"])
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if self.__dict__.get("_adam_state") is not None:
            from ..nn._device import numpy_to_tensors

            self._adam_state = numpy_to_tensors(self._adam_state)

    def _fitting_context(self, method: str):
        """The data-parallel context of a fitting call (used by ``atomic_fit``).

        The gradient solver trains through the engine, data-parallel under
        ``torchrun``; EM fits in each process on its own.
        """
        import contextlib

        if getattr(self, "solver", "em") != "gradient":
            return contextlib.nullcontext()
        from ..nn._distributed import fitting

        distributed = getattr(self, "distributed", "auto")
        return fitting(self, method, distributed, getattr(self, "device", "auto"))

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
        fit_rng, generative = self._generative_state(
            X, agreed_random_state(self.random_state)
        )
        source = self._source(X, sample_weight, fit_rng)
        # A warm start continues only a model of the same shape; after
        # set_params(n_components=...) it starts over, as scikit-learn's does.
        warm = (
            self.warm_start
            and hasattr(self, "converged_")
            and not architecture_changes(self)
            and self.means_.shape[1] == source.init_X.shape[1]
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
            labels = data.labels(self._natural_parameters(best.params))
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

    def _source(self, X, sample_weight, rng) -> FitSource:
        """The data of a fit as the loop needs it (in memory, or a Dask array)."""
        if is_dask_array(X):
            return self._dask_source(X, sample_weight, rng)
        X, weight, inits = self._prepare(X, sample_weight, reset=True)
        center = np.average(X, axis=0, weights=weight)
        total = float(len(X) if weight is None else weight.sum())
        return FitSource(
            X, weight, inits, center, total, self._fit_data(X - center, weight)
        )

    def _prepare(self, X, sample_weight, reset):
        """Validated data, sample weights and user-given initial parameters."""
        X = self._validate_X(X, reset=reset)
        n = X.shape[0]
        if reset and n < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {n}: each component needs data."
            )
        # Covariances sum squares of rows: past this size they overflow float64.
        # From the extremes: np.abs(X) would copy the whole data set.
        largest = max(abs(float(X.max())), abs(float(X.min()))) if X.size else 0.0
        if largest > np.sqrt(np.finfo(np.float64).max / max(1, X.size)):
            raise ValueError(
                f"X holds values up to {largest:.3g}, whose squares overflow "
                "float64 in the covariances. Scale the data first, e.g. with "
                "StandardScaler."
            )
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
