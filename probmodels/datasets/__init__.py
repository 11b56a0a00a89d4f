"""Bundled datasets as ready-to-fit pandas objects.

Thin loaders over the datasets that ship with statsmodels and scikit-learn,
and UCI Adult (:func:`load_adult`), whose raw files are bundled here:
nothing is downloaded. :func:`make_toy_2d` draws the 2-D densities of the
normalising-flow literature that generative models are judged on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._adult import ADULT_COLUMNS, load_adult

__all__ = ["ADULT_COLUMNS", "load_adult", "load_nile", "load_sunspots", "make_toy_2d"]

TOY_2D = ("8gaussians", "pinwheel", "checkerboard")


def make_toy_2d(name: str, n_samples: int = 8000, random_state=None) -> np.ndarray:
    """Draw points from a 2-D toy density of the flow literature.

    The densities of FFJORD's experiments (Grathwohl et al., ICLR 2019,
    figure 2), with their constants:

    - ``"8gaussians"``: an equal mixture of N(c, 0.5^2 I) at eight points
      ``c`` on the circle of radius 4 (the axes and diagonals), all divided
      by 1.414.
    - ``"pinwheel"``: five arms; each point ``(1 + 0.3 r, 0.1 s)`` for
      standard normal r, s is turned clockwise by its arm's angle
      (``2 pi k / 5``) plus ``0.25 exp(1 + 0.3 r)``, and doubled.
    - ``"checkerboard"``: uniform on the eight dark squares of a 4 x 4
      board of side 8 centred on 0.

    Parameters
    ----------
    name : {"8gaussians", "pinwheel", "checkerboard"}
    n_samples : int, default=8000
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    ndarray of shape (n_samples, 2)

    Examples
    --------
    >>> from probmodels.datasets import make_toy_2d
    >>> make_toy_2d("pinwheel", 5, random_state=0).shape
    (5, 2)
    """
    if name not in TOY_2D:
        raise ValueError(f"Unknown toy {name!r}; use one of {', '.join(TOY_2D)}.")
    rng = check_random_state(random_state)
    n = int(n_samples)
    if name == "8gaussians":
        angles = np.pi / 4 * rng.randint(0, 8, size=n)
        centres = 4.0 * np.column_stack([np.cos(angles), np.sin(angles)])
        return (centres + 0.5 * rng.standard_normal((n, 2))) / 1.414
    if name == "pinwheel":
        arm = rng.randint(0, 5, size=n)
        radial = 1.0 + 0.3 * rng.standard_normal(n)
        tangential = 0.1 * rng.standard_normal(n)
        angle = 2 * np.pi * arm / 5 + 0.25 * np.exp(radial)
        cos, sin = np.cos(angle), np.sin(angle)
        return 2 * np.column_stack(
            [radial * cos + tangential * sin, tangential * cos - radial * sin]
        )
    x1 = 4 * rng.uniform(size=n) - 2
    x2 = rng.uniform(size=n) - 2 * rng.randint(0, 2, size=n) + np.floor(x1) % 2
    return 2 * np.column_stack([x1, x2])


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
