"""The training engine: one torch training loop and what it needs.

It knows no estimator. An estimator (or any code) gives it a network whose
``loss(batch, generator)`` is the mean loss of a :class:`Batch`, the training
rows as a :class:`Batch`, a :class:`TrainingConfig` with the fit's
:class:`Seeds`, and a :class:`Strategy` (one process, or
:class:`DataParallel` under ``torchrun``); :class:`Trainer` does the rest.
``docs/architecture.md`` ("How a batch travels") follows one batch through.

Importing this package does not import torch: each piece imports it when
it runs.

Examples
--------
>>> import torch
>>> from probmodels.engine import Batch, Trainer, TrainingConfig
>>> class Line(torch.nn.Linear):
...     def loss(self, batch, generator=None):
...         return ((self(batch.x).squeeze(-1) - batch.y) ** 2).mean()
>>> x = torch.linspace(-1, 1, 64)[:, None]
>>> line = Line(1, 1)
>>> config = TrainingConfig(max_epochs=200, batch_size=16, lr=0.05, tol=None)
>>> result = Trainer(line, config, torch.device("cpu")).fit(Batch(x, 3 * x[:, 0]))
>>> round(line.weight.item(), 1)
3.0
"""

from ._batch import Batch
from ._callbacks import Callback, ExponentialMovingAverage, History, ProgressBar
from ._device import (
    as_tensor,
    numpy_to_tensors,
    resolve_device,
    tensors_to_cpu,
    tensors_to_numpy,
    torch_device,
)
from ._distributed import (
    DataParallel,
    call_strategy,
    end_started_group,
    fitting,
    is_main_process,
    launched_by_torchrun,
)
from ._rules import StoppingRule, batch_bounds, seeded
from ._seeds import Seeds
from ._strategy import SingleProcess, Strategy
from ._trainer import Trainer, TrainingConfig, TrainingResult

__all__ = [
    "Batch",
    "Callback",
    "DataParallel",
    "ExponentialMovingAverage",
    "History",
    "ProgressBar",
    "Seeds",
    "SingleProcess",
    "StoppingRule",
    "Strategy",
    "Trainer",
    "TrainingConfig",
    "TrainingResult",
    "as_tensor",
    "batch_bounds",
    "call_strategy",
    "end_started_group",
    "fitting",
    "is_main_process",
    "launched_by_torchrun",
    "numpy_to_tensors",
    "resolve_device",
    "seeded",
    "tensors_to_cpu",
    "tensors_to_numpy",
    "torch_device",
]
