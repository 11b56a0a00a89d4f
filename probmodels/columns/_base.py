"""What every kind of column does, and the registry of kinds.

A :class:`Column` is one column of a fitted table: it is read from the
training values (:meth:`Column.read`), checks and encodes new values for a
model (:meth:`Column.encode`), turns model output back into values of its
dtype (:meth:`Column.decode`), builds a column of given values for
``sample(given=...)`` (:meth:`Column.given` / :meth:`Column.missing`),
parses a value typed on the command line (:meth:`Column.parse`) and says its
range. A kind is modelled either as continuous values (float64, NaN where
missing) or as category codes (int64, -1 where missing): ``categorical``
says which. One subclass per kind, in the modules beside this one (RDT's
transformers are laid out the same way, one class per data type).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..utils.plain import from_plain, to_plain
from ..utils.validation import _label, _shown, shown_value

__all__ = ["Column", "column_from_state", "register"]

#: kind name -> the class of that kind, filled by :func:`register`.
_KINDS: dict[str, type[Column]] = {}


def register(cls: type[Column]) -> type[Column]:
    """Add a kind of column to those :func:`column_from_state` restores.

    Parameters
    ----------
    cls : type
        A subclass of :class:`Column` with its ``kind`` set.

    Returns
    -------
    type
        ``cls``, so that this works as a class decorator.
    """
    _KINDS[cls.kind] = cls
    return cls


def column_from_state(state: dict) -> Column:
    """The column a model file stored (see :meth:`Column.state`).

    Files written before the kinds had classes store every field of the
    old record (kind, dtype, categories, declared, ordered, low, high, step,
    tz); each kind takes the fields it has.

    Parameters
    ----------
    state : dict

    Returns
    -------
    Column
    """
    state = dict(state)
    cls = _KINDS[state.pop("kind")]
    return cls.from_state(state)


class Column(ABC):
    """One column of a fitted table (a subclass per kind).

    Parameters
    ----------
    dtype : str
        The column's dtype, to give it back.
    """

    #: The kind's name: "continuous", "integer", "boolean", "categorical" or
    #: "datetime".
    kind: ClassVar[str]
    #: Whether models see category codes (True) or continuous values (False).
    categorical: ClassVar[bool]
    #: The fields a model file stores besides the kind and dtype.
    fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, dtype: str):
        self.dtype = str(dtype)

    # ------------------------------------------------------------- reading
    @classmethod
    @abstractmethod
    def read(cls, series: pd.Series, name: Any) -> Column:
        """The column that training values describe.

        Parameters
        ----------
        series : Series
            The observed values (missing entries already dropped).
        name : hashable
            The column's label, for messages.

        Returns
        -------
        Column
        """

    @abstractmethod
    def encode(self, series: pd.Series, name: Any, allow_nan: bool = False) -> np.ndarray:
        """New values as a model sees them, refusing values of another kind.

        Parameters
        ----------
        series : Series
        name : hashable
            The column's label, for messages.
        allow_nan : bool, default=False
            Missing entries become the kind's missing code (NaN, or -1 for a
            category); else a categorical column refuses them here and a
            continuous one leaves NaN to the caller's check of the block.

        Returns
        -------
        ndarray of shape (n_rows,)
            float64 values, or int64 codes for a categorical kind.
        """

    # ------------------------------------------------------------- writing
    @abstractmethod
    def decode(self, values: np.ndarray) -> Any:
        """Model output as values of the column's dtype.

        Parameters
        ----------
        values : ndarray of shape (n_rows,)
            Continuous values, or codes for a categorical kind.

        Returns
        -------
        Series or Categorical
        """

    # -------------------------------------------------------- given values
    def missing(self, n_rows: int) -> pd.Series:
        """A column of ``n_rows`` missing entries, as this kind writes them.

        Parameters
        ----------
        n_rows : int

        Returns
        -------
        Series
        """
        if self.categorical:
            return pd.Series([None] * n_rows, dtype=object)
        return pd.Series(np.full(n_rows, np.nan))

    @abstractmethod
    def given(self, values: Any, name: Any) -> pd.Series:
        """The given values of ``sample(given=...)`` as a column of this kind.

        Parameters
        ----------
        values : array-like of shape (n_rows,)
        name : hashable
            The column's label, for messages.

        Returns
        -------
        Series

        Raises
        ------
        ValueError
            A value this column cannot take.
        """

    def given_values(self, values: Any, name: Any) -> pd.Series:
        """:meth:`given`, refusing a missing value (NaN, None, NaT).

        A missing value would be drawn, not given: the column is left out
        of ``given`` for that.

        Parameters
        ----------
        values : array-like of shape (n_rows,)
        name : hashable

        Returns
        -------
        Series
        """
        raw = pd.Series(values, dtype=object) if np.ndim(values) else pd.Series([values])
        if raw.isna().any():
            raise ValueError(
                f"given[{name!r}] holds a missing value "
                f"({shown_value(raw[raw.isna()].iloc[0])}): give a value, or "
                f"leave {name!r} out of given to draw it."
            )
        return self.given(values, name)

    @abstractmethod
    def parse(self, text: str, name: Any) -> Any:
        """A value of this column typed as text (``--given column=value``).

        Parameters
        ----------
        text : str
        name : hashable
            The column's label, for messages.

        Returns
        -------
        object

        Raises
        ------
        ValueError
            The text is not a value of this column.
        """

    # ---------------------------------------------------------- describing
    @property
    def range(self) -> tuple[float, float] | None:
        """The training range of a continuous kind (None for categories)."""
        return None

    @property
    def log_scale(self) -> float:
        """``log`` of the factor the encoding divides values by (0: none).

        A model's density of encoded values is the density of the column's
        own values plus this (``log |d encoded / d value| = -log_scale``).
        """
        return 0.0

    @property
    def categories(self) -> list | None:
        """The training categories of a categorical kind (None otherwise)."""
        return None

    # ------------------------------------------------------------ pickling
    def state(self) -> dict:
        """The column as plain values, for a model file.

        Returns
        -------
        dict
            ``kind``, ``dtype`` and the kind's own fields.
        """
        out = {"kind": self.kind, "dtype": self.dtype}
        for key in self.fields:
            out[key] = to_plain(getattr(self, key), "a category")
        return out

    @classmethod
    def from_state(cls, state: dict) -> Column:
        """The column of :meth:`state` (fields of other kinds ignored).

        Parameters
        ----------
        state : dict
            Without ``kind``.

        Returns
        -------
        Column
        """
        values = {key: from_plain(state.get(key)) for key in cls.fields}
        return cls(state["dtype"], **values)

    def __eq__(self, other):
        return type(self) is type(other) and self.state() == other.state()

    def __repr__(self):
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.fields)
        return f"{type(self).__name__}({self.dtype!r}{', ' if fields else ''}{fields})"


def check_no_missing(series: pd.Series, name: Any) -> None:
    """Refuse missing entries, naming the first one's row.

    Parameters
    ----------
    series : Series
    name : hashable
        The column's label.
    """
    missing = series.isna().to_numpy()
    if missing.any():
        row = _label(series.index, np.flatnonzero(missing)[0])
        raise ValueError(
            f"Column {name!r} has missing values (the first at row {_shown(row)}); "
            "drop those rows (X.dropna()) or fill them first."
        )
