"""
A variational autoencoder on handwritten digits
===============================================

A :class:`probmodels.VAE` learns an 8-dimensional latent code for sklearn's
8 x 8 digits. The figure shows new digits drawn from the model (``sample``),
held-out digits next to their reconstructions (``transform`` then
``inverse_transform``), and the latent space of a second VAE with two latent
dimensions, each test digit placed at its posterior mean and coloured by its
label: digits the model was never told about form their own regions.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from probmodels import VAE

X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)

# %%
# One variance per pixel, a latent code of 8 numbers per image.
# Images: beta=1, the weight beta="auto" chooses on digits by held-out
# bound (see the VAE guide, "Choosing beta"), given here so it trains once.
vae = VAE(
    latent_dim=8,
    beta=1.0,
    hidden_layer_sizes=(256,),
    decoder_variance="feature",
    max_epochs=200,
    lr=3e-3,
    random_state=0,
).fit(Xtr)
print(f"held-out ELBO: {vae.score(Xte):.1f} nats per image (a lower bound)")
samples = vae.sample(10, mean=True, random_state=0)
recon = vae.inverse_transform(vae.transform(Xte[:10]))

# %%
# A two-dimensional latent space, to look at.
vae2 = VAE(
    latent_dim=2,
    beta=1.0,
    hidden_layer_sizes=(256,),
    decoder_variance="feature",
    max_epochs=200,
    lr=3e-3,
)
Z = vae2.set_params(random_state=0).fit(Xtr).transform(Xte)

fig = plt.figure(figsize=(12, 4.6))
grid = fig.add_gridspec(3, 21, width_ratios=[1] * 10 + [0.9] + [1] * 10)
rows = [("samples", samples), ("held out", Xte[:10]), ("reconstructed", recon)]
for r, (name, images) in enumerate(rows):
    for c in range(10):
        ax = fig.add_subplot(grid[r, c])
        ax.imshow(
            np.clip(images[c], 0, 16).reshape(8, 8), cmap="gray_r", vmin=0, vmax=16
        )
        ax.set_xticks([])
        ax.set_yticks([])
        if c == 0:
            ax.set_ylabel(name, fontsize=9)
ax = fig.add_subplot(grid[:, 12:])
points = ax.scatter(Z[:, 0], Z[:, 1], c=yte, cmap="tab10", s=8)
fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
# A few test digits light pixels almost never lit in training; standardised,
# those pixels sit far out and so do their codes. Frame the bulk.
lo, hi = np.percentile(Z, [0.5, 99.5], axis=0)
pad = 0.1 * (hi - lo)
ax.set(xlim=(lo[0] - pad[0], hi[0] + pad[0]), ylim=(lo[1] - pad[1], hi[1] + pad[1]))
ax.set(title="2-D latent space (posterior means)", xlabel="z1", ylabel="z2")
fig.subplots_adjust(left=0.05, right=0.97, top=0.92, bottom=0.1, wspace=0.1, hspace=0.1)

out = sys.argv[1] if len(sys.argv) > 1 else "plot_vae_digits.png"
fig.savefig(out, dpi=100)
print(f"saved {out}")
