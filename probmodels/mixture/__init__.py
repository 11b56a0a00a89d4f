"""Mixture models."""

from ._gmm import GaussianMixture
from ._latent_class import LatentClassMixture

__all__ = ["GaussianMixture", "LatentClassMixture"]
