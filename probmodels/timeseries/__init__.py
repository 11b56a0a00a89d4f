"""Time-series models."""

from ._ar import ARRegressor
from ._ar_forecast import Forecast
from ._index import TimeClock

__all__ = ["ARRegressor", "Forecast", "TimeClock"]
