"""The one training loop of probmodels: fit -> epoch -> step.

Every model trained by gradient (the neural estimators, the Gaussian mixture's
gradient solver) goes through :class:`Trainer`. It knows no estimator: it gets
a module, a loss function ``loss_fn(module, *batch) -> scalar`` and tensors
already on the device, and handles the rest:

- AdamW (or L-BFGS on the full batch), with the seed's cosine annealing
  ``lr(t) = eta_min + (lr - eta_min)(1 + cos(pi t / T_max)) / 2`` per step via
  torch's ``CosineAnnealingLR``, or a constant rate;
- shuffled mini-batches drawn by index from tensors that stay on the device;
- stopping: on the validation loss with ``early_stopping`` (best weights
  restored), else when the training loss (or a ``monitor``) stops improving
  by ``tol`` for ``n_iter_no_change`` epochs;
- a NaN/inf guard that names the epoch and suggests a lower ``lr``;
- a tqdm progress bar with ``verbose``;
- randomness from ``seed`` only, inside ``torch.random.fork_rng`` so the
  caller's global torch RNG state is left exactly as it was.

Losses are accumulated on the device and read once per epoch, so a step costs
no host synchronisation.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Trainer", "TrainingConfig", "TrainingResult", "seeded"]


@dataclass
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


def seeded(seed: int, device):
    """Context in which torch's global RNG is seeded, then restored.

    Module initialisation and dropout draw from torch's global generator; doing
    them inside this context makes a fit repeatable from ``seed`` while the
    caller's generator state is left untouched.

    Parameters
    ----------
    seed : int
    device : torch.device
        A CUDA device's generator is forked and seeded too.

    Returns
    -------
    contextlib.AbstractContextManager
    """
    import contextlib

    import torch

    @contextlib.contextmanager
    def ctx():
        cuda = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.random.default_generator.manual_seed(seed)
            if cuda:
                torch.cuda.manual_seed(seed)
            yield

    return ctx()


class Trainer:
    """Train a module by minimising ``loss_fn`` over mini-batches.

    Parameters
    ----------
    module : torch.nn.Module
        Already on ``device``; trained in place.
    loss_fn : callable
        ``loss_fn(module, *batch)`` returns the mean loss of a batch (a 0-d
        tensor); ``batch`` are rows of the training tensors.
    config : TrainingConfig
    device : torch.device
    """

    def __init__(self, module, loss_fn: Callable, config: TrainingConfig, device):
        import torch

        self.torch = torch
        self.module, self.loss_fn, self.config, self.device = (
            module,
            loss_fn,
            config,
            device,
        )

    # ------------------------------------------------------------- fit
    def fit(
        self,
        train: tuple,
        valid: tuple | None = None,
        monitor: Callable[[], float] | None = None,
        optimizer_state: dict | None = None,
        max_epochs: int | None = None,
    ) -> TrainingResult:
        """Run epochs until a stopping rule or ``max_epochs``.

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
        cfg = self.config
        epochs = cfg.max_epochs if max_epochs is None else max_epochs
        if cfg.early_stopping and valid is None:
            raise ValueError("early_stopping needs validation data.")
        n = train[0].shape[0]
        batch = n if cfg.batch_size is None else min(cfg.batch_size, n)
        steps_per_epoch = math.ceil(n / batch)
        optimizer = self._optimizer(batch, n)
        if optimizer_state is not None:
            optimizer.load_state_dict(optimizer_state)
        scheduler = self._scheduler(optimizer, epochs * steps_per_epoch)
        result = TrainingResult()
        best, best_state, stale = math.inf, None, 0
        from tqdm.auto import tqdm

        bar = tqdm(
            total=epochs, desc=cfg.description, disable=cfg.verbose < 1, leave=False
        )
        self.module.train()  # evaluate() switches back after each validation
        with seeded(cfg.seed, self.device):
            generator = self.torch.Generator().manual_seed(cfg.seed)
            try:
                for epoch in range(1, epochs + 1):
                    tic = time.perf_counter()
                    train_loss = self.run_epoch(
                        train, batch, optimizer, scheduler, generator
                    )
                    record = {"epoch": epoch, "train_loss": train_loss}
                    _check_finite(train_loss, epoch, cfg.lr)
                    if valid is not None:
                        record["valid_loss"] = self.evaluate(valid, batch)
                        _check_finite(record["valid_loss"], epoch, cfg.lr)
                    if monitor is not None:
                        record["monitor"] = monitor()
                        _check_finite(record["monitor"], epoch, cfg.lr)
                    record["lr"] = optimizer.param_groups[0]["lr"]
                    record["duration"] = time.perf_counter() - tic
                    result.history.append(record)
                    result.n_epochs = epoch
                    if cfg.verbose:
                        bar.update(1)
                        losses = {k: v for k, v in record.items() if k.endswith("loss")}
                        bar.set_postfix({k: f"{v:.4g}" for k, v in losses.items()})
                    if cfg.tol is None and not cfg.early_stopping:
                        continue
                    # As sklearn's MLP: an epoch is stale unless it beats the
                    # best so far by tol; the best weights follow the minimum.
                    watched = record.get(
                        "valid_loss" if cfg.early_stopping else "monitor", train_loss
                    )
                    stale = stale + 1 if watched > best - (cfg.tol or 0.0) else 0
                    if watched < best:
                        best = watched
                        if cfg.early_stopping:
                            best_state = copy.deepcopy(self.module.state_dict())
                    if stale >= cfg.n_iter_no_change:
                        result.converged = True
                        break
            except self.torch.linalg.LinAlgError:
                raise _diverged(
                    "loss could not be computed (a matrix stopped being positive definite)",
                    result.n_epochs + 1,
                    cfg.lr,
                ) from None
            finally:
                bar.close()
        if best_state is not None:
            self.module.load_state_dict(best_state)
        result.optimizer_state = optimizer.state_dict()
        return result

    # ----------------------------------------------------------- epoch
    def run_epoch(self, train, batch, optimizer, scheduler, generator) -> float:
        """One shuffled pass; returns the mean training loss of the epoch."""
        torch = self.torch
        n = train[0].shape[0]
        if self.config.optimizer == "lbfgs":
            full = self._on_device(train)
            loss = optimizer.step(lambda: self._closure(optimizer, full))
            return float(loss.detach())
        if batch >= n:  # one full-batch step: the order of rows cannot matter
            loss = self.train_step(self._on_device(train), optimizer)
            if scheduler is not None:
                scheduler.step()
            return float(loss)
        order = torch.randperm(n, generator=generator).to(train[0].device)
        move = train[0].device != self.device  # data left in host memory
        losses = []
        for lo in range(0, n, batch):
            idx = order[lo : lo + batch]
            part = [t[idx] for t in train]
            losses.append(
                self.train_step(self._on_device(part) if move else part, optimizer)
            )
            if scheduler is not None:
                scheduler.step()
        # One reduction per epoch: a running sum would add two ops to every step.
        sizes = torch.full(
            (len(losses),), float(batch), device=self.device, dtype=losses[0].dtype
        )
        sizes[-1] = n - batch * (len(losses) - 1)
        return float(torch.stack(losses) @ sizes) / n

    def train_step(self, batch, optimizer):
        """One optimiser step on one batch; returns the detached loss."""
        optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.module, *batch)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def evaluate(self, data, batch) -> float:
        """Mean loss over ``data`` in eval mode, without gradients."""
        torch = self.torch
        self.module.eval()
        n = data[0].shape[0]
        total = 0.0
        with torch.no_grad():
            for lo in range(0, n, batch):
                part = self._on_device([t[lo : lo + batch] for t in data])
                total += float(self.loss_fn(self.module, *part)) * part[0].shape[0]
        self.module.train()
        return total / n

    # --------------------------------------------------------- helpers
    def _on_device(self, tensors):
        """Move tensors to the module's device.

        A no-op when the data live there already; a copy per batch when they
        had to stay in host memory.
        """
        if tensors[0].device == self.device:
            return tensors
        return [t.to(self.device, non_blocking=True) for t in tensors]

    def _closure(self, optimizer, train):
        optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.module, *train)
        loss.backward()
        return loss

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


def _diverged(what: str, epoch: int, lr: float) -> FloatingPointError:
    return FloatingPointError(
        f"Training diverged at epoch {epoch}: the {what}. Use a lower lr (now "
        f"{lr}); the estimator was left as it was before this fit."
    )


def _check_finite(value: Any, epoch: int, lr: float) -> None:
    if not math.isfinite(value):
        raise _diverged(f"loss became {value}", epoch, lr)
