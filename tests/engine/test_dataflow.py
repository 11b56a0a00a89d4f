"""How a batch travels: named fields, the seeds record, the strategy, one step.

``docs/architecture.md`` ("How a batch travels") describes the path these
tests follow: estimator -> seeds -> batch -> strategy -> trainer -> loss.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from probmodels.base import spawn_generators
from probmodels.engine import (
    Batch,
    DataParallel,
    Seeds,
    SingleProcess,
    Trainer,
    TrainingConfig,
)
from tests.conftest import regression_batch

CPU = torch.device("cpu")


def rows(n=48, seed=0):
    return regression_batch(n, seed, noise=0.0)


class Line(nn.Linear):
    def __init__(self):
        super().__init__(3, 1)

    def loss(self, batch, generator=None):
        return ((self(batch.x).squeeze(-1) - batch.y) ** 2).mean()


# ------------------------------------------------------------------ Batch
def test_a_batch_takes_rows_of_every_field_by_name():
    X, y, w = torch.arange(12.0).reshape(6, 2), torch.arange(6), torch.ones(6)
    batch = Batch(X, y, w)
    assert len(batch) == 6 and list(batch.tensors()) == ["x", "y", "weight"]
    part = batch.rows(torch.tensor([4, 1]))
    assert torch.equal(part.x, X[[4, 1]]) and torch.equal(part.y, y[[4, 1]])
    assert torch.equal(part.weight, w[[4, 1]])
    assert list(Batch(X).rows(slice(0, 2)).tensors()) == ["x"]
    assert batch.to(CPU) is batch  # already there: no copy
    assert batch.map(lambda t: t * 2).y[3] == 6


@dataclass(frozen=True)
class Masked(Batch):
    """A batch with one more field, as the missing-values work adds."""

    mask: Any = None


class MaskedLine(Line):
    def loss(self, batch, generator=None):
        error = (self(batch.x).squeeze(-1) - batch.y) ** 2
        return (error * batch.mask).sum() / batch.mask.sum()


def test_a_new_field_travels_to_the_loss_and_is_sharded_by_name():
    data = rows(48)
    mask = (torch.arange(48) % 3 != 0).float()
    masked = Masked(data.x, data.y, mask=mask)
    seen = []

    class Spy(MaskedLine):
        def loss(self, batch, generator=None):
            seen.append(type(batch))
            return super().loss(batch, generator)

    config = TrainingConfig(max_epochs=2, batch_size=16, tol=None)
    Trainer(Spy(), config, CPU).fit(masked)
    assert set(seen) == {Masked}
    # Data-parallel, a process's piece keeps the field, row for row.
    strategy = object.__new__(DataParallel)
    strategy.rank, strategy.world_size = 1, 2
    order = torch.randperm(48, generator=torch.Generator().manual_seed(0))
    part, share = strategy.shard(masked, order, 16, 32)
    assert torch.equal(part.mask, mask[order[24:32]]) and share == 0.5


# ------------------------------------------------------------------ Seeds
def test_seeds_are_drawn_once_in_the_documented_order():
    rng, again = np.random.default_rng(7), np.random.default_rng(7)
    seeds = Seeds.draw(rng)
    names = [f.name for f in dataclasses.fields(Seeds)]
    assert names == [
        "split",
        "init",
        "order",
        "noise",
        "dropout",
        "validation",
        "score",
        "prior",
    ]
    expected = again.integers([2**31] + [2**62] * 7)
    assert [getattr(seeds, n) for n in names] == expected.tolist()
    assert seeds.split < 2**31  # scikit-learn takes it
    assert len(set(expected.tolist())) == 8  # independent streams
    # "prior" came last, so the seeds before it are those fits drew before it.
    before = np.random.default_rng(7).integers([2**31] + [2**62] * 6)
    assert expected[:7].tolist() == before.tolist()


def test_other_processes_draw_their_own_noise_but_the_same_order():
    seeds = Seeds.draw(np.random.default_rng(0))
    assert seeds.for_process(0) == seeds
    other = seeds.for_process(1)
    assert (other.order, other.split, other.init, other.score) == (
        seeds.order,
        seeds.split,
        seeds.init,
        seeds.score,
    )
    assert len({seeds.noise, other.noise, seeds.for_process(2).noise}) == 3
    assert other.dropout != seeds.dropout and other.validation != seeds.validation


def test_an_estimators_seeds_follow_the_record():
    """A neural estimator draws its Seeds from child 0 of random_state; the
    scores' seed is its ``score`` field, the sampling stream child 1."""
    from sklearn.datasets import make_moons

    from probmodels import VAE

    X, _ = make_moons(100, noise=0.1, random_state=0)
    vae = VAE(latent_dim=2, hidden_layer_sizes=(8,), max_epochs=1, random_state=3)
    vae.fit(X)
    fit_rng, sample_rng = spawn_generators(3, 2)
    assert vae._score_seed == Seeds.draw(fit_rng).score
    assert vae._sample_rng.bit_generator.state == sample_rng.bit_generator.state


