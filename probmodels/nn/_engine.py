"""The one training loop of probmodels: fit -> epoch -> step.

Every model trained by gradient (the neural estimators, the Gaussian mixture's
gradient solver) goes through :class:`Trainer`, shaped as skorch's
``NeuralNet.fit`` (fit -> epoch -> step). It knows no estimator: it gets a
module, a loss function ``loss_fn(module, *batch) -> scalar`` and tensors
already on the device, and handles the rest:

- AdamW (or L-BFGS on the full batch), with cosine annealing per step
  ``lr(t) = eta_min + (lr - eta_min)(1 + cos(pi t / T_max)) / 2``
  (Loshchilov and Hutter, SGDR, 2017, eq. 5) via torch's
  ``CosineAnnealingLR``, or a constant rate;
- shuffled mini-batches drawn by index from tensors that stay on the device;
- a :class:`StoppingRule`: on the validation loss with ``early_stopping``
  (best weights restored), else when the training loss (or a ``monitor``)
  stops improving by ``tol`` for ``n_iter_no_change`` epochs;
- :class:`Callback` hooks after each step and each epoch; the history and the
  tqdm progress bar (``verbose``) are two of them;
- a NaN/inf guard that names the epoch and suggests a lower ``lr``;
- randomness from ``seed`` only, inside ``torch.random.fork_rng`` so the
  caller's global torch RNG state is left exactly as it was;
- data-parallel training under ``torchrun`` (a
  :class:`~probmodels.nn._distributed.DataParallel`): every process draws the
  same shuffled order and computes a contiguous shard of each global batch,
  through DistributedDataParallel; its loss is weighted by its share of the
  batch, so each step's gradient is the single-process gradient of the whole
  batch, and every value a decision rests on (losses, the monitor) is
  reduced across processes, so all stop at the same epoch.

Losses are accumulated on the device and read once per epoch, so a step costs
no host synchronisation.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ._callbacks import Callback, ExponentialMovingAverage, History, ProgressBar
from ._rules import StoppingRule, batch_bounds, diverged, finite, seeded

__all__ = [
    "Callback",
    "ExponentialMovingAverage",
    "History",
    "ProgressBar",
    "StoppingRule",
    "Trainer",
    "TrainingConfig",
    "TrainingResult",
    "seeded",
]


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
    seed : int
        Seeds shuffling and every random draw of the module (dropout).
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
    seed: int = 0
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
    """Train a module by minimising ``loss_fn`` over mini-batches.

    Parameters
    ----------
    module : torch.nn.Module
        Already on ``device``; trained in place.
    loss_fn : callable
        ``loss_fn(module, *batch)`` returns the mean loss of a batch (a 0-d
        tensor); ``batch`` are rows of the training tensors, so extra tensors
        (labels, weights) simply travel as more columns of ``train``.
    config : TrainingConfig
    device : torch.device
    callbacks : sequence of Callback, optional
        Hooks run after each step and each epoch, after the built-in history
        and progress bar.
    noise : bool, default=False
        The loss draws random numbers (a reparameterised sample, diffusion
        noise): it is called as ``loss_fn(module, *batch, generator=g)`` with
        a ``torch.Generator`` on ``device`` seeded from ``config.seed``, never
        torch's global one. Validation re-seeds its own generator identically
        each epoch, so every epoch's validation loss sees the same noise.
    parallel : DataParallel, optional
        Train data-parallel with these processes (see
        :mod:`probmodels.nn._distributed`); noise and dropout then come from
        a stream per process.
    row_weight : int, optional
        Position in the batch of a tensor of row weights that ``loss_fn``
        averages with (``sum w l / sum w``). A process's share of a batch is
        then its share of the weight rather than of the rows.
    """

    def __init__(
        self,
        module,
        loss_fn: Callable,
        config: TrainingConfig,
        device,
        callbacks=(),
        noise: bool = False,
        parallel=None,
        row_weight: int | None = None,
    ):
        import torch

        self.torch = torch
        self.module, self.loss_fn, self.config = module, loss_fn, config
        self.device, self.callbacks, self.noise = device, tuple(callbacks), noise
        self.parallel, self.row_weight = parallel, row_weight
        self._loss = loss_fn
        self._forward = functools.partial(loss_fn, module)  # forward(*batch)

    # ------------------------------------------------------------- fit
    def fit(
        self,
        train: tuple,
        valid: tuple | None = None,
        monitor: Callable[[], float] | None = None,
        optimizer_state: dict | None = None,
        max_epochs: int | None = None,
    ) -> TrainingResult:
        """Run epochs until the stopping rule or ``max_epochs``.

        Parameters
        ----------
        train : tuple of torch.Tensor
            Training tensors with rows in their first dimension.
        valid : tuple of torch.Tensor, optional
            Validation tensors (needed by ``early_stopping``).
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
        cfg, parallel = self.config, self.parallel
        epochs = cfg.max_epochs if max_epochs is None else max_epochs
        if parallel is not None:
            parallel.check_data({"train": train, "valid": valid}, cfg.seed)
        optimizer, scheduler, batch = self._set_up(
            train, valid, optimizer_state, epochs
        )
        rule = self._stopping_rule(monitor)
        history = History()
        main = parallel is None or parallel.rank == 0  # one progress bar
        hooks = [
            history,
            *([ProgressBar(cfg.description)] * (cfg.verbose >= 1 and main)),
        ]
        hooks += self.callbacks
        self._step_hooks = [h for h in hooks if _overrides(h, "on_step_end")]
        result, best_state = TrainingResult(history=history.records), None
        self.module.train()  # evaluate() switches back after each validation
        seed = cfg.seed if parallel is None else parallel.seed_for_rank(cfg.seed)
        with (
            _guarded(parallel),
            seeded(seed, self.device),
            _running(hooks, self, epochs, history),
        ):
            generator = self.torch.Generator().manual_seed(cfg.seed)  # same order
            self._loss = self._noisy_loss(seed + 1)
            self._forward = functools.partial(self._loss, self.module)
            if parallel is not None:
                self._forward = parallel.wrap(self.module, self._loss, self.device)
            for epoch in range(1, epochs + 1):
                tic = time.perf_counter()
                sums = {
                    "train_loss": (
                        self.run_epoch(train, batch, optimizer, scheduler, generator),
                        len(train[0]),
                    )
                }
                if valid is not None:
                    sums["valid_loss"] = (self.evaluate(valid, batch), len(valid[0]))
                # Rank 0's monitor decides for all (the others skip computing it).
                value = None if monitor is None else (monitor() if main else 0.0)
                record = {"epoch": epoch, **self._epoch_values(sums, value, tic)}
                for key in ("train_loss", "valid_loss", "monitor"):
                    if key in record:
                        finite(record[key], epoch, cfg.lr)
                record["lr"] = optimizer.param_groups[0]["lr"]
                record["duration"] = record.pop("duration")  # the last entry
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
            if parallel is not None:  # batch-norm statistics are per process
                parallel.sync_module(self.module)
        self._forward = functools.partial(self._loss, self.module)
        result.n_epochs = len(history.records)
        result.optimizer_state = optimizer.state_dict()
        return result

    def _set_up(self, train, valid, optimizer_state, epochs):
        """The optimiser, the schedule and the batch size of one fit."""
        if self.config.early_stopping and valid is None:
            raise ValueError("early_stopping needs validation data.")
        n = train[0].shape[0]
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
        return optimizer, scheduler, batch

    def _noisy_loss(self, seed: int):
        """``loss_fn``, given a device generator of its own when it draws noise."""
        if not self.noise:
            return self.loss_fn
        noise = self.torch.Generator(device=self.device).manual_seed(seed)
        return functools.partial(self.loss_fn, generator=noise)

    def _stopping_rule(self, monitor) -> StoppingRule | None:
        """The rule on the validation loss, the monitor or the training loss."""
        cfg = self.config
        if cfg.tol is None and not cfg.early_stopping:
            return None  # run every epoch
        key = "train_loss" if monitor is None else "monitor"
        key = "valid_loss" if cfg.early_stopping else key
        return StoppingRule(cfg.tol or 0.0, cfg.n_iter_no_change, key)

    # ----------------------------------------------------------- epoch
    def _epoch_values(self, sums: dict, monitor, tic: float) -> dict:
        """The epoch's mean losses, monitor and duration, agreed by all processes.

        Each loss comes as (this process's sum over its rows, rows in all);
        the monitor and the duration are rank 0's. Data-parallel, all of
        them travel in one all-reduce: a collective per value would cost
        more than a step on small networks.
        """
        torch, parallel = self.torch, self.parallel
        duration = time.perf_counter() - tic
        names = [*sums, *(["monitor"] if monitor is not None else []), "duration"]
        if parallel is None:
            values = [float(total) for total, _ in sums.values()]
            values += [monitor] * (monitor is not None) + [duration]
        else:
            main = parallel.rank == 0
            parts = [total.double().reshape(()) for total, _ in sums.values()]
            own = [monitor] * (monitor is not None) + [duration]
            parts += [torch.tensor(v if main else 0.0) for v in own]
            parts = [p.to(self.device, torch.float64) for p in parts]
            values = parallel.sum(torch.stack(parts)).tolist()
        out = dict(zip(names, values, strict=True))
        for name, (_, rows) in sums.items():
            out[name] /= rows
        return out

    def run_epoch(self, train, batch, optimizer, scheduler, generator):
        """One shuffled pass; returns the sum of the rows' training losses.

        A 0-d tensor, left on the device (read once per epoch); data-parallel,
        this process's part of the sum.
        """
        torch = self.torch
        n = train[0].shape[0]
        if self.config.optimizer == "lbfgs":
            full, share = self.shard(train, None, 0, n)
            loss = optimizer.step(lambda: self._closure(optimizer, full, share))
            loss = loss.detach()
            self._after_step(loss, None)
            if self.parallel is not None and self.parallel.rank != 0:
                return torch.zeros_like(loss)  # the closure summed it already
            return loss * n
        # One full-batch step needs no shuffle: the order of rows cannot matter.
        order = None if batch >= n else torch.randperm(n, generator=generator)
        order = None if order is None else order.to(train[0].device)
        bounds = batch_bounds(n, batch) if order is not None else [(0, n)]
        losses = []
        for lo, hi in bounds:
            part, share = self.shard(train, order, lo, hi)
            loss = self.train_step(part, optimizer, share)
            self._after_step(loss, scheduler)
            losses.append(loss)
        # One reduction per epoch: a running sum would add two ops to every step.
        sizes = torch.tensor(
            [float(hi - lo) for lo, hi in bounds],
            device=self.device,
            dtype=losses[0].dtype,
        )
        return torch.stack(losses) @ sizes

    def shard(self, train, order, lo, hi):
        """The rows of batch ``[lo, hi)`` this process computes, and their share.

        In one process: every row of the batch, share None. Data-parallel: a
        contiguous piece of the batch and its share of the batch's rows (or
        weight). A process whose piece is empty (a batch smaller than the
        number of processes) computes the batch with share 0, so that it
        still joins the gradient reduction while adding nothing to it.

        Parameters
        ----------
        train : sequence of torch.Tensor
        order : torch.Tensor or None
            The epoch's shuffled row order; None takes rows as they are.
        lo, hi : int

        Returns
        -------
        part : list of torch.Tensor
            On the training device.
        share : float, torch.Tensor or None
        """
        parallel = self.parallel
        start, stop, share = lo, hi, None
        if parallel is not None:
            start, stop = parallel.shard(lo, hi)
            share = (stop - start) / (hi - lo)
            if start == stop:
                start, stop, share = lo, hi, 0.0
        if order is None and (start, stop) == (0, train[0].shape[0]):
            part = list(train)
        else:
            rows = slice(start, stop) if order is None else order[start:stop]
            part = [t[rows] for t in train]
        if share and self.row_weight is not None:
            weights = train[self.row_weight]
            whole = weights[lo:hi] if order is None else weights[order[lo:hi]]
            share = part[self.row_weight].sum() / whole.sum()
        return self._on_device(part), share

    def _after_step(self, loss, scheduler) -> None:
        if scheduler is not None:
            scheduler.step()
        for hook in self._step_hooks:
            hook.on_step_end(self, loss)

    def train_step(self, batch, optimizer, share=None):
        """One optimiser step on one batch; returns the detached loss.

        Data-parallel (``share`` given), the loss of this process's shard is
        scaled by ``share * world_size`` before DDP averages the gradients,
        so their average is the gradient of the whole batch's mean loss; the
        loss returned is the shard's part of the batch loss
        (``share * loss``), which sums to it over processes.
        """
        optimizer.zero_grad(set_to_none=True)
        loss = self._forward(*batch)
        if share is None:
            loss.backward()
        else:
            loss = loss * share
            (loss * self.parallel.world_size).backward()
        optimizer.step()
        return loss.detach()

    def evaluate(self, data, batch):
        """The sum of the rows' losses over ``data``, in eval mode.

        A 0-d float64 tensor. Data-parallel, each process evaluates a
        contiguous piece of the rows and returns its part of the sum.
        """
        torch, parallel = self.torch, self.parallel
        self.module.eval()
        n = data[0].shape[0]
        start, stop, seed = 0, n, self.config.seed
        if parallel is not None:
            (start, stop), seed = parallel.shard(0, n), parallel.seed_for_rank(seed)
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        loss_fn = self._noisy_loss(seed + 2)  # the same draws each time
        with torch.no_grad():
            for lo in range(start, stop, batch):
                part = self._on_device([t[lo : min(lo + batch, stop)] for t in data])
                total += loss_fn(self.module, *part).double() * part[0].shape[0]
        self.module.train()
        return total

    # --------------------------------------------------------- helpers
    def _on_device(self, tensors):
        """Move tensors to the module's device.

        A no-op when the data live there already; a copy per batch when they
        had to stay in host memory.
        """
        if tensors[0].device == self.device:
            return tensors
        return [t.to(self.device, non_blocking=True) for t in tensors]

    def _closure(self, optimizer, train, share=None):
        """L-BFGS's loss and gradient; data-parallel, both of the whole batch.

        Every process returns the summed loss, so the line search takes the
        same decisions everywhere.
        """
        optimizer.zero_grad(set_to_none=True)
        loss = self._forward(*train)
        if share is None:
            loss.backward()
            return loss
        loss = loss * share
        (loss * self.parallel.world_size).backward()
        return self.parallel.sum(loss)

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


def _fusable(params) -> bool:
    """Whether torch's fused AdamW kernel can take these parameters."""
    return bool(params) and all(
        p.dtype.is_floating_point and p.device.type in ("cpu", "cuda") for p in params
    )


def _guarded(parallel):
    """The data-parallel failure guard, or nothing in one process."""
    return contextlib.nullcontext() if parallel is None else parallel.training()


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
