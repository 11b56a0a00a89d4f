"""Time-series models."""

from ._ar import ARRegressor, Forecast
from ._index import TimeClock

__all__ = ["ARRegressor", "Forecast", "TimeClock"]
