"""
AR forecasts of sunspot activity
================================

Fit an autoregression to 309 years of sunspot numbers, choose its order by
held-out likelihood, and show the forecast with its 95% interval next to a fan
of simulated paths. The empirical band of the paths and the analytic interval
agree, as they must for a Gaussian AR model.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from probmodels import ARRegressor
from probmodels.datasets import load_sunspots

y = load_sunspots()

# %%
# Choose the order by held-out log-likelihood: every candidate is scored on the
# same steps of each test fold, so the comparison is fair.
search = GridSearchCV(
    ARRegressor(random_state=0), {"p": range(1, 16)}, cv=TimeSeriesSplit(5)
)
search.fit(y)
est = search.best_estimator_  # refitted on the whole series
print(f"order chosen by cross-validated likelihood: p = {est.p_}")

# %%
# Forecast 30 years with a 95% interval and simulate 200 paths.
steps = 30
mean, lower, upper = est.forecast(steps, alpha=0.05)
paths = est.sample(steps, n_paths=200)

years = lambda index: index.year  # noqa: E731
fig, ax = plt.subplots(figsize=(9, 4))
recent = y.iloc[-80:]
ax.plot(years(recent.index), recent, color="black", lw=1.2, label="observed")
ax.plot(years(paths.index), paths.to_numpy(), color="tab:blue", alpha=0.04, lw=0.8)
ax.fill_between(
    years(mean.index),
    lower,
    upper,
    color="tab:orange",
    alpha=0.25,
    label="95% interval",
)
ax.plot(
    years(mean.index), mean, color="tab:orange", lw=2, label=f"AR({est.p_}) forecast"
)
band = np.quantile(paths.to_numpy(), [0.025, 0.975], axis=1)
x = years(mean.index)
ax.plot(x, band[0], color="tab:blue", ls="--", lw=1, label="2.5% / 97.5% of paths")
ax.plot(x, band[1], color="tab:blue", ls="--", lw=1)
ax.set_xlabel("year")
ax.set_ylabel("sunspot number")
ax.set_title("Sunspots: AR forecast and 200 simulated paths")
ax.legend(loc="upper left")
fig.tight_layout()

out = sys.argv[1] if len(sys.argv) > 1 else "plot_ar_sunspots.png"
fig.savefig(out, dpi=110)
print(f"saved {out}")
