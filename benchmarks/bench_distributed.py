"""Data-parallel training: steps per second of 1 and 2 processes, and comms.

For the FFN of ``bench_classifiers.py`` (100 hidden units, digits, global
batch 200) and the DDPM of ``bench_ddpm.py`` (MLP denoiser 256x3 on two
moons, global batch 128), each trained in fresh processes with one torch
thread per process:

- 1 process, ``distributed=False``: the engine as it runs on one core;
- 2 processes under ``torchrun --standalone --nproc_per_node=2`` (gloo on
  the loopback interface): the same fit, data-parallel.

It prints the steps per second of each (epochs after the first, which pays
for warm-up), the speed-up, and the communication share of a 2-process
step: the time a step loses to the gradient all-reduce, from the same fit
run again with DDP's ``no_sync`` (no all-reduce, the processes' models
drift apart; timing only). For the FFN it also prints the largest gap
between the two models' ``predict_proba`` (the same model, up to rounding)
and, in the same 2 processes, a bare DDP loop over the same network and
shards: the engine's own overhead. The DDPM's processes draw their own
noise, so its figure of quality is the final training loss of each. On a
machine with a GPU it times 1 GPU too; several GPUs need a machine that has
them.

Run: .venv/bin/python benchmarks/bench_distributed.py
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _results import quick, record

HERE = Path(__file__).resolve().parent
EPOCHS = {"ffn": quick(40, 30), "ddpm": quick(12, 3)}


def data(model):
    if model == "ffn":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return X / 16.0, y
    from sklearn.datasets import make_moons

    X, _ = make_moons(quick(20_000, 4_000), noise=0.05, random_state=0)
    return X, None


def estimator(model, device, distributed):
    from probmodels import DDPM, FFNClassifier

    common = dict(
        max_epochs=EPOCHS[model],
        tol=None,
        device=device,
        random_state=0,
        distributed=distributed,
    )
    if model == "ffn":
        return FFNClassifier((100,), batch_size=200, lr=1e-3, **common)
    return DDPM(batch_size=128, **common)


def worker(model, device, distributed):
    """Fit once; rank 0 prints what the parent needs as one JSON line."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    X, y = data(model)
    rates, bare = [], []
    for _ in range(3):  # best of three, alternating with the bare loop
        rate, est = fit_rate(model, X, y, device, distributed)
        rates.append(rate)
        # The fit started the group from torchrun's environment.
        parallel = distributed and dist.is_initialized() and dist.get_world_size() > 1
        if parallel and model == "ffn":
            bare.append(bare_ddp_steps_per_s(X, y, device))
    out = {
        "steps_per_s": max(rates),
        "loss": [h["train_loss"] for h in est.history_],
        "output": (est.predict_proba(X[:300]) if y is not None else None),
    }
    if parallel:
        out["no_sync_steps_per_s"] = max(
            fit_rate(model, X, y, device, distributed, sync=False)[0] for _ in range(2)
        )
    if bare:
        out["bare_steps_per_s"] = max(bare)
    if not dist.is_initialized() or dist.get_rank() == 0:
        if out["output"] is not None:
            out["output"] = np.asarray(out["output"]).tolist()
        print(json.dumps(out), flush=True)
    from probmodels.engine import end_started_group

    if end_started_group():
        # Leave before the interpreter's teardown, in which torch 2.13 with
        # gloo sometimes aborts a finished process (a bare torch loop too).
        os._exit(0)


def fit_rate(model, X, y, device, distributed, sync=True):
    """Fit once; steps per second over the epochs after the first, and the model."""
    from probmodels.engine import DataParallel, batch_bounds

    forward = DataParallel.forward
    if not sync:  # DDP skips the gradient all-reduce of a no_sync forward

        def no_sync_forward(self, batch):
            with self.ddp.no_sync():
                return self.ddp(batch)

        DataParallel.forward = no_sync_forward
    try:
        est = estimator(model, device, distributed)
        est.fit(X) if y is None else est.fit(X, y)
    finally:
        DataParallel.forward = forward
    steps = len(batch_bounds(len(X), min(est.batch_size, len(X))))
    seconds = sum(h["duration"] for h in est.history_[1:])
    return steps * (len(est.history_) - 1) / seconds, est


