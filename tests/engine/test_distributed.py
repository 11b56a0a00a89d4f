"""Data-parallel training (DDP) against one-process training.

Two processes on the loopback interface (gloo, ``torchrun --standalone``)
run every scenario of ``ddp_cases.py`` once (about 15 s on 2 cores); each test
then checks one of them against the same fit in this process with
``distributed=False``, or checks the errors both processes raised.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

from probmodels import FFNClassifier  # noqa: E402
from probmodels.engine import Batch, DataParallel  # noqa: E402
from tests.engine.ddp_cases import CASES, FFN, digits  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="torch.distributed with gloo is not available",
)


def torchrun(*args, cwd, timeout=300):
    """Run ``torchrun --standalone --nproc_per_node=2 *args``; return the result."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
    }
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node=2", *map(str, args)]
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """What each of the 2 processes produced: (arrays, errors) per rank."""
    out = tmp_path_factory.mktemp("ddp")
    torchrun(ROOT / "tests" / "engine" / "ddp_worker.py", out, cwd=out)
    arrays = [dict(np.load(out / f"rank{r}.npz")) for r in (0, 1)]
    errors = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    return arrays, errors


def _outputs(arrays, name):
    return {
        k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(name + "/")
    }


COMPARED = [name for name, case in CASES.items() if case.single is not None]


