"""Many series of different lengths: the long table and its aligned arrays.

Forecasters hold many series as one long table, a row per (series, time)
(statsforecast's ``unique_id``, ``ds``, ``y``). :func:`panel_from_long` turns
it into a :class:`Panel`: each series in a row of one array, aligned at its
own first step, NaN past its end and where a step is missing. A series'
trend and seasons then count from its own start, as its own ``AutoReg``
would count them, and the regressions of all series are built from the same
columns. :func:`panel_from_wide` reads a wide table with leading or trailing
NaN (series that start or end at different times) the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

from ..utils.validation import and_more, validate_series
from ._index import TimeClock
from ._inputs import exog_names, split_columns

__all__ = [
    "Panel",
    "future_panel_exog",
    "is_long_table",
    "long_rows",
    "panel_from_long",
    "panel_from_wide",
    "read_input",
    "wide_values",
]


@dataclass
class Panel:
    """Series of different lengths, each aligned at its own first step.

    Parameters
    ----------
    ids : pandas.Index
        The series' ids, sorted, named after the id column.
    values : ndarray of shape (n_series, max length)
        Row i holds series i from its first step; NaN where a step is
        missing and past its last step.
    lengths : ndarray of int, shape (n_series,)
        Steps from each series' first row to its last, missing ones included.
    offsets : ndarray of int, shape (n_series,)
        Position of each series' first step on ``clock``.
    clock : TimeClock
        The common time grid (its frequency, and its first label at
        position 0).
    exog : ndarray of shape (n_series, max length, n_regressors)
        The regressors, aligned as ``values``.
    columns : dict
        The table's ``id``, ``time`` and ``target`` column names, and
        ``exog`` (a list).
    time_dtype : str, default=""
        The time column's dtype, which output tables keep ("" for positions).
    """

    ids: pd.Index
    values: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    clock: TimeClock
    exog: np.ndarray
    columns: dict
    time_dtype: str = ""

    def __getstate__(self):
        # Plain values only: skops stores no pandas object.
        state = dict(self.__dict__)
        state["ids"] = self.ids.tolist()
        state["id_name"] = self.ids.name
        return state

    def __setstate__(self, state):
        state = dict(state)
        state["ids"] = pd.Index(state.pop("ids"), name=state.pop("id_name"))
        self.__dict__.update(state)

    @property
    def n_series(self) -> int:
        """Number of series."""
        return len(self.ids)

    def times(self, series: np.ndarray, steps: np.ndarray) -> pd.Index:
        """Time labels of (series, step) pairs, steps counted from each start.

        Parameters
        ----------
        series, steps : ndarray of int, same shape

        Returns
        -------
        pandas.Index
        """
        positions = self.offsets[series] + steps
        hi = int(positions.max(initial=-1)) + 1
        labels = self.clock.labels(0, max(hi, 1))[positions]
        return labels.astype(self.time_dtype) if self.time_dtype else labels

    def origins_on(self, fitted: Panel) -> np.ndarray:
        """Each series' first step counted on its fitted steps (0: afresh).

        New data of fitted series continue their trend and seasons when its
        times are on the fitted clock (dates or steps of its frequency);
        other data (arrays) count each series from its own first step, as
        ``fit`` does.

        Parameters
        ----------
        fitted : Panel
            The fitted series (same ids, or some of them).

        Returns
        -------
        ndarray of int, shape (n_series,)
        """
        origins = np.zeros(self.n_series, dtype=int)
        if self.clock.kind == "position" or not fitted.clock.same_frequency(self.clock):
            return origins
        try:
            shift = fitted.clock.locate(self.clock.first)
        except ValueError:
            return origins
        which = np.maximum(fitted.ids.get_indexer(self.ids), 0)
        return self.offsets + shift - fitted.offsets[which]

    def check_same_series(self, fitted: Panel) -> None:
        """Refuse data of other series, or of another frequency, than fitted.

        Parameters
        ----------
        fitted : Panel
        """
        if not self.ids.equals(fitted.ids):
            raise ValueError(
                f"X holds other series than the {fitted.n_series} fitted (ids "
                f"{list(fitted.ids[:5])}...): apply puts the fitted model on the "
                "same series. Fit a new model for other series."
            )
        if not fitted.clock.same_frequency(self.clock):
            raise ValueError(
                f"X's time step is {self.clock.freq}, the fitted one "
                f"{fitted.clock.freq}: the lags would not mean the same."
            )

    def long_frame(
        self, series: np.ndarray, steps: np.ndarray, data: dict
    ) -> pd.DataFrame:
        """A long table: id and time of each (series, step) pair, then ``data``.

        Parameters
        ----------
        series, steps : ndarray of int, same shape
        data : dict of str to ndarray
            Columns, one value per pair.

        Returns
        -------
        DataFrame
        """
        frame = {
            self.columns["id"]: self.ids[series],
            self.columns["time"]: self.times(series, steps),
        }
        return pd.DataFrame({**frame, **data})


def wide_values(panel: Panel, values: np.ndarray, n_steps: int) -> np.ndarray:
    """Per-series values of a panel read from a wide table, back on its rows.

    Parameters
    ----------
    panel : Panel
        From :func:`panel_from_wide`: its clock's positions are the rows.
    values : ndarray of shape (n_series, width)
        Aligned as ``panel.values``.
    n_steps : int
        Rows of the wide table.

    Returns
    -------
    ndarray of shape (n_steps, n_series)
        NaN outside each series' stretch.
    """
    out = np.full((n_steps, panel.n_series), np.nan)
    steps = np.arange(values.shape[1])
    for_rows = panel.offsets[:, None] + steps[None, :]
    inside = steps[None, :] < panel.lengths[:, None]
    series = np.broadcast_to(np.arange(panel.n_series)[:, None], values.shape)
    out[for_rows[inside], series[inside]] = values[inside]
    return out


def long_rows(panel: Panel, values: dict) -> pd.DataFrame:
    """Per-series values of a panel as a long table, a row per step of each series.

    Parameters
    ----------
    panel : Panel
    values : dict of str to ndarray of shape (n_series, width)

    Returns
    -------
    DataFrame
        id, time, the target, then ``values``' columns.
    """
    steps = np.arange(panel.values.shape[1])
    inside = steps[None, :] < panel.lengths[:, None]
    series, step = np.nonzero(inside)
    data = {panel.columns["target"]: panel.values[series, step]}
    data.update({k: v[series, step] for k, v in values.items()})
    return panel.long_frame(series, step, data)


def read_input(est, X, *, reset: bool, always_panel: bool = False):
    """What ``ARRegressor`` fits: ``(panel, None, None)`` or ``(None, values, index)``.

    A long table (the estimator's ``id_col`` and ``time_col``), or a wide one
    with NaN (series that start or end at other times, or miss steps), or
    any with ``always_panel``, is read into a :class:`Panel`; a wide table of
    complete series is validated as it is.

    Parameters
    ----------
    est : ARRegressor
        Its columns' parameters, and its fitted names when not ``reset``.
    X : object
    reset : bool
        True in ``fit``.
    always_panel : bool, default=False

    Returns
    -------
    tuple
    """
    if is_long_table(X, est.id_col, est.time_col):
        validate_data(est, X, reset=reset, skip_check_array=True)
        panel = panel_from_long(
            X,
            id_col=est.id_col,
            time_col=est.time_col,
            target_col=est.target_col,
            exog=exog_names(est.exog),
            freq=est.freq,
        )
        return panel, None, None
    values, index = validate_series(est, X, reset=reset, allow_missing=True)
    if not always_panel and not np.isnan(values).any():
        return None, values, index
    series, regressors, _ = split_columns(X, est.exog, values.shape[1])
    clock = TimeClock.from_index(index, values.shape[0])
    names = (
        list(est.feature_names_in_)
        if hasattr(est, "feature_names_in_")
        else list(range(values.shape[1]))
    )
    return panel_from_wide(values, series, regressors, names, index, clock), None, None


def is_long_table(X, id_col, time_col) -> bool:
    """Whether X is a long table: a DataFrame with the id and time columns.

    Parameters
    ----------
    X : object
    id_col, time_col : str

    Returns
    -------
    bool
    """
    return isinstance(X, pd.DataFrame) and id_col in X.columns and time_col in X.columns


def _numeric(column: pd.Series, what: str) -> np.ndarray:
    if not (
        pd.api.types.is_numeric_dtype(column.dtype)
        and not pd.api.types.is_bool_dtype(column.dtype)
    ):
        raise ValueError(
            f"The {what} column {column.name!r} has dtype {column.dtype}; it must "
            "be numeric (NaN marks a missing step)."
        )
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(values).any():
        raise ValueError(
            f"The {what} column {column.name!r} holds inf; use NaN for a missing step."
        )
    return values


def _time_codes(times: pd.Series, freq, codes) -> tuple[np.ndarray, TimeClock]:
    """Positions of the times on a common grid, and the grid's clock.

    A datetime column gets the frequency ``freq`` or, with None, the one
    inferred from its distinct dates; an integer column its greatest common
    step. A time off that grid is reported by the caller.
    """
    if pd.api.types.is_datetime64_any_dtype(times.dtype):
        index = pd.DatetimeIndex(times)
        stamps = index.as_unit("ns").asi8
        distinct = np.unique(stamps)
        if freq is None:
            freq = _infer_datetime_freq(distinct, index.tz, times.name, stamps, codes)
        offset = pd.tseries.frequencies.to_offset(freq)
        first = pd.Timestamp(distinct[0], tz=index.tz)
        grid = pd.date_range(
            first, pd.Timestamp(distinct[-1], tz=index.tz), freq=offset
        )
        if not len(grid) or grid[0] != first:
            grid = pd.DatetimeIndex([])
        codes = np.searchsorted(grid.as_unit("ns").asi8, stamps)
        on_grid = np.zeros(len(stamps), dtype=bool)
        inside = codes < len(grid)
        on_grid[inside] = grid.as_unit("ns").asi8[codes[inside]] == stamps[inside]
        clock = TimeClock(
            max(len(grid), 1),
            "datetime",
            first,
            grid[-1] if len(grid) else first,
            offset,
        )
        return np.where(on_grid, codes, -1), clock
    if pd.api.types.is_integer_dtype(times.dtype):
        ints = times.to_numpy(dtype=np.int64)
        distinct = np.unique(ints)
        if freq is None:
            gaps = np.diff(distinct)
            step = int(np.gcd.reduce(gaps)) if len(gaps) else 1
        else:
            if not isinstance(freq, (int, np.integer)) or freq < 1:
                raise ValueError(
                    f"freq={freq!r} for an integer time column must be a positive int step."
                )
            step = int(freq)
        first = int(distinct[0])
        on_grid = (ints - first) % step == 0
        codes = np.where(on_grid, (ints - first) // step, -1)
        n = int((distinct[-1] - first) // step) + 1
        return codes, TimeClock(n, "integer", first, first + (n - 1) * step, step)
    raise ValueError(
        f"The time column {times.name!r} has dtype {times.dtype}; it must hold "
        "datetimes or integers (pd.to_datetime(df[...]) converts dates held as text)."
    )


def _inferred(stamps: np.ndarray, tz):
    """``pd.infer_freq`` of sorted distinct nanosecond stamps, or None."""
    if len(stamps) < 3:
        return None
    dates = pd.DatetimeIndex(stamps)
    if tz is not None:
        dates = dates.tz_localize("UTC").tz_convert(tz)
    try:
        return pd.DatetimeIndex(dates, freq="infer").freq
    except ValueError:
        return None


def _infer_datetime_freq(distinct, tz, name, stamps, codes) -> object:
    """The table's frequency, or a clear refusal.

    From the distinct dates of the whole table; when they are irregular
    (one series off the grid, or every series with holes), from the longest
    series, so that the grid check can then name the series off it.
    """
    inferred = _inferred(distinct, tz)
    if inferred is None:
        for c in np.argsort(np.bincount(codes))[::-1][:3]:
            inferred = _inferred(np.unique(stamps[codes == c]), tz)
            if inferred is not None:
                break
    if inferred is not None:
        return inferred
    if len(distinct) >= 3:
        gaps = np.diff(distinct)
        step = int(gaps.min())
        # Steps of a fixed length (hours, days) with dates missing here and
        # there: the shortest gap, when every gap is a whole number of it.
        if step > 0 and np.all(gaps % step == 0) and step % 1_000_000_000 == 0:
            return pd.Timedelta(step, unit="ns")
    raise ValueError(
        f"The frequency of the time column {name!r} cannot be inferred from its "
        f"{len(distinct)} distinct dates (irregular steps, or too few). Pass "
        "freq= (e.g. 'D', 'MS', 'W-SUN'), or resample each series to a regular "
        "frequency first."
    )


def panel_from_long(
    df: pd.DataFrame,
    *,
    id_col: str,
    time_col: str,
    target_col: str,
    exog: list,
    freq=None,
) -> Panel:
    """Read a long table into a :class:`Panel`.

    Parameters
    ----------
    df : DataFrame
        One row per (series, time), each series' rows in time order.
    id_col, time_col, target_col : str
        The columns holding the series' id, the time and the value.
    exog : list of str
        Columns holding each series' regressors.
    freq : str, DateOffset, int or None
        The time step; None infers it.

    Returns
    -------
    Panel
    """
    named = [id_col, time_col, target_col, *exog]
    absent = [c for c in named if c not in df.columns]
    if absent:
        raise ValueError(
            f"The long table has no column {absent[0]!r} (columns: "
            f"{list(df.columns)[:20]}). Name the target with target_col= and the "
            "drivers with exog=."
        )
    others = [c for c in df.columns if c not in named]
    if others:
        raise ValueError(
            f"The long table's columns {others[:10]}{and_more(others, 10)} are "
            f"neither the id ({id_col!r}), time ({time_col!r}), target "
            f"({target_col!r}) nor named in exog: name the drivers in exog= and "
            "drop the rest."
        )
    if not len(df):
        raise ValueError("The long table has no rows.")
    if df[id_col].isna().any():
        raise ValueError(f"The id column {id_col!r} has missing values.")
    codes, ids = pd.factorize(df[id_col], sort=True)
    ids = pd.Index(ids, name=id_col)
    if df[time_col].isna().any():
        bad = ids[codes[np.flatnonzero(df[time_col].isna().to_numpy())[0]]]
        raise ValueError(
            f"Series {bad!r} has a missing time ({time_col!r} is NaT/NaN)."
        )
    positions, clock = _time_codes(df[time_col], freq, codes)
    if (positions < 0).any():
        row = int(np.flatnonzero(positions < 0)[0])
        raise ValueError(
            f"Series {ids[codes[row]]!r} has the time {df[time_col].iloc[row]!r}, "
            f"which is off the table's regular grid (frequency "
            f"{getattr(clock.freq, 'freqstr', clock.freq)}): the time column is "
            "irregular. Resample the series to one frequency, or pass freq=."
        )
    order = np.argsort(codes, kind="stable")
    code_sorted, pos_sorted = codes[order], positions[order]
    same = code_sorted[1:] == code_sorted[:-1]
    step = np.diff(pos_sorted)
    if (same & (step <= 0)).any():
        # Out of order or repeated: a repeated pair is the clearer message.
        repeated = pd.DataFrame({"c": codes, "p": positions}).duplicated().to_numpy()
        if repeated.any():
            row = int(np.flatnonzero(repeated)[0])
            raise ValueError(
                f"Series {ids[codes[row]]!r} has two rows at "
                f"{df[time_col].iloc[row]!r}: each ({id_col}, {time_col}) pair must "
                "be unique (aggregate the duplicates first, e.g. "
                "df.groupby([...]).sum())."
            )
        row = order[1:][same & (step < 0)][0]
        raise ValueError(
            f"The rows of series {ids[codes[row]]!r} are not in time order (at "
            f"{df[time_col].iloc[row]!r}): sort the table first, "
            f"df.sort_values([{id_col!r}, {time_col!r}])."
        )
    m = len(ids)
    y = _numeric(df[target_col], "target")
    observed = ~np.isnan(y)
    # A series starts at its first value (rows before it say nothing) and
    # ends at its last row: rows at the end without a value are missing
    # final steps, which forecasts fill.
    first = np.full(m, np.iinfo(np.int64).max)
    last = np.full(m, -1)
    np.minimum.at(first, codes[observed], positions[observed])
    np.maximum.at(last, codes, positions)
    empty = np.flatnonzero(first > last)
    if empty.size:
        raise ValueError(
            f"Series {ids[empty[0]]!r} has no values (its target is all NaN)."
        )
    lengths = last - first + 1
    local = positions - first[codes]
    keep = local >= 0
    if not keep.all():
        codes, local, y = codes[keep], local[keep], y[keep]
    values = np.full((m, int(lengths.max())), np.nan)
    values[codes, local] = y
    regressors = np.full((m, values.shape[1], len(exog)), np.nan)
    for j, name in enumerate(exog):
        x = _numeric(df[name], "exog")
        regressors[codes, local, j] = x if keep.all() else x[keep]
    columns = {"id": id_col, "time": time_col, "target": target_col, "exog": list(exog)}
    return Panel(
        ids, values, lengths, first, clock, regressors, columns, str(df[time_col].dtype)
    )


def panel_from_wide(
    values: np.ndarray, series, regressors, names, index, clock
) -> Panel:
    """A wide table whose series start and end at different times, as a Panel.

    Leading and trailing NaN of a series column mark where it starts and
    ends; NaN between its first and last values are missing steps. The
    regressor columns are shared by every series, each series reading them
    over its own stretch.

    Parameters
    ----------
    values : ndarray of shape (n_steps, n_columns)
    series, regressors : ndarray of int
        Positions of the series' and regressors' columns.
    names : list
        All column names (positions for an array).
    index : pandas.Index or None
        The time index.
    clock : TimeClock
        Its clock.

    Returns
    -------
    Panel
    """
    A = values[:, series].T
    observed = ~np.isnan(A)
    empty = np.flatnonzero(~observed.any(axis=1))
    if empty.size:
        raise ValueError(f"Series {names[series[empty[0]]]!r} has no values (all NaN).")
    first = observed.argmax(axis=1)
    last = A.shape[1] - 1 - observed[:, ::-1].argmax(axis=1)
    lengths = last - first + 1
    width = int(lengths.max())
    steps = np.arange(width)
    grid = np.minimum(first[:, None] + steps[None, :], A.shape[1] - 1)
    inside = steps[None, :] < lengths[:, None]
    aligned = np.where(inside, np.take_along_axis(A, grid, axis=1), np.nan)
    shared = values[:, regressors]
    exog = np.where(inside[:, :, None], shared[grid], np.nan)
    is_frame = isinstance(index, pd.Index)
    columns = {
        "id": "unique_id",
        "time": (index.name or "ds") if is_frame else "ds",
        "target": "y",
        "exog": [names[j] for j in regressors],
    }
    ids = pd.Index([names[j] for j in series], name="unique_id")
    return Panel(ids, aligned, lengths, first, clock, exog, columns)


def future_panel_exog(panel: Panel, X_df, steps: int) -> np.ndarray:
    """The regressors of each series at its next ``steps`` steps, from a long table.

    Parameters
    ----------
    panel : Panel
    X_df : DataFrame
        Rows (id, time, regressors...) covering every series' next ``steps``
        times (more rows are ignored).
    steps : int

    Returns
    -------
    ndarray of shape (n_series, steps, n_regressors)
    """
    names = panel.columns["exog"]
    if not names:
        if X_df is not None:
            raise ValueError(
                "The model has no regressors (exog=None at fit): drop X_df / exog."
            )
        return np.empty((panel.n_series, steps, 0))
    id_col, time_col = panel.columns["id"], panel.columns["time"]
    if X_df is None:
        raise ValueError(
            f"The model has regressors {names}: pass their future values as a "
            f"long table with columns {[id_col, time_col, *names]} covering the "
            f"next {steps} steps of every series (statsforecast's X_df)."
        )
    if not isinstance(X_df, pd.DataFrame) or not {id_col, time_col, *names} <= set(
        X_df.columns
    ):
        raise ValueError(
            f"The future regressors must be a DataFrame with columns "
            f"{[id_col, time_col, *names]}."
        )
    series = panel.ids.get_indexer(X_df[id_col])
    known = series >= 0
    frame = X_df[known]
    series = series[known]
    grid = panel.clock.labels(0, int((panel.offsets + panel.lengths).max()) + steps)
    where = grid.get_indexer(pd.Index(frame[time_col]))
    step = where - (panel.offsets[series] + panel.lengths[series])
    keep = (where >= 0) & (step >= 0) & (step < steps)
    out = np.full((panel.n_series, steps, len(names)), np.nan)
    for j, name in enumerate(names):
        out[series[keep], step[keep], j] = _numeric(frame[name], "exog")[keep]
    missing = np.isnan(out).any(axis=2)
    if missing.any():
        i, h = np.argwhere(missing)[0]
        bad = panel.ids[np.flatnonzero(missing.any(axis=1))].tolist()
        raise ValueError(
            f"The future regressors lack series {bad[:10]}{and_more(bad, 10)} (the "
            f"first at {panel.times(np.array([i]), np.array([panel.lengths[i] + h]))[0]}): "
            f"give every series a row for each of its next {steps} steps."
        )
    return out
