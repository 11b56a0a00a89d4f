"""The one training loop of probmodels: fit -> epoch -> step.

Every model trained by gradient (the neural estimators, the Gaussian mixture's
gradient solver) goes through :class:`Trainer`, shaped as skorch's
``NeuralNet.fit`` (fit -> epoch -> step). It knows no estimator: it gets a
module whose ``loss(batch, generator)`` is the mean loss of a
:class:`~probmodels.engine.Batch`, the training batch already on the device,
and a :class:`~probmodels.engine.Strategy`, and handles the rest:

- AdamW (or L-BFGS on the full batch), both stepped through one function
  with a closure (skorch's ``optimizer_.step(step_fn)``), with cosine
  annealing per step ``lr(t) = eta_min + (lr - eta_min)(1 + cos(pi t /
  T_max)) / 2`` (Loshchilov and Hutter, SGDR, 2017, eq. 5) via torch's
  ``CosineAnnealingLR``, or a constant rate;
- shuffled mini-batches drawn by index from tensors that stay on the device;
- a :class:`StoppingRule`: on the validation loss with ``early_stopping``
  (best weights restored), else when the training loss (or a ``monitor``)
  stops improving by ``tol`` for ``n_iter_no_change`` epochs;
- :class:`Callback` hooks after each step and each epoch; the history and the
  tqdm progress bar (``verbose``) are two of them;
- a NaN/inf guard that names the epoch and suggests a lower ``lr``;
- randomness from the config's :class:`~probmodels.engine.Seeds` only, inside
  ``torch.random.fork_rng`` so the caller's global torch RNG state is left
  exactly as it was.

What depends on how many processes train (which rows a process computes,
how its loss is weighted and reduced) is the strategy's: the loop has no
branch for it.

Losses are accumulated on the device and read once per epoch, so a step costs
no host synchronisation.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ._batch import Batch
from ._callbacks import Callback, History, ProgressBar
from ._rules import StoppingRule, batch_bounds, diverged, finite, seeded
from ._seeds import Seeds
from ._strategy import SINGLE_PROCESS

__all__ = ["Trainer", "TrainingConfig", "TrainingResult"]


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters of one training run.

    Parameters
    ----------
    max_epochs : int
        Passes over the training data.
    batch_size : int or None
        Rows per step; None trains on the full batch.
    lr : float
        Initial learning rate (eta_0 of the cosine schedule).
    weight_decay : float
        AdamW's decoupled weight decay (ignored by L-BFGS).
    optimizer : {"adamw", "lbfgs"}
        L-BFGS needs the full batch (one quasi-Newton step per epoch).
    lr_schedule : {"cosine", "constant"}
        Cosine annealing to ``lr_min`` over all steps, or a fixed rate.
    lr_min : float
        eta_min of the cosine schedule.
    early_stopping : bool
        Stop on the validation loss and restore the best weights.
    n_iter_no_change : int
        Epochs without improvement by ``tol`` before stopping.
    tol : float or None
        Improvement that counts; None never stops before ``max_epochs``
        (unless ``early_stopping``).
    verbose : int
        1 shows a progress bar.
    seeds : Seeds
        The rows' order, the loss's noise, dropout and the validation noise
        come from its ``order``, ``noise``, ``dropout`` and ``validation``.
    description : str
        Label of the progress bar.
    """

    max_epochs: int = 100
    batch_size: int | None = 200
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adamw"
    lr_schedule: str = "cosine"
    lr_min: float = 0.0
    early_stopping: bool = False
    n_iter_no_change: int = 10
    tol: float | None = 1e-4
    verbose: int = 0
    seeds: Seeds = field(default_factory=Seeds)
    description: str = "training"


@dataclass
class TrainingResult:
    """What a training run produced.

    Parameters
    ----------
    history : list of dict
        One dict per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (with a
        validation set), ``monitor`` (with a monitor), ``lr`` (at the end of
        the epoch), ``duration`` (seconds).
    n_epochs : int
        Epochs run.
    converged : bool
        True when stopped by the ``tol`` / early-stopping rule rather than by
        ``max_epochs``.
    optimizer_state : dict
        The optimiser's state dict, to continue training later.
    """

    history: list = field(default_factory=list)
    n_epochs: int = 0
    converged: bool = False
    optimizer_state: dict | None = None


