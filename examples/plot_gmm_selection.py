"""
Choosing the number of mixture components
=========================================

Two ways to pick ``n_components`` for a :class:`probmodels.GaussianMixture`:
the Bayesian information criterion on the training data, and the held-out
log-likelihood in ``GridSearchCV``, which needs no scorer because ``score``
is the mean log-likelihood (higher is better). Both should find the four
components the data were drawn from.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse
from sklearn.model_selection import GridSearchCV

from probmodels import GaussianMixture

rng = np.random.default_rng(0)
means = np.array([[0.0, 0.0], [4.0, 4.0], [-4.0, 3.0], [3.0, -3.0]])
covs = np.array(
    [
        [[1.0, 0.7], [0.7, 1.0]],
        [[0.6, -0.3], [-0.3, 0.8]],
        [[1.5, 0.0], [0.0, 0.3]],
        [[0.4, 0.0], [0.0, 1.2]],
    ]
)
labels = rng.choice(4, size=1200, p=[0.4, 0.2, 0.2, 0.2])
X = np.stack([rng.multivariate_normal(means[k], covs[k]) for k in labels])

# %%
# BIC for each number of components and covariance type (lower is better).
ks = range(1, 9)
types = ["full", "tied", "diag", "spherical"]
bic = {
    t: [GaussianMixture(k, covariance_type=t, random_state=0).fit(X).bic(X) for k in ks]
    for t in types
}
best_t = min(types, key=lambda t: min(bic[t]))
best_k = ks[int(np.argmin(bic[best_t]))]
print(f"BIC chooses n_components={best_k}, covariance_type={best_t!r}")

# %%
# Held-out log-likelihood, 5-fold, over the same grid.
search = GridSearchCV(
    GaussianMixture(random_state=0),
    {"n_components": list(ks), "covariance_type": types},
    cv=5,
).fit(X)
print(f"cross-validated likelihood chooses {search.best_params_}")
cv = search.cv_results_

fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
for t in types:
    axes[0].plot(ks, bic[t], marker="o", label=t)
    mask = np.array(cv["param_covariance_type"]) == t
    axes[1].plot(
        np.array(cv["param_n_components"])[mask].astype(int),
        cv["mean_test_score"][mask],
        marker="o",
        label=t,
    )
axes[0].set(title="BIC on the training data (lower is better)", xlabel="n_components")
axes[1].set(
    title="held-out log-likelihood per sample (higher is better)",
    xlabel="n_components",
)
axes[0].legend()
axes[1].legend()

best = search.best_estimator_
ax = axes[2]
ax.scatter(X[:, 0], X[:, 1], s=4, c=best.predict(X), cmap="tab10", alpha=0.6)
full_covs = best.covariances_
if best.covariance_type == "tied":
    full_covs = np.repeat(full_covs[None], best.n_components, axis=0)
elif best.covariance_type == "diag":
    full_covs = np.stack([np.diag(c) for c in full_covs])
elif best.covariance_type == "spherical":
    full_covs = np.stack([c * np.eye(2) for c in full_covs])
for mean, cov in zip(best.means_, full_covs, strict=True):
    vals, vecs = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1]))
    for scale in (1, 2):
        w, h = 2 * scale * np.sqrt(vals[::-1])
        ax.add_patch(Ellipse(mean, w, h, angle=angle, fill=False, lw=1, color="black"))
ax.set(title=f"selected model: {best.n_components} components, {best.covariance_type}")
ax.set_aspect("equal")
fig.tight_layout()

out = sys.argv[1] if len(sys.argv) > 1 else "plot_gmm_selection.png"
fig.savefig(out, dpi=100)
print(f"saved {out}")
