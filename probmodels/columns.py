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

With ``quantile_transform=True`` the continuous block is also mapped, column
by column, through its training quantiles to normal scores (scikit-learn's
``QuantileTransformer(output_distribution="normal")``, the preprocessing of
TabDDPM: Kotelnikov et al., ICML 2023), and back on output: sampled values
then follow each column's training distribution, its spikes of repeated
values included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils.validation import validate_data

from ._column_values import (
    CATEGORICAL_KINDS,
    CONTINUOUS_KINDS,
    KINDS,
    Column,
    _all_plain_numbers,
    _as_numbers,
    _category_values,
    _chosen_categorical,
    _codes_of,
    _continuous_values,
    _numeric_kinds,
    _read_column,
    _stack_codes,
    check_some_observed,
)
from ._plain import from_plain, index_from_plain, index_to_plain, to_plain
from ._validation import check_finite, column_labels, validate_table

__all__ = [
    "CATEGORICAL_KINDS",
    "CONTINUOUS_KINDS",
    "KINDS",
    "Column",
    "ColumnTypes",
    "Encoded",
    "fitted_types",
    "normal_scores",
    "one_hot",
]


@dataclass(frozen=True)
class Encoded:
    """A table as models see it.

    Parameters
    ----------
    continuous : ndarray of shape (n_rows, n_continuous), float64
    codes : ndarray of shape (n_rows, n_categorical), int64, optional
        -1 where a category is missing; None: no categorical columns.
    """

    continuous: np.ndarray
    codes: np.ndarray | None = None

    def __post_init__(self):
        # No categorical columns: (n_rows, 0) codes, so every Encoded has
        # row-aligned codes.
        if self.codes is None:
            empty = np.empty((len(self.continuous), 0), np.int64)
            object.__setattr__(self, "codes", empty)

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
    quantiles : QuantileTransformer or None
        Fitted on the continuous block when it is modelled in normal scores.
    """

    def __init__(
        self,
        columns: list[Column],
        labels: pd.Index | None = None,
        quantiles: QuantileTransformer | None = None,
    ):
        self.columns, self.labels, self.quantiles = list(columns), labels, quantiles

    # ------------------------------------------------------------- reading
    @classmethod
    def fit(
        cls,
        estimator,
        X,
        categorical_features: Any = "from_dtype",
        hint: str = "Remove or impute them first.",
        quantile_transform: bool = False,
        allow_nan: bool = False,
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
        quantile_transform : bool
            Whether the continuous block is modelled in normal scores.
        allow_nan : bool, default=False
            Keep missing entries (NaN, None, NaT, pd.NA) for a model that
            takes them: NaN among the continuous values, code -1 among the
            categorical ones. A column with no value at all is refused.
        **check_params
            Passed to scikit-learn's validation (``ensure_min_samples``).

        Returns
        -------
        ColumnTypes, Encoded
        """
        types, encoded = cls._read(
            estimator, X, categorical_features, hint, allow_nan, check_params
        )
        if quantile_transform and encoded.continuous.shape[1]:
            types.quantiles = normal_scores(encoded.continuous)
            encoded = types._to_scores(encoded)
        return types, encoded

    @classmethod
    def _read(cls, estimator, X, categorical_features, hint, allow_nan, check_params):
        chosen = _chosen_categorical(X, categorical_features)
        if not isinstance(X, pd.DataFrame) or _all_plain_numbers(X, chosen):
            values = validate_table(
                estimator, X, reset=True, hint=hint, allow_nan=allow_nan, **check_params
            )
            if allow_nan:
                check_some_observed(values, column_labels(X, estimator))
            values, kinds = _numeric_kinds(X, values, chosen)
            return cls._from_values(X, values, kinds)
        validate_data(estimator, X, reset=True, skip_check_array=True)
        if len(X) < check_params.get("ensure_min_samples", 1):
            raise ValueError(
                f"Found array with {len(X)} sample(s) (shape={X.shape}) while a "
                f"minimum of {check_params['ensure_min_samples']} is required."
            )
        columns = [
            _read_column(X.iloc[:, j], j in chosen, X.columns[j], allow_nan)
            for j in range(X.shape[1])
        ]
        types = cls(columns, X.columns.copy())
        return types, types._encode_frame(X, hint, allow_nan)

    @classmethod
    def _from_values(cls, X, values, kinds):
        """The types of a numeric table whose values are already validated."""
        columns = []
        continuous, codes = [], []
        for j, kind in enumerate(kinds):
            column = values[:, j]
            dtype = str(X.dtypes.iloc[j]) if isinstance(X, pd.DataFrame) else "float64"
            missing = np.isnan(column)
            if kind == "categorical":
                cats = np.unique(column[~missing])
                columns.append(Column(kind, dtype, categories=cats.tolist()))
                codes.append(np.where(missing, -1, np.searchsorted(cats, column)))
            else:
                low, high = (
                    (float(np.nanmin(column)), float(np.nanmax(column)))
                    if (~missing).any()
                    else (0.0, 0.0)
                )
                columns.append(Column(kind, dtype, low=low, high=high))
                continuous.append(j)
        labels = X.columns.copy() if isinstance(X, pd.DataFrame) else None
        types = cls(columns, labels)
        cont = values if len(continuous) == values.shape[1] else values[:, continuous]
        return types, Encoded(cont, _stack_codes(codes, len(values)))

    def encode(
        self,
        estimator,
        X,
        hint: str = "Remove or impute them first.",
        allow_nan: bool = False,
    ) -> Encoded:
        """Encode new rows of the fitted columns (for scores, predictions).

        Parameters
        ----------
        estimator : estimator
            Owner of ``n_features_in_``, checked as scikit-learn does.
        X : array-like or DataFrame
        hint : str
            The fix for NaN values, appended to that message.
        allow_nan : bool, default=False
            Keep missing entries (NaN; code -1 for a category).

        Returns
        -------
        Encoded
        """
        return self._to_scores(self._encode(estimator, X, hint, allow_nan))

    def _to_scores(self, encoded: Encoded) -> Encoded:
        """The continuous block in normal scores, when the types have quantiles."""
        if self.quantiles is None:
            return encoded
        scores = self.quantiles.transform(encoded.continuous)
        return Encoded(scores, encoded.codes)

    def _encode(self, estimator, X, hint, allow_nan):
        checks = dict(reset=False, hint=hint, allow_nan=allow_nan)
        if self.is_plain and not (
            isinstance(X, pd.DataFrame) and not _all_plain_numbers(X, set())
        ):
            return Encoded(validate_table(estimator, X, **checks))
        if not isinstance(X, pd.DataFrame):
            if self.labels is not None:
                raise TypeError(
                    f"This model was fitted on a DataFrame with column kinds "
                    f"{self.kinds}; pass a DataFrame with its columns."
                )
            values = validate_table(estimator, X, **checks)
            return self._encode_values(values, allow_nan)
        validate_data(estimator, X, reset=False, skip_check_array=True)
        return self._encode_frame(X, hint, allow_nan)

    def _encode_values(self, values, allow_nan=False):
        continuous = [
            j for j, c in enumerate(self.columns) if c.kind in CONTINUOUS_KINDS
        ]
        codes = []
        for j, column in enumerate(self.columns):
            if column.kind in CATEGORICAL_KINDS:
                codes.append(_codes_of(pd.Series(values[:, j]), column, j, allow_nan))
        return Encoded(
            np.ascontiguousarray(values[:, continuous]),
            _stack_codes(codes, len(values)),
        )

    def _encode_frame(
        self, X: pd.DataFrame, hint: str = "", allow_nan: bool = False
    ) -> Encoded:
        if X.shape[1] != len(self.columns):
            raise ValueError(
                f"X has {X.shape[1]} columns, but this model was fitted on "
                f"{len(self.columns)}."
            )
        continuous, codes, names = [], [], []
        for j, column in enumerate(self.columns):
            series = X.iloc[:, j]
            if column.kind in CATEGORICAL_KINDS:
                codes.append(_codes_of(series, column, X.columns[j], allow_nan))
                continue
            names.append(X.columns[j])
            continuous.append(_as_numbers(series, column, X.columns[j]))
        values = np.column_stack(continuous) if continuous else np.empty((len(X), 0))
        check_finite(
            values,
            labels=pd.Index(names),
            index=X.index,
            hint=hint,
            allow_nan=allow_nan,
        )
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
        if self.quantiles is not None:
            continuous = self.quantiles.inverse_transform(continuous)
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
        # Built on a fresh range index, then labelled: values are positional.
        frame = pd.DataFrame({j: out[j] for j in range(len(self.columns))})
        frame.columns = self.labels
        if index is not None:
            frame.index = index
        return frame

    # ---------------------------------------------------------- properties
    @property
    def kinds(self) -> list[str]:
        """The kind of each column, in order."""
        return [c.kind for c in self.columns]

    @property
    def is_plain(self) -> bool:
        """Whether every column is continuous (floats as they are)."""
        plain = all(c.kind == "continuous" for c in self.columns)
        return plain and self.quantiles is None

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
        # scikit-learn's transformer as it is: skops trusts it.
        return {"columns": columns, "labels": labels, "quantiles": self.quantiles}

    def __setstate__(self, state):
        columns = []
        for values in state["columns"]:
            values = dict(values)
            values["categories"] = from_plain(values["categories"])
            values["declared"] = from_plain(values["declared"])
            columns.append(Column(**values))
        labels = state["labels"]
        labels = None if labels is None else index_from_plain(labels)
        self.__init__(columns, labels, state.get("quantiles"))

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


