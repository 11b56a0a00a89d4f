"""Warnings and errors raised by probmodels.

sklearn's own classes are reused where they fit (``NotFittedError``,
``ConvergenceWarning``); these add what sklearn has no name for.
"""

from sklearn.exceptions import ConvergenceWarning, NotFittedError

__all__ = ["ConvergenceWarning", "NonStationaryWarning", "NotFittedError"]


class NonStationaryWarning(UserWarning):
    """A fitted autoregression is not stationary.

    Its forecasts and intervals grow without bound with the horizon; a trend
    term, differencing or a lower order often helps.
    """
