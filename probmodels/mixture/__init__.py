"""Mixture models."""

from ._gmm import GaussianMixture
from ._latent_class import LatentClassMixture
from ._latent_tree import HiddenChowLiuTree

__all__ = ["GaussianMixture", "HiddenChowLiuTree", "LatentClassMixture"]
