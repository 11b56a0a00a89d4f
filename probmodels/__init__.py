"""probmodels: classical and neural probabilistic models, one sklearn contract.

Every estimator fits with ``fit``, draws new data with ``sample`` and scores
log-densities in nats with ``score_samples`` / ``score``. Importing the package
does not import torch; the neural models load it when they are fitted.
"""

from ._persistence import load, save
from .classifiers import FFNClassifier, TransformerClassifier
from .diffusion import DDPM
from .generative import VAE
from .mixture import GaussianMixture
from .timeseries import ARRegressor

__version__ = "0.2.0.dev0"

__all__ = [
    "DDPM",
    "ARRegressor",
    "FFNClassifier",
    "GaussianMixture",
    "TransformerClassifier",
    "VAE",
    "__version__",
    "load",
    "save",
]