def _overrides(hook: Callback, name: str) -> bool:
    return getattr(type(hook), name) is not getattr(Callback, name)


class Trainer:
    """Train a module by minimising its ``loss`` over mini-batches.

    Parameters
    ----------
    module : torch.nn.Module
        Already on ``device``; trained in place. ``module.loss(batch,
        generator)`` returns the mean loss of a :class:`Batch` (a 0-d
        tensor); ``generator`` is a ``torch.Generator`` on ``device``, seeded
        from ``config.seeds.noise``, for whatever the loss draws (a
        reparameterised sample, diffusion noise). torch's global generator
        is never used for it. Validation re-seeds its own generator
        identically each epoch, so every epoch's validation loss sees the
        same noise.
    config : TrainingConfig
    device : torch.device
    callbacks : sequence of Callback, optional
        Hooks run after each step and each epoch, after the built-in history
        and progress bar.
    strategy : Strategy, optional
        How the work is spread over processes (see
        :mod:`probmodels.engine`); one process by default.
    """

    def __init__(
        self, module, config: TrainingConfig, device, callbacks=(), strategy=None
    ):
        import torch

        if not callable(getattr(module, "loss", None)):
            raise TypeError(
                f"{type(module).__name__} has no loss(batch, generator) method: "
                "the trainer minimises the loss the network defines."
            )
        self.torch = torch
        self.module, self.config, self.device = module, config, device
        self.callbacks = tuple(callbacks)
        self.strategy = SINGLE_PROCESS if strategy is None else strategy

    # ------------------------------------------------------------- fit
    def fit(
        self,
        train: Batch,
        valid: Batch | None = None,
        monitor: Callable[[], float] | None = None,
        optimizer_state: dict | None = None,
        max_epochs: int | None = None,
    ) -> TrainingResult:
        """Run epochs until the stopping rule or ``max_epochs``.

        Parameters
        ----------
        train : Batch
            Training rows (on the device, or in host memory when they did not
            fit there: then one batch at a time is moved).
        valid : Batch, optional
            Validation rows (needed by ``early_stopping``).
        monitor : callable, optional
            Called after each epoch; its value (lower is better) replaces the
            training loss in the ``tol`` rule.
        optimizer_state : dict, optional
            State dict of a previous run's optimiser, to continue it.
        max_epochs : int, optional
            Overrides ``config.max_epochs`` (``partial_fit`` runs one).

        Returns
        -------
        TrainingResult
        """
        cfg, strategy = self.config, self.strategy
        epochs = cfg.max_epochs if max_epochs is None else max_epochs
        strategy.check_data(train, valid, cfg.seeds.order)
        plan = self._set_up(train, valid, optimizer_state, epochs)
        rule, history = self._stopping_rule(monitor), History()
        bar = [ProgressBar(cfg.description)] * (cfg.verbose >= 1 and strategy.is_main)
        hooks = [history, *bar, *self.callbacks]
        self._step_hooks = [h for h in hooks if _overrides(h, "on_step_end")]
        result, best_state = TrainingResult(history=history.records), None
        seeds = strategy.seeds(cfg.seeds)
        self.module.train()  # evaluate() switches back after each validation
        with (
            strategy.guard(),
            seeded(seeds.dropout, self.device),
            _running(hooks, self, epochs, history),
        ):
            torch = self.torch
            plan.order = torch.Generator().manual_seed(seeds.order)  # same order
            plan.validation_seed = seeds.validation
            noise = torch.Generator(device=self.device).manual_seed(seeds.noise)
            self._loss = strategy.wrap(self.module, noise)
            for epoch in range(1, epochs + 1):
                record = self._epoch(epoch, train, valid, monitor, plan)
                for hook in hooks:
                    hook.on_epoch_end(self, record)
                if rule is None:
                    continue
                stop = rule.update(record[rule.key])
                if cfg.early_stopping and rule.improved:
                    best_state = copy.deepcopy(self.module.state_dict())
                if stop:
                    result.converged = True
                    break
            if best_state is not None:  # before the hooks end (an EMA writes last)
                self.module.load_state_dict(best_state)
            strategy.finish(self.module)
        self._loss = None  # a DDP wrapper goes with the fit
        result.n_epochs = len(history.records)
        result.optimizer_state = plan.optimizer.state_dict()
        return result

    def _set_up(self, train, valid, optimizer_state, epochs) -> _Plan:
        """The optimiser, the schedule and the batch size of one fit."""
        if self.config.early_stopping and valid is None:
            raise ValueError("early_stopping needs validation data.")
        n = len(train)
        batch = n if self.config.batch_size is None else min(self.config.batch_size, n)
        optimizer = self._optimizer(batch, n)
        if optimizer_state is not None:
            # A copy: torch keeps the saved moment tensors and updates them in
            # place, which would change the estimator's state even when this
            # fit fails.
            optimizer.load_state_dict(copy.deepcopy(optimizer_state))
            # The moments carry over; the rate and decay are today's
            # hyper-parameters (the saved state would bring back the old ones).
            for group in optimizer.param_groups:
                group["lr"] = self.config.lr
                group.pop("initial_lr", None)  # a schedule starts from lr
                if "weight_decay" in group:
                    group["weight_decay"] = self.config.weight_decay
        scheduler = self._scheduler(optimizer, epochs * len(batch_bounds(n, batch)))
        # L-BFGS's line search compares losses: they must be the batch's own,
        # agreed by every process, not one process's part.
        lbfgs = self.config.optimizer == "lbfgs"
        self._closure_value = self.strategy.agreed_loss if lbfgs else _same
        return _Plan(batch, optimizer, scheduler)

    def _stopping_rule(self, monitor) -> StoppingRule | None:
        """The rule on the validation loss, the monitor or the training loss."""
        cfg = self.config
        if cfg.tol is None and not cfg.early_stopping:
            return None  # run every epoch
        key = "train_loss" if monitor is None else "monitor"
        key = "valid_loss" if cfg.early_stopping else key
        return StoppingRule(cfg.tol or 0.0, cfg.n_iter_no_change, key)

    # ----------------------------------------------------------- epoch
    def _epoch(self, epoch, train, valid, monitor, plan) -> dict:
        """Train one epoch, validate, and return its record (agreed by all)."""
        tic = time.perf_counter()
        loss = self.run_epoch(
            train, plan.batch, plan.optimizer, plan.scheduler, plan.order
        )
        sums = {"train_loss": (loss, len(train))}
        if valid is not None:
            total = self.evaluate(valid, plan.batch, plan.validation_seed)
            sums["valid_loss"] = (total, len(valid))
        # The main process's monitor decides for all (the others skip it).
        own = (
            {}
            if monitor is None
            else {"monitor": monitor() if self.strategy.is_main else 0.0}
        )
        own["duration"] = time.perf_counter() - tic
        values = self.strategy.epoch_values(
            [t for t, _ in sums.values()], list(own.values())
        )
        record = dict(zip([*sums, *own], values, strict=True))
        for name, (_, rows) in sums.items():
            record[name] /= rows
        for key in ("train_loss", "valid_loss", "monitor"):
            if key in record:
                finite(record[key], epoch, self.config.lr)
        record["lr"] = plan.optimizer.param_groups[0]["lr"]
        record["duration"] = record.pop("duration")  # the last entry
        return {"epoch": epoch, **record}

    def run_epoch(self, train, batch, optimizer, scheduler, generator):
        """One shuffled pass; returns the sum of the rows' training losses.

        A 0-d tensor, left on the device (read once per epoch); data-parallel,
        this process's part of the sum.

        Parameters
        ----------
        train : Batch
        batch : int
            Rows per step.
        optimizer : torch.optim.Optimizer
        scheduler : torch.optim.lr_scheduler.LRScheduler or None
        generator : torch.Generator
            Draws the epoch's order.

        Returns
        -------
        torch.Tensor
        """
        torch = self.torch
        n = len(train)
        # One full-batch step needs no shuffle: the order of rows cannot matter.
        order = None if batch >= n else torch.randperm(n, generator=generator)
        order = None if order is None else order.to(train.device)
        bounds = [(0, n)] if order is None else batch_bounds(n, batch)
        losses = []
        for lo, hi in bounds:
            part, share = self.strategy.shard(train, order, lo, hi)
            loss = self.train_step(part.to(self.device), optimizer, share)
            if scheduler is not None:
                scheduler.step()
            for hook in self._step_hooks:
                hook.on_step_end(self, loss)
            losses.append(loss)
        # One reduction per epoch: a running sum would add two ops to every step.
        sizes = torch.tensor(
            [float(hi - lo) for lo, hi in bounds],
            device=self.device,
            dtype=losses[0].dtype,
        )
        return torch.stack(losses) @ sizes

    def train_step(self, batch: Batch, optimizer, share=None):
        """One optimiser step on one batch; returns the detached loss.

        Every optimiser steps through ``optimizer.step(closure)``: AdamW calls
        the closure once, L-BFGS as often as its line search needs; the loss
        returned is the first evaluation's, before the step (skorch keeps
        the same one). Data-parallel (``share`` given), the strategy weighs
        this process's shard so that the averaged gradient is the whole
        batch's, and the loss returned is the shard's part of the batch loss.

        Parameters
        ----------
        batch : Batch
            On the device.
        optimizer : torch.optim.Optimizer
        share : float, torch.Tensor or None
            This process's share of the batch (see :meth:`Strategy.shard`).

        Returns
        -------
        torch.Tensor
        """
        first = []

        def closure():
            optimizer.zero_grad(set_to_none=True)
            part = self.strategy.backward(self._loss(batch), share)
            first.append(part)
            return self._closure_value(part)

        optimizer.step(closure)
        return first[0].detach()

    def evaluate(self, data: Batch, batch: int, seed: int):
        """The sum of the rows' losses over ``data``, in eval mode.

        A 0-d float64 tensor. Data-parallel, each process evaluates a
        contiguous piece of the rows and returns its part of the sum.

        Parameters
        ----------
        data : Batch
        batch : int
            Rows per forward pass.
        seed : int
            Seeds the loss's draws, the same each time.

        Returns
        -------
        torch.Tensor
        """
        torch = self.torch
        self.module.eval()
        start, stop = self.strategy.rows(len(data))
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        noise = torch.Generator(device=self.device).manual_seed(seed)
        with torch.no_grad():
            for lo in range(start, stop, batch):
                part = data.rows(slice(lo, min(lo + batch, stop))).to(self.device)
                total += self.module.loss(part, generator=noise).double() * len(part)
        self.module.train()
        return total

    # --------------------------------------------------------- helpers
    def _optimizer(self, batch, n):
        torch, cfg = self.torch, self.config
        params = [p for p in self.module.parameters() if p.requires_grad]
        if cfg.optimizer == "lbfgs":
            if batch < n:
                raise ValueError(
                    "optimizer='lbfgs' works on the full batch; drop batch_size "
                    "or use a stochastic optimiser for mini-batches."
                )
            # One quasi-Newton update per epoch. max_eval must be explicit:
            # torch derives it from max_iter (1 here), starving the line search.
            return torch.optim.LBFGS(
                params,
                lr=cfg.lr,
                max_iter=1,
                max_eval=25,
                history_size=20,
                line_search_fn="strong_wolfe",
            )
        # The fused kernel updates every tensor in one call: on small networks
        # the per-tensor Python loop of the default costs more than the maths.
        return torch.optim.AdamW(
            params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=_fusable(params)
        )

    def _scheduler(self, optimizer, total_steps):
        cfg = self.config
        if cfg.lr_schedule == "constant" or cfg.optimizer == "lbfgs":
            return None
        return self.torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(1, total_steps), eta_min=cfg.lr_min
        )


@dataclass
class _Plan:
    """What one fit steps with: the batch size, the optimiser, the schedule.

    ``order`` (the generator of the epochs' orders) and ``validation_seed``
    are set when training starts.
    """

    batch: int
    optimizer: object
    scheduler: object
    order: object = None
    validation_seed: int = 0


def _same(value):
    return value


def _fusable(params) -> bool:
    """Whether torch's fused AdamW kernel can take these parameters."""
    return bool(params) and all(
        p.dtype.is_floating_point and p.device.type in ("cpu", "cuda") for p in params
    )


@contextlib.contextmanager
def _running(hooks, trainer, n_epochs, history):
    """Begin and end the hooks around training; name a failed factorisation.

    A covariance that stops being positive definite surfaces as torch's
    ``LinAlgError``: it is a divergence like a NaN loss, reported the same way.
    """
    for hook in hooks:
        hook.on_train_begin(trainer, n_epochs)
    try:
        yield
    except trainer.torch.linalg.LinAlgError:
        raise diverged(
            "loss could not be computed (a matrix stopped being positive definite)",
            len(history.records) + 1,
            trainer.config.lr,
        ) from None
    finally:
        for hook in hooks:
            hook.on_train_end(trainer)
