"""
Class-conditional diffusion with classifier-free guidance
=========================================================

A :class:`probmodels.DDPM` trained on sklearn's digits with their labels
(dropped to a null label 10% of the time) generates any chosen digit.
Each row of the figure is one class, sampled with DDIM in 50 steps, first
without guidance (w = 0), then with ``guidance_scale=2``:
``eps = (1 + w) eps(x, y) - w eps(x, null)`` sharpens what makes each class
itself. A logistic regression trained on real digits reads the samples.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from probmodels import DDPM

X, y = load_digits(return_X_y=True)
ddpm = DDPM(batch_size=128, max_epochs=150, random_state=0).fit(X, y)
judge = LogisticRegression(max_iter=5000).fit(X, y)

labels = np.repeat(np.arange(10), 6)
fig, axes = plt.subplots(10, 13, figsize=(9, 7.5))
for offset, w in ((0, 0.0), (7, 2.0)):
    samples = ddpm.sample(60, y=labels, guidance_scale=w, n_steps=50, random_state=0)
    images = np.clip(np.round(samples), 0, 16)
    hits = (judge.predict(images) == labels).mean()
    print(f"guidance_scale={w}: {hits:.0%} recognised as the requested digit")
    axes[0, offset + 2].set_title(f"w = {w:.0f}: {hits:.0%} recognised", fontsize=10)
    for k, image in enumerate(images):
        axes[labels[k], offset + k % 6].imshow(
            image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16
        )
for ax in axes.ravel():
    ax.set_axis_off()
fig.subplots_adjust(
    left=0.02, right=0.98, top=0.93, bottom=0.02, wspace=0.1, hspace=0.1
)

out = sys.argv[1] if len(sys.argv) > 1 else "plot_ddpm_digits.png"
fig.savefig(out, dpi=100)
print(f"saved {out}")
