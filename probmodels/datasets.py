"""Bundled datasets as ready-to-fit pandas objects.

Thin loaders over the datasets that ship with statsmodels and scikit-learn:
nothing is downloaded.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["load_nile", "load_sunspots"]


def load_sunspots() -> pd.Series:
    """Yearly mean sunspot numbers, 1700-2008 (statsmodels' ``sunspots``).

    Returns
    -------
    pandas.Series
        309 values named ``"sunactivity"`` with an annual PeriodIndex.
    """
    from statsmodels.datasets import sunspots

    data = sunspots.load_pandas().data
    index = pd.period_range(str(int(data["YEAR"].iloc[0])), periods=len(data), freq="Y")
    return pd.Series(data["SUNACTIVITY"].to_numpy(), index=index, name="sunactivity")


def load_nile() -> pd.Series:
    """Yearly flow of the Nile at Aswan, 1871-1970 (statsmodels' ``nile``).

    Returns
    -------
    pandas.Series
        100 values (10^8 m^3) named ``"volume"`` with an annual PeriodIndex.
    """
    from statsmodels.datasets import nile

    data = nile.load_pandas().data
    index = pd.period_range(str(int(data["year"].iloc[0])), periods=len(data), freq="Y")
    return pd.Series(data["volume"].to_numpy(dtype=float), index=index, name="volume")
