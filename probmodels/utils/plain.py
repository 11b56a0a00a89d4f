"""Labels and metadata as plain values, and back.

A model file holds arrays and plain values only (skops refuses to load
pandas objects without trusting them), yet what a model remembers of its
data includes pandas labels: column labels that are dates, a Series named by
a ``Timestamp``, a MultiIndex of tuples, metadata with a time in it.
:func:`to_plain` writes such a value as strings, numbers, lists and dicts,
tagged with what it was; :func:`from_plain` gives it back. A value with no
plain form is refused with its type named, when the file is written rather
than when it is read.
"""

from __future__ import annotations

import datetime
import numbers
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "PlainValueError",
    "from_plain",
    "index_from_plain",
    "index_to_plain",
    "to_plain",
]

_TAG = "__plain__"


class PlainValueError(TypeError):
    """A value that a model file cannot hold as plain values."""


def to_plain(value: Any, what: str = "a value") -> Any:
    """``value`` as strings, numbers, bools, None, lists and str-keyed dicts.

    Parameters
    ----------
    value : object
        A label (str, number, bool, None, a pandas ``Timestamp``,
        ``Timedelta``, ``Period`` or ``Interval``, a date, a tuple of
        labels) or a dict / list of such values.
    what : str
        What the value is, for the error message.

    Returns
    -------
    object

    Raises
    ------
    PlainValueError
        For a value of any other type.
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if value is pd.NaT:
        return {_TAG: "NaT"}
    if isinstance(value, (pd.Timestamp, datetime.datetime, np.datetime64)):
        stamp = pd.Timestamp(value)
        tz = None if stamp.tz is None else str(stamp.tz)
        return {_TAG: "Timestamp", "value": stamp.isoformat(), "tz": tz}
    if isinstance(value, datetime.date):
        return {_TAG: "date", "value": value.isoformat()}
    if isinstance(value, (pd.Timedelta, datetime.timedelta, np.timedelta64)):
        return {_TAG: "Timedelta", "value": int(pd.Timedelta(value).value)}
    if isinstance(value, pd.Period):
        return {_TAG: "Period", "value": str(value), "freq": value.freqstr}
    if isinstance(value, pd.Interval):
        return {
            _TAG: "Interval",
            "left": to_plain(value.left, what),
            "right": to_plain(value.right, what),
            "closed": value.closed,
        }
    if isinstance(value, tuple):
        return {_TAG: "tuple", "items": [to_plain(v, what) for v in value]}
    if isinstance(value, list):
        return [to_plain(v, what) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: to_plain(v, f"{what}[{k!r}]") for k, v in value.items()}
        return {
            _TAG: "dict",
            "items": [[to_plain(k, what), to_plain(v, what)] for k, v in value.items()],
        }
    raise PlainValueError(
        f"{what} ({value!r}) is of type {type(value).__name__}, which a model "
        "file cannot hold: use strings, numbers, dates or tuples of them."
    )


def from_plain(value: Any) -> Any:
    """The value :func:`to_plain` was given.

    Parameters
    ----------
    value : object

    Returns
    -------
    object
    """
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag is None:
        return {k: from_plain(v) for k, v in value.items()}
    if tag == "NaT":
        return pd.NaT
    if tag == "Timestamp":
        stamp = pd.Timestamp(value["value"])
        return stamp if value["tz"] is None else stamp.tz_convert(value["tz"])
    if tag == "date":
        return datetime.date.fromisoformat(value["value"])
    if tag == "Timedelta":
        return pd.Timedelta(value["value"], unit="ns")
    if tag == "Period":
        return pd.Period(value["value"], freq=value["freq"])
    if tag == "Interval":
        left, right = from_plain(value["left"]), from_plain(value["right"])
        return pd.Interval(left, right, closed=value["closed"])
    if tag == "tuple":
        return tuple(from_plain(v) for v in value["items"])
    if tag == "dict":
        return {from_plain(k): from_plain(v) for k, v in value["items"]}
    raise ValueError(f"unknown plain value tag {tag!r}")


def index_to_plain(index: pd.Index, what: str = "a label") -> dict:
    """A pandas Index (its labels, names and dtype) as plain values.

    Parameters
    ----------
    index : pandas.Index
    what : str
        What the labels are, for the error message.

    Returns
    -------
    dict
    """
    return {
        "labels": [to_plain(v, what) for v in index.tolist()],
        "names": [to_plain(n, "an index name") for n in index.names],
        "dtype": str(index.dtype),
        "multi": isinstance(index, pd.MultiIndex),
    }


def index_from_plain(state: Any) -> pd.Index:
    """The Index of :func:`index_to_plain` (or a plain list of labels).

    Parameters
    ----------
    state : dict or list

    Returns
    -------
    pandas.Index
    """
    if not isinstance(state, dict):  # 0.1.0 stored a list of labels
        return pd.Index(state)
    labels = [from_plain(v) for v in state["labels"]]
    names = [from_plain(n) for n in state["names"]]
    if state["multi"]:
        return pd.MultiIndex.from_tuples(labels, names=names)
    index = pd.Index(labels, name=names[0], tupleize_cols=False)
    if str(index.dtype) != state["dtype"]:
        try:
            index = index.astype(state["dtype"])
        except (TypeError, ValueError):
            pass  # the labels themselves are right; keep the inferred dtype
    return index
