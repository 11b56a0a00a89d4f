"""The training loop: schedule, stopping rules, guards, randomness."""

import dataclasses
import math

import pytest
import torch
from torch import nn

from probmodels.engine import (
    Batch,
    Callback,
    ExponentialMovingAverage,
    Seeds,
    StoppingRule,
    Trainer,
    TrainingConfig,
)
from tests.conftest import regression_batch

CPU = torch.device("cpu")


def mse(module, batch):
    return ((module(batch.x).squeeze(-1) - batch.y) ** 2).mean()


class Linear(nn.Linear):
    """A regression network: its loss is the mean squared error."""

    def __init__(self, n_in=3, n_out=1, loss=mse):
        super().__init__(n_in, n_out)
        self._loss = loss

    def loss(self, batch, generator=None):
        return self._loss(self, batch)


def test_cosine_annealing_follows_the_sgdr_formula_per_step():
    data = regression_batch(64)
    config = TrainingConfig(max_epochs=6, batch_size=16, lr=0.1, lr_min=0.01, tol=None)
    result = Trainer(Linear(), config, CPU).fit(data)
    steps_per_epoch, total = 4, 6 * 4
    for record in result.history:
        t = record["epoch"] * steps_per_epoch  # steps taken by the end of the epoch
        expected = 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * t / total)) / 2
        assert record["lr"] == pytest.approx(expected, rel=1e-9)
    constant = TrainingConfig(
        max_epochs=3, batch_size=16, lr=0.1, lr_schedule="constant", tol=None
    )
    history = Trainer(Linear(), constant, CPU).fit(data).history
    assert [r["lr"] for r in history] == [0.1, 0.1, 0.1]


def test_early_stopping_restores_the_best_weights():
    data = regression_batch(40)
    Xv = regression_batch(40, seed=1).x
    # Unrelated targets: the validation loss rises as training fits.
    held_out = Batch(Xv, -10 * Xv[:, 0])
    module = Linear()
    config = TrainingConfig(
        max_epochs=200, batch_size=8, lr=0.05, early_stopping=True, n_iter_no_change=5
    )
    result = Trainer(module, config, CPU).fit(data, valid=held_out)
    valid = [r["valid_loss"] for r in result.history]
    assert result.converged and result.n_epochs < 200
    with torch.no_grad():
        assert float(mse(module, held_out)) == pytest.approx(min(valid), rel=1e-6)
    assert valid[-1] > min(valid)


def test_plateau_stops_after_n_iter_no_change():
    config = TrainingConfig(
        max_epochs=50, batch_size=16, lr=0.0, n_iter_no_change=3, tol=1e-4
    )
    result = Trainer(Linear(), config, CPU).fit(regression_batch())
    assert result.converged and result.n_epochs == 4  # the best, then 3 stale epochs


def test_nan_loss_names_the_epoch_and_the_fix():
    calls = {"n": 0}

    def loss(module, batch):
        calls["n"] += 1
        value = mse(module, batch)
        return value * float("nan") if calls["n"] > 4 else value

    config = TrainingConfig(max_epochs=5, batch_size=16, lr=0.01)
    with pytest.raises(FloatingPointError, match="epoch 2.*lower lr"):
        Trainer(Linear(loss=loss), config, CPU).fit(regression_batch())


