"""The column-type layer of every generative model: one class per kind.

A table's columns are read once (:meth:`ColumnTypes.fit`), each as one of
the kinds below, encoded for a model and decoded on output; see
``docs/user_guide/tables.rst``.

=================  =====================  ==========================================
kind               class                  modelled as
=================  =====================  ==========================================
``continuous``     :class:`ContinuousColumn`   float values
``integer``        :class:`IntegerColumn`      float values, rounded and clipped back
``datetime``       :class:`DatetimeColumn`     seconds since 1970-01-01 UTC
``categorical``    :class:`CategoricalColumn`  category codes
``boolean``        :class:`BooleanColumn`      category codes (two flags)
=================  =====================  ==========================================
"""

from ._base import Column, column_from_state, register
from ._categories import BooleanColumn, CategoricalColumn
from ._dates import DatetimeColumn, datetime_seconds
from ._docs import TABLE_PARAMETER_DOCS, document_table_parameters
from ._numbers import ContinuousColumn, IntegerColumn
from ._types import ColumnTypes, Encoded, normal_scores, one_hot

__all__ = [
    "TABLE_PARAMETER_DOCS",
    "BooleanColumn",
    "CategoricalColumn",
    "Column",
    "ColumnTypes",
    "ContinuousColumn",
    "DatetimeColumn",
    "Encoded",
    "IntegerColumn",
    "column_from_state",
    "datetime_seconds",
    "document_table_parameters",
    "normal_scores",
    "one_hot",
    "register",
]
