"""Batch: the tensors of some rows, by name.

A batch travels from the estimator through the trainer and the data-parallel
strategy to the network's ``loss(batch, generator)``. Everything on the way
acts on its fields by name: the trainer takes rows of every field, the
strategy weighs a process's share by ``weight``, the data checks fingerprint
each field. A model that needs more (a mask of observed entries, category
codes) adds a field here, and nothing on the way changes.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

__all__ = ["Batch"]


@dataclass(frozen=True)
class Batch:
    """Row-aligned tensors: features, and what the loss needs beside them.

    Parameters
    ----------
    x : torch.Tensor of shape (n_rows, ...)
        The rows the network reads.
    y : torch.Tensor of shape (n_rows, ...), optional
        Labels as the network takes them: class codes (long), or one-hot
        rows.
    weight : torch.Tensor of shape (n_rows,), optional
        Row weights; a loss that takes them averages with them,
        ``sum_i w_i l_i / sum_i w_i``, and a data-parallel process's share of
        a batch is its share of the weight.
    codes : torch.Tensor of shape (n_rows, n_categorical), optional
        The categorical columns of a table, each value its category's code
        (long), beside the continuous columns in ``x``; -1 where missing.
    mask : torch.Tensor of shape (n_rows, ...), optional
        1 where an entry of ``x`` was observed, 0 where it was missing (``x``
        then holds 0 there): for a loss over observed entries only.
    """

    x: Any
    y: Any = None
    weight: Any = None
    codes: Any = None
    mask: Any = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def tensors(self) -> dict:
        """The fields that hold a tensor, by name, in field order.

        Returns
        -------
        dict of str -> torch.Tensor
        """
        values = ((name, getattr(self, name)) for name in _names(type(self)))
        return {name: value for name, value in values if value is not None}

    def map(self, fn) -> Batch:
        """A batch of ``fn(tensor)`` for every field that holds one.

        Parameters
        ----------
        fn : callable
            ``torch.Tensor -> torch.Tensor``, row-aligned.

        Returns
        -------
        Batch
        """
        # Built directly, not by dataclasses.replace: this runs at every step.
        values = {}
        for name in _names(type(self)):
            value = getattr(self, name)
            values[name] = None if value is None else fn(value)
        return type(self)(**values)

    def rows(self, index) -> Batch:
        """The rows at ``index`` (a slice or a tensor of row numbers) of every field.

        Parameters
        ----------
        index : slice or torch.Tensor

        Returns
        -------
        Batch
        """
        return self.map(lambda t: t[index])

    @property
    def device(self):
        """The device of ``x`` (every field lives on one device)."""
        return self.x.device

    def to(self, device) -> Batch:
        """The batch on ``device``: itself when it is there already.

        Parameters
        ----------
        device : torch.device

        Returns
        -------
        Batch
        """
        if self.x.device == device:
            return self
        return self.map(lambda t: t.to(device, non_blocking=True))


@functools.cache
def _names(cls) -> tuple:
    """The field names of a batch class, read once per class."""
    return tuple(f.name for f in dataclasses.fields(cls))
