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

__all__ = ["check_finite", "check_numeric_pandas", "ndim_of", "validate_series"]


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


def check_finite(
    values: np.ndarray,
    what: str = "X",
    labels: Any = None,
    hint: str = "Remove or impute them first.",
) -> None:
    """Raise ``ValueError`` if ``values`` holds NaN or inf, saying where.

    Parameters
    ----------
    values : ndarray of shape (n_rows,) or (n_rows, n_columns)
        Float array to check.
    what : str, default="X"
        Name of the argument in the message.
    labels : sequence, optional
        Column labels, to name the column of the first bad value.
    hint : str
        The fix, appended to the message.
    """
    # One reduction first: the elementwise pass runs only when something is off.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(values.sum()):
            return
    bad = ~np.isfinite(values)
    if not bad.any():
        return  # the sum overflowed; every value is finite
    n_nan = int(np.isnan(values).sum())
    n_inf = int(bad.sum()) - n_nan
    parts = [f"{n_nan} NaN"] if n_nan else []
    parts += [f"{n_inf} inf"] if n_inf else []
    first = np.argwhere(bad)[0]
    where = f"row {first[0]}"
    if values.ndim == 2:
        col = labels[first[1]] if labels is not None else first[1]
        where += f" of column {col!r}"
    raise ValueError(
        f"{what} contains {' and '.join(parts)} value(s), the first at {where}. {hint}"
    )


def validate_series(
    estimator: Any, X: Any, *, reset: bool
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

    Returns
    -------
    values : ndarray of shape (n_steps, n_series)
    index : pandas.Index or None
        The time index of a pandas input.
    """
    check_numeric_pandas(X)
    index = X.index if isinstance(X, (pd.Series, pd.DataFrame)) else None
    if isinstance(X, pd.Series):
        X = X.to_numpy()
    if isinstance(X, pd.DataFrame):
        # Names and counts from the frame; the conversion in one call (sklearn
        # would inspect each of possibly thousands of columns' dtypes).
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        X = X.to_numpy(dtype=np.float64, na_value=np.nan)
        values = check_array(X, dtype=np.float64, ensure_all_finite=False)
        labels = getattr(estimator, "feature_names_in_", None)
        check_finite(values, labels=labels, hint=_SERIES_HINT)
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
    check_finite(values, hint=_SERIES_HINT)
    return values, index


_SERIES_HINT = (
    "Autoregressions need complete series: fill the gaps first "
    "(e.g. X.interpolate()) or cut the series where they start."
)
