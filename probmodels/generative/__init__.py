"""Latent-variable generative models trained with torch."""

from ._vae import VAE

__all__ = ["VAE"]
