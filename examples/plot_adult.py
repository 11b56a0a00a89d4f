"""
Adult, on the tabular papers' protocol
======================================

UCI Adult is the table the tabular-generation papers (TabDDPM, TabSyn,
TabDiff, TabPC) all report on: 32,561 training rows of 6 integer and 9
categorical columns, with spikes (``capital_gain`` is 0 in 92% of rows)
and few-valued integers. :class:`probmodels.LatentClassMixture` gives each
column, within each of its latent classes, a distribution of its own kind
(a histogram with exact atoms for numbers); with its defaults (1,000
classes on Adult) EM fits it in well under a minute on two cores.
The quality report then speaks the papers' language: detection (1:
indistinguishable), shape and trend errors in percent, alpha-precision and
beta-recall, against real rows the model never saw. The full benchmark,
with the published rows beside ours, is ``benchmarks/bench_adult.py``.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import time

import matplotlib.pyplot as plt

from probmodels import LatentClassMixture
from probmodels.datasets import load_adult
from probmodels.metrics import plot_quality, quality_report

train = load_adult()
test = load_adult("test").sample(2000, random_state=0)

# %%
# The defaults: one class per 32 training rows, at most 1,000.
model = LatentClassMixture(random_state=0)
tic = time.perf_counter()
model.fit(train)
fit = time.perf_counter() - tic
tic = time.perf_counter()
samples = model.sample(len(test), random_state=0)
sample = time.perf_counter() - tic
print(f"{model.n_components_} classes, fitted in {fit:.0f} s")
print(samples.head())

# %%
# Conditioning is exact: the capital gains of doctorates.
doctors = model.sample(500, given={"education": "Doctorate"}, random_state=0)
print(f"share with a capital gain: {(doctors['capital_gain'] > 0).mean():.2f}")

# %%
# The report: the papers' figures follow SDMetrics' summaries.
report = quality_report(
    train, samples, holdout=test, target="income", fit_time=fit, sample_time=sample
)
papers = ["detection", "shape error (%)", "trend error (%)", "alpha-precision"]
papers += ["beta-recall", "fit time (s)", "sample time (s)"]
print(report.set_index("metric").loc[papers, "score"].round(3).to_string())

# %%
# Each column, real (held out) beside synthetic.
fig = plot_quality(test, samples, ncols=5)
out = sys.argv[1] if len(sys.argv) > 1 else "plot_adult.png"
fig.savefig(out, dpi=70)
plt.show()
