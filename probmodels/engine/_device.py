"""Devices: what ``device='auto'`` means, without importing torch needlessly.

torch takes a second or more to import, so ``import probmodels`` never does,
and resolving ``device='auto'`` imports it only when a CUDA driver is visible
(or torch is already loaded): a CPU-only machine fitting a classical model
never pays for it.
"""

from __future__ import annotations

import os
import sys

import numpy as np

__all__ = [
    "as_tensor",
    "numpy_to_tensors",
    "resolve_device",
    "tensors_to_cpu",
    "tensors_to_numpy",
    "torch_device",
]


def _cuda_driver_visible() -> bool:
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists(
        "/dev/nvidiactl"
    )


def resolve_device(device: str = "auto") -> str:
    """Canonical device name for a ``device`` parameter.

    Parameters
    ----------
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``; any other name torch understands is passed through.

    Returns
    -------
    str
        ``"cpu"``, ``"cuda:N"`` or the torch device name.

    Raises
    ------
    ValueError
        When CUDA is asked for but not available, or the name is unknown.
    """
    if not isinstance(device, str):
        device = str(device)
    if device == "cpu":
        return "cpu"
    if device == "auto":
        if "torch" not in sys.modules and not _cuda_driver_visible():
            return "cpu"
        import torch

        return "cuda:0" if torch.cuda.is_available() else "cpu"
    import torch

    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise ValueError(
            f"device={device!r} is not a device name; use 'auto', 'cpu', 'cuda' "
            "or 'cuda:N'."
        ) from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was asked for, but CUDA is not available on "
                "this machine. Use device='auto' (CUDA when present) or 'cpu'."
            )
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}: this machine has {torch.cuda.device_count()} "
                "CUDA device(s)."
            )
        return f"cuda:{index}"
    if dev.type != "cpu" and not _backend_available(torch, dev.type):
        raise ValueError(
            f"device={device!r} is not available on this machine (or cannot "
            "train a model). Use device='auto' (CUDA when present) or 'cpu'."
        )
    return str(dev)


def _backend_available(torch, kind: str) -> bool:
    """Whether torch can compute on devices of ``kind`` ('mps', 'xpu', ...) here.

    'meta' tensors hold shapes only; no model trains on them.
    """
    if kind == "mps":
        return bool(torch.backends.mps.is_available())
    is_available = getattr(getattr(torch, kind, None), "is_available", None)
    return bool(is_available()) if callable(is_available) else False


def torch_device(name: str):
    """The ``torch.device`` for a name from :func:`resolve_device`.

    Parameters
    ----------
    name : str

    Returns
    -------
    torch.device
    """
    import torch

    return torch.device(name)


def as_tensor(array, device):
    """A float64 tensor on ``device`` sharing memory with ``array`` when it can.

    A read-only array (a memory map, a pandas copy-on-write view) is copied:
    torch cannot wrap it safely.

    Parameters
    ----------
    array : ndarray
    device : torch.device or str

    Returns
    -------
    torch.Tensor
    """
    import numpy as np
    import torch

    array = np.asarray(array, dtype=np.float64)
    if not array.flags.writeable:
        array = array.copy()
    return torch.as_tensor(array, device=device)


def tensors_to_cpu(obj):
    """Copy every tensor inside nested dicts, lists and tuples to the CPU.

    Optimiser state dicts are stored this way, so a model pickles and loads
    on a machine without the device it was trained on.

    Parameters
    ----------
    obj : object

    Returns
    -------
    object
        The same structure with CPU tensors.
    """
    return _map_tensors(obj, lambda t: t.detach().cpu())


def tensors_to_numpy(obj):
    """Replace every tensor inside nested dicts, lists and tuples by an ndarray.

    A fitted model's state is stored as arrays and plain values, so that
    skops can save it without any torch object (``probmodels.save``).

    Parameters
    ----------
    obj : object

    Returns
    -------
    object
        The same structure with numpy arrays for tensors.
    """
    return _map_tensors(obj, lambda t: t.detach().cpu().numpy())


def _map_tensors(obj, fn):
    """``obj`` with ``fn`` applied to every tensor in nested dicts, lists, tuples."""
    if hasattr(obj, "detach") and hasattr(obj, "cpu"):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: _map_tensors(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_tensors(v, fn) for v in obj)
    return obj


def numpy_to_tensors(obj):
    """The inverse of :func:`tensors_to_numpy`: ndarrays become CPU tensors.

    Parameters
    ----------
    obj : object

    Returns
    -------
    object
    """
    import torch

    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.array(obj))  # a writable copy
    if isinstance(obj, dict):
        return {k: numpy_to_tensors(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(numpy_to_tensors(v) for v in obj)
    return obj
