"""What an AR-X model reads from its parameters and its data.

The lag set, the seasonal period (from the index's frequency where it has
one), which columns of X are series and which are regressors, and the future
rows of the regressors at forecast time. Each check names the fix.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from ..base import Container
from ._index import TimeClock

#: ``glob=True`` fits 2 ** len(lags) regressions: at most this many lags.
MAX_GLOB_LAGS = 16

__all__ = [
    "check_glob",
    "check_hold_back",
    "check_series_length",
    "exog_names",
    "default_score_start",
    "future_exog",
    "index_of",
    "lag_set",
    "natural_period",
    "num_steps",
    "resolve_period",
    "series_container",
    "split_columns",
]


def lag_set(p: Any) -> tuple[int, ...]:
    """The model's lags: ``1..p`` for an int, the sorted list otherwise.

    Parameters
    ----------
    p : int or sequence of int
        ``ARRegressor``'s ``p``.

    Returns
    -------
    tuple of int
    """
    if isinstance(p, Integral):
        return tuple(range(1, int(p) + 1))
    lags = list(p)
    if not lags or not all(isinstance(v, Integral) for v in lags):
        raise ValueError(
            f"p must be an int or a non-empty list of positive ints (a lag set, "
            f"e.g. p=[1, 2, 12]); got {p!r}."
        )
    if min(lags) < 1 or len(set(lags)) != len(lags):
        raise ValueError(
            f"The lag set p={list(p)!r} must hold distinct lags >= 1 (lag 0 is the "
            f"series itself); use p={sorted({int(v) for v in lags if v >= 1})}."
        )
    return tuple(sorted(int(v) for v in lags))


def natural_period(clock: TimeClock) -> int | None:
    """Steps per seasonal cycle implied by the index's frequency, if any.

    12 for monthly data, 4 quarterly, 7 daily, 24 hourly, 52 weekly, 5 for
    business days, 1 for annual data (statsmodels' ``freq_to_period``).

    Parameters
    ----------
    clock : TimeClock

    Returns
    -------
    int or None
        None for arrays and indexes without a calendar frequency.
    """
    if clock.kind not in ("datetime", "period"):
        return None
    from statsmodels.tsa.tsatools import freq_to_period

    try:
        return int(freq_to_period(clock.freq))
    except ValueError:  # a frequency statsmodels does not map (minutes, ...)
        return None


def resolve_period(seasonal: bool, period: int | None, clock: TimeClock) -> int:
    """The seasonal period of the model (0 without seasonal dummies).

    Parameters
    ----------
    seasonal : bool
        ``ARRegressor``'s ``seasonal``.
    period : int or None
        ``ARRegressor``'s ``period``.
    clock : TimeClock
        The fitted index.

    Returns
    -------
    int
    """
    if not seasonal:
        return 0
    natural = natural_period(clock)
    if period is None:
        if natural is None or natural < 2:
            what = (
                "an index with an annual frequency"
                if natural == 1
                else "no calendar frequency to read it from"
            )
            raise ValueError(
                f"seasonal=True needs a period, and X has {what}. Pass period= "
                "(e.g. period=12 for monthly data), or give X a DatetimeIndex "
                "with a frequency (X.asfreq('MS'))."
            )
        return natural
    if natural is not None and natural > 1 and period % natural:
        raise ValueError(
            f"period={period} disagrees with the index, whose frequency "
            f"{clock.freq.freqstr} has {natural} steps per cycle: seasonal "
            f"dummies would drift against the calendar. Use period={natural} (or "
            "a multiple), or leave period=None to read it from the index."
        )
    return int(period)


def split_columns(
    X: Any, exog: Any, n_columns: int
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Positions of the series and of the regressors among X's columns.

    Parameters
    ----------
    X : array-like, Series or DataFrame
        The fitted data.
    exog : None, str, int or sequence
        ``ARRegressor``'s ``exog``: column names of a DataFrame, positions
        of an array's columns.
    n_columns : int
        Number of columns of X.

    Returns
    -------
    series : ndarray of int
    regressors : ndarray of int
    names : tuple of str
        The regressors' names: the DataFrame's column names, ``x1, x2, ...``
        for an array (as ``AutoReg`` names unnamed regressors).
    """
    if exog is None:
        return np.arange(n_columns), np.arange(0), ()
    wanted = [exog] if isinstance(exog, (str, Integral)) else list(exog)
    if not wanted:
        return np.arange(n_columns), np.arange(0), ()
    if isinstance(X, pd.DataFrame):
        columns = list(X.columns)
        missing = [w for w in wanted if w not in columns]
        if missing:
            raise ValueError(
                f"exog names columns {missing} that X does not have; its columns "
                f"are {columns[:20]}. Name regressors by column name."
            )
        positions = [columns.index(w) for w in wanted]
        names = tuple(str(w) for w in wanted)
    elif np.ndim(X) == 2:
        if not all(isinstance(w, Integral) for w in wanted) or not all(
            -n_columns <= w < n_columns for w in wanted
        ):
            raise ValueError(
                f"exog={exog!r} must give column positions of the array X, which "
                f"has {n_columns} columns (names need a DataFrame)."
            )
        positions = [int(w) % n_columns for w in wanted]
        names = tuple(f"x{i + 1}" for i in range(len(positions)))
    else:
        raise ValueError(
            "exog names regressor columns of X, but X is one series. Pass a "
            "DataFrame (or 2-D array) with the series and its regressors as columns."
        )
    if len(set(positions)) != len(positions):
        raise ValueError(f"exog={exog!r} names a column twice; name each once.")
    regressors = np.asarray(positions)
    series = np.setdiff1d(np.arange(n_columns), regressors)
    if series.size == 0:
        raise ValueError(
            f"exog={exog!r} names every column of X, which leaves no series to "
            "model. Keep at least one column out of exog."
        )
    return series, regressors, names


def future_exog(
    exog: Any, names: tuple[str, ...], steps: int, clock: TimeClock
) -> np.ndarray:
    """The regressors' next ``steps`` rows, checked against the fitted model.

    Parameters
    ----------
    exog : DataFrame, array-like or None
        Future rows: a DataFrame with the regressors' columns (its index, when
        it is a time index, must continue the fitted one), or an array with
        one column per regressor in the fitted order.
    names : tuple of str
        The regressors' names.
    steps : int
        Rows needed.
    clock : TimeClock
        The fitted index.

    Returns
    -------
    ndarray of shape (steps, len(names))
    """
    if not names:
        if exog is not None:
            raise ValueError(
                "This model has no exogenous regressors, so exog would be "
                "ignored; drop it (or fit with exog=[...] naming them)."
            )
        return np.empty((steps, 0))
    if exog is None:
        raise ValueError(
            f"This model has exogenous regressors {list(names)}: pass exog= with "
            f"their next {steps} rows (a DataFrame with those columns, or an "
            f"array of shape ({steps}, {len(names)}))."
        )
    if isinstance(exog, pd.Series):
        exog = exog.to_frame()
    if isinstance(exog, pd.DataFrame):
        _check_future_index(exog.index, clock, steps)
        missing = [n for n in names if n not in map(str, exog.columns)]
        if missing:
            raise ValueError(
                f"exog lacks the regressor columns {missing}; it needs "
                f"{list(names)} (or pass an array with one column per regressor, "
                "in that order)."
            )
        exog = exog.set_axis(list(map(str, exog.columns)), axis=1)[list(names)]
        text = [n for n in names if not pd.api.types.is_numeric_dtype(exog[n].dtype)]
        if text:
            raise TypeError(
                f"exog's column {text[0]!r} holds {exog[text[0]].dtype}, not numbers: "
                "the regressors' future values are numbers, as when fitted."
            )
        values = exog.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = np.asarray(exog, dtype=np.float64)
        if values.ndim == 1 and len(names) == 1:
            values = values[:, None]
        if values.ndim != 2 or values.shape[1] != len(names):
            raise ValueError(
                f"exog must have one column per regressor {list(names)}; got "
                f"shape {values.shape}."
            )
    if len(values) < steps:
        raise ValueError(
            f"exog has {len(values)} future rows, but {steps} steps need "
            f"{steps}: pass the regressors' values for every step forecast."
        )
    values = values[:steps]
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise ValueError(
            f"exog has a missing or infinite value in future row {row}; a "
            "forecast needs every regressor's value. Fill it (e.g. with a "
            "planned value) first."
        )
    return values


def _check_future_index(index: pd.Index, clock: TimeClock, steps: int) -> None:
    """A future DataFrame's time index must continue the fitted one, step by step."""
    if clock.kind not in ("datetime", "period") or not isinstance(
        index, (pd.DatetimeIndex, pd.PeriodIndex)
    ):
        return
    expected = clock.future(1)[0]
    if len(index) and index[0] != expected:
        raise ValueError(
            f"exog's index starts at {index[0]}, but the fitted series ends at "
            f"{clock.last}: future rows must start at {expected}. Select "
            f"exog.loc[{str(expected)!r}:]."
        )
    # Every forecast step, not the first only: a skipped or shuffled row would
    # put a regressor's value on another step.
    wanted = clock.future(min(steps, len(index)))
    got = index[: len(wanted)]
    wrong = np.flatnonzero(np.asarray(got != wanted))
    if len(wrong):
        j = int(wrong[0])
        raise ValueError(
            f"exog's row {j} is at {got[j]}, but forecast step {j + 1} is at "
            f"{wanted[j]}: the future rows must follow the fitted frequency with "
            "no gap, in order. Sort or reindex exog first."
        )


def check_glob(glob, ic, p) -> bool:
    """``glob``, checked: it needs ``ic`` and a lag set small enough for every subset.

    Parameters
    ----------
    glob : bool
    ic : str or None
    p : int or sequence of int
        ``ARRegressor``'s ``p``.

    Returns
    -------
    bool
    """
    if not glob:
        return False
    if ic is None:
        raise ValueError(
            "glob=True compares subsets of lags by an information criterion: "
            "set ic='aic', 'bic' or 'hqic' too."
        )
    n_lags = len(lag_set(p))
    if n_lags > MAX_GLOB_LAGS:
        raise ValueError(
            f"glob=True with {n_lags} lags would fit 2**{n_lags} regressions; use "
            f"at most {MAX_GLOB_LAGS} lags (a lag set such as p=[1, 2, 12])."
        )
    return True


def default_score_start(n_steps: int) -> int:
    """Leading steps ``score`` leaves out when ``hold_back`` is None.

    ``floor(10 log10(n))``, R's default largest order for ``ar()``, capped at
    half the stretch, so that every order up to it is scored on the same steps.

    Parameters
    ----------
    n_steps : int
        Length of the scored stretch.

    Returns
    -------
    int
    """
    if n_steps < 2:
        return 0
    return int(min(np.floor(10.0 * np.log10(n_steps)), n_steps // 2))


def series_container(X, series, regressors) -> Container:
    """Container of the fitted series: X, or its series columns beside exog.

    With regressors and one series left, the series is 1-D (a Series named
    after its column, or a 1-D array), as ``AutoReg``'s endog is.
    """
    whole = Container.of(X)
    if not len(regressors):
        return whole
    if len(series) == 1:
        if whole.kind == "dataframe":
            return Container("series", 1, name=whole.columns[series[0]])
        return Container("ndarray", 1)
    if whole.kind == "dataframe":
        return Container("dataframe", 2, columns=whole.columns[series])
    return Container("ndarray", 2)


def num_steps(X) -> int:
    """Rows (time steps) of an array, Series or DataFrame, or length of a list."""
    return X.shape[0] if hasattr(X, "shape") else len(X)


def index_of(X):
    """The index of a Series or DataFrame, else None."""
    return X.index if isinstance(X, (pd.Series, pd.DataFrame)) else None


def check_hold_back(hold_back, max_lag: int) -> int:
    """The first fitted step: ``hold_back``, refused below the largest lag.

    Parameters
    ----------
    hold_back : int or None
        ``ARRegressor``'s ``hold_back``; None starts at the largest lag.
    max_lag : int

    Returns
    -------
    int
    """
    start = max_lag if hold_back is None else int(hold_back)
    if start < max_lag:
        raise ValueError(
            f"hold_back={hold_back} is smaller than the largest lag {max_lag}: the "
            "first steps only serve as lags. Set hold_back >= the largest lag or "
            "leave it None."
        )
    return start


def exog_names(exog) -> list:
    """``ARRegressor``'s ``exog`` as a list of column names (a long table's drivers).

    Parameters
    ----------
    exog : str, int, list, tuple or None

    Returns
    -------
    list
    """
    if exog is None:
        return []
    return [exog] if isinstance(exog, (str, Integral)) else list(exog)


def check_series_length(est, terms, n: int) -> None:
    """Refuse ``hold_back`` below the largest lag, and series too short to fit.

    Parameters
    ----------
    est : ARRegressor
        Its ``hold_back``, and its repr for the message.
    terms : Terms
        The model's columns.
    n : int
        Steps of the series (one table: every series has them).
    """
    start = check_hold_back(est.hold_back, terms.max_lag)
    needed = start + terms.n_params + 1
    if n < needed:
        raise ValueError(
            f"{est!r} needs at least {needed} observations per series "
            f"({start} held back as lags, {terms.n_params} regression "
            f"parameters and 1 for the noise variance); X has {n} sample(s) "
            "(time steps). Use fewer lags or terms, or a longer series."
        )
