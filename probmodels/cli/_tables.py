"""Data files for the command line: CSV and Parquet, chosen by suffix.

Parquet goes through pandas and pyarrow, an optional extra
(``pip install 'probmodels[parquet]'``); without it a Parquet path gets one
line saying so. Outputs are written under a temporary name and renamed when
complete, so a failed run never leaves a partial file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from ..utils import atomic_write

__all__ = ["TableError", "read_table", "write_table"]

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


class TableError(ValueError):
    """A data file cannot be read or written as asked."""


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        _require_pyarrow()
        return "parquet"
    raise TableError(
        f"{path}: unknown file type {path.suffix!r}; use .csv or .parquet."
    )


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise TableError(
            "Parquet files need pyarrow: pip install 'probmodels[parquet]' "
            "(or use a .csv file)."
        ) from None


def _delimiter(path: Path) -> str:
    """The CSV's delimiter: a comma, or the ``;``, tab or ``|`` its header uses.

    Spreadsheets in many locales write ``;``; read with commas such a file
    would be one text column.
    """
    with open(path, newline="", encoding="utf-8", errors="replace") as file:
        sample = file.read(65536)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:  # one column, or nothing to tell by
        return ","


def _dates(column: pd.Series) -> pd.Series:
    """Dates in ISO 8601; offsets that differ (a daylight-saving change) in UTC.

    What ``write_table`` writes of a time-zone column across a DST change
    holds ``+01:00`` and ``+02:00``: the same instants, read back in UTC.
    """
    try:
        return pd.to_datetime(column, format="ISO8601")
    except ValueError:
        try:
            return pd.to_datetime(column, format="ISO8601", utc=True)
        except ValueError:
            pass
        raise


def read_table(
    path: str | Path,
    *,
    columns: list[str] | None = None,
    time_index: str | None = None,
    dates: list[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.parquet``.
    columns : list of str, optional
        Keep these columns (in this order), besides ``time_index``.
    time_index : str, optional
        A column of dates (or periods) to use as the index, sorted as it is
        in the file; the models check that it runs forward.
    dates : list of str, optional
        Columns to read as dates (a CSV holds them as text, which a model
        would take for categories).

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No data file at {path}.")
    kind = _format(path)
    frame = (
        pd.read_csv(path, sep=_delimiter(path))
        if kind == "csv"
        else pd.read_parquet(path)
    )
    if len(frame) == 0:
        raise TableError(
            f"{path} has no rows (only a header with {frame.shape[1]} column(s))."
        )
    for name in dates or []:
        if name not in frame.columns:
            raise TableError(
                f"{path} has no column {name!r} for --dates; its columns are "
                f"{list(frame.columns)}."
            )
        try:
            frame[name] = _dates(frame[name])
        except (ValueError, TypeError) as err:
            raise TableError(
                f"Column {name!r} of {path} does not hold dates ({err})."
            ) from None
    if time_index is not None:
        if time_index not in frame.columns:
            raise TableError(
                f"{path} has no column {time_index!r} for the time index; its "
                f"columns are {list(frame.columns)}."
            )
        try:
            stamps = pd.to_datetime(frame.pop(time_index))
        except (ValueError, TypeError) as err:
            raise TableError(
                f"Column {time_index!r} of {path} does not hold dates ({err})."
            ) from None
        index = pd.DatetimeIndex(stamps, name=time_index)
        if len(frame) >= 3 and index.is_monotonic_increasing:
            # The constructor infers the frequency as an offset; infer_freq
            # would warn that its string result is to become an offset.
            index = pd.DatetimeIndex(index, freq="infer")
        frame.index = index
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise TableError(
                f"{path} has no column(s) {missing}; its columns are "
                f"{list(frame.columns)}."
            )
        frame = frame[columns]
    return frame


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame to CSV or Parquet, atomically.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or Path
        ``.csv`` or ``.parquet``.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    kind = _format(path)
    # 0, 1, 2, ... says nothing: written, it would come back as a column
    # "Unnamed: 0", taken for a feature by the next fit.
    index = not isinstance(frame.index, pd.RangeIndex)
    if kind == "csv":
        atomic_write(path, lambda tmp: frame.to_csv(tmp, index=index))
    else:
        # Parquet wants string column names.
        out = frame.rename(columns=str)
        atomic_write(path, lambda tmp: out.to_parquet(tmp, index=index))
    return path