# ------------------------------------------------------------- the trainer
def test_the_trainer_needs_a_network_with_a_loss():
    with pytest.raises(TypeError, match="loss\\(batch, generator\\)"):
        Trainer(nn.Linear(3, 1), TrainingConfig(), CPU)


class Recording(SingleProcess):
    """The one-process strategy, noting which of its methods the trainer calls."""

    def __init__(self):
        self.calls = []

    def __getattribute__(self, name):
        calls = object.__getattribute__(self, "calls")
        if not name.startswith("_") and name not in ("calls", "rank", "world_size"):
            calls.append(name)
        return object.__getattribute__(self, name)


def test_the_strategy_given_is_the_one_the_trainer_steps_with():
    config = TrainingConfig(max_epochs=2, batch_size=16, tol=None)
    a, b = Line(), Line()
    b.load_state_dict(a.state_dict())
    strategy = Recording()
    Trainer(a, config, CPU, strategy=strategy).fit(rows(), valid=rows(16, seed=1))
    Trainer(b, config, CPU).fit(rows(), valid=rows(16, seed=1))
    for name in ("check_data", "seeds", "guard", "wrap", "shard", "backward"):
        assert name in strategy.calls, name
    for name in ("rows", "epoch_values", "finish"):
        assert name in strategy.calls, name
    assert strategy.calls.count("shard") == 2 * 3  # 48 rows in batches of 16
    assert torch.equal(a.weight, b.weight)


def test_lbfgs_and_adamw_step_through_one_closure_and_report_the_loss_before():
    """Each epoch's training loss is the batch's loss before that epoch's step,
    for L-BFGS (which calls the closure many times) as for AdamW."""
    data = rows(40)
    for optimizer, batch_size in (("lbfgs", None), ("adamw", None)):
        module = Line()
        with torch.no_grad():
            before = module.loss(data).item()
        config = TrainingConfig(
            max_epochs=3, batch_size=batch_size, optimizer=optimizer, tol=None, lr=0.5
        )
        history = Trainer(module, config, CPU).fit(data).history
        assert history[0]["train_loss"] == pytest.approx(before, rel=1e-6)
        assert history[-1]["train_loss"] < history[0]["train_loss"]


class Noisy(Line):
    """A loss that draws noise: a reparameterised sample, in effect."""

    def loss(self, batch, generator=None):
        shift = torch.rand(len(batch), generator=generator)
        return ((self(batch.x).squeeze(-1) - batch.y - shift) ** 2).mean()


def test_the_loss_draws_from_the_noise_seed_and_validation_from_its_own():
    def fit(**seeds):
        module = Noisy()
        torch.nn.init.zeros_(module.weight)
        torch.nn.init.zeros_(module.bias)
        config = TrainingConfig(
            max_epochs=3, batch_size=16, tol=None, lr=0.0, seeds=Seeds(**seeds)
        )
        return Trainer(module, config, CPU).fit(rows(), valid=rows(16, seed=1))

    base = fit(noise=1, validation=2)
    assert [r["train_loss"] for r in fit(noise=1, validation=2).history] == [
        r["train_loss"] for r in base.history
    ]
    assert fit(noise=9, validation=2).history[0]["train_loss"] != (
        base.history[0]["train_loss"]
    )
    # lr = 0: the weights never move, so the validation loss repeats exactly
    # when each epoch's validation sees the same noise.
    valid = [r["valid_loss"] for r in base.history]
    assert valid == [valid[0]] * 3
    assert fit(noise=1, validation=5).history[0]["valid_loss"] != valid[0]
