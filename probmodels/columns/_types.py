"""The column types of a table: read once, encoded for a model, decoded on output.

:class:`ColumnTypes` is a short loop over the kinds (one :class:`Column`
subclass each, in the modules beside this one). It reads each column's kind
from its dtype (or from ``categorical_features``), remembers what it needs
to give the column back, and splits a table into what models work with:

- ``continuous``: a float64 array of the continuous, integer and datetime
  columns (datetimes as seconds since 1970-01-01 UTC, standardised by the
  training dates' mean and standard deviation), NaN where missing;
- ``codes``: an int64 array of the categorical and boolean columns, each
  value the position of its category in the column's ``categories``, -1
  where missing.

:meth:`ColumnTypes.decode` turns model output back into the table. A numpy
array is all continuous (unless ``categorical_features`` names columns).
The types know no estimator: :meth:`ColumnTypes.fit` returns what it read,
and the estimator keeps its own ``n_features_in_`` / ``feature_names_in_``
(scikit-learn's ``validate_data``).

With ``quantile_transform=True`` the continuous block is also mapped, column
by column, through its training quantiles to normal scores (scikit-learn's
``QuantileTransformer(output_distribution="normal")``, the preprocessing of
TabDDPM: Kotelnikov et al., ICML 2023), and back on output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import QuantileTransformer

from ..utils.plain import index_from_plain, index_to_plain
from ..utils.validation import check_finite, check_table
from ._base import Column, column_from_state
from ._reading import (
    all_plain_numbers,
    check_some_observed,
    chosen_categorical,
    column_of,
    numeric_column,
)

__all__ = ["ColumnTypes", "Encoded", "normal_scores", "one_hot"]


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


def _stack(blocks: list, n_rows: int, dtype) -> np.ndarray:
    if not blocks:
        return np.empty((n_rows, 0), dtype)
    return np.column_stack(blocks).astype(dtype, copy=False)


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
        X,
        categorical_features: Any = "from_dtype",
        hint: str = "Remove or impute them first.",
        quantile_transform: bool = False,
        allow_nan: bool = False,
        ensure_min_samples: int = 1,
    ) -> tuple[ColumnTypes, Encoded]:
        """Read the kinds of X's columns and encode X.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_rows, n_columns)
        categorical_features : "from_dtype", None, or array-like
            "from_dtype": category, object, string and bool columns are
            categorical (bool ones boolean), which is more than
            scikit-learn's ``HistGradientBoosting*`` take under that name
            (category dtype only); None: none is; an array of column names,
            of indices, or a boolean mask: those columns are categorical,
            whatever their dtype.
        hint : str
            The fix for NaN values, appended to that message.
        quantile_transform : bool
            Whether the continuous block is modelled in normal scores.
        allow_nan : bool, default=False
            Keep missing entries (NaN, None, NaT, pd.NA) for a model that
            takes them: NaN among the continuous values, code -1 among the
            categorical ones. A column with no value at all is refused.
        ensure_min_samples : int, default=1
            The fewest rows the model can be fitted on.

        Returns
        -------
        ColumnTypes, Encoded
        """
        types, encoded = cls._read(
            X, categorical_features, hint, allow_nan, ensure_min_samples
        )
        if quantile_transform and encoded.continuous.shape[1]:
            types.quantiles = normal_scores(encoded.continuous)
            encoded = types._to_scores(encoded)
        return types, encoded

    @classmethod
    def _read(cls, X, categorical_features, hint, allow_nan, ensure_min_samples):
        chosen = chosen_categorical(X, categorical_features)
        if not isinstance(X, pd.DataFrame) or all_plain_numbers(X, chosen):
            values = check_table(
                X,
                hint=hint,
                allow_nan=allow_nan,
                ensure_min_samples=ensure_min_samples,
            )
            labels = X.columns.copy() if isinstance(X, pd.DataFrame) else None
            if allow_nan:
                check_some_observed(values, labels)
            columns = [
                numeric_column(X, values[:, j], j, j in chosen)
                for j in range(values.shape[1])
            ]
            types = cls(columns, labels)
            return types, types._encode_values(values, allow_nan=True)
        if len(X) < ensure_min_samples:
            raise ValueError(
                f"Found array with {len(X)} sample(s) (shape={X.shape}) while a "
                f"minimum of {ensure_min_samples} is required."
            )
        columns = [
            column_of(X.iloc[:, j], j in chosen, X.columns[j], allow_nan)
            for j in range(X.shape[1])
        ]
        types = cls(columns, X.columns.copy())
        return types, types._encode_frame(X, hint, allow_nan)

    def encode(
        self,
        X,
        hint: str = "Remove or impute them first.",
        allow_nan: bool = False,
    ) -> Encoded:
        """Encode new rows of the fitted columns (for scores, predictions).

        The estimator checks the feature names and count first, as
        scikit-learn does (``validate_data(..., reset=False)``).

        Parameters
        ----------
        X : array-like or DataFrame
        hint : str
            The fix for NaN values, appended to that message.
        allow_nan : bool, default=False
            Keep missing entries (NaN; code -1 for a category).

        Returns
        -------
        Encoded
        """
        return self._to_scores(self._encode(X, hint, allow_nan))

    def _to_scores(self, encoded: Encoded) -> Encoded:
        """The continuous block in normal scores, when the types have quantiles."""
        if self.quantiles is None:
            return encoded
        scores = self.quantiles.transform(encoded.continuous)
        return Encoded(scores, encoded.codes)

    def _encode(self, X, hint, allow_nan):
        frame = isinstance(X, pd.DataFrame)
        if frame and (not self.is_plain or not all_plain_numbers(X, set())):
            return self._encode_frame(X, hint, allow_nan)
        if not frame and self.labels is not None and not self.is_plain:
            raise TypeError(
                f"This model was fitted on a DataFrame with column kinds "
                f"{self.kinds}; pass a DataFrame with its columns."
            )
        values = check_table(X, hint=hint, allow_nan=allow_nan, labels=self.labels)
        self._check_width(values.shape[1])
        if self.is_plain:
            return Encoded(values)
        return self._encode_values(values, allow_nan)

    def _check_width(self, n_columns):
        if n_columns != len(self.columns):
            raise ValueError(
                f"X has {n_columns} columns, but this model was fitted on "
                f"{len(self.columns)}."
            )

    def _encode_values(self, values, allow_nan=False):
        """A validated numeric array's blocks (codes of categorical columns)."""
        continuous = [j for j, c in enumerate(self.columns) if not c.categorical]
        codes = [
            column.encode(pd.Series(values[:, j]), j, allow_nan)
            for j, column in enumerate(self.columns)
            if column.categorical
        ]
        block = (
            values
            if len(continuous) == values.shape[1]
            else np.ascontiguousarray(values[:, continuous])
        )
        return Encoded(block, _stack(codes, len(values), np.int64))

    def _encode_frame(
        self, X: pd.DataFrame, hint: str = "", allow_nan: bool = False
    ) -> Encoded:
        self._check_width(X.shape[1])
        continuous, codes, names = [], [], []
        for j, column in enumerate(self.columns):
            encoded = column.encode(X.iloc[:, j], X.columns[j], allow_nan)
            if column.categorical:
                codes.append(encoded)
            else:
                names.append(X.columns[j])
                continuous.append(encoded)
        values = _stack(continuous, len(X), np.float64)
        check_finite(
            values,
            labels=pd.Index(names),
            index=X.index,
            hint=hint,
            allow_nan=allow_nan,
        )
        return Encoded(values, _stack(codes, len(X), np.int64))

    # ------------------------------------------------------------- writing
    def decode(self, continuous, codes=None, index=None, container=None):
        """Model output back in the fitted table's columns, kinds and dtypes.

        Parameters
        ----------
        continuous : ndarray of shape (n_rows, n_continuous)
        codes : ndarray of shape (n_rows, n_categorical), optional
        index : pandas.Index, optional
            Row labels of a DataFrame output.
        container : Container, optional
            The container the model was fitted on. Plain float columns go
            into it as they are (``Container.wrap``: an ndarray, Series or
            DataFrame); other tables give a DataFrame when the fit had
            column labels and an ndarray otherwise.

        Returns
        -------
        DataFrame or ndarray
        """
        if container is not None and self.is_plain:
            return container.wrap(continuous, index)
        n = len(continuous)
        codes = np.empty((n, 0), np.int64) if codes is None else codes
        if self.quantiles is not None:
            continuous = self.quantiles.inverse_transform(continuous)
        out, c, k = [], 0, 0
        for column in self.columns:
            if column.categorical:
                out.append(column.decode(codes[:, k]))
                k += 1
            else:
                out.append(column.decode(continuous[:, c]))
                c += 1
        if self.labels is None:
            if not out:
                return np.empty((n, 0))
            return np.column_stack([np.asarray(v, dtype=float) for v in out])
        # Built on a fresh range index, then labelled: values are positional.
        frame = pd.DataFrame(dict(enumerate(out)))
        frame.columns = self.labels
        if index is not None:
            frame.index = index
        return frame

    def log_jacobian(self, continuous: np.ndarray) -> np.ndarray:
        """Per row, what turns a density of encoded values into one of the table's.

        ``-sum_j log_scale_j`` over the row's observed continuous columns (a
        date is standardised; the other kinds are as they are). Zero with
        quantiles: scores are then those of the normal scores, as documented.

        Parameters
        ----------
        continuous : ndarray of shape (n_rows, n_continuous)
            The encoded continuous block, NaN where missing.

        Returns
        -------
        ndarray of shape (n_rows,)
        """
        logs = np.array([c.log_scale for c in self.columns if not c.categorical])
        if self.quantiles is not None or not logs.any():
            return np.zeros(len(continuous))
        observed = ~np.isnan(continuous)
        return -(observed * logs).sum(axis=1)

    # ---------------------------------------------------------- properties
    @property
    def kinds(self) -> list[str]:
        """The kind of each column, in order."""
        return [c.kind for c in self.columns]

    @property
    def names(self) -> list:
        """The column labels, or the positions of an array's columns."""
        return (
            list(range(len(self.columns))) if self.labels is None else list(self.labels)
        )

    @property
    def is_plain(self) -> bool:
        """Whether every column is continuous (floats as they are)."""
        plain = all(c.kind == "continuous" for c in self.columns)
        return plain and self.quantiles is None

    @property
    def is_categorical(self) -> np.ndarray:
        """Mask of the categorical (and boolean) columns."""
        return np.array([c.categorical for c in self.columns], bool)

    @property
    def category_sizes(self) -> list[int]:
        """The number of categories of each categorical column, in order."""
        return [len(c.categories) for c in self.columns if c.categorical]

    @property
    def n_continuous(self) -> int:
        """How many columns are modelled as continuous values."""
        return sum(not c.categorical for c in self.columns)

    # ------------------------------------------------------------ pickling
    def __getstate__(self):
        # Plain values: a model file may hold nothing of pandas (utils.plain).
        columns = [c.state() for c in self.columns]
        labels = None if self.labels is None else index_to_plain(self.labels)
        # scikit-learn's transformer as it is: skops trusts it.
        return {"columns": columns, "labels": labels, "quantiles": self.quantiles}

    def __setstate__(self, state):
        columns = [column_from_state(values) for values in state["columns"]]
        labels = state["labels"]
        labels = None if labels is None else index_from_plain(labels)
        self.__init__(columns, labels, state.get("quantiles"))

    def __repr__(self):
        return f"ColumnTypes({dict(zip(self.names, self.kinds, strict=True))})"

    @classmethod
    def continuous(cls, n_columns: int) -> ColumnTypes:
        """The types of an array of ``n_columns`` continuous columns."""
        from ._numbers import ContinuousColumn

        return cls([ContinuousColumn("float64") for _ in range(n_columns)])


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
