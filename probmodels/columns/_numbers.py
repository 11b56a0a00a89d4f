"""Columns of numbers: continuous (floats) and integer.

Both are modelled as continuous values. An integer column comes back
rounded and clipped to its training range.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._base import Column, register

__all__ = ["ContinuousColumn", "IntegerColumn"]


def _float_values(series: pd.Series, name: Any) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise TypeError(
            f"Column {name!r} held numbers in training; it holds {series.dtype} now."
        )
    return series.to_numpy(np.float64, na_value=np.nan)


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
        return _float_values(series, name)

    def decode(self, values):
        """Values in the column's dtype (see :class:`Column`)."""
        return pd.Series(np.asarray(values, dtype=np.float64)).astype(self.dtype)

    def given(self, values, name):
        """Given numbers as a column (see :class:`Column`)."""
        series = pd.Series(values)
        if not pd.api.types.is_numeric_dtype(series.dtype):
            raise ValueError(
                f"given[{name!r}] is {series.iloc[0]!r}, but column {name!r} holds "
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

    def decode(self, values):
        """Rounded, clipped values in the column's dtype (see :class:`Column`)."""
        rounded = np.rint(np.asarray(values, dtype=np.float64))
        return pd.Series(np.clip(rounded, self.low, self.high)).astype(self.dtype)
