"""Which kind each column of a new table is: the reading half of ColumnTypes.fit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._base import Column, check_no_missing
from ._categories import BooleanColumn, CategoricalColumn
from ._dates import DatetimeColumn
from ._numbers import ContinuousColumn, IntegerColumn

__all__ = [
    "all_plain_numbers",
    "check_some_observed",
    "chosen_categorical",
    "column_of",
    "numeric_column",
]


def chosen_categorical(X, categorical_features) -> set[int]:
    """Positions of the columns named categorical (the rest from the dtype)."""
    if categorical_features is None or (
        isinstance(categorical_features, str) and categorical_features == "from_dtype"
    ):
        if isinstance(X, pd.DataFrame) and categorical_features is not None:
            return {
                j
                for j, dtype in enumerate(X.dtypes)
                if not pd.api.types.is_numeric_dtype(dtype)
                and not pd.api.types.is_datetime64_any_dtype(dtype)
                or pd.api.types.is_bool_dtype(dtype)
            }
        return set()
    shape = np.shape(X) if hasattr(X, "shape") else np.asarray(X).shape
    n = shape[1] if len(shape) == 2 else 1
    entries = np.asarray(categorical_features)
    if entries.dtype == bool:
        if entries.shape != (n,):
            raise ValueError(
                f"categorical_features as a boolean mask needs one entry per "
                f"column ({n}); got {entries.shape[0] if entries.ndim else 1}."
            )
        return set(np.flatnonzero(entries).tolist())
    names = list(X.columns) if isinstance(X, pd.DataFrame) else None
    chosen = set()
    for entry in entries.tolist():
        if isinstance(entry, str):
            if names is None or entry not in names:
                where = f"X's columns are {names}" if names else "X has no column names"
                raise ValueError(
                    f"categorical_features names {entry!r}, which is not a column: {where}."
                )
            chosen.add(names.index(entry))
        elif isinstance(entry, (int, np.integer)) and 0 <= entry < n:
            chosen.add(int(entry))
        else:
            raise ValueError(
                f"categorical_features holds {entry!r}: give column names, indices "
                f"below {n}, or a boolean mask."
            )
    return chosen


def all_plain_numbers(X: pd.DataFrame, chosen: set) -> bool:
    """Whether a frame is all float or int columns, none named categorical."""
    return not chosen and all(
        pd.api.types.is_numeric_dtype(dt)
        and not pd.api.types.is_bool_dtype(dt)
        and not pd.api.types.is_complex_dtype(dt)
        for dt in X.dtypes
    )


def check_some_observed(values: np.ndarray, labels=None) -> None:
    """Refuse a column with no observed value: nothing to learn it from.

    Parameters
    ----------
    values : ndarray of shape (n_rows, n_columns)
        NaN marks a missing entry.
    labels : sequence, optional
        Column names, for the message.
    """
    empty = np.flatnonzero(np.isnan(values).all(axis=0)) if len(values) else []
    if len(empty):
        j = int(empty[0])
        name = labels[j] if labels is not None else j
        raise ValueError(
            f"Column {name!r} has no observed value (every entry is missing): "
            "nothing can be learnt of it. Drop it before fitting."
        )


def numeric_column(X, values: np.ndarray, j: int, categorical: bool) -> Column:
    """The column ``j`` of X, whose validated numbers are ``values``.

    Read by the same classes as any DataFrame column (:func:`column_of`): a
    DataFrame's own column, with its dtype (an int column is an integer
    column), or the array's floats. A column named in
    ``categorical_features`` has its distinct numbers as categories.
    """
    frame = isinstance(X, pd.DataFrame)
    series = X.iloc[:, j] if frame else pd.Series(values)
    if categorical:
        observed = values[~np.isnan(values)]
        return CategoricalColumn(str(series.dtype), np.unique(observed).tolist())
    # NaN was refused or kept by the array's checks already.
    return column_of(series, False, X.columns[j] if frame else j, allow_nan=True)


def column_of(series: pd.Series, categorical: bool, name: Any, allow_nan=False) -> Column:
    """The Column of a DataFrame's column, its kind read from the dtype."""
    dtype = series.dtype
    shown = f"Column {name!r}"
    if pd.api.types.is_complex_dtype(dtype):
        raise TypeError(
            f"{shown} holds complex numbers, which no model here takes: split it "
            "into its real and imaginary parts (two columns)."
        )
    if pd.api.types.is_timedelta64_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        raise TypeError(
            f"{shown} has dtype {dtype}: give durations as numbers "
            "(series.dt.total_seconds()) and periods as dates "
            "(series.dt.to_timestamp())."
        )
    if series.isna().any():
        if not allow_nan:
            check_no_missing(series, name)
        if series.isna().all():
            raise ValueError(
                f"{shown} has no observed value (every entry is missing): "
                "nothing can be learnt of it. Drop it before fitting."
            )
        series = series.dropna()
    if pd.api.types.is_bool_dtype(dtype):
        # Flags are two categories whatever categorical_features says: as
        # numbers they would come back as 0.85 or, cast to bool, all True.
        return BooleanColumn.read(series, name)
    if categorical:
        return CategoricalColumn.read(series, name)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DatetimeColumn.read(series, name)
    if not pd.api.types.is_numeric_dtype(dtype):
        raise TypeError(
            f"{shown} has dtype {dtype}, which is neither numbers nor dates; name it "
            "in categorical_features (or leave categorical_features='from_dtype')."
        )
    kind = IntegerColumn if pd.api.types.is_integer_dtype(dtype) else ContinuousColumn
    return kind.read(series, name)
