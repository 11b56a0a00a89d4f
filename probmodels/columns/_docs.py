"""The table parameters' documentation, written once for the three models.

The mixture, the VAE and the DDPM take ``categorical_features`` and
``quantile_transform`` with one meaning, that of :class:`ColumnTypes`;
:func:`document_table_parameters` writes their entries where a class's
docstring says ``%(table_parameters)s``.
"""

from __future__ import annotations

import inspect

from ..utils.docs import fill_docstring, numpydoc_entries

__all__ = ["TABLE_PARAMETER_DOCS", "document_table_parameters"]

#: name -> (type, description) of each table parameter.
TABLE_PARAMETER_DOCS: dict[str, tuple[str, str]] = {
    "categorical_features": (
        '"from_dtype", None or array-like',
        'Which columns are categorical. "from_dtype" reads it from a '
        "DataFrame's dtypes: category, object, string and bool columns are "
        "categorical (bool ones as flags). That is more than scikit-learn's "
        '``HistGradientBoostingClassifier``, whose "from_dtype" takes the '
        "category dtype only. None makes none categorical; column names, "
        "indices or a boolean mask name them (numeric columns too: codes "
        "stored as numbers). A numpy array is all continuous unless named "
        "here.",
    ),
    "quantile_transform": (
        "bool",
        "Whether the continuous columns (integer and datetime ones included) "
        "are modelled in normal scores: each is mapped through its training "
        "quantiles to a standard normal (scikit-learn's "
        '``QuantileTransformer(output_distribution="normal")``, up to 1,000 '
        "quantiles; TabDDPM's preprocessing) before the model, and back on "
        "output. Samples then follow each column's training distribution, "
        "its spikes of repeated values included, within its range. "
        "``score_samples`` is then the log-likelihood of the transformed "
        "rows, as in a ``Pipeline`` after a ``QuantileTransformer``: "
        "comparable between models fitted the same way, not with models of "
        "the data on its own scale.",
    ),
}

_MARKER = "%(table_parameters)s"


def document_table_parameters(cls):
    """Class decorator: the table parameters' entries where the marker is.

    Parameters
    ----------
    cls : type
        An estimator whose ``__init__`` takes ``categorical_features`` and
        ``quantile_transform``; its defaults are shown.

    Returns
    -------
    type
        ``cls``, its docstring completed.
    """
    return fill_docstring(cls, {_MARKER: _table_parameters_doc})


def _table_parameters_doc(cls) -> str:
    signature = inspect.signature(cls.__init__).parameters
    defaults = {name: signature[name].default for name in TABLE_PARAMETER_DOCS}
    return numpydoc_entries(TABLE_PARAMETER_DOCS, defaults)
