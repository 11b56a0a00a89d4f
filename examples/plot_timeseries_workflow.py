"""
A panel of time series: order by cross-validation, forecasts and fan charts
===========================================================================

Three quarterly US series from statsmodels' ``macrodata`` (real GDP,
consumption and investment, 1959-2009) as annualised growth rates in one
DataFrame with a ``DatetimeIndex``. One :class:`probmodels.ARRegressor`
fits every column at once. ``GridSearchCV`` with ``TimeSeriesSplit`` picks
the order by held-out log-likelihood (each fold trains on the past and
scores the next stretch); the chosen model then forecasts each series with
95% intervals, and 2,000 simulated paths give the fan. The forecasts come
back as a DataFrame indexed by the next quarters.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from probmodels import ARRegressor

macro = sm.datasets.macrodata.load_pandas().data
index = pd.PeriodIndex.from_fields(
    year=macro["year"].astype(int), quarter=macro["quarter"].astype(int), freq="Q"
).to_timestamp()
levels = macro[["realgdp", "realcons", "realinv"]].set_axis(index)
growth = (400 * np.log(levels).diff()).dropna().asfreq("QS-OCT")
print(growth.tail(3).round(2))

# %%
# The order, chosen by held-out log-likelihood over five expanding folds.
search = GridSearchCV(
    ARRegressor(random_state=0), {"p": range(1, 9)}, cv=TimeSeriesSplit(5)
).fit(growth)
best = search.best_estimator_
scores = pd.Series(search.cv_results_["mean_test_score"], index=range(1, 9))
print(f"held-out log-likelihood per step and series, by p:\n{scores.round(3)}")
print(f"chosen order p = {search.best_params_['p']}")

# %%
# Forecasts with 95% intervals, as one DataFrame, and the fan of paths.
mean, lower, upper = best.forecast(8, alpha=0.05)
table = pd.concat({"forecast": mean, "lower": lower, "upper": upper}, axis=1)
print(table.round(2).head(4))
paths = best.sample(8, n_paths=2000)

fig, axes = plt.subplots(1, 3, figsize=(15, 3.6), sharex=True)
for ax, name in zip(axes, growth.columns, strict=True):
    recent = growth[name].iloc[-40:]
    ax.plot(recent.index, recent, color="black", lw=1, label="observed")
    fan = paths[name]
    for q, alpha in [(0.05, 0.2), (0.25, 0.35)]:
        ax.fill_between(
            fan.index,
            fan.quantile(q, axis=1),
            fan.quantile(1 - q, axis=1),
            color="C0",
            alpha=alpha,
            lw=0,
        )
    ax.plot(mean.index, mean[name], color="C0", label="forecast")
    ax.plot(lower.index, lower[name], color="C0", ls="--", lw=0.8, label="95% interval")
    ax.plot(upper.index, upper[name], color="C0", ls="--", lw=0.8)
    ax.set_title(f"{name}: annualised growth, %")
axes[0].legend(loc="lower left", fontsize=8)
fig.suptitle(f"AR({best.p}) chosen by TimeSeriesSplit cross-validation", fontsize=10)
fig.tight_layout()

out = sys.argv[1] if len(sys.argv) > 1 else "plot_timeseries_workflow.png"
fig.savefig(out, dpi=100)
print(f"saved {out}")
