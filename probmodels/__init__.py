"""probmodels: classical and neural probabilistic models, one sklearn contract.

Every estimator fits with ``fit``, draws new data with ``sample`` and scores
log-densities in nats with ``score_samples`` / ``score``. Importing the package
imports none of its models (nor scikit-learn, pandas or torch): each public
name loads its module when it is first used (PEP 562), so ``import
probmodels`` stays fast; the neural models load torch when they are fitted.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.2.0.dev0"

#: Public name -> the module that defines it.
_PUBLIC = {
    "DDPM": ".diffusion",
    "ARRegressor": ".timeseries",
    "FFNClassifier": ".classifiers",
    "GaussianMixture": ".mixture",
    "HiddenChowLiuTree": ".mixture",
    "LatentClassMixture": ".mixture",
    "TransformerClassifier": ".classifiers",
    "VAE": ".generative",
    "load": "._persistence",
    "save": "._persistence",
}

__all__ = [*sorted(_PUBLIC, key=str.lower), "__version__"]

if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from ._persistence import load, save  # noqa: F401
    from .classifiers import FFNClassifier, TransformerClassifier  # noqa: F401
    from .diffusion import DDPM  # noqa: F401
    from .generative import VAE  # noqa: F401
    from .mixture import (  # noqa: F401
        GaussianMixture,
        HiddenChowLiuTree,
        LatentClassMixture,
    )
    from .timeseries import ARRegressor  # noqa: F401


#: Subpackages and modules reachable as attributes (``probmodels.metrics``),
#: imported on first use like the names above.
_SUBMODULES = {
    "base",
    "classifiers",
    "cli",
    "columns",
    "datasets",
    "diffusion",
    "engine",
    "exceptions",
    "generative",
    "impute",
    "metrics",
    "mixture",
    "nn",
    "timeseries",
    "utils",
}


def __getattr__(name: str):
    """Load a public name's module, or a subpackage, on first use."""
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted({*globals(), *_PUBLIC})
