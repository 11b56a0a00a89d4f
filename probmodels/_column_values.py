"""The values of one column: its kind read from pandas, encoded and decoded.

The column-by-column half of :mod:`probmodels.columns`: a :class:`Column`
records what is known of one column of a fitted table; the functions here
read a column's kind, turn its values into numbers or category codes, and
turn model output back into values of its dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validation import _label, _shown

#: The kinds a column can be.
KINDS = ("continuous", "integer", "boolean", "categorical", "datetime")
#: Kinds modelled as continuous values, and kinds modelled as categories.
CONTINUOUS_KINDS = ("continuous", "integer", "datetime")
CATEGORICAL_KINDS = ("boolean", "categorical")

_NS_PER_S = 1_000_000_000
#: Resolutions a datetime column is rounded to, coarsest first (nanoseconds).
_RESOLUTIONS = [
    86_400 * _NS_PER_S,
    3_600 * _NS_PER_S,
    60 * _NS_PER_S,
    _NS_PER_S,
    1_000_000,
    1_000,
    1,
]


@dataclass
class Column:
    """What is known of one column of the fitted table.

    Parameters
    ----------
    kind : {"continuous", "integer", "boolean", "categorical", "datetime"}
    dtype : str
        The column's dtype, to give it back.
    categories : list, optional
        Categorical and boolean columns: the categories seen in training, in
        order (their codes are their positions).
    declared : list, optional
        A ``category`` dtype's own categories (those never seen included),
        for the output's dtype; ``ordered`` likewise.
    ordered : bool
    low, high : float, optional
        Integer and datetime columns: the training range (datetimes in
        seconds), which decoded values are clipped to.
    step : int, optional
        Datetime columns: the resolution of the training values, in
        nanoseconds, which decoded values are rounded to.
    tz : str, optional
        Datetime columns: the time zone.
    """

    kind: str
    dtype: str
    categories: list | None = None
    declared: list | None = None
    ordered: bool = False
    low: float | None = None
    high: float | None = None
    step: int | None = None
    tz: str | None = None


# ------------------------------------------------------------------ reading
def _chosen_categorical(X, categorical_features) -> set[int]:
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


def _all_plain_numbers(X: pd.DataFrame, chosen: set) -> bool:
    """Whether a frame is all float or int columns, none named categorical."""
    return not chosen and all(
        pd.api.types.is_numeric_dtype(dt)
        and not pd.api.types.is_bool_dtype(dt)
        and not pd.api.types.is_complex_dtype(dt)
        for dt in X.dtypes
    )


def _numeric_kinds(X, values, chosen):
    """Kinds of validated numeric columns: int columns of a DataFrame are integer."""
    kinds = []
    for j in range(values.shape[1]):
        if j in chosen:
            kinds.append("categorical")
        elif isinstance(X, pd.DataFrame) and pd.api.types.is_integer_dtype(
            X.dtypes.iloc[j]
        ):
            kinds.append("integer")
        else:
            kinds.append("continuous")
    return values, kinds


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


def _read_column(
    series: pd.Series, categorical: bool, name, allow_nan: bool = False
) -> Column:
    """The Column of a DataFrame's column (the fit's view of it)."""
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
            row = _label(series.index, np.flatnonzero(series.isna().to_numpy())[0])
            raise ValueError(
                f"{shown} has missing values (the first at row {_shown(row)}); drop "
                "those rows (X.dropna()) or fill them first."
            )
        if series.isna().all():
            raise ValueError(
                f"{shown} has no observed value (every entry is missing): "
                "nothing can be learnt of it. Drop it before fitting."
            )
        series = series.dropna()
    if categorical:
        if pd.api.types.is_bool_dtype(dtype):
            kind, cats = "boolean", sorted(set(series.tolist()))
        else:
            kind = "categorical"
            cats = _observed_categories(series)
            if len(cats) == len(series) > 1:
                raise ValueError(
                    f"{shown} has a different value in each of its {len(series)} "
                    "rows: an identifier, not a category. Drop it (or, if it is a "
                    "number, leave it out of categorical_features)."
                )
        declared = ordered = None
        if isinstance(dtype, pd.CategoricalDtype):
            declared, ordered = dtype.categories.tolist(), bool(dtype.ordered)
        return Column(kind, str(dtype), cats, declared, bool(ordered))
    if pd.api.types.is_datetime64_any_dtype(dtype):
        naive = (
            series.dt.tz_convert("UTC").dt.tz_localize(None) if series.dt.tz else series
        )
        ns = naive.to_numpy("datetime64[ns]").astype(np.int64)
        step = next((s for s in _RESOLUTIONS if not (ns % s).any()), 1)
        tz = None if series.dt.tz is None else str(series.dt.tz)
        seconds = ns / _NS_PER_S
        return Column(
            "datetime",
            str(dtype),
            low=float(seconds.min()),
            high=float(seconds.max()),
            step=int(step),
            tz=tz,
        )
    if not pd.api.types.is_numeric_dtype(dtype):
        raise TypeError(
            f"{shown} has dtype {dtype}, which is neither numbers nor dates; name it "
            "in categorical_features (or leave categorical_features='from_dtype')."
        )
    values = series.to_numpy(np.float64)
    kind = "integer" if pd.api.types.is_integer_dtype(dtype) else "continuous"
    low, high = (
        (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)
    )
    return Column(kind, str(dtype), low=low, high=high)


def _observed_categories(series: pd.Series) -> list:
    """The categories seen, in the dtype's order (sorted for other dtypes)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        seen = set(series.cat.codes.tolist())
        return [c for i, c in enumerate(series.dtype.categories) if i in seen]
    values = pd.unique(series.to_numpy(dtype=object))
    try:
        return sorted(values.tolist())
    except TypeError:  # mixed types: in the order of their text
        return sorted(values.tolist(), key=lambda v: (type(v).__name__, str(v)))


