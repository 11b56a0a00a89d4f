"""Input checks with messages that name the offending value and the fix.

Array conversion, dtype, sparse and feature-count checks are sklearn's own
(``validate_data``); this module adds what it cannot say for our models:
non-numeric pandas columns, where a NaN sits in a time series, and series that
are too short for the model asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, validate_data

__all__ = [
    "check_finite",
    "check_table",
    "validate_features",
    "check_numeric_array",
    "check_numeric_pandas",
    "check_series_scale",
    "check_rows_observed",
    "check_squares",
    "and_more",
    "column_labels",
    "ndim_of",
    "non_numeric",
    "row_labels",
    "shown_value",
    "validate_series",
    "validate_table",
]


def ndim_of(X: Any) -> int:
    """Number of dimensions of an array-like, without numpy's dispatch.

    ``np.ndim`` goes through ``__array_function__``, which some array-likes
    (sklearn's test wrapper, some lazy arrays) refuse.

    Parameters
    ----------
    X : array-like

    Returns
    -------
    int
    """
    return X.ndim if hasattr(X, "ndim") else np.asarray(X).ndim


def check_numeric_pandas(X: Any, what: str = "X") -> None:
    """Raise ``TypeError`` naming the non-numeric columns of a pandas input.

    Parameters
    ----------
    X : object
        Checked only when it is a Series or DataFrame.
    what : str, default="X"
        Name of the argument in the message.
    """
    if isinstance(X, pd.Series):
        if not _is_numeric(X.dtype):
            raise TypeError(
                f"{what} is a Series of dtype {X.dtype}, which is not numeric. "
                "Convert it first, e.g. with pd.to_numeric(...)."
            )
    elif isinstance(X, pd.DataFrame):
        # Wide frames share a few dtypes: test each distinct one once.
        bad_dtypes = {dt for dt in set(X.dtypes) if not _is_numeric(dt)}
        if bad_dtypes:
            bad = [c for c, dt in X.dtypes.items() if dt in bad_dtypes]
            kinds = ", ".join(f"{c!r} ({X.dtypes[c]})" for c in bad[:5])
            more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
            raise TypeError(
                f"{what} has non-numeric columns: {kinds}{more}. Select the "
                "numeric columns, e.g. X.select_dtypes('number'), or encode "
                "them first."
            )


def _is_numeric(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(
        dtype
    )


def check_numeric_array(X: Any, what: str = "X") -> None:
    """Raise ``TypeError`` for dates, durations or text given as numbers.

    numpy converts ``datetime64`` to floats silently (days since 1970), and
    a string array fails deep in the conversion; both are named here.

    Parameters
    ----------
    X : object
        Checked when it is a numpy array (pandas input goes through
        :func:`check_numeric_pandas`).
    what : str, default="X"
        Name of the argument in the message.
    """
    check_numeric_pandas(X, what)
    dtype = getattr(X, "dtype", None)
    if isinstance(X, np.ndarray) and dtype.kind in "mMUS":
        raise TypeError(
            f"{what} has dtype {dtype}, which is not numeric. Convert it to "
            "numbers first (for dates, use them as the index of a Series or "
            "DataFrame rather than as values)."
        )


def _label(labels: Any, position: int) -> Any:
    """A row or column label as the user knows it (no ``np.int64(2)``)."""
    if labels is None:
        return int(position)
    value = labels[position]
    return value.item() if isinstance(value, np.generic) else value


def shown_value(value: Any) -> str:
    """A value as users wrote it: ``2.5``, ``'a'``, never ``np.float64(2.5)``.

    Parameters
    ----------
    value : object

    Returns
    -------
    str
    """
    return repr(value.item() if isinstance(value, np.generic) else value)


def _shown(label: Any) -> str:
    """Quote names; print dates and numbers as they read (2000-01-06, 3)."""
    return repr(label) if isinstance(label, str) else str(label)


def check_finite(
    values: np.ndarray,
    what: str = "X",
    labels: Any = None,
    hint: str = "Remove or impute them first.",
    index: Any = None,
    source: Any = None,
    allow_nan: bool = False,
) -> None:
    """Raise ``ValueError`` if ``values`` holds NaN or inf, saying where.

    Parameters
    ----------
    values : ndarray of shape (n_rows,), (n_rows, n_columns) or (n_rows, n_steps, n_columns)
        Float array to check.
    what : str, default="X"
        Name of the argument in the message.
    labels : sequence, optional
        Column labels (a DataFrame's columns, a Series' name), to name the
        column of the first bad value.
    hint : str
        The fix, appended to the message.
    index : sequence, optional
        Row labels (a pandas index), to name the row of the first bad value.
    source : array-like, optional
        The input before its conversion to ``values``: an infinity that is
        finite there is an overflow of the conversion (float32 ends at
        3.4e38), which the message says instead.
    allow_nan : bool, default=False
        NaN marks a missing entry (models that take them); inf is refused.
    """
    # One reduction first: the elementwise pass runs only when something is off.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(values.sum()):
            return
    bad = np.isinf(values) if allow_nan else ~np.isfinite(values)
    if not bad.any():
        return  # the sum overflowed; every value is finite
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    where = f"row {_shown(_label(index, first[0]))}"
    if values.ndim == 3:
        where += f", step {first[1]}"
    if values.ndim >= 2:
        where += f" of column {_shown(_label(labels, first[-1]))}"
    elif labels is not None and len(labels) == 1:
        where += f" of {_shown(_label(labels, 0))}"
    original = _original_value(source, first)
    if original is not None and np.isfinite(original):
        limit = np.finfo(values.dtype).max
        raise ValueError(
            f"{what} holds values too large for {values.dtype} (up to {limit:.3g}): "
            f"{original:.3g} at {where} overflows. Scale the inputs first, e.g. "
            "with StandardScaler in a Pipeline."
        )
    n_nan = 0 if allow_nan else int(np.isnan(values).sum())
    n_inf = int(bad.sum()) - n_nan
    parts = [f"{n_nan} NaN"] if n_nan else []
    parts += [f"{n_inf} inf"] if n_inf else []
    raise ValueError(
        f"{what} contains {' and '.join(parts)} value(s), the first at {where}. {hint}"
    )


def _original_value(source: Any, position: tuple) -> float | None:
    """The input's value at ``position`` before conversion, when it can be read."""
    if source is None:
        return None
    try:
        if isinstance(source, pd.DataFrame):
            value = source.iat[position[0], position[-1]]
        elif isinstance(source, pd.Series):
            value = source.iat[position[0]]
        else:
            array = np.asarray(source)
            value = array[position[: array.ndim]]
        return float(value)
    except (TypeError, ValueError, IndexError):
        return None


def row_labels(X: Any) -> pd.Index | None:
    """The index of a pandas input (None for arrays), for error messages."""
    return X.index if isinstance(X, (pd.Series, pd.DataFrame)) else None


def column_labels(X: Any, estimator: Any = None) -> Any:
    """Column names of a pandas input (a Series' name), for error messages."""
    if isinstance(X, pd.Series):
        return [X.name] if X.name is not None else None
    if isinstance(X, pd.DataFrame):
        return X.columns
    return getattr(estimator, "feature_names_in_", None)


def validate_table(
    estimator: Any,
    X: Any,
    *,
    reset: bool,
    dtype: Any = np.float64,
    hint: str = "Remove or impute them first.",
    allow_nan: bool = False,
    **check_params: Any,
) -> np.ndarray:
    """Numeric rows without NaN, through sklearn's ``validate_data``.

    Adds what sklearn cannot say for our models: the name of a non-numeric
    column, and the row label and column name of the first NaN, inf or
    overflow of the conversion to ``dtype``.

    Parameters
    ----------
    estimator : estimator
        Owner of ``n_features_in_`` / ``feature_names_in_``.
    X : array-like of shape (n_samples, n_features)
        The input.
    reset : bool
        True in ``fit``.
    dtype : numpy dtype, default=np.float64
        The dtype of the returned array.
    hint : str
        The fix for NaN values, appended to that message.
    allow_nan : bool, default=False
        Keep NaN (missing entries) for a model that takes them.
    **check_params
        Passed on to ``validate_data`` (``ensure_min_samples``, say).

    Returns
    -------
    ndarray of shape (n_samples, n_features)
    """
    return _numeric_rows(
        X,
        lambda: validate_data(
            estimator, X, reset=reset, dtype=dtype, ensure_all_finite=False, **check_params
        ),
        column_labels(X, estimator),
        hint,
        dtype,
        allow_nan,
    )


def check_table(
    X: Any,
    *,
    dtype: Any = np.float64,
    hint: str = "Remove or impute them first.",
    allow_nan: bool = False,
    labels: Any = None,
    ensure_min_samples: int = 1,
) -> np.ndarray:
    """Numeric rows without NaN, through sklearn's ``check_array``; no estimator.

    :func:`validate_table` without the feature bookkeeping, for the column
    types (which know no estimator): the estimator checks its feature names
    and count itself (:func:`validate_features`).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    dtype : numpy dtype, default=np.float64
    hint : str
        The fix for NaN values, appended to that message.
    allow_nan : bool, default=False
        Keep NaN (missing entries) for a model that takes them.
    labels : sequence, optional
        Column names for the messages when X has none (an array given to a
        model fitted on a DataFrame).
    ensure_min_samples : int, default=1

    Returns
    -------
    ndarray of shape (n_samples, n_features)
    """
    named = column_labels(X)
    return _numeric_rows(
        X,
        lambda: check_array(
            X,
            dtype=dtype,
            ensure_all_finite=False,
            ensure_min_samples=ensure_min_samples,
        ),
        named if named is not None else labels,
        hint,
        dtype,
        allow_nan,
    )


def _numeric_rows(X, convert, labels, hint, dtype, allow_nan) -> np.ndarray:
    """``convert()`` (sklearn's conversion of X), then the checks it cannot say.

    The name of a non-numeric column, and the row label and column name of
    the first NaN, inf or overflow of the conversion to ``dtype``.
    """
    check_numeric_array(X)
    try:
        # An overflow of the conversion is reported below, by name and place.
        with np.errstate(over="ignore"):
            values = convert()
    except ValueError as err:
        raise non_numeric(err) from None
    check_finite(
        values,
        labels=labels,
        index=row_labels(X),
        hint=hint,
        source=X if np.dtype(dtype) != np.float64 else None,
        allow_nan=allow_nan,
    )
    return values


def validate_features(estimator: Any, X: Any, *, reset: bool) -> None:
    """scikit-learn's feature-name and feature-count bookkeeping, for a table.

    ``reset=True`` sets ``n_features_in_`` (and ``feature_names_in_`` for a
    DataFrame with string column names); ``reset=False`` checks new data
    against them, with scikit-learn's messages and warnings. Input that is
    not 2-D is left to the array check, which says "Reshape your data".

    Parameters
    ----------
    estimator : estimator
    X : array-like or DataFrame
    reset : bool
        True in ``fit``.
    """
    try:
        two_d = ndim_of(X) == 2
    except (TypeError, ValueError):  # ragged or odd input: check_array says why
        return
    if two_d:
        validate_data(estimator, X, reset=reset, skip_check_array=True)


def non_numeric(err: ValueError) -> ValueError:
    """Add the fix to numpy's message about a value it could not convert."""
    text = str(err)
    if "could not convert" in text or "convert string" in text:
        return ValueError(
            f"X contains non-numeric values ({text}). Encode them first, e.g. with "
            "OneHotEncoder or OrdinalEncoder in a Pipeline."
        )
    return err


def validate_series(
    estimator: Any, X: Any, *, reset: bool, allow_missing: bool = False
) -> tuple[np.ndarray, pd.Index | None]:
    """Validate time-series input; return float64 steps x series and the index.

    A 1-D array or Series is one series; the columns of a 2-D array or
    DataFrame are separate series observed at the same times.

    Parameters
    ----------
    estimator : estimator
        Owner of ``n_features_in_`` / ``feature_names_in_`` (set when
        ``reset``, checked otherwise).
    X : array-like of shape (n_steps,) or (n_steps, n_series), Series or DataFrame
        The series.
    reset : bool
        True in ``fit``.
    allow_missing : bool, default=False
        Keep NaN (series that start or end at different times, missing
        steps); inf is refused either way.

    Returns
    -------
    values : ndarray of shape (n_steps, n_series)
    index : pandas.Index or None
        The time index of a pandas input.
    """
    check_numeric_array(X)
    index, labels = row_labels(X), column_labels(X)
    if index is not None:
        check_time_index(index)
    if isinstance(X, pd.Series):
        X = X.to_numpy()
    if isinstance(X, pd.DataFrame):
        # Names and counts from the frame; the conversion in one call (sklearn
        # would inspect each of possibly thousands of columns' dtypes).
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        X = X.to_numpy(dtype=np.float64, na_value=np.nan)
        values = check_array(X, dtype=np.float64, ensure_all_finite=False)
        _check_series_values(values, labels, index, allow_missing)
        return values, index
    if not hasattr(X, "tocsr"):
        X = np.asarray(X) if not isinstance(X, np.ndarray) else X
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        elif X.ndim != 2:
            raise ValueError(
                f"X must be 1-D (one series) or 2-D (steps x series); got an "
                f"array with {X.ndim} dimensions and shape {X.shape}."
            )
    values = validate_data(
        estimator, X, reset=reset, dtype=np.float64, ensure_all_finite=False
    )
    _check_series_values(values, labels, index, allow_missing)
    return values, index


def _check_series_values(values, labels, index, allow_missing) -> None:
    if not allow_missing:
        check_complete_series(values, labels, index)
    elif np.isinf(values).any():
        check_complete_series(np.where(np.isnan(values), 0.0, values), labels, index)


def check_complete_series(
    values: np.ndarray, labels: Any = None, index: Any = None
) -> None:
    """Raise ``ValueError`` naming every series with missing or infinite values.

    A panel whose series start or end at different dates has NaN at its
    edges; a gap inside a series is another matter. The message lists each
    series with what it lacks, and the fix for each case.

    Parameters
    ----------
    values : ndarray of shape (n_steps, n_series)
    labels : sequence, optional
        Series names.
    index : sequence, optional
        Time labels, for the first bad step of a single series.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(values.sum()):
            return
    if np.isinf(values).any():
        check_finite(
            np.where(np.isnan(values), 0.0, values), "X", labels, _SERIES_HINT, index
        )
    missing = np.isnan(values)
    bad = np.flatnonzero(missing.any(axis=0))
    if not bad.size:
        return
    n = len(values)
    problems, ragged, gaps = [], False, False
    for j in bad:
        observed = np.flatnonzero(~missing[:, j])
        name = _shown(_label(labels, j))
        if not observed.size:
            problems.append(f"{name} (no values)")
            continue
        lo, hi = observed[0], observed[-1]
        inside = int(missing[lo : hi + 1, j].sum())
        parts = [f"first {lo} steps"] if lo > 0 else []
        parts += [f"last {n - 1 - hi} steps"] if hi < n - 1 else []
        if inside:
            first = lo + int(np.argmax(missing[lo : hi + 1, j]))
            parts.append(
                f"{inside} missing inside, the first at {_shown(_label(index, first))}"
            )
        ragged |= lo > 0 or hi < n - 1
        gaps |= inside > 0
        parts = [p if "inside" in p else f"{p} missing" for p in parts]
        problems.append(f"{name} ({', '.join(parts)})")
    fixes = []
    if ragged:
        fixes.append(
            "series that start or end at different times: fit each on its own "
            "stretch, e.g. ARRegressor(...).fit(X[name].dropna()), or the common "
            "stretch with X.dropna()"
        )
    if gaps:
        fixes.append(
            "gaps inside a series: fill them first, e.g. "
            "X.interpolate(limit_area='inside')"
        )
    listed = ", ".join(problems[:50]) + and_more(problems, 50)
    raise ValueError(
        f"X has missing values (NaN) in {len(bad)} of {values.shape[1]} series: "
        f"{listed}. Autoregressions need complete series; for "
        + "; for ".join(fixes)
        + "."
    )


def check_series_scale(values: np.ndarray, names: list) -> None:
    """Name constant series, and series whose squares leave float64.

    An autoregression sums squares of the series: below about 1e-154 they
    underflow to zero, so a varying series would look constant, and above
    about 1e154 they overflow. Every such series is named (up to 50).

    Parameters
    ----------
    values : ndarray of shape (n_steps, n_series)
    names : list
        The series' names.
    """
    high, low = values.max(axis=0), values.min(axis=0)
    spread = high - low
    constant = [names[j] for j in np.flatnonzero(spread == 0)]
    if constant:
        raise ValueError(
            f"Series {constant[:50]}{and_more(constant, 50)} are constant: an "
            "AR model needs variation. Drop them, e.g. X.loc[:, X.nunique() > 1]."
        )
    limit = np.sqrt(np.finfo(np.float64).max / (4 * len(values)))
    largest = np.maximum(np.abs(high), np.abs(low))  # no copy of the series
    tiny = [names[j] for j in np.flatnonzero(spread < 1e-150)]
    huge = [names[j] for j in np.flatnonzero(largest > limit)]
    if tiny or huge:
        which, fix = (tiny, "multiply") if tiny else (huge, "divide")
        raise ValueError(
            f"Series {which[:50]}{and_more(which, 50)} vary by "
            f"{'less than 1e-150' if tiny else f'values above {limit:.3g}'}: "
            f"their squares leave the range of float64. {fix.capitalize()} "
            "them by a constant first (the coefficients do not change)."
        )


def check_squares(X: np.ndarray, where: str) -> None:
    """Refuse data whose squares, summed over the rows, overflow float64.

    From the extremes: ``np.abs(X)`` would copy the whole data set.

    Parameters
    ----------
    X : ndarray
        Validated float64 rows.
    where : str
        What sums the squares, for the message ("in the covariances").
    """
    # nanmax: a missing entry (NaN) of a model that takes them has no square.
    finite = X.size and not np.isnan(X).all()
    largest = max(abs(float(np.nanmax(X))), abs(float(np.nanmin(X)))) if finite else 0.0
    if largest > np.sqrt(np.finfo(np.float64).max / max(1, X.size)):
        raise ValueError(
            f"X holds values up to {largest:.3g}, whose squares overflow "
            f"float64 {where}. Scale the data first, e.g. with StandardScaler."
        )


def and_more(items: list, shown: int = 50) -> str:
    """" and N more" after the first ``shown`` items a message lists."""
    return f" and {len(items) - shown} more" if len(items) > shown else ""


def check_time_index(index: pd.Index) -> None:
    """Raise ``ValueError`` unless a time index runs forward without repeats.

    Forecasts are labelled by extending the index past its last label, so an
    index that runs backwards or repeats would label the future with dates
    inside the fitted range.

    Parameters
    ----------
    index : pandas.Index
        The index of the series.
    """
    if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        return  # a RangeIndex or labels: positions carry the order
    if index.is_monotonic_increasing and index.is_unique:
        return
    problem = (
        "repeats labels"
        if index.is_monotonic_increasing
        else ("runs newest first" if index.is_monotonic_decreasing else "is not sorted")
    )
    raise ValueError(
        f"The time index {problem} (first labels {list(map(str, index[:3]))}). "
        "Sort it oldest first and drop repeated times, e.g. "
        "X.sort_index() and X[~X.index.duplicated()]."
    )


_SERIES_HINT = (
    "Autoregressions need finite values: replace them (e.g. with NaN, then "
    "X.interpolate(limit_area='inside')) or cut the series there."
)


def check_rows_observed(X: np.ndarray, index=None) -> None:
    """Refuse a row with no observed entry: it has no likelihood to speak of.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_columns)
    index : sequence, optional
        Row labels for the message (a DataFrame's index).
    """
    empty = np.flatnonzero(np.isnan(X).all(axis=1)) if X.shape[1] else []
    if len(empty):
        row = empty[0] if index is None else index[empty[0]]
        row = row.item() if isinstance(row, np.generic) else row
        raise ValueError(
            f"Row {row!r} of X has no observed entry ({len(empty)} such row(s)): "
            "nothing is known of it. Drop rows that are entirely missing."
        )
