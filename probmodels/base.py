"""The contract every probmodels estimator keeps.

Three pieces live here, shared by every model family:

- random number generation that never touches numpy's or torch's global state:
  ``random_state`` seeds ``fit``, and ``sample`` draws from a generator made at
  fit time (so consecutive calls differ, yet a seeded script repeats exactly);
- the container round trip: a model fitted on a DataFrame samples DataFrames
  with the same columns, one fitted on an ndarray samples ndarrays;
- :func:`atomic_fit`, which validates hyper-parameters and undoes every change
  a failing ``fit`` made, so an estimator is never left half-fitted.
"""

from __future__ import annotations

import contextlib
import functools
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import DensityMixin
from sklearn.utils.validation import check_is_fitted

from .columns import ColumnTypes
from .utils.plain import from_plain, index_from_plain, index_to_plain, to_plain
from .utils.validation import ndim_of

__all__ = [
    "GenerativeMixin",
    "architecture",
    "architecture_changes",
    "atomic_fit",
    "check_n_samples",
    "child_seed",
    "fitted_column_types",
    "make_generator",
    "restore_new_parameters",
    "spawn_generators",
    "validate_params",
]


def _entropy(random_state: Any) -> Any:
    """Seed material for a SeedSequence, from any accepted ``random_state``."""
    if random_state is None:
        return None  # fresh OS entropy
    if isinstance(random_state, (bool, np.bool_)):
        raise ValueError(
            f"random_state must be None, an int or a generator; got {random_state!r}."
        )
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise ValueError(
                f"random_state must be a non-negative int; got {random_state}."
            )
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        # Draws from the user's own RandomState, as sklearn does: its state is
        # the user's to advance, the global one is never read.
        return [int(v) for v in random_state.randint(0, 2**31 - 1, size=4)]
    raise ValueError(
        "random_state must be None, an int, a numpy RandomState or a numpy "
        f"Generator; got {random_state!r} of type {type(random_state).__name__}."
    )


