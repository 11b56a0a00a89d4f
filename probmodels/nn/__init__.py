"""The estimator side of torch: what the neural estimators share.

- :class:`TorchEstimatorMixin` (``_base.py``): the shared hyper-parameters
  and the one fit template of every neural estimator;
- :class:`NeuralGenerativeMixin` and :class:`Standardizer`
  (``_generative.py``): the sample / score contract of the VAE and the DDPM;
- the class labels, encoded once (``_labels.py``); the shared parameter
  docs (``_docs.py``);
- the networks' parts, which import torch and load only when a network is
  built: layers (:mod:`probmodels.nn.modules`), denoisers
  (:mod:`probmodels.nn.denoisers`), distributions
  (:mod:`probmodels.nn.distributions`).

The training loop itself lives in :mod:`probmodels.engine`, which knows no
estimator. Nothing here imports torch at module import.
"""

from ._base import TORCH_PARAMETER_CONSTRAINTS, NetworkFit, TorchEstimatorMixin
from ._docs import document_torch_parameters
from ._generative import NeuralGenerativeMixin, Standardizer, zero_filled

__all__ = [
    "TORCH_PARAMETER_CONSTRAINTS",
    "NetworkFit",
    "NeuralGenerativeMixin",
    "Standardizer",
    "TorchEstimatorMixin",
    "document_torch_parameters",
    "zero_filled",
]
