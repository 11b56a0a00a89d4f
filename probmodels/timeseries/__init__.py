"""Time-series models."""

from ._ar import ARRegressor
from ._ar_forecast import Forecast
from ._index import TimeClock
from ._panel import Panel

__all__ = ["ARRegressor", "Forecast", "Panel", "TimeClock"]