def make_generator(random_state: Any = None) -> np.random.Generator:
    """Return a numpy ``Generator`` for ``random_state`` without global state.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        None draws fresh entropy from the operating system; an int gives a
        repeatable stream; a Generator is returned as it is.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(np.random.SeedSequence(_entropy(random_state)))


def spawn_generators(random_state: Any, n: int) -> list[np.random.Generator]:
    """Return ``n`` independent generators derived from ``random_state``.

    Fitting and sampling draw from separate streams, so that (for example) the
    number of draws an initialisation makes never shifts the samples.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Seed material, as for :func:`make_generator`.
    n : int
        Number of generators.

    Returns
    -------
    list of numpy.random.Generator
    """
    if isinstance(random_state, np.random.Generator):
        return list(random_state.spawn(n))
    seeds = np.random.SeedSequence(_entropy(random_state)).spawn(n)
    return [np.random.default_rng(s) for s in seeds]


def child_seed(rng: np.random.Generator, high: int = 2**62) -> int:
    """Draw a seed for a child stream (a torch generator, a sub-fit) from ``rng``.

    Every child seed of a fit comes from the fit's own generator, so a seeded
    fit repeats and the global RNG is never read.

    Parameters
    ----------
    rng : numpy.random.Generator
    high : int, default=2**62
        Exclusive bound: 2**62 fits torch's 64-bit seeds; scikit-learn's
        ``random_state`` takes seeds below 2**32.

    Returns
    -------
    int
    """
    return int(rng.integers(high))


def check_n_samples(n_samples: Any, name: str = "n_samples") -> int:
    """Validate a number of samples to draw and return it as an int.

    Parameters
    ----------
    n_samples : int
        Must be a positive integer.
    name : str, default="n_samples"
        Name used in the error message.

    Returns
    -------
    int
    """
    # scikit-learn's wording ("Invalid value for 'n_samples'"), with the fix.
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(
        n_samples, numbers.Integral
    ):
        raise TypeError(
            f"Invalid value for {name!r}: {n_samples!r}. It must be a positive int."
        )
    if n_samples < 1:
        raise ValueError(
            f"Invalid value for {name!r}: {n_samples}. At least one is required."
        )
    return int(n_samples)


def validate_params(estimator: Any, names: Any = None) -> None:
    """Check hyper-parameters: scikit-learn's constraints, then ours.

    scikit-learn's ``Interval(Integral, ...)`` lets ``True`` through as 1, so
    ``p=True`` would fit an AR(1); a bool is accepted only where the
    constraint says "boolean". An estimator's ``_check_parameter_values``
    (when it has one) then checks what the constraints cannot express, such
    as every entry of ``hidden_layer_sizes``.

    ``fit`` checks every parameter (``atomic_fit`` calls this). A method that
    reads parameters which may change after the fit (``set_params`` on a
    fitted model: ``n_importance`` for scores, ``clip_denoised`` for
    samples) checks those, by the same constraints, where it reads them.

    Parameters
    ----------
    estimator : estimator
    names : sequence of str, optional
        Only these parameters (without ``_check_parameter_values``); all of
        them when None.

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        Naming the parameter and the value.
    """
    from sklearn.utils._param_validation import (
        InvalidParameterError,
        validate_parameter_constraints,
    )

    constraints = estimator._parameter_constraints
    if names is None:
        estimator._validate_params()
    else:
        constraints = {name: constraints[name] for name in names}
        validate_parameter_constraints(
            constraints,
            {name: getattr(estimator, name) for name in names},
            caller_name=type(estimator).__name__,
        )
    for name, allowed in constraints.items():
        value = getattr(estimator, name, None)
        if isinstance(value, (bool, np.bool_)) and not any(
            c in ("boolean", "verbose") or c is bool for c in allowed
        ):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} got "
                f"{value!r}, a bool; pass a number."
            )
    check = getattr(estimator, "_check_parameter_values", None)
    if check is not None and names is None:
        check()


def atomic_fit(method):
    """Decorate a fitting method: validate hyper-parameters, undo on failure.

    The estimator's ``__dict__`` is snapshotted before ``method`` runs and
    restored if it raises, so a failed ``fit`` (NaN loss, singular covariance,
    bad input) leaves a previously fitted model exactly as it was, and an
    unfitted one unfitted. Fitting code therefore rebinds attributes and never
    mutates fitted arrays in place; the numpy generators it stores (which do
    advance in place) get their bit state restored as well. An estimator with
    a ``_fitting_context(method_name)`` runs the call inside it.

    Parameters
    ----------
    method : callable
        ``fit``, ``partial_fit`` or another method that changes fitted state.

    Returns
    -------
    callable
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = dict(self.__dict__)
        # A Generator advances in place, so restoring the reference is not
        # enough: its bit state is saved too and put back on failure.
        streams = {
            name: value.bit_generator.state
            for name, value in saved.items()
            if isinstance(value, np.random.Generator)
        }
        # Neural estimators run the call in their data-parallel context (see
        # probmodels.engine), so a failure on one process of a
        # torchrun job is known to all.
        context = getattr(self, "_fitting_context", None)
        try:
            with (
                contextlib.nullcontext()
                if context is None
                else context(method.__name__)
            ):
                validate_params(self)
                return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            for name, state in streams.items():
                saved[name].bit_generator.state = state
            raise

    return wrapper


def restore_new_parameters(estimator: Any) -> None:
    """Give an unpickled estimator the parameters added since it was saved.

    A model saved by an older probmodels lacks the parameters added since
    (``categorical_features``, say); each takes its default, which keeps
    the model as it was, so ``get_params`` and ``clone`` work.

    Parameters
    ----------
    estimator : estimator
    """
    import inspect

    for name, param in inspect.signature(type(estimator).__init__).parameters.items():
        if param.default is not param.empty and name not in estimator.__dict__:
            setattr(estimator, name, param.default)


def architecture(estimator: Any) -> dict:
    """The values of the parameters that shape the fitted parameters.

    Each estimator names them in ``_architecture_params`` (the number of
    components, the layer sizes); a warm start continues a fitted model only
    while they are unchanged.

    Parameters
    ----------
    estimator : estimator

    Returns
    -------
    dict
        Parameter name to a comparable value (sequences become tuples).
    """
    return {
        name: _comparable(getattr(estimator, name))
        for name in getattr(estimator, "_architecture_params", ())
    }


def architecture_changes(estimator: Any) -> list[str]:
    """Architecture parameters changed since the fit, as ``"name: old -> new"``.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator (one fitted before architectures were recorded
        reports no change).

    Returns
    -------
    list of str
    """
    fitted = getattr(estimator, "_fitted_architecture", None)
    if fitted is None:
        return []
    now = architecture(estimator)
    return [
        f"{name}: {fitted[name]!r} -> {now[name]!r}"
        for name in fitted
        if name in now and fitted[name] != now[name]
    ]


def _comparable(value: Any) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(np.asarray(value).ravel().tolist())
    return value


