"""Columns of numbers: continuous (floats) and integer.

Both are modelled as continuous values. An integer column comes back
rounded and clipped to its training range, the clip done in the column's own
integer type: float64 rounds ``2**63 - 1`` up to ``2**63``, which would wrap
to ``-2**63``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..utils.validation import shown_value
from ._base import Column, register

__all__ = ["ContinuousColumn", "IntegerColumn"]


@register
class ContinuousColumn(Column):
    """A column of real numbers (any float dtype).

    Parameters
    ----------
    dtype : str
    low, high : float
        The training range.
    """

    kind = "continuous"
    categorical = False
    fields = ("low", "high")

    def __init__(self, dtype: str = "float64", low: float | None = None, high: float | None = None):
        super().__init__(dtype)
        self.low, self.high = low, high

    @classmethod
    def read(cls, series, name):
        """The column that training values describe (see :class:`Column`)."""
        values = series.to_numpy(np.float64)
        low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)
        return cls(str(series.dtype), low, high)

    def encode(self, series, name, allow_nan=False):
        """Values as float64, NaN where missing (see :class:`Column`)."""
        if not pd.api.types.is_numeric_dtype(series.dtype):
            raise TypeError(
                f"Column {name!r} held numbers in training; it holds {series.dtype} now."
            )
        return series.to_numpy(np.float64, na_value=np.nan)

    def decode(self, values):
        """Values in the column's dtype (see :class:`Column`)."""
        return pd.Series(np.asarray(values, dtype=np.float64)).astype(self.dtype)

    def given(self, values, name):
        """Given numbers as a column (see :class:`Column`)."""
        series = pd.Series(values)
        if not pd.api.types.is_numeric_dtype(series.dtype):
            raise ValueError(
                f"given[{name!r}] is {shown_value(series.iloc[0])}, but column {name!r} holds "
                "numbers."
            )
        return series

    def parse(self, text, name):
        """A number from text (see :class:`Column`)."""
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"column {name!r} holds numbers.") from None

    @property
    def range(self):
        """The training range (see :class:`Column`)."""
        return self.low, self.high


@register
class IntegerColumn(ContinuousColumn):
    """A column of integers, modelled as continuous values.

    Decoded values are rounded and clipped to the training range.

    Parameters
    ----------
    dtype : str
    low, high : float
        The training range.
    """

    kind = "integer"

    @classmethod
    def read(cls, series, name):
        """The range of training integers, exactly (see :class:`Column`)."""
        if not len(series):
            return cls(str(series.dtype), 0, 0)
        return cls(str(series.dtype), int(series.min()), int(series.max()))

    def _numpy_dtype(self):
        dtype = pd.api.types.pandas_dtype(self.dtype)
        return np.dtype(getattr(dtype, "numpy_dtype", dtype))

    def decode(self, values):
        """Rounded, clipped values in the column's dtype (see :class:`Column`).

        Values at or past a bound of the training range take that bound as
        an integer, so the extremes of int64 and uint64 come back exactly.
        """
        rounded = np.rint(np.asarray(values, dtype=np.float64))
        dtype = self._numpy_dtype()
        limits = np.iinfo(dtype)
        # Bounds as integers of the column's type (a 0.1.0 file stores floats).
        low = max(int(min(self.low, limits.max)), limits.min)
        high = min(int(max(self.high, limits.min)), limits.max)
        out = np.empty(len(rounded), dtype=dtype)
        below, above = rounded <= float(low), rounded >= float(high)
        inside = ~(below | above)
        # Strictly inside the bounds: the float is an integer of the type.
        out[inside] = rounded[inside].astype(dtype)
        out[below], out[above] = low, high
        return pd.Series(out).astype(self.dtype)

    def given(self, values, name):
        """Given whole numbers as a column; other numbers refused (see :class:`Column`)."""
        series = super().given(values, name)
        numbers = series.to_numpy(np.float64, na_value=np.nan)
        whole = np.isnan(numbers) | (numbers == np.round(numbers))
        if not whole.all():
            value = series[~whole].iloc[0]
            raise ValueError(
                f"given[{name!r}] is {shown_value(value)}, but column {name!r} holds "
                "integers: "
                "give a whole number."
            )
        return series
