"""Columns of dates (datetime64 of any unit, with or without a time zone).

Dates are modelled as seconds since 1970-01-01 UTC, standardised by the
training dates' mean and standard deviation: in seconds a date's variance
(1e12 for dates a month apart) would swamp every other column of a model
that shares scales (a spherical covariance) and make ``reg_covar`` nothing
beside it (two dates a fixed lag apart are then a singular covariance).
Scores stay densities of the dates in seconds: the column's log-Jacobian
(``log_scale``) is added back (:meth:`ColumnTypes.log_jacobian`).
:func:`datetime_seconds` is the one conversion, at the column's own unit
(so a column of dates past 2262, which pandas keeps in microseconds, does
not wrap through nanoseconds), with NaT as a missing value (NaN). Decoded
values are clipped to the training range and rounded to the training
values' resolution.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._base import Column, register

__all__ = ["DatetimeColumn", "datetime_seconds"]

_NS_PER_S = 1_000_000_000
#: Nanoseconds in one step of each datetime64 unit.
_NS_PER_UNIT = {"s": _NS_PER_S, "ms": 1_000_000, "us": 1_000, "ns": 1}
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


def _utc_ticks(series: pd.Series) -> tuple[np.ndarray, str]:
    """The values as int64 ticks of their unit since 1970 UTC (NaT: int64 min)."""
    if series.dt.tz is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    values = series.to_numpy()
    unit = np.datetime_data(values.dtype)[0]
    return values.view(np.int64), unit


def datetime_seconds(series: pd.Series) -> np.ndarray:
    """Seconds since 1970-01-01 UTC of a datetime column, NaN where NaT.

    Parameters
    ----------
    series : Series of datetime64 dtype (any unit, naive or with a time zone)

    Returns
    -------
    ndarray of shape (n_rows,), float64
    """
    ticks, unit = _utc_ticks(series)
    per_second = _NS_PER_S // _NS_PER_UNIT[unit]
    # Whole seconds and the fraction apart: int64 nanoseconds past 2^53 would
    # lose digits in one division by float.
    whole, part = np.divmod(ticks, per_second)
    seconds = whole.astype(np.float64) + part / per_second
    seconds[series.isna().to_numpy()] = np.nan
    return seconds


def _unit_of(dtype: str) -> str:
    """The datetime64 unit a dtype's text names ("ns" when it names none)."""
    try:
        parsed = pd.api.types.pandas_dtype(dtype)
    except TypeError:
        return "ns"
    if isinstance(parsed, pd.DatetimeTZDtype):
        return parsed.unit
    return np.datetime_data(parsed)[0] if parsed.kind == "M" else "ns"


@register
class DatetimeColumn(Column):
    """A column of dates, modelled as seconds since 1970-01-01 UTC.

    Parameters
    ----------
    dtype : str
    low, high : float
        The training range, in seconds.
    step : int
        The resolution of the training values, in nanoseconds (one day,
        hour, minute, second, millisecond, microsecond or nanosecond), which
        decoded values are rounded to.
    tz : str, optional
        The time zone.
    center, scale : float, default=0.0 and 1.0
        The seconds a model sees are ``(seconds - center) / scale``: the
        training dates' mean and standard deviation. Files written before
        the dates were standardised hold neither, and read as 0 and 1.
    """

    kind = "datetime"
    categorical = False
    fields = ("low", "high", "step", "tz", "center", "scale")

    def __init__(
        self, dtype: str, low=None, high=None, step=1, tz=None, center=0.0, scale=1.0
    ):
        super().__init__(dtype)
        self.low, self.high = low, high
        self.step = int(step) if step is not None else 1
        self.tz = tz
        self.center = 0.0 if center is None else float(center)
        self.scale = 1.0 if scale is None else float(scale)

    @classmethod
    def read(cls, series, name):
        """The range and resolution of training dates (see :class:`Column`)."""
        ticks, unit = _utc_ticks(series)
        per_tick = _NS_PER_UNIT[unit]
        step = next(
            s
            for s in _RESOLUTIONS
            if s < per_tick or not (ticks % (s // per_tick)).any()
        )
        seconds = datetime_seconds(series)
        tz = None if series.dt.tz is None else str(series.dt.tz)
        low, high = (float(seconds.min()), float(seconds.max())) if len(seconds) else (0.0, 0.0)
        center = float(seconds.mean()) if len(seconds) else 0.0
        spread = float(seconds.std()) if len(seconds) > 1 else 0.0
        # A constant date keeps its seconds' unit: there is no spread to use.
        scale = spread if spread > 0 else 1.0
        return cls(str(series.dtype), low, high, max(step, per_tick), tz, center, scale)

    def encode(self, series, name, allow_nan=False):
        """Standardised seconds since 1970 UTC, NaN where NaT (see :class:`Column`)."""
        if not pd.api.types.is_datetime64_any_dtype(series.dtype):
            raise TypeError(
                f"Column {name!r} held dates in training; it holds {series.dtype} now."
            )
        return (datetime_seconds(series) - self.center) / self.scale

    @property
    def log_scale(self) -> float:
        """``log scale``: what the standardisation takes off a log-density."""
        return float(np.log(self.scale))

    def decode(self, values):
        """Dates in the column's dtype and time zone (see :class:`Column`)."""
        unit = _unit_of(self.dtype)
        per_tick = _NS_PER_UNIT[unit]
        step = max(self.step // per_tick, 1)  # ticks of the unit per step
        seconds = np.asarray(values, dtype=np.float64) * self.scale + self.center
        seconds = np.clip(seconds, self.low, self.high)
        # Whole steps first, then ticks in integers: a float product past 2^53
        # ticks would not be a whole number of steps.
        steps = np.rint(seconds * ((_NS_PER_S // per_tick) / step))
        ticks = steps.astype(np.int64) * step
        stamps = pd.Series(ticks.astype(f"datetime64[{unit}]"))
        if self.tz is not None:
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(self.tz)
        try:
            return stamps.astype(self.dtype)
        except (TypeError, ValueError):
            return stamps

    def _query_dtype(self):
        return "datetime64[ns]" if self.tz is None else pd.DatetimeTZDtype(tz=self.tz)

    def missing(self, n_rows):
        """A column of NaT (see :class:`Column`)."""
        return pd.Series(np.full(n_rows, np.nan), dtype=self._query_dtype())

    def given(self, values, name):
        """Given dates as a datetime column (see :class:`Column`)."""
        return pd.to_datetime(pd.Series(values))

    def parse(self, text, name):
        """A date from text (see :class:`Column`)."""
        return pd.Timestamp(text)

    @property
    def range(self):
        """The training range, in seconds (see :class:`Column`)."""
        return self.low, self.high
