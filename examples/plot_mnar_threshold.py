"""
A scale that tops out: values missing above a threshold (MNAR)
================================================================

Suppose the scale used on the Palmer penguins read at most 4,750 g: every
heavier penguin's body mass is missing. The value decides whether it is
missing (missing not at random), so every imputer that assumes the holes
are missing at random fills them with masses like the ones it saw, below
the threshold. ``GaussianMixture(missing="mnar")`` models the mechanism,
a logistic probability of being missing per column fitted with the
mixture, and learns both the threshold and where the unseen masses lie.
"""

import sys

import matplotlib.pyplot as plt
import numpy as np
from palmerpenguins import load_penguins
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer

from probmodels import GaussianMixture

columns = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
truth = load_penguins()[columns].dropna().to_numpy()
holes = truth.copy()
above = truth[:, 3] > 4750
holes[above, 3] = np.nan
print(f"{above.sum()} of {len(truth)} body masses missing, all above 4,750 g")

# %%
# The same holes for MAR imputers (scikit-learn's and the mixture under MAR)
# and for the mixture with the mask model. Three components, one per species.
imputers = {
    "IterativeImputer": IterativeImputer(random_state=0),
    "KNNImputer": KNNImputer(),
    "GaussianMixture (MAR)": GaussianMixture(3, n_init=2, random_state=0),
}
filled = {name: imp.fit_transform(holes) for name, imp in list(imputers.items())[:2]}
filled["GaussianMixture (MAR)"] = (
    imputers["GaussianMixture (MAR)"].fit(holes).impute(holes, method="mean")
)
mnar = GaussianMixture(3, n_init=2, missing="mnar", tol=1e-4, random_state=0)
filled["GaussianMixture (MNAR)"] = mnar.fit(holes).impute(holes, method="mean")

for name, table in filled.items():
    error = table[above, 3] - truth[above, 3]
    print(
        f"{name:24s} RMSE {np.sqrt(np.mean(error**2)):6.0f} g, "
        f"mean imputed {table[above, 3].mean():6.0f} g"
    )
print(f"{'truth':24s} {'':13s}mean {truth[above, 3].mean():6.0f} g")

# %%
# The fitted mask: the probability that a body mass is missing rises from
# 0 to 1 around the threshold the scale imposed.
threshold = -mnar.mask_intercept_[3] / mnar.mask_coef_[3]
print(f"learned threshold: {threshold:.0f} g (the scale's: 4,750 g)")

# %%
# The imputed masses of the heavy penguins beside their true masses.
fig, ax = plt.subplots(figsize=(6.5, 4))
bins = np.linspace(3000, 6500, 36)
ax.hist(truth[above, 3], bins, color="0.8", label="true masses of the holes")
for (name, table), colour in zip(filled.items(), ["C0", "C1", "C2", "C3"], strict=True):
    ax.hist(table[above, 3], bins, histtype="step", lw=2, color=colour, label=name)
ax.axvline(4750, color="k", ls="--", lw=1)
ax.set_xlabel("body mass (g)")
ax.set_ylabel("penguins")
ax.legend(fontsize=8)
ax.set_title("imputed masses of the penguins the scale could not weigh")
out = sys.argv[1] if len(sys.argv) > 1 else "plot_mnar_threshold.png"
fig.savefig(out, dpi=80)
plt.show()
