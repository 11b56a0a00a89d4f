"""One process of the data-parallel tests (``tests/engine/test_distributed.py``).

Started by ``torchrun --standalone --nproc_per_node=2``; initialises its own
gloo process group with a short timeout (the "group the user already
initialised" route; the CLI test covers the route where probmodels starts the
group from torchrun's environment), runs every scenario in order, and saves
what each produced to ``OUT/rank{r}.npz`` and the errors to
``OUT/rank{r}.json``. The test process compares them with one-process fits.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import time
import traceback

import numpy as np
import torch.distributed as dist

from tests.engine.ddp_cases import CASES, FFN, FailAtStep, digits

OUT = sys.argv[1]


def main() -> None:
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    rank = dist.get_rank()
    arrays: dict[str, np.ndarray] = {}
    errors: dict[str, list] = {}

    def record(name, fn):
        try:
            for key, value in fn(rank).items():
                arrays[f"{name}/{key}"] = np.asarray(value)
        except Exception as err:  # what each process raised is the result
            errors[name] = [type(err).__name__, str(err)]
            if "--debug" in sys.argv:
                traceback.print_exc()

    for name, case in CASES.items():
        record(name, case.distributed)

    # Last, as it ends the call's group: process 1 fails at its 5th step of a
    # warm-started refit; process 0 must stop with an error soon, not at the
    # 60 s timeout, and both must keep the model they had.
    X, y = digits()
    model = FFN().fit(X, y)
    before = model.predict_proba(X)
    model.set_params(warm_start=True, max_epochs=2)
    if rank == 1:
        model._training_callbacks = lambda: [FailAtStep(5)]
    tic = time.perf_counter()
    record("failing", lambda r: model.fit(X, y) and {})
    arrays["failing/seconds"] = np.asarray(time.perf_counter() - tic)
    vars(model).pop("_training_callbacks", None)
    arrays["failing/changed"] = np.abs(model.predict_proba(X) - before).max()
    # The user's own group outlives the failure: a new fit works.
    record("after_failure", lambda r: {"proba": FFN().fit(X, y).predict_proba(X)})

    np.savez(f"{OUT}/rank{rank}.npz", **arrays)
    with open(f"{OUT}/rank{rank}.json", "w") as fh:
        json.dump(errors, fh)
    dist.barrier()
    dist.destroy_process_group()
    # Leave before the interpreter's teardown, in which torch 2.13 with gloo
    # sometimes aborts a finished process (a bare torch loop does it too).
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
