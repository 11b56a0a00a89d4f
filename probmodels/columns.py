"""The column types of a table: read once, encoded for a model, decoded on output.

Every generative estimator takes the tables users have: pandas DataFrames
that mix numbers, integers, flags, categories and dates. :class:`ColumnTypes`
reads each column's kind from its dtype (or from ``categorical_features``, as
scikit-learn's ``HistGradientBoostingClassifier`` takes it), remembers what
it needs to give the column back (categories, integer-ness, range, date
resolution and time zone, dtype), and splits a table into what models work
with:

- ``continuous``: a float64 array of the continuous, integer and datetime
  columns (datetimes as seconds since 1970-01-01 UTC);
- ``codes``: an int64 array of the categorical and boolean columns, each
  value the position of its category in ``categories[j]``.

:meth:`ColumnTypes.decode` turns model output back into the table: integers
rounded and clipped to the training range, datetimes rounded to the
training data's resolution and clipped, categories and flags restored, each
column in its dtype and in its place. A numpy array is all continuous (unless
``categorical_features`` names columns), as it always was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

from ._plain import from_plain, index_from_plain, index_to_plain, to_plain
from ._validation import _label, _shown, check_finite, validate_table

__all__ = ["KINDS", "Column", "ColumnTypes", "Encoded", "fitted_types", "one_hot"]

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


@dataclass(frozen=True)
class Encoded:
    """A table as models see it.

    Parameters
    ----------
    continuous : ndarray of shape (n_rows, n_continuous), float64
    codes : ndarray of shape (n_rows, n_categorical), int64
    """

    continuous: np.ndarray
    codes: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.int64))

    def __len__(self):
        return len(self.continuous)


class ColumnTypes:
    """The column types of a fitted table (see the module's docstring).

    Parameters
    ----------
    columns : list of Column
        One per input column, in order.
    labels : pandas.Index or None
        The DataFrame's column labels; None for an array.
    """

    def __init__(self, columns: list[Column], labels: pd.Index | None = None):
        self.columns, self.labels = list(columns), labels

    # ------------------------------------------------------------- reading
    @classmethod
    def fit(
        cls,
        estimator,
        X,
        categorical_features: Any = "from_dtype",
        hint: str = "Remove or impute them first.",
        **check_params,
    ) -> tuple[ColumnTypes, Encoded]:
        """Read the kinds of X's columns and encode X.

        Sets ``n_features_in_`` (and ``feature_names_in_``) on ``estimator``
        as scikit-learn's ``validate_data`` does.

        Parameters
        ----------
        estimator : estimator
        X : array-like or DataFrame of shape (n_rows, n_columns)
        categorical_features : "from_dtype", None, or array-like
            "from_dtype": category, object, string and bool columns are
            categorical (bool ones boolean); None: none is; an array of
            column names, of indices, or a boolean mask: those columns are
            categorical, whatever their dtype.
        hint : str
            The fix for NaN values, appended to that message.
        **check_params
            Passed to scikit-learn's validation (``ensure_min_samples``).

        Returns
        -------
        ColumnTypes, Encoded
        """
        chosen = _chosen_categorical(X, categorical_features)
        if not isinstance(X, pd.DataFrame) or _all_plain_numbers(X, chosen):
            values = validate_table(estimator, X, reset=True, hint=hint, **check_params)
            values, kinds = _numeric_kinds(X, values, chosen)
            return cls._from_values(X, values, kinds)
        validate_data(estimator, X, reset=True, skip_check_array=True)
        if len(X) < check_params.get("ensure_min_samples", 1):
            raise ValueError(
                f"Found array with {len(X)} sample(s) (shape={X.shape}) while a "
                f"minimum of {check_params['ensure_min_samples']} is required."
            )
        columns = [
            _read_column(X.iloc[:, j], j in chosen, X.columns[j])
            for j in range(X.shape[1])
        ]
        types = cls(columns, X.columns.copy())
        return types, types._encode_frame(X, hint)

    @classmethod
    def _from_values(cls, X, values, kinds):
        """The types of a numeric table whose values are already validated."""
        columns = []
        continuous, codes = [], []
        for j, kind in enumerate(kinds):
            column = values[:, j]
            dtype = str(X.dtypes.iloc[j]) if isinstance(X, pd.DataFrame) else "float64"
            if kind == "categorical":
                cats = np.unique(column)
                columns.append(Column(kind, dtype, categories=cats.tolist()))
                codes.append(np.searchsorted(cats, column))
            else:
                low, high = (
                    (float(column.min()), float(column.max()))
                    if len(column)
                    else (0.0, 0.0)
                )
                columns.append(Column(kind, dtype, low=low, high=high))
                continuous.append(j)
        labels = X.columns.copy() if isinstance(X, pd.DataFrame) else None
        types = cls(columns, labels)
        cont = values if len(continuous) == values.shape[1] else values[:, continuous]
        return types, Encoded(cont, _stack_codes(codes, len(values)))

    def encode(
        self, estimator, X, hint: str = "Remove or impute them first."
    ) -> Encoded:
        """Encode new rows of the fitted columns (for scores, predictions).

        Parameters
        ----------
        estimator : estimator
            Owner of ``n_features_in_``, checked as scikit-learn does.
        X : array-like or DataFrame
        hint : str
            The fix for NaN values, appended to that message.

        Returns
        -------
        Encoded
        """
        if self.is_plain and not (
            isinstance(X, pd.DataFrame) and not _all_plain_numbers(X, set())
        ):
            return Encoded(validate_table(estimator, X, reset=False, hint=hint))
        if not isinstance(X, pd.DataFrame):
            if self.labels is not None:
                raise TypeError(
                    f"This model was fitted on a DataFrame with column kinds "
                    f"{self.kinds}; pass a DataFrame with its columns."
                )
            values = validate_table(estimator, X, reset=False, hint=hint)
            return self._encode_values(values)
        validate_data(estimator, X, reset=False, skip_check_array=True)
        return self._encode_frame(X, hint)

    def _encode_values(self, values):
        continuous = [
            j for j, c in enumerate(self.columns) if c.kind in CONTINUOUS_KINDS
        ]
        codes = []
        for j, column in enumerate(self.columns):
            if column.kind in CATEGORICAL_KINDS:
                codes.append(_codes_of(pd.Series(values[:, j]), column, j))
        return Encoded(
            np.ascontiguousarray(values[:, continuous]),
            _stack_codes(codes, len(values)),
        )

    def _encode_frame(self, X: pd.DataFrame, hint: str = "") -> Encoded:
        if X.shape[1] != len(self.columns):
            raise ValueError(
                f"X has {X.shape[1]} columns, but this model was fitted on "
                f"{len(self.columns)}."
            )
        continuous, codes, names = [], [], []
        for j, column in enumerate(self.columns):
            series = X.iloc[:, j]
            if column.kind in CATEGORICAL_KINDS:
                codes.append(_codes_of(series, column, X.columns[j]))
                continue
            names.append(X.columns[j])
            continuous.append(_as_numbers(series, column, X.columns[j]))
        values = np.column_stack(continuous) if continuous else np.empty((len(X), 0))
        check_finite(values, labels=pd.Index(names), index=X.index, hint=hint)
        return Encoded(values, _stack_codes(codes, len(X)))

    # ------------------------------------------------------------- writing
    def decode(self, continuous, codes=None, index=None, container=None):
        """Model output back in the fitted table's columns, kinds and dtypes.

        Parameters
        ----------
        continuous : ndarray of shape (n_rows, n_continuous)
        codes : ndarray of shape (n_rows, n_categorical), optional
        index : pandas.Index, optional
        container : Container, optional
            The container the model was fitted on; an ndarray container
            gives an ndarray (float, with categorical columns' values).

        Returns
        -------
        DataFrame or ndarray
        """
        n = len(continuous)
        codes = np.empty((n, 0), np.int64) if codes is None else codes
        out, c, k = {}, 0, 0
        for j, column in enumerate(self.columns):
            if column.kind in CATEGORICAL_KINDS:
                out[j] = _category_values(column, codes[:, k])
                k += 1
            else:
                out[j] = _continuous_values(column, continuous[:, c])
                c += 1
        if self.labels is None:
            if not out:
                return np.empty((n, 0))
            return np.column_stack([np.asarray(v, dtype=float) for v in out.values()])
        frame = pd.DataFrame({j: out[j] for j in range(len(self.columns))}, index=index)
        frame.columns = self.labels
        return frame

    # ---------------------------------------------------------- properties
    @property
    def kinds(self) -> list[str]:
        """The kind of each column, in order."""
        return [c.kind for c in self.columns]

    @property
    def is_plain(self) -> bool:
        """Whether every column is continuous (floats as they are)."""
        return all(c.kind == "continuous" for c in self.columns)

    @property
    def is_categorical(self) -> np.ndarray:
        """Mask of the categorical (and boolean) columns."""
        return np.array([c.kind in CATEGORICAL_KINDS for c in self.columns], bool)

    @property
    def category_sizes(self) -> list[int]:
        """The number of categories of each categorical column, in order."""
        return [len(c.categories) for c in self.columns if c.kind in CATEGORICAL_KINDS]

    @property
    def n_continuous(self) -> int:
        """How many columns are modelled as continuous values."""
        return sum(c.kind in CONTINUOUS_KINDS for c in self.columns)

    # ------------------------------------------------------------ pickling
    def __getstate__(self):
        # Plain values: a model file may hold nothing of pandas (_plain.py).
        columns = [
            {
                **c.__dict__,
                "categories": to_plain(c.categories, "a category"),
                "declared": to_plain(c.declared, "a category"),
            }
            for c in self.columns
        ]
        labels = None if self.labels is None else index_to_plain(self.labels)
        return {"columns": columns, "labels": labels}

    def __setstate__(self, state):
        columns = []
        for values in state["columns"]:
            values = dict(values)
            values["categories"] = from_plain(values["categories"])
            values["declared"] = from_plain(values["declared"])
            columns.append(Column(**values))
        labels = state["labels"]
        self.__init__(columns, None if labels is None else index_from_plain(labels))

    def __repr__(self):
        return f"ColumnTypes({dict(zip(self._names(), self.kinds, strict=True))})"

    def _names(self):
        return (
            list(range(len(self.columns))) if self.labels is None else list(self.labels)
        )

    @classmethod
    def continuous(cls, n_columns: int) -> ColumnTypes:
        """The types of an array of ``n_columns`` continuous columns."""
        return cls([Column("continuous", "float64") for _ in range(n_columns)])


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


def _read_column(series: pd.Series, categorical: bool, name) -> Column:
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
        row = _label(series.index, np.flatnonzero(series.isna().to_numpy())[0])
        raise ValueError(
            f"{shown} has missing values (the first at row {_shown(row)}); drop "
            "those rows (X.dropna()) or fill them first."
        )
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


def _codes_of(series: pd.Series, column: Column, name) -> np.ndarray:
    """Each value's position among the column's categories; unseen ones named."""
    if series.isna().any():
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


def fitted_types(estimator) -> ColumnTypes:
    """An estimator's fitted column types (all continuous for a 0.1.0 model).

    Parameters
    ----------
    estimator : estimator
        Fitted; its types are in ``_columns``.

    Returns
    -------
    ColumnTypes
    """
    types = estimator.__dict__.get("_columns")
    if types is None:
        return ColumnTypes.continuous(estimator.n_features_in_)
    return types


def one_hot(codes: np.ndarray, sizes: list[int]) -> np.ndarray:
    """The one-hot rows of codes (one block per column), float64.

    Parameters
    ----------
    codes : ndarray of shape (n_rows, n_columns)
    sizes : list of int
        Categories of each column.

    Returns
    -------
    ndarray of shape (n_rows, sum(sizes))
    """
    out = np.zeros((len(codes), sum(sizes)))
    offsets = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
    if len(sizes):
        rows = np.arange(len(codes))[:, None]
        out[rows, codes + offsets] = 1.0
    return out
