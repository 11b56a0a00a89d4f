"""Torch infrastructure shared by the neural models; knows no estimator.

Nothing here imports torch at module import.
"""

from ._device import resolve_device, torch_device

__all__ = ["resolve_device", "torch_device"]