def bare_ddp_steps_per_s(X, y, device, epochs=EPOCHS["ffn"]):
    """A hand-written DDP loop over the FFN's network and shards: the reference.

    AdamW (fused) and the cosine schedule per step, as the engine; what it
    leaves out is the engine's bookkeeping (shares, hooks, history).
    """
    import torch
    import torch.distributed as dist
    from torch import nn

    rank, world = dist.get_rank(), dist.get_world_size()
    X = torch.tensor(X, dtype=torch.float32, device=device)
    y = torch.tensor(y, device=device)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 10)).to(device)
    ddp = nn.parallel.DistributedDataParallel(net, gradient_as_bucket_view=True)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, fused=True)
    total = epochs * -(-len(X) // 200)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    steps, seconds = 0, 0.0
    for epoch in range(epochs):
        tic = time.perf_counter()
        order = torch.randperm(len(X), device=device)
        for lo in range(0, len(X), 200):
            rows = order[lo : lo + 200]
            rows = rows[rank * len(rows) // world : (rank + 1) * len(rows) // world]
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(ddp(X[rows]), y[rows]).backward()
            opt.step()
            schedule.step()
            steps += epoch > 0
        seconds += (time.perf_counter() - tic) * (epoch > 0)
    return steps / seconds


def launch(model, processes, device="cpu"):
    """Run the worker in fresh processes; return rank 0's JSON."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)]),
    }
    args = [str(HERE / "bench_distributed.py"), "--worker", model, "--device", device]
    if processes == 1:
        command = [sys.executable, *args, "--single"]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        command += [f"--nproc_per_node={processes}", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(result.stdout[-2000:] + result.stderr[-2000:])
    return json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=["ffn", "ddpm"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--single", action="store_true")
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.device, False if args.single else "auto")

    import torch

    print("Data-parallel training (gloo, 1 torch thread per process):")
    for model in ("ffn", "ddpm"):
        one, two = launch(model, 1), launch(model, 2)
        step = 1.0 / two["steps_per_s"]
        share = 1.0 - two["steps_per_s"] / two["no_sync_steps_per_s"]
        name = "FFN (100,) digits, batch 200" if model == "ffn" else "DDPM MLP, moons"
        print(
            f"  {name}, {EPOCHS[model]} epochs\n"
            f"    1 process {one['steps_per_s']:7.1f} steps/s   2 processes "
            f"{two['steps_per_s']:7.1f} steps/s   speed-up "
            f"{two['steps_per_s'] / one['steps_per_s']:.2f}x   without the "
            f"all-reduce {two['no_sync_steps_per_s']:7.1f} steps/s: communication "
            f"{100 * share:.0f}% of a step"
        )
        if one["output"] is not None:
            gap = np.abs(np.subtract(one["output"], two["output"])).max()
            bare = two["bare_steps_per_s"]
            print(
                f"    max predict_proba gap, 2 processes against 1: {gap:.1e}   "
                f"bare DDP loop {bare:7.1f} steps/s: the engine runs at "
                f"{two['steps_per_s'] / bare:.2f}x its speed"
            )
            record(
                "distributed",
                f"{name}: the engine under DDP against a bare DDP loop",
                ours=step,
                reference=1.0 / bare,
                reference_name="bare DDP loop, same 2 processes",
                metric="time per step (s)",
                quality=gap,
                quality_name="max predict_proba gap, 2 processes against 1",
            )
        else:
            print(
                f"    final training loss: 1 process {one['loss'][-1]:.4f}, "
                f"2 processes {two['loss'][-1]:.4f} (each process draws its noise)"
            )
        record(
            "distributed",
            f"{name}, {EPOCHS[model]} epochs: 2 CPU processes against 1",
            ours=step,
            reference=1.0 / one["steps_per_s"],
            reference_name="1 process",
            metric="time per step (s)",
            quality=share,
            quality_name="communication share of a 2-process step",
        )
        if torch.cuda.is_available():
            gpu = launch(model, 1, "cuda")
            print(f"  {'':<30} 1 GPU {gpu['steps_per_s']:7.1f} steps/s")
    if torch.cuda.device_count() < 2:
        print("  (several GPUs: not timed; this machine has fewer than 2)")


if __name__ == "__main__":
    main()
