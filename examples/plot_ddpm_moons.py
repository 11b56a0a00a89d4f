"""
Diffusion from noise to two moons
=================================

A :class:`probmodels.DDPM` learns the two-moons distribution. Sampling runs
the learned reverse process from standard noise; ``return_trajectory=True``
keeps every intermediate step, shown here at a few times: the points drift
from a Gaussian blob onto the two curves. The last panel compares fast DDIM
sampling (50 network calls) with the training data.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.datasets import make_moons

from probmodels import DDPM

X, _ = make_moons(2000, noise=0.05, random_state=0)
ddpm = DDPM(
    n_timesteps=200, hidden_layer_sizes=(128, 128), max_epochs=150, random_state=0
).fit(X)

# %%
# The reverse trajectory of 1,000 samples, 200 ancestral steps.
samples, path = ddpm.sample(1000, random_state=0, return_trajectory=True)
fast = ddpm.sample(1000, n_steps=50, random_state=1)

steps = [0, 100, 150, 180, 200]  # indices into the path: x_T ... x_0
fig, axes = plt.subplots(1, len(steps) + 1, figsize=(15, 2.9), sharex=True, sharey=True)
for ax, i in zip(axes, steps, strict=False):
    ax.scatter(path[i][:, 0], path[i][:, 1], s=2, alpha=0.5)
    ax.set_title(f"t = {ddpm.n_timesteps - i}")
axes[-1].scatter(X[:, 0], X[:, 1], s=2, alpha=0.3, color="gray", label="data")
axes[-1].scatter(
    fast[:, 0], fast[:, 1], s=2, alpha=0.5, color="C1", label="DDIM, 50 steps"
)
axes[-1].legend(loc="lower left", fontsize=7, markerscale=4)
axes[0].set(xlim=(-2.5, 3), ylim=(-2, 2.5))
fig.tight_layout()

out = sys.argv[1] if len(sys.argv) > 1 else "plot_ddpm_moons.png"
fig.savefig(out, dpi=100)
print(f"saved {out}")
