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

__all__ = ["given_frame", "overlay_missing"]


def given_frame(model, given, n_samples) -> pd.DataFrame:
    """The query rows of ``sample(given=...)``: given values, NaN elsewhere.

    Parameters
    ----------
    model : fitted estimator
        Its ``feature_names_in_`` (or column positions for an array fit) and
        column types.
    given : dict or DataFrame
        Column -> value, or a DataFrame of the given columns with one row
        per sample.
    n_samples : int

    Returns
    -------
    DataFrame of shape (n_samples, n_features)
    """
    names = model.__dict__.get("feature_names_in_")
    columns = list(names) if names is not None else list(range(model.n_features_in_))
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
    frame = {}
    for c, column in zip(columns, model._types.columns, strict=True):
        dtype = "datetime64[ns]" if column.kind == "datetime" else None
        if column.kind == "datetime" and column.tz is not None:
            dtype = pd.DatetimeTZDtype(tz=column.tz)
        if c in values:
            series = pd.Series(values[c])
            if column.kind == "datetime":
                series = pd.to_datetime(series)
            elif column.kind in ("categorical", "boolean"):
                series = series.astype(object)
            elif not pd.api.types.is_numeric_dtype(series.dtype):
                raise ValueError(
                    f"given[{c!r}] is {series.iloc[0]!r}, but column {c!r} holds "
                    "numbers."
                )
        elif column.kind in ("categorical", "boolean"):
            series = pd.Series([None] * n_samples, dtype=object)
        else:
            series = pd.Series(np.full(n_samples, np.nan), dtype=dtype or float)
        frame[c] = series.reset_index(drop=True)
    if names is None:
        return pd.DataFrame({i: frame[i] for i in columns})
    return pd.DataFrame(frame, columns=names)


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
