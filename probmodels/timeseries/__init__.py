"""Time-series models."""

from ._ar import ARRegressor, Forecast

__all__ = ["ARRegressor", "Forecast"]