def test_seeded_training_repeats_and_leaves_global_rng_alone():
    class Dropout(nn.Sequential):
        def loss(self, batch, generator=None):
            return mse(self, batch)

    modules = [
        Dropout(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 1)) for _ in range(2)
    ]
    modules[1].load_state_dict(modules[0].state_dict())
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    seeds = Seeds(order=7, dropout=8)
    for module in modules:  # dropout draws come from the seed, not the global RNG
        config = TrainingConfig(
            max_epochs=3, batch_size=16, lr=0.01, seeds=seeds, tol=None
        )
        Trainer(module, config, CPU).fit(regression_batch())
    for a, b in zip(modules[0].parameters(), modules[1].parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_lbfgs_needs_the_full_batch():
    data = regression_batch()
    config = TrainingConfig(max_epochs=2, batch_size=16, optimizer="lbfgs", lr=1.0)
    with pytest.raises(ValueError, match="full batch"):
        Trainer(Linear(), config, CPU).fit(data)
    full = dataclasses.replace(config, batch_size=None)
    result = Trainer(Linear(), full, CPU).fit(data)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_progress_bar_with_verbose(capsys):
    config = TrainingConfig(
        max_epochs=2, batch_size=16, verbose=1, description="demo-run"
    )
    Trainer(Linear(), config, CPU).fit(regression_batch())
    assert "demo-run" in capsys.readouterr().err


def test_batches_move_to_the_module_device_when_data_stay_elsewhere():
    # Data kept in host memory (too large for the device) are moved per batch;
    # on a CPU-only machine both sides are the CPU and results must not change.
    data = regression_batch()
    config = TrainingConfig(max_epochs=3, batch_size=16, lr=0.01, tol=None)
    a, b = Linear(), Linear()
    b.load_state_dict(a.state_dict())
    Trainer(a, config, CPU).fit(data)
    Trainer(b, config, CPU).fit(
        data.map(lambda t: t.pin_memory()) if torch.cuda.is_available() else data
    )
    assert torch.equal(a.weight, b.weight)


def test_stopping_rule_counts_epochs_that_miss_the_best_by_tol():
    rule = StoppingRule(tol=0.1, n_iter_no_change=2, key="train_loss")
    # 1.0 is a new best; 0.95 improves on it by less than tol (stale, but the
    # best follows it); 0.5 resets the count; two misses stop.
    steps = [(1.0, False, True), (0.95, False, True), (0.5, False, True)]
    steps += [(0.45, False, True), (0.6, True, False)]
    for value, stop, improved in steps:
        assert rule.update(value) is stop
        assert rule.improved is improved
    assert rule.best == 0.45


def test_hooks_run_after_every_step_and_epoch_and_at_the_end():
    data = regression_batch(64)

    class Count(Callback):
        def __init__(self):
            self.steps, self.epochs, self.ended = 0, [], 0

        def on_step_end(self, trainer, loss):
            assert loss.ndim == 0 and not loss.requires_grad
            self.steps += 1

        def on_epoch_end(self, trainer, record):
            self.epochs.append(record["epoch"])

        def on_train_end(self, trainer):
            self.ended += 1

    hook = Count()
    config = TrainingConfig(max_epochs=3, batch_size=16, tol=None)
    Trainer(Linear(), config, CPU, callbacks=[hook]).fit(data)
    assert (hook.steps, hook.epochs, hook.ended) == (3 * 4, [1, 2, 3], 1)
    # A diverging fit still ends the hooks (a progress bar closes, say).
    nan_loss = lambda m, batch: mse(m, batch) * float("nan")  # noqa: E731
    with pytest.raises(FloatingPointError):
        Trainer(Linear(loss=nan_loss), config, CPU, callbacks=[hook]).fit(data)
    assert hook.ended == 2


def test_exponential_moving_average_of_the_weights():
    # The average follows s <- d_k s + (1 - d_k) w after step k, with the
    # warm-up d_k = min(decay, (1 + k) / (10 + k)), and ends up in the module.
    data = regression_batch(32)
    module = Linear()
    start = [p.detach().clone() for p in module.parameters()]
    trajectory = []

    class Record(Callback):
        def on_step_end(self, trainer, loss):
            trajectory.append([p.detach().clone() for p in trainer.module.parameters()])

    decay = 0.9
    config = TrainingConfig(
        max_epochs=4, batch_size=8, lr=0.05, lr_schedule="constant", tol=None
    )
    hooks = [Record(), ExponentialMovingAverage(decay)]
    Trainer(module, config, CPU, callbacks=hooks).fit(data)
    expected = start
    for k, weights in enumerate(trajectory, start=1):
        d = min(decay, (1 + k) / (10 + k))
        expected = [d * s + (1 - d) * w for s, w in zip(expected, weights, strict=True)]
    assert len(trajectory) == 16
    for p, e in zip(module.parameters(), expected, strict=True):
        torch.testing.assert_close(p.detach(), e)
    assert not torch.equal(module.weight, trajectory[-1][0])
