"""Hooks into the training loop: the history, the progress bar, the EMA.

A :class:`Callback` runs after each optimiser step and each epoch of
:meth:`~probmodels.engine.Trainer.fit`; the loop itself knows none of
them by name (skorch's callbacks are the model). A hook gets the trainer
(``trainer.module``, ``trainer.config``) and imports nothing of it.
"""

from __future__ import annotations

__all__ = ["Callback", "ExponentialMovingAverage", "History", "ProgressBar"]


class Callback:
    """A hook into :meth:`Trainer.fit`; subclasses override what they need.

    ``on_step_end`` runs after every optimiser step (an exponential moving
    average of the weights lives there), ``on_epoch_end`` after every epoch
    with its record (the history and the progress bar live there).
    ``on_train_end`` runs however training ends, failure included.
    """

    def on_train_begin(self, trainer, n_epochs: int) -> None:
        """Called once before the first epoch."""

    def on_step_end(self, trainer, loss) -> None:
        """Called after each optimiser step with the batch's detached loss.

        Data-parallel, the loss is this process's part of the batch loss
        (its shard's mean loss times its share of the batch).
        """

    def on_epoch_end(self, trainer, record: dict) -> None:
        """Called after each epoch with its record."""

    def on_train_end(self, trainer) -> None:
        """Called once when training ends, normally or by an exception."""


class History(Callback):
    """Keeps each epoch's record: ``TrainingResult.history``."""

    def __init__(self):
        self.records: list[dict] = []

    def on_epoch_end(self, trainer, record):
        """Append the record."""
        self.records.append(record)


class ProgressBar(Callback):
    """A tqdm bar with the epoch's losses, shown when ``verbose >= 1``."""

    def __init__(self, description: str):
        self.description, self.bar = description, None

    def on_train_begin(self, trainer, n_epochs):
        """Open the bar."""
        from tqdm.auto import tqdm

        self.bar = tqdm(total=n_epochs, desc=self.description, leave=False)

    def on_epoch_end(self, trainer, record):
        """Advance the bar and show the losses."""
        self.bar.update(1)
        losses = {k: f"{v:.4g}" for k, v in record.items() if k.endswith("loss")}
        self.bar.set_postfix(losses)

    def on_train_end(self, trainer):
        """Close the bar."""
        self.bar.close()


class ExponentialMovingAverage(Callback):
    """An exponential moving average of the weights, written in at the end.

    After optimiser step k, ``shadow <- d_k shadow + (1 - d_k) theta`` with
    ``d_k = min(decay, (1 + k) / (10 + k))`` (the average Ho et al., 2020,
    sample from; the warm-up of diffusers' ``EMAModel``, so that a short fit
    does not keep much of the initial weights); when training ends the
    averaged weights replace the module's (buffers, such as batch-norm
    statistics, stay as they are). The average starts at the weights a fit
    starts from.

    Parameters
    ----------
    decay : float
        In [0, 1); 0 keeps the last weights.
    """

    def __init__(self, decay: float):
        self.decay, self.shadow, self.steps = decay, None, 0

    def on_train_begin(self, trainer, n_epochs):
        """Start the average at the current weights."""
        self.shadow = [p.detach().clone() for p in trainer.module.parameters()]
        self.steps = 0

    def on_step_end(self, trainer, loss):
        """Move the average towards the new weights."""
        self.steps += 1
        decay = min(self.decay, (1 + self.steps) / (10 + self.steps))
        params = [p.detach() for p in trainer.module.parameters()]
        trainer.torch._foreach_lerp_(self.shadow, params, 1.0 - decay)

    def on_train_end(self, trainer):
        """Write the averaged weights into the module."""
        with trainer.torch.no_grad():
            for p, s in zip(trainer.module.parameters(), self.shadow, strict=True):
                p.copy_(s)
