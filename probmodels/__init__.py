"""probmodels: classical and neural probabilistic models, one sklearn contract."""

__version__ = "0.1.0"

__all__ = ["__version__"]
