"""Two tables as numbers, the same way, for the metrics that need numbers.

Column kinds are read from the real table (``probmodels.columns``):
continuous and integer columns stay numbers, datetimes become seconds,
categorical and boolean columns become codes, the categories of both tables
taken together so that a category only one of them holds keeps a code of
its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import Column, ColumnTypes, datetime_seconds

__all__ = ["as_tables", "table_arrays", "table_columns"]


def as_tables(real, fake) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both inputs as DataFrames with the same columns, in order."""
    if not isinstance(real, pd.DataFrame):
        real = pd.DataFrame(np.asarray(real))
    if not isinstance(fake, pd.DataFrame):
        fake = pd.DataFrame(np.asarray(fake), columns=real.columns)
    if list(fake.columns) != list(real.columns):
        missing = [c for c in real.columns if c not in fake.columns]
        if missing or len(fake.columns) != len(real.columns):
            raise ValueError(
                f"The synthetic table's columns {list(fake.columns)} are not the "
                f"real table's {list(real.columns)}."
            )
        fake = fake[real.columns]
    return real.reset_index(drop=True), fake.reset_index(drop=True)


def table_columns(real: pd.DataFrame) -> list[Column]:
    """The column of each column of the real table, read by ``ColumnTypes``."""
    types, _ = ColumnTypes.fit(real)
    return types.columns


def _numbers(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return datetime_seconds(series)
    return series.to_numpy(np.float64)


def table_arrays(real, fake):
    """Both tables as float arrays, and the mask of their categorical columns.

    Parameters
    ----------
    real, fake : DataFrame or array-like
        Of the same columns.

    Returns
    -------
    real, fake : ndarray of shape (n_rows, n_columns)
    categorical : ndarray of bool of shape (n_columns,)
    """
    real, fake = as_tables(real, fake)
    a, b, mask = [], [], []
    for name, column in zip(real.columns, table_columns(real), strict=True):
        if column.categorical:
            both = pd.concat([real[name], fake[name]], ignore_index=True).astype(object)
            codes, _ = pd.factorize(both, sort=False)
            a.append(codes[: len(real)].astype(float))
            b.append(codes[len(real) :].astype(float))
            mask.append(True)
        else:
            a.append(_numbers(real[name]))
            b.append(_numbers(fake[name]))
            mask.append(False)
    return np.column_stack(a), np.column_stack(b), np.array(mask, bool)