def normal_scores(values: np.ndarray) -> QuantileTransformer:
    """The map of each column to normal scores through its quantiles.

    Up to 1,000 quantiles of all rows (no subsample), so the map depends on
    the data alone; tied values (spikes) map to the middle of their scores,
    and scores map back onto them.

    Parameters
    ----------
    values : ndarray of shape (n_rows, n_columns)

    Returns
    -------
    QuantileTransformer
        Fitted, with ``output_distribution="normal"``.
    """
    n_quantiles = int(min(1000, len(values)))
    transformer = QuantileTransformer(
        n_quantiles=n_quantiles, output_distribution="normal", subsample=None
    )
    return transformer.fit(values)


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
        Code -1 marks a missing category: its block is NaN.
    sizes : list of int
        Categories of each column.

    Returns
    -------
    ndarray of shape (n_rows, sum(sizes))
    """
    out = np.zeros((len(codes), sum(sizes)))
    offsets = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
    if len(sizes):
        rows = np.broadcast_to(np.arange(len(codes))[:, None], codes.shape)
        known = codes >= 0
        out[rows[known], (codes + offsets)[known]] = 1.0
        # A missing category (code -1) is a block of NaN: no indicator known.
        for j in np.flatnonzero((~known).any(axis=0)):
            out[codes[:, j] < 0, offsets[j] : offsets[j] + sizes[j]] = np.nan
    return out
