"""
Synthetic penguins: a table of text, numbers and a year
=======================================================

The Palmer penguins (the ``palmerpenguins`` package): species, island and
sex as text, four measurements, a year. A Gaussian mixture fits the table
as it is (each component a Gaussian over the numbers times a categorical
distribution per text column), samples new penguins in the table's own
columns and dtypes, and the quality report scores them against held-out
penguins with SDMetrics' definitions.
"""

import sys

import matplotlib.pyplot as plt
from palmerpenguins import load_penguins
from sklearn.model_selection import train_test_split

from probmodels import GaussianMixture
from probmodels.metrics import plot_quality, quality_report

penguins = load_penguins().dropna().reset_index(drop=True)
train, held_out = train_test_split(penguins, test_size=0.3, random_state=0)

# %%
# The number of components by BIC, as for any mixture; ``bic`` counts the
# category probabilities among the parameters.
fits = [GaussianMixture(k, n_init=2, random_state=0).fit(train) for k in range(1, 9)]
gm = min(fits, key=lambda m: m.bic(train))
categorical = list(train.columns[gm.is_categorical_])
print(f"components: {gm.n_components}; categorical columns: {categorical}")

# %%
# New penguins, in the table's columns and dtypes: text stays text, the year
# an integer within the years seen.
samples = gm.sample(len(held_out), random_state=0)
print(samples.head())
print(samples.dtypes.equals(penguins.dtypes))

# %%
# Scores: log density of the measurements times the probability of the
# categories, in nats.
print(f"held-out log-likelihood per penguin: {gm.score(held_out):.2f} nats")

# %%
# The quality report: C2ST (0.5 best), column shapes and pair trends (1
# best), DCR (0.5: no penguin copied), and how well a classifier trained on
# the synthetic penguins tells real species apart.
report = quality_report(train, samples, holdout=held_out, target="species")
print(report.head(7).round(3).to_string(index=False))

# %%
# Each column, real (held out) beside synthetic.
fig = plot_quality(held_out, samples)
out = sys.argv[1] if len(sys.argv) > 1 else "plot_tables_penguins.png"
fig.savefig(out, dpi=80)
plt.show()