def _codes_of(
    series: pd.Series, column: Column, name, allow_nan: bool = False
) -> np.ndarray:
    """Each value's position among the column's categories; unseen ones named.

    A missing value is code -1 when ``allow_nan``.
    """
    missing = series.isna().to_numpy()
    if allow_nan and missing.any():
        codes = np.full(len(series), -1, dtype=np.int64)
        codes[~missing] = _codes_of(series[~missing], column, name)
        return codes
    if missing.any():
        row = _label(series.index, np.flatnonzero(series.isna().to_numpy())[0])
        raise ValueError(
            f"Column {name!r} has missing values (the first at row {_shown(row)}); "
            "drop those rows or fill them first."
        )
    values = (
        series.astype(object)
        if isinstance(series.dtype, pd.CategoricalDtype)
        else series
    )
    lookup = {v: i for i, v in enumerate(column.categories)}
    codes = np.fromiter(
        (lookup.get(v, -1) for v in values.tolist()), dtype=np.int64, count=len(series)
    )
    if (codes < 0).any():
        first = np.flatnonzero(codes < 0)[0]
        row = _shown(_label(series.index, first))
        raise ValueError(
            f"Column {name!r} holds {values.iloc[first]!r} (row {row}), a category "
            f"this model never saw in training; it knows {column.categories[:20]}."
        )
    return codes


def _as_numbers(series: pd.Series, column: Column, name) -> np.ndarray:
    """A continuous-kind column as float64 (datetimes in seconds)."""
    if column.kind == "datetime":
        if not pd.api.types.is_datetime64_any_dtype(series.dtype):
            raise TypeError(
                f"Column {name!r} held dates in training; it holds {series.dtype} now."
            )
        naive = (
            series.dt.tz_convert("UTC").dt.tz_localize(None) if series.dt.tz else series
        )
        return naive.to_numpy("datetime64[ns]").astype(np.int64) / _NS_PER_S
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise TypeError(
            f"Column {name!r} held numbers in training; it holds {series.dtype} now."
        )
    return series.to_numpy(np.float64, na_value=np.nan)


def _stack_codes(codes: list, n: int) -> np.ndarray:
    if not codes:
        return np.empty((n, 0), np.int64)
    return np.column_stack(codes).astype(np.int64, copy=False)


# ------------------------------------------------------------------ writing
def _category_values(column: Column, codes: np.ndarray):
    cats = column.categories
    values = np.empty(len(codes), dtype=object)
    values[:] = [cats[c] for c in codes]
    if column.kind == "boolean":
        return pd.Series(values.astype(bool)).astype(column.dtype)
    if column.dtype == "category":
        return pd.Categorical(
            values, categories=column.declared, ordered=column.ordered
        )
    series = pd.Series(values)
    try:
        return series.astype(column.dtype)
    except (TypeError, ValueError):
        return series


def _continuous_values(column: Column, values: np.ndarray):
    values = np.asarray(values, dtype=np.float64)
    if column.kind == "continuous":
        return pd.Series(values).astype(column.dtype)
    low, high = column.low, column.high
    if column.kind == "integer":
        return pd.Series(np.clip(np.rint(values), low, high)).astype(column.dtype)
    ns = np.clip(values, low, high) * _NS_PER_S
    ns = (np.rint(ns / column.step) * column.step).astype(np.int64)
    stamps = pd.Series(pd.to_datetime(ns, unit="ns"))
    if column.tz is not None:
        stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(column.tz)
    try:
        return stamps.astype(column.dtype)
    except (TypeError, ValueError):
        return stamps
