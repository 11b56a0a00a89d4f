"""Columns of categories: categorical (category, object, string) and boolean.

Both are modelled as category codes: each value's position among the
categories seen in training, -1 where the value is missing.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ..utils.validation import _label, _shown, shown_value
from ._base import Column, check_no_missing, register

__all__ = ["BooleanColumn", "CategoricalColumn"]


def category_key(value) -> tuple:
    """A category's identity: its value and whether it is a flag, an integer or a number.

    Python counts ``True == 1 == 1.0`` (and hashes them alike), so a column
    holding ``1``, ``True`` and ``1.0`` would have one category; keyed by
    kind too, they stay three, and each comes back as it was.
    """
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, numbers.Integral):
        return ("int", int(value))
    if isinstance(value, numbers.Real):
        return ("float", float(value))
    return ("other", value)


def _observed_categories(series: pd.Series) -> list:
    """The categories seen, in the dtype's order (sorted for other dtypes)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        seen = set(series.cat.codes.tolist())
        return [c for i, c in enumerate(series.dtype.categories) if i in seen]
    distinct = {}
    for value in series.to_numpy(dtype=object).tolist():
        distinct.setdefault(category_key(value), value)
    values = list(distinct.values())
    kinds = {key[0] for key in distinct}
    if len(kinds) == 1:
        try:
            return sorted(values)
        except TypeError:
            pass
    # Mixed types: in the order of their type's name, then their text.
    return sorted(values, key=lambda v: (type(v).__name__, str(v)))


@register
class CategoricalColumn(Column):
    """A column of categories (category, object or string dtype, or named).

    Parameters
    ----------
    dtype : str
    categories : list
        The categories seen in training, in order: their codes are their
        positions.
    declared : list, optional
        A ``category`` dtype's own categories (those never seen included),
        for the output's dtype.
    ordered : bool, default=False
        Whether that dtype is ordered.
    """

    kind = "categorical"
    categorical = True
    fields = ("categories", "declared", "ordered")

    def __init__(self, dtype: str, categories=None, declared=None, ordered=False):
        super().__init__(dtype)
        self._categories = list(categories) if categories is not None else []
        self.declared = None if declared is None else list(declared)
        self.ordered = bool(ordered)

    @property
    def categories(self) -> list:
        """The training categories, in code order."""
        return self._categories

    @classmethod
    def read(cls, series, name):
        """The categories of training values (see :class:`Column`)."""
        cats = _observed_categories(series)
        if len(cats) == len(series) > 1:
            raise ValueError(
                f"Column {name!r} has a different value in each of its {len(series)} "
                "rows: an identifier, not a category. Drop it (or, if it is a "
                "number, leave it out of categorical_features)."
            )
        declared, ordered = None, False
        if isinstance(series.dtype, pd.CategoricalDtype):
            declared = series.dtype.categories.tolist()
            ordered = bool(series.dtype.ordered)
        return cls(str(series.dtype), cats, declared, ordered)

    def encode(self, series, name, allow_nan=False):
        """Each value's code; unseen ones named (see :class:`Column`)."""
        missing = series.isna().to_numpy()
        if missing.any():
            if not allow_nan:
                check_no_missing(series, name)
            codes = np.full(len(series), -1, dtype=np.int64)
            codes[~missing] = self.encode(series[~missing], name)
            return codes
        values = (
            series.astype(object)
            if isinstance(series.dtype, pd.CategoricalDtype)
            else series
        )
        lookup = {category_key(v): i for i, v in enumerate(self.categories)}
        codes = np.fromiter(
            (lookup.get(category_key(v), -1) for v in values.tolist()),
            dtype=np.int64,
            count=len(series),
        )
        if (codes < 0).any():
            first = np.flatnonzero(codes < 0)[0]
            row = _shown(_label(series.index, first))
            raise ValueError(
                f"Column {name!r} holds {shown_value(values.iloc[first])} (row {row}), "
                "a category this model never saw in training; it knows "
                f"{[c.item() if isinstance(c, np.generic) else c for c in self.categories[:20]]}."
            )
        return codes

    def _objects(self, codes):
        values = np.empty(len(codes), dtype=object)
        values[:] = [self.categories[c] for c in codes]
        return values

    def decode(self, values):
        """The categories of codes, in the column's dtype (see :class:`Column`)."""
        objects = self._objects(values)
        if self.dtype == "category":
            return pd.Categorical(objects, categories=self.declared, ordered=self.ordered)
        series = pd.Series(objects)
        try:
            return series.astype(self.dtype)
        except (TypeError, ValueError):
            return series

    def given(self, values, name):
        """Given categories as a column of objects (see :class:`Column`)."""
        return pd.Series(values).astype(object)

    def parse(self, text, name):
        """The category whose text is ``text`` (see :class:`Column`).

        Categories whose texts are alike (``1`` and ``1.0`` print apart,
        ``1`` and ``"1"`` do not) give the first in code order.
        """
        for category in self.categories:
            if str(category) == text:
                return category
        raise ValueError(
            f"not a category of {name!r}; the categories are "
            f"{list(self.categories)[:20]}."
        )


@register
class BooleanColumn(CategoricalColumn):
    """A column of flags (bool or boolean dtype), modelled as two categories.

    Parameters
    ----------
    dtype : str
    categories : list
        The flags seen in training (False, True, or one of them).
    declared, ordered
        Unused (kept for the model files' layout).
    """

    kind = "boolean"

    @classmethod
    def read(cls, series, name):
        """The flags of training values (see :class:`Column`)."""
        return cls(str(series.dtype), sorted(set(series.tolist())))

    def decode(self, values):
        """Flags of codes, in the column's dtype (see :class:`Column`)."""
        return pd.Series(self._objects(values).astype(bool)).astype(self.dtype)
