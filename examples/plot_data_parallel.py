"""
Data-parallel training under torchrun
=====================================

A neural model launched with ``torchrun`` trains data-parallel with no change
to the code: every process computes its share of each global batch of
``batch_size`` rows, and DistributedDataParallel averages the gradients. The
result is the model one process would train.

This example trains an ``FFNClassifier`` on the digits twice: once in this
process, and once by two processes started with
``torchrun --standalone --nproc_per_node=2`` running the command line's
``fit`` (on the CPU, through gloo; on a machine with GPUs each process takes
its own). It then compares the training curves and the predicted
probabilities of the two models. See the "Scaling out" page of the user
guide for what is sharded and how to launch on several machines.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

import probmodels
from probmodels import FFNClassifier

X, y = load_digits(return_X_y=True)
frame = pd.DataFrame(X / 16.0, columns=[f"pixel{i}" for i in range(64)])
frame["digit"] = y
params = dict(
    hidden_layer_sizes=(64,), max_epochs=10, batch_size=128, lr=0.01, random_state=0
)

# %%
# Two processes, started by torchrun
# ----------------------------------
# ``probmodels fit`` under torchrun: both processes fit, process 0 writes the
# model file. ``python -m torch.distributed.run`` is the ``torchrun`` command.
folder = Path(tempfile.mkdtemp())
frame.to_csv(folder / "digits.csv", index=False)
command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
command += ["--nproc_per_node=2", "-m", "probmodels.cli", "fit", "ffn"]
command += ["digits.csv", "--target", "digit", "-o", "ffn.skops", "--quiet"]
for name, value in params.items():
    command += ["-p", f"{name}={value!r}".replace(" ", "")]
done = subprocess.run(command, cwd=folder, check=True, capture_output=True, text=True)
print(done.stdout)
parallel = probmodels.load(folder / "ffn.skops")

# %%
# One process
# -----------
# The same fit here, with ``distributed=False`` (under torchrun it would fit
# each process on its own).
features = frame.drop(columns="digit")
single = FFNClassifier(**params, distributed=False).fit(features, frame["digit"])
gap = np.abs(parallel.predict_proba(features) - single.predict_proba(features)).max()
print(f"largest difference of the predicted probabilities: {gap:.1e}")

# %%
# The two models
# --------------
fig, (curves, probs) = plt.subplots(1, 2, figsize=(10, 4))
for model, label, style in (
    (single, "1 process", "-"),
    (parallel, "2 processes", "--"),
):
    epochs = [h["epoch"] for h in model.history_]
    curves.plot(epochs, [h["train_loss"] for h in model.history_], style, label=label)
curves.set(xlabel="epoch", ylabel="training loss (cross-entropy)")
curves.legend()
probs.scatter(
    single.predict_proba(features).ravel(),
    parallel.predict_proba(features).ravel(),
    s=2,
)
probs.set(
    xlabel="probability, 1 process",
    ylabel="probability, 2 processes",
    title=f"largest difference {gap:.0e}",
)
fig.tight_layout()
fig.savefig(sys.argv[1] if len(sys.argv) > 1 else "plot_data_parallel.png", dpi=80)
