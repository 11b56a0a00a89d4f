"""Rows with some entries known: the query of ``sample(given=...)``, and the merge back.

Shared by the generative models that condition (the mixture exactly, the
neural ones approximately): :func:`given_frame` builds the rows of known
values with the rest missing, :func:`overlay_missing` puts a model's
completion back under the entries that were known. See
``docs/user_guide/missing.rst``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "IMPUTE_METHODS",
    "check_impute_method",
    "complete_rows",
    "given_frame",
    "in_container",
    "overlay_missing",
    "query_rows",
]

#: What ``impute`` fills with: the conditional's mean, or a draw from it.
IMPUTE_METHODS = ("mean", "draw")


def check_impute_method(method) -> None:
    """Refuse an ``impute`` method other than "mean" and "draw".

    Parameters
    ----------
    method : object
    """
    if method not in IMPUTE_METHODS:
        raise ValueError(f"method must be one of {IMPUTE_METHODS}, got {method!r}.")


def query_rows(types, given, n_samples):
    """The rows of ``sample(given=...)``, in the kind of data the model was fitted on.

    Parameters
    ----------
    types : ColumnTypes
        The model's fitted column types.
    given : dict or DataFrame
    n_samples : int

    Returns
    -------
    DataFrame, or ndarray for a model fitted on an array
    """
    frame = given_frame(types, given, n_samples)
    if types.labels is None:
        return frame.to_numpy(dtype=float)
    return frame


def complete_rows(types, continuous, codes, X):
    """A model's completion of X, decoded, with X's observed entries kept.

    Parameters
    ----------
    types : ColumnTypes
        The model's fitted column types.
    continuous : ndarray of shape (n_rows, n_continuous)
        The completed continuous columns, on the model's scale.
    codes : ndarray of shape (n_rows, n_categorical) or None
        The completed category codes.
    X : ndarray or DataFrame
        The rows with missing entries.

    Returns
    -------
    ndarray or DataFrame
    """
    if types.is_plain and types.quantiles is None:
        return overlay_missing(X, continuous)
    index = X.index if isinstance(X, pd.DataFrame) else None
    return overlay_missing(X, types.decode(continuous, codes, index=index))


def in_container(out, container):
    """``out`` as an array when the model was fitted on one.

    Parameters
    ----------
    out : ndarray or DataFrame
    container : Container
        The model's fitted container.

    Returns
    -------
    ndarray or DataFrame
    """
    if isinstance(out, pd.DataFrame) and container.kind == "ndarray":
        return out.to_numpy()
    return out


def given_frame(types, given, n_samples) -> pd.DataFrame:
    """The query rows of ``sample(given=...)``: given values, missing elsewhere.

    Parameters
    ----------
    types : ColumnTypes
        The model's fitted column types: their labels (or positions for an
        array fit) name the columns ``given`` may fix.
    given : dict or DataFrame
        Column -> value, or a DataFrame of the given columns with one row
        per sample.
    n_samples : int

    Returns
    -------
    DataFrame of shape (n_samples, n_features)
    """
    columns = types.names
    if isinstance(given, pd.DataFrame):
        if len(given) != n_samples:
            raise ValueError(
                f"given is a DataFrame of {len(given)} rows (one per sample), but "
                f"n_samples={n_samples}: pass n_samples=len(given)."
            )
        values = {c: given[c].to_numpy() for c in given.columns}
    elif isinstance(given, dict):
        values = {c: [v] * n_samples for c, v in given.items()}
    else:
        raise TypeError(
            "given must be a dict of column -> value or a DataFrame of the given "
            f"columns, got {type(given).__name__}."
        )
    unknown = [c for c in values if c not in columns]
    if unknown:
        shown = columns if len(columns) <= 20 else [*columns[:20], "..."]
        raise ValueError(
            f"given names {unknown[0]!r}, which is not a fitted column; the columns "
            f"are {shown}."
        )
    if len(values) == len(columns):
        raise ValueError(
            "given fixes every column: nothing is left to draw. Leave at least "
            "one column out."
        )
    frame = [
        (column.given_values(values[c], c) if c in values else column.missing(n_samples))
        for c, column in zip(columns, types.columns, strict=True)
    ]
    out = pd.DataFrame({j: s.reset_index(drop=True) for j, s in enumerate(frame)})
    out.columns = pd.Index(columns) if types.labels is None else types.labels
    return out


def overlay_missing(X, filled):
    """``filled`` where X is missing, X elsewhere, in X's container.

    Parameters
    ----------
    X : ndarray or DataFrame
        Rows with missing entries (NaN, None, NaT, pd.NA).
    filled : ndarray or DataFrame
        The same rows completed (a model's output, in the fitted dtypes).

    Returns
    -------
    ndarray or DataFrame
        Observed entries exactly as in X.
    """
    if isinstance(X, pd.DataFrame):
        if not isinstance(filled, pd.DataFrame):  # a frame of plain numbers
            filled = pd.DataFrame(filled, index=X.index, columns=X.columns)
        out = filled.copy()
        for j, name in enumerate(X.columns):
            observed = X.iloc[:, j].notna().to_numpy()
            if observed.all():
                out[name] = X.iloc[:, j].astype(out[name].dtype)
            elif observed.any():
                column = out[name].copy()
                column[observed] = X.iloc[:, j][observed].astype(column.dtype)
                out[name] = column
        return out
    values = np.array(X, dtype=float)
    filled = np.asarray(filled, dtype=float)
    missing = np.isnan(values)
    values[missing] = filled[missing]
    return values
