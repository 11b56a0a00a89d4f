"""What every process of a data-parallel fit must agree on, and the checks.

A data-parallel fit is only correct when every process runs the same call
with the same hyper-parameters on the same rows: each computes its share of
every batch *by index*. These checks compare cheap fingerprints exchanged
once per call (:class:`~probmodels.engine.DataParallel`) and raise
the same error on every process, so none is left waiting in a collective.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "agreed",
    "batch_fingerprint",
    "check_same_call",
    "check_same_data",
    "fingerprint",
    "is_agreed",
    "parameter_fingerprint",
]

# Errors that every process raised at the same point, from values they agreed
# on: the process group is still in step, so nothing needs to be torn down.
_AGREED = "_probmodels_all_processes"

# Parameters that may differ between processes without changing the model:
# the progress bar (shown by rank 0 only). Generator objects are compared
# through the seeds they give (see check_same_data).
_UNCOMPARED = frozenset({"verbose"})


def agreed(error: BaseException) -> BaseException:
    """Mark ``error`` as raised by every process at the same point.

    Parameters
    ----------
    error : BaseException

    Returns
    -------
    BaseException
        ``error`` itself.
    """
    setattr(error, _AGREED, True)
    return error


def is_agreed(error: BaseException) -> bool:
    return bool(getattr(error, _AGREED, False))


def parameter_fingerprint(params: dict) -> dict:
    """The hyper-parameters that must agree across processes, as strings.

    Parameters
    ----------
    params : dict
        Name to value (an estimator's ``get_params(deep=False)``).

    Returns
    -------
    dict of str -> str
    """
    out = {}
    for name, value in sorted(params.items()):
        if name in _UNCOMPARED or isinstance(value, np.random.Generator):
            continue
        if isinstance(value, np.random.RandomState):
            continue
        out[name] = repr(value)
    return out


def check_same_call(calls: list) -> None:
    """Raise unless every process runs the same method with the same parameters.

    Parameters
    ----------
    calls : list of (str, str, dict)
        Per process: the class name, the method and
        :func:`parameter_fingerprint`.
    """
    first = calls[0]
    for rank, theirs in enumerate(calls):
        if theirs == first:
            continue
        if theirs[:2] != first[:2]:
            what = f"{theirs[0]}.{theirs[1]} against {first[0]}.{first[1]}"
        else:
            names = sorted(k for k in first[2] if first[2].get(k) != theirs[2].get(k))
            what = ", ".join(
                f"{k}={theirs[2].get(k)} against {first[2].get(k)}" for k in names
            )
        raise agreed(
            ValueError(
                f"Data-parallel fit: process {rank} runs a different call from "
                f"process 0 ({what}). Every process must run the same script "
                "with the same hyper-parameters (distributed=False fits each "
                "process on its own)."
            )
        )


def check_same_data(gathered: list, world_size: int) -> None:
    """Raise unless every process holds the same rows and training seed.

    Parameters
    ----------
    gathered : list of (dict, int)
        Per process: ``{"train": {field: fingerprint}, "valid": ... or None}``
        (:func:`batch_fingerprint`) and the seed of the rows' order.
    world_size : int
    """
    first, first_seed = gathered[0]
    for rank, (theirs, their_seed) in enumerate(gathered):
        for name in first:
            if not _same_fingerprints(first[name], theirs[name]):
                raise agreed(
                    ValueError(
                        f"Data-parallel fit: process {rank} was given different "
                        f"{name}ing data from process 0 ({_describe(theirs[name])} "
                        f"against {_describe(first[name])}). Every process must "
                        "load the same rows: each computes its share of every "
                        "batch by index."
                    )
                )
        if their_seed != first_seed:
            raise agreed(
                ValueError(
                    f"Data-parallel fit: random_state gives process {rank} a "
                    "different seed from process 0. Pass the same int (or None) "
                    "on every process."
                )
            )
    rows = first["train"]["x"][0][0] if first["train"] else 0
    if rows < world_size:
        raise agreed(
            ValueError(
                f"Data-parallel fit on {rows} training row(s) with {world_size} "
                "processes: each process needs at least one row. Use fewer "
                "processes or distributed=False."
            )
        )


def batch_fingerprint(batch) -> dict:
    """:func:`fingerprint` of every field of a batch, by name.

    Parameters
    ----------
    batch : Batch

    Returns
    -------
    dict of str -> tuple
    """
    return {name: fingerprint(t) for name, t in batch.tensors().items()}


def fingerprint(tensor) -> tuple:
    """Shape, dtype and two checksums of a tensor, cheap to compare.

    The second checksum weights rows by position, so reordered rows differ.
    NaN (a missing entry) enters as a constant, so equal data agree.
    Rows are summed in blocks to bound the float64 temporary.
    """
    import torch

    n = tensor.shape[0]
    total = weighted = 0.0
    block = max(1, 2**22 // max(1, tensor[:1].numel()))
    for lo in range(0, n, block):
        rows = tensor[lo : lo + block].reshape(min(block, n - lo), -1).double()
        # A missing entry (NaN) counts as a fixed value, so NaN == NaN here.
        rows = torch.nan_to_num(rows, nan=0.5772156649)
        per_row = rows.sum(1)
        weights = torch.arange(lo, lo + len(rows), device=rows.device) % 997 + 1
        total += float(per_row.sum())
        weighted += float(per_row @ weights.double())
    return (tuple(tensor.shape), str(tensor.dtype), total, weighted)


def _same_fingerprints(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if a.keys() != b.keys():
        return False
    for x, y in zip(a.values(), b.values(), strict=True):
        if x[:2] != y[:2]:
            return False
        for u, v in zip(x[2:], y[2:], strict=True):
            if not (u == v or math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-12)):
                return False
    return True


def _describe(prints) -> str:
    if prints is None:
        return "none"
    return "; ".join(
        f"{name}: shape {'x'.join(map(str, p[0]))}, sum {p[2]:.6g}"
        for name, p in prints.items()
    )