@dataclass(frozen=True)
class Container:
    """The kind of data a model was fitted on, to give outputs the same kind.

    Parameters
    ----------
    kind : {"ndarray", "series", "dataframe"}
        Type of the fitted input.
    ndim : int
        Number of dimensions of the fitted input.
    columns : pandas.Index or None
        DataFrame columns.
    name : hashable or None
        Series name.
    """

    kind: str
    ndim: int
    columns: pd.Index | None = None
    name: Any = None

    @classmethod
    def of(cls, X: Any) -> Container:
        """Describe the container of ``X``.

        Parameters
        ----------
        X : array-like, Series or DataFrame
            Input as the user passed it.

        Returns
        -------
        Container
        """
        if isinstance(X, pd.DataFrame):
            return cls("dataframe", 2, columns=X.columns.copy())
        if isinstance(X, pd.Series):
            return cls("series", 1, name=X.name)
        return cls("ndarray", ndim_of(X))

    def __getstate__(self):
        # Plain values for skops, which refuses pandas objects: column labels
        # and a Series name may be dates, periods, tuples (see _plain.py).
        columns = self.columns
        if columns is not None:
            columns = index_to_plain(columns, "a column label")
        return {
            "kind": self.kind,
            "ndim": self.ndim,
            "columns": columns,
            "name": to_plain(self.name, "the Series name"),
        }

    def __setstate__(self, state):
        columns = state["columns"]
        for key, value in state.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "name", from_plain(state["name"]))
        object.__setattr__(
            self, "columns", None if columns is None else index_from_plain(columns)
        )

    def wrap(self, values: np.ndarray, index: pd.Index | None = None) -> Any:
        """Put ``values`` (rows of new data) into the fitted container.

        Parameters
        ----------
        values : ndarray of shape (n_rows,) or (n_rows, n_columns)
            New rows; 2-D for DataFrame containers.
        index : pandas.Index, optional
            Row labels for pandas containers (a RangeIndex when omitted).

        Returns
        -------
        ndarray, Series or DataFrame
        """
        if self.kind == "dataframe":
            return pd.DataFrame(values, index=index, columns=self.columns)
        if self.kind == "series":
            return pd.Series(values, index=index, name=self.name)
        return values


@dataclass(frozen=True)
class GenerativeState:
    """What a generative fit commits besides its parameters.

    Parameters
    ----------
    container : Container
        The kind of data fitted, for outputs of the same kind.
    sample_rng : numpy.random.Generator
        The stream :meth:`GenerativeMixin.sample` draws from.
    """

    container: Container
    sample_rng: np.random.Generator


def fitted_column_types(estimator: Any) -> ColumnTypes:
    """A fitted table model's column types (all continuous for a 0.1.0 model).

    Parameters
    ----------
    estimator : estimator
        Fitted; a table model keeps its types in ``_columns``, which models
        saved by 0.1.0 (arrays only) do not have.

    Returns
    -------
    ColumnTypes
    """
    types = estimator.__dict__.get("_columns")
    if types is None:
        return ColumnTypes.continuous(estimator.n_features_in_)
    return types


class GenerativeMixin(DensityMixin):
    """Mixin for estimators of a distribution: ``sample`` and ``score``.

    Subclasses implement ``fit``, ``score_samples`` and ``sample`` with the
    helpers below. ``score`` is the mean of ``score_samples`` in nats, so that
    higher is better and ``GridSearchCV`` can select hyper-parameters by
    held-out likelihood without a custom scorer.
    """

    def score(self, X, y=None):
        """Return the mean log-density of ``X`` in nats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to evaluate.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        float
            Mean of :meth:`score_samples`; higher is better.
        """
        return float(np.mean(self.score_samples(X)))

    def _generative_state(
        self, X: Any, random_state: Any
    ) -> tuple[np.random.Generator, GenerativeState]:
        """Return the fit generator and the state to commit at the end of fit.

        The state holds the input container and the sampling generator. It is
        returned rather than set so that a fit that fails later changes
        nothing; :meth:`_commit_generative_state` sets it.
        """
        fit_rng, sample_rng = spawn_generators(random_state, 2)
        return fit_rng, GenerativeState(Container.of(X), sample_rng)

    def _commit_generative_state(self, state: GenerativeState) -> None:
        """Set the container and the sampling stream of a successful fit."""
        self._container = state.container
        self._sample_rng = state.sample_rng

    def _sampling_generator(self, random_state: Any) -> np.random.Generator:
        """Generator for one ``sample`` call: the fitted stream or a fresh one."""
        check_is_fitted(self)
        if random_state is None:
            return self._sample_rng
        return make_generator(random_state)