@pytest.mark.parametrize("name", COMPARED)
def test_two_processes_give_the_one_process_model(ranks, name):
    """FFN (3 epochs, batch 64 on digits), uneven last batch, early stopping,
    partial_fit, Transformer, weighted mixtures by L-BFGS and Adam."""
    arrays, errors = ranks
    assert name not in errors[0] and name not in errors[1], errors
    first, second = _outputs(arrays[0], name), _outputs(arrays[1], name)
    assert first and first.keys() == second.keys()
    for key in first:  # every process holds the same model
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    for key, value in CASES[name].single().items():
        np.testing.assert_allclose(first[key], value, rtol=0, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("name", ["vae", "ddpm", "unseeded"])
def test_processes_agree(ranks, name):
    """VAE and DDPM draw noise per process, yet end with one model; without a
    random_state every process uses rank 0's seed."""
    arrays, errors = ranks
    assert name not in errors[0] and name not in errors[1], errors
    first, second = _outputs(arrays[0], name), _outputs(arrays[1], name)
    assert first
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    assert all(np.isfinite(v.astype(float)).all() for v in first.values())
    if name == "vae":  # the same random_state and processes: the same run
        np.testing.assert_array_equal(first["score"], first["score_again"])


def test_divergence_raises_on_every_process_at_the_same_epoch(ranks):
    _, errors = ranks
    assert errors[0]["diverging"] == errors[1]["diverging"]
    kind, text = errors[0]["diverging"]
    assert kind == "FloatingPointError" and "Training diverged at epoch 1" in text


@pytest.mark.parametrize(
    "name, message",
    [
        ("different_data", "process 1 was given different training data"),
        ("too_few_rows", "1 training row(s) with 2 processes"),
        ("different_params", "lr=0.002 against 0.001"),
    ],
)
def test_bad_setups_raise_on_every_process(ranks, name, message):
    _, errors = ranks
    for rank in (0, 1):
        kind, text = errors[rank][name]
        assert kind == "ValueError" and message in text, (rank, text)


def test_bad_input_on_one_process_stops_both(ranks):
    arrays, errors = ranks
    own = str(arrays[1]["nan_on_one_process/error"])
    told = str(arrays[0]["nan_on_one_process/error"])
    assert own.startswith("X contains 1 NaN")
    assert "failed on process 1 of 2 (ValueError: X contains 1 NaN" in told
    for rank in (0, 1):
        assert arrays[rank]["nan_on_one_process/changed"] == 0.0


def test_a_failing_process_stops_the_others(ranks):
    """Process 1 raises mid-epoch: process 0 stops at once (not at the 60 s
    timeout), both keep their fitted model, and the user's group still works."""
    arrays, errors = ranks
    assert errors[1]["failing"] == ["RuntimeError", "injected failure on this process"]
    kind, text = errors[0]["failing"]
    assert kind == "RuntimeError" and "another process failed" in text
    for rank in (0, 1):
        assert arrays[rank]["failing/seconds"] < 20
        assert arrays[rank]["failing/changed"] == 0.0
    np.testing.assert_array_equal(
        arrays[0]["after_failure/proba"], arrays[1]["after_failure/proba"]
    )


# ----------------------------------------------------------- in one process
def view(rank, world_size):
    """A DataParallel's arithmetic without a process group."""
    strategy = object.__new__(DataParallel)
    strategy.rank, strategy.world_size = rank, world_size
    return strategy


def test_shards_cover_the_batch():
    """Contiguous pieces, sizes differing by at most one, rank 0 never empty."""
    for world, (lo, hi) in [(2, (0, 5)), (3, (10, 17)), (3, (4, 6)), (4, (0, 64))]:
        pieces = [view(r, world)._piece(lo, hi) for r in range(world)]
        assert pieces[0][0] == lo and pieces[-1][1] == hi
        assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
        sizes = [b - a for a, b in pieces]
        assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
        assert sizes[0] >= 1
        assert view(1, world).rows(hi) == view(1, world)._piece(0, hi)


def test_an_empty_shard_computes_the_batch_with_no_weight():
    """With more processes than rows in a batch, a process still joins the
    gradient reduction: it computes the batch with share 0. A batch with
    weights is shared by weight, read from its ``weight`` field."""
    X = torch.arange(12.0).reshape(6, 2)
    w = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    batch = Batch(X, weight=w)
    part, share = view(2, 3).shard(batch, None, 4, 6)
    assert share == 0.0 and torch.equal(part.x, X[4:6])
    part, share = view(2, 3).shard(batch, torch.tensor([5, 4, 3, 2, 1, 0]), 0, 6)
    np.testing.assert_allclose(float(share), (2 + 1) / 21)  # its share of weight
    assert torch.equal(part.x, X[[1, 0]]) and torch.equal(part.weight, w[[1, 0]])
    part, share = view(0, 3).shard(Batch(X), None, 0, 6)  # rows, without weights
    assert share == pytest.approx(2 / 6) and torch.equal(part.x, X[:2])


@pytest.fixture
def group_of_one():
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_distributed_true_in_a_group_of_one_equals_one_process(group_of_one):
    X, y = digits()
    ddp = FFN(distributed=True).fit(X, y)
    single = FFN(distributed=False).fit(X, y)
    np.testing.assert_allclose(ddp.predict_proba(X), single.predict_proba(X), atol=1e-6)
    assert [h["train_loss"] for h in ddp.history_] == pytest.approx(
        [h["train_loss"] for h in single.history_], rel=1e-6
    )
    # "auto" in a group of one process is one-process training.
    auto = FFN().fit(X, y)
    np.testing.assert_array_equal(auto.predict_proba(X), single.predict_proba(X))


def test_distributed_true_without_a_group_says_how_to_launch():
    assert not dist.is_initialized()
    X, y = digits()
    with pytest.raises(ValueError, match="torchrun"):
        FFNClassifier(distributed=True, max_epochs=1).fit(X, y)
    # numpy's True is True, not a quiet one-process fit.
    with pytest.raises(ValueError, match="torchrun"):
        FFNClassifier(distributed=np.True_, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="distributed"):
        FFNClassifier(distributed="yes", max_epochs=1).fit(X, y)


def test_cli_fit_under_torchrun_writes_one_model(tmp_path):
    """probmodels starts the group from torchrun's environment; rank 0 writes."""
    X, y = digits()
    frame = pd.DataFrame(X[:600], columns=[f"p{i}" for i in range(64)])
    frame["digit"] = y[:600]
    frame.to_csv(tmp_path / "digits.csv", index=False)
    params = ["-p", "max_epochs=2", "-p", "random_state=0", "-p", "batch_size=64"]
    result = torchrun(
        "-m",
        "probmodels.cli",
        "fit",
        "ffn",
        "digits.csv",
        "--quiet",
        "--target",
        "digit",
        "-o",
        "model.skops",
        *params,
        cwd=tmp_path,
    )
    assert result.stdout.count("saved to model.skops") == 1, result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.csv", "model.skops"]
    import probmodels

    model = probmodels.load(tmp_path / "model.skops")
    single = FFNClassifier(
        max_epochs=2, random_state=0, batch_size=64, distributed=False
    ).fit(frame.drop(columns="digit"), frame["digit"])
    np.testing.assert_allclose(
        model.predict_proba(frame.drop(columns="digit")),
        single.predict_proba(frame.drop(columns="digit")),
        atol=1e-5,
    )
