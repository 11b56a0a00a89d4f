"""Time indexes: continuing a fitted series' index and placing new stretches.

A forecast of a pandas series carries the index that continues the fitted one:
a DatetimeIndex or PeriodIndex keeps its frequency, an evenly spaced integer
index keeps its step, and anything else continues as positions (a RangeIndex).
The same clock places a held-out stretch for the time-trend terms.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TimeClock"]


@dataclass(frozen=True)
class TimeClock:
    """The time axis of a fitted series.

    Parameters
    ----------
    n_steps : int
        Length of the fitted series.
    kind : {"datetime", "period", "integer", "position"}
        How the index continues.
    first, last : object
        First and last labels of the fitted index (positions for "position").
    freq : object
        Frequency (datetime, period) or integer step.
    """

    n_steps: int
    kind: str
    first: Any
    last: Any
    freq: Any

    def __getstate__(self):
        # Labels and frequency as strings: skops stores no pandas object.
        state = {"n_steps": int(self.n_steps), "kind": self.kind}
        if self.kind == "period":
            state.update(first=str(self.first), last=str(self.last))
        elif self.kind == "datetime":
            tz = None if self.first.tz is None else str(self.first.tz)
            state.update(first=self.first.isoformat(), last=self.last.isoformat())
            state["tz"] = tz
        else:
            state.update(first=int(self.first), last=int(self.last))
        freq = self.freq
        state["freq"] = freq.freqstr if hasattr(freq, "freqstr") else int(freq)
        return state

    def __setstate__(self, state):
        kind, freq, first, last = (
            state["kind"],
            state["freq"],
            state["first"],
            state["last"],
        )
        if kind == "period":
            freq = pd.tseries.frequencies.to_offset(freq)
            first, last = pd.Period(first, freq=freq), pd.Period(last, freq=freq)
        elif kind == "datetime":
            freq = pd.tseries.frequencies.to_offset(freq)
            first, last = pd.Timestamp(first), pd.Timestamp(last)
            if state.get("tz") is not None:
                first, last = (
                    first.tz_convert(state["tz"]),
                    last.tz_convert(state["tz"]),
                )
        values = dict(n_steps=state["n_steps"], kind=kind, first=first, last=last)
        for key, value in {**values, "freq": freq}.items():
            object.__setattr__(self, key, value)

    @classmethod
    def from_index(cls, index: pd.Index | None, n_steps: int) -> TimeClock:
        """Read the clock off a fitted index (``None`` for arrays).

        A DatetimeIndex without a frequency gets one from ``pd.infer_freq``;
        when none can be inferred, a warning says forecasts fall back to
        positions.

        Parameters
        ----------
        index : pandas.Index or None
            Index of the fitted Series or DataFrame.
        n_steps : int
            Number of fitted steps.

        Returns
        -------
        TimeClock
        """
        position = cls(n_steps, "position", 0, n_steps - 1, 1)
        if index is None or n_steps == 0:
            return position
        if isinstance(index, pd.PeriodIndex):
            return cls(n_steps, "period", index[0], index[-1], index.freq)
        if isinstance(index, pd.DatetimeIndex):
            freq = index.freq
            if freq is None and n_steps >= 3:
                try:
                    freq = pd.DatetimeIndex(index, freq="infer").freq
                except ValueError:  # duplicated or unsorted dates
                    freq = None
            if freq is None:
                warnings.warn(
                    "The DatetimeIndex has no frequency and none could be "
                    "inferred; forecasts and samples get a RangeIndex of step "
                    "positions. Give the index a frequency (e.g. "
                    "X.asfreq('D')) to keep dates.",
                    UserWarning,
                    stacklevel=4,
                )
                return position
            return cls(n_steps, "datetime", index[0], index[-1], freq)
        if pd.api.types.is_integer_dtype(index.dtype) and n_steps >= 2:
            steps = np.diff(index.to_numpy())
            if steps[0] > 0 and np.all(steps == steps[0]):
                return cls(
                    n_steps, "integer", int(index[0]), int(index[-1]), int(steps[0])
                )
        return position

    def future(self, steps: int) -> pd.Index:
        """Index of the ``steps`` labels after the fitted series.

        Parameters
        ----------
        steps : int
            Number of future steps.

        Returns
        -------
        pandas.Index
        """
        if self.kind == "period":
            return pd.period_range(self.last + 1, periods=steps, freq=self.freq)
        if self.kind == "datetime":
            return pd.date_range(self.last, periods=steps + 1, freq=self.freq)[1:]
        step = self.freq
        start = self.last + step
        return pd.RangeIndex(start, start + step * steps, step)

    def positions(self, index: pd.Index | None, n: int) -> np.ndarray:
        """One-based positions of a stretch on the fitted clock (for trends).

        A pandas stretch whose index is comparable with the fitted one is
        placed where it lies (a held-out stretch after the fitted series gets
        positions n_steps + 1, ...); any other input starts at 1, as
        statsmodels' ``AutoRegResults.apply`` does.

        Parameters
        ----------
        index : pandas.Index or None
            Index of the new stretch.
        n : int
            Its length.

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        offset = self._offset(index) if index is not None and n else None
        start = 1 if offset is None else offset + 1
        return np.arange(start, start + n, dtype=np.float64)

    def _offset(self, index: pd.Index) -> int | None:
        """Steps from the first fitted label to ``index[0]``, if comparable."""
        label = index[0]
        try:
            if self.kind == "period" and isinstance(index, pd.PeriodIndex):
                if index.freq != self.freq:
                    return None
                return (label - self.first).n
            if self.kind == "datetime" and isinstance(index, pd.DatetimeIndex):
                lo, hi = sorted([self.first, label])
                span = pd.date_range(lo, hi, freq=self.freq)
                if len(span) == 0 or span[-1] != hi or span[0] != lo:
                    return None
                sign = 1 if label >= self.first else -1
                return sign * (len(span) - 1)
            if self.kind == "integer" and pd.api.types.is_integer_dtype(index.dtype):
                delta = int(label) - self.first
                if delta % self.freq:
                    return None
                return delta // self.freq
        except (TypeError, ValueError, OverflowError):
            return None
        return None

    def labels(self, lo: int, hi: int) -> pd.Index:
        """Labels of 0-based positions ``lo..hi - 1`` on this clock.

        Positions past the fitted series continue the index as
        :meth:`future` does.

        Parameters
        ----------
        lo, hi : int

        Returns
        -------
        pandas.Index
        """
        if self.kind == "period":
            return pd.period_range(self.first + lo, periods=hi - lo, freq=self.freq)
        if self.kind == "datetime":
            return pd.date_range(self.first, periods=hi, freq=self.freq)[lo:]
        return pd.RangeIndex(
            self.first + lo * self.freq, self.first + hi * self.freq, self.freq
        )

    def locate(self, label: Any) -> int:
        """0-based position of a label (or of an int position) on this clock.

        Parameters
        ----------
        label : int, str, Timestamp, Period or datetime
            An int is a position, as in statsmodels' ``predict``, except on
            an integer index, where one from the first label on is a label;
            for a date-like clock, strings and timestamps are dates.

        Returns
        -------
        int
        """
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            # On an integer index an int from its first label on is a label
            # (a year, say); below it, and on any other index, a position.
            delta = int(label) - self.first if self.kind == "integer" else -1
            if delta >= 0 and delta % self.freq == 0:
                return delta // self.freq
            return int(label)
        if self.kind in ("datetime", "period"):
            try:
                if self.kind == "period":
                    index = pd.PeriodIndex([pd.Period(label, freq=self.freq)])
                else:
                    index = pd.DatetimeIndex([pd.Timestamp(label)])
                    if self.first.tz is not None and index.tz is None:
                        index = index.tz_localize(self.first.tz)
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"{label!r} is not a date on the fitted index ({self.first} "
                    f"to {self.last})."
                ) from err
            offset = self._offset(index)
            if offset is not None:
                return offset
        raise ValueError(
            f"{label!r} is not a label of the fitted index ({self.first} to "
            f"{self.last}, frequency {getattr(self.freq, 'freqstr', self.freq)}); "
            "give a label on it or an int position."
        )

    def extended(self, steps: int) -> TimeClock:
        """The clock after ``steps`` more observations."""
        last = self.future(steps)[-1] if self.kind != "position" else self.last + steps
        return TimeClock(self.n_steps + steps, self.kind, self.first, last, self.freq)

    def check_continued_by(self, index: pd.Index | None, n: int) -> None:
        """Refuse new rows whose index does not start right after this clock.

        Parameters
        ----------
        index : pandas.Index or None
            Index of the new rows (None for arrays, which are taken as
            continuing).
        n : int
            Number of new rows.
        """
        if index is None or self.kind == "position":
            return
        expected = self.future(n)
        same = len(index) == n and (
            type(index) is type(expected) or self.kind == "integer"
        )
        if same:
            same = bool(np.array_equal(np.asarray(index), np.asarray(expected)))
        if not same:
            freq = getattr(self.freq, "freqstr", self.freq)
            raise ValueError(
                f"The new rows' index ({index[0]} to {index[-1]}) does not continue "
                f"the fitted one, which ends at {self.last} with frequency {freq}: "
                f"it must run {expected[0]} to {expected[-1]} with no gap. "
                "Reindex the new rows (e.g. new.asfreq(...)), or use apply() for "
                "an unrelated stretch."
            )

    def same_frequency(self, other: TimeClock) -> bool:
        """Whether two clocks tick alike (kind and frequency)."""
        if self.kind != other.kind:
            return self.kind == "position" or other.kind == "position"
        return self.kind == "position" or self.freq == other.freq

    def check_same_frequency(self, other: TimeClock) -> None:
        """Refuse new data whose clock ticks otherwise than this fitted one.

        Parameters
        ----------
        other : TimeClock
            The clock of the new data (``X`` of ``apply``).
        """
        if not self.same_frequency(other):
            theirs = getattr(other.freq, "freqstr", other.kind)
            ours = getattr(self.freq, "freqstr", self.kind)
            raise ValueError(
                f"X's index has frequency {theirs}, the fitted one {ours}: the "
                "lags and seasons would not mean the same. Resample X to "
                f"{ours} (X.asfreq or X.resample) first."
            )
