"""Data-parallel training on torch.distributed: DDP under ``torchrun``.

A script that fits a neural model trains data-parallel, unchanged, when it is
launched with ``torchrun --nproc_per_node=N script.py`` (or runs in a process
group the user initialised): every process loads the same data, draws the
same shuffled order, and takes its share of each global batch; the module is
wrapped in :class:`torch.nn.parallel.DistributedDataParallel`, which averages
the gradients. See ``docs/user_guide/scaling.rst`` ("Training on several
GPUs").

What this module gives the trainer and the estimators:

- :func:`fitting`: the context of one ``fit`` / ``partial_fit`` call. It
  finds (or, under ``torchrun``, starts) the process group, opens a group of
  its own for the call, checks that every process calls the same method with
  the same hyper-parameters, and agrees on one seed when ``random_state`` is
  None. A call that fails on one process before or after training fails on
  every process, each with a clear error, never a hang. Inside it,
  :func:`call_strategy` is the call's :class:`DataParallel`; outside, the
  one-process strategy.
- :class:`DataParallel`: the :class:`~probmodels.engine.Strategy` of several
  processes: the shard of each batch a process computes, the collectives,
  and the guard that turns a process failing mid-training into an error on
  every process within the group's timeout.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import traceback
from contextvars import ContextVar

import numpy as np

from ._agreement import (
    agreed,
    batch_fingerprint,
    check_same_call,
    check_same_data,
    is_agreed,
    parameter_fingerprint,
)
from ._strategy import SINGLE_PROCESS, Strategy

__all__ = [
    "DataParallel",
    "call_strategy",
    "end_started_group",
    "fitting",
    "is_main_process",
    "launched_by_torchrun",
]

_CURRENT: ContextVar = ContextVar("probmodels_data_parallel", default=None)


def call_strategy() -> Strategy:
    """The strategy of the fitting call in progress.

    The call's :class:`DataParallel` inside a data-parallel :func:`fitting`
    context, the one-process strategy otherwise. An estimator asks once per
    call, where it draws its seeds, and hands it to the trainer.

    Returns
    -------
    Strategy
    """
    parallel = _CURRENT.get()
    return SINGLE_PROCESS if parallel is None else parallel


def launched_by_torchrun() -> bool:
    """Whether the environment of ``torchrun`` (several processes) is set.

    Returns
    -------
    bool
    """
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ
    except ValueError:
        return False


def _group_ready() -> bool:
    """Whether torch.distributed has a process group (without importing torch)."""
    if "torch" not in sys.modules:
        return False
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def is_main_process() -> bool:
    """True except on the processes of rank 1 and above of a process group.

    What writes files under ``torchrun`` asks this (only rank 0 writes).

    Returns
    -------
    bool
    """
    if _group_ready():
        import torch.distributed as dist

        return dist.get_rank() == 0
    return os.environ.get("RANK", "0") == "0" or not launched_by_torchrun()


def _start_process_group(device: str) -> None:
    """``init_process_group`` from torchrun's environment.

    NCCL carries the GPU tensors and gloo the CPU ones, so objects exchanged
    on the CPU work beside a CUDA model. The group is ended at exit, while
    the interpreter is still whole: left to the interpreter's teardown, it
    aborts the process about half the time (torch issue 190489).
    """
    global _STARTED
    import torch
    import torch.distributed as dist

    cuda = device != "cpu" and torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(_local_rank(torch))
    dist.init_process_group(backend="cpu:gloo,cuda:nccl" if cuda else "gloo")
    _STARTED = True
    atexit.register(end_started_group)


_STARTED = False


def end_started_group() -> bool:
    """Wait for every process, then destroy the group probmodels started.

    Without the barrier, a process destroying its group while another still
    uses it aborted some runs.

    Returns
    -------
    bool
        Whether probmodels had started a group (now ended).
    """
    global _STARTED
    if not _STARTED:
        return False
    _STARTED = False
    import torch.distributed as dist

    if dist.is_initialized():
        with contextlib.suppress(Exception):
            dist.barrier()
        dist.destroy_process_group()
    return True


def _local_rank(torch) -> int:
    """The GPU of this process on its node: ``LOCAL_RANK``, else rank modulo GPUs."""
    count = torch.cuda.device_count()
    local = os.environ.get("LOCAL_RANK")
    if local is None:
        import torch.distributed as dist

        return dist.get_rank() % max(count, 1)
    local = int(local)
    if local >= count:
        raise ValueError(
            f"LOCAL_RANK={local}, but this node has {count} GPU(s): start "
            f"torchrun with --nproc_per_node={count} or fewer, or use device='cpu'."
        )
    return local


@contextlib.contextmanager
def fitting(name: str, method: str, params: dict, distributed, device: str):
    """The context of one fitting call: data-parallel when it should be.

    Outside a process group (and without ``torchrun``'s environment), or with
    ``distributed=False``, it does nothing. Otherwise it opens a
    :class:`DataParallel` for the call, makes it the :func:`call_strategy`,
    and checks that every process runs ``method`` with the same
    hyper-parameters.

    Parameters
    ----------
    name : str
        What is fitted (the estimator's class name), compared across
        processes.
    method : str
        ``"fit"`` or ``"partial_fit"``.
    params : dict
        The hyper-parameters (``get_params(deep=False)``), compared across
        processes.
    distributed : bool or "auto"
        ``"auto"`` trains data-parallel in a process group of several
        processes; True also in a group of one, and raises when there is no
        group.
    device : str
        The estimator's ``device`` (chooses NCCL or gloo when starting the
        group from torchrun's environment).

    Yields
    ------
    DataParallel or None
    """
    # numpy's bools are bools; 1 is not True here (the validation says so).
    if isinstance(distributed, np.bool_):
        distributed = bool(distributed)
    if distributed is not True and distributed != "auto":
        yield None  # an invalid value is named by the parameter validation
        return
    if not _group_ready():
        if launched_by_torchrun():
            _start_process_group(device)
        elif distributed is True:
            raise ValueError(
                "distributed=True needs a process group: launch the script with "
                "torchrun (e.g. torchrun --nproc_per_node=2 script.py) or call "
                "torch.distributed.init_process_group first. Use "
                "distributed='auto' to train in one process when there is none."
            )
        else:
            yield None
            return
    import torch.distributed as dist

    if dist.get_world_size() == 1 and distributed == "auto":
        yield None
        return
    parallel = DataParallel(dist.new_group())
    token = _CURRENT.set(parallel)
    try:
        parallel.agree_to_start((name, method, parameter_fingerprint(params)))
        try:
            yield parallel
        except BaseException as error:
            parallel.join_failure(error)
            raise
        parallel.agree("finished")
    finally:
        _CURRENT.reset(token)
        parallel.close()


class DataParallel(Strategy):
    """The processes of one data-parallel fitting call: DDP as a strategy.

    Every process draws the same shuffled order and computes a contiguous
    shard of each global batch; the shard's loss goes through
    DistributedDataParallel, scaled by ``share * world_size`` where
    ``share`` is the shard's share of the batch's rows (or of its
    ``weight``), so DDP's average is the one-process gradient of the whole
    batch. A process with an empty shard computes the batch with share 0 and
    still joins the reduction.

    Parameters
    ----------
    group : torch.distributed.ProcessGroup
        A group of every process, made for this call: a failure mid-training
        destroys it (so the others stop at once rather than at the timeout)
        and leaves the user's default group usable.

    Attributes
    ----------
    rank, world_size : int
    entropy : int
        Rank 0's seed, used by every process when ``random_state`` is None.
    broken : bool
        True once training failed and the group was torn down.
    """

    def __init__(self, group):
        import torch.distributed as dist

        self.dist, self.group = dist, group
        self.rank = dist.get_rank(group)
        self.world_size = dist.get_world_size(group)
        self.entropy = None
        self.broken = False
        self.ddp = None

    # ----------------------------------------------------- agreement
    def exchange(self, payload) -> list:
        """Every process's ``payload``, in rank order (``all_gather_object``)."""
        out = [None] * self.world_size
        self.dist.all_gather_object(out, payload, group=self.group)
        return out

    def agree(self, stage: str, payload=None) -> list:
        """Exchange ``payload``; raise on every process if one has failed.

        Parameters
        ----------
        stage : str
        payload : object, optional

        Returns
        -------
        list
            Every process's payload.
        """
        gathered = self.exchange(("ok", stage, payload))
        failed = [(r, p) for r, p in enumerate(gathered) if p[0] == "failed"]
        if failed:
            rank, (_, kind, message) = failed[0]
            cls = {"ValueError": ValueError, "TypeError": TypeError}.get(
                kind, RuntimeError
            )
            raise agreed(
                cls(
                    f"The fit failed on process {rank} of {self.world_size} "
                    f"({kind}: {message}); this process stopped with it and left "
                    "the estimator as it was before the fit."
                )
            )
        return [p[2] for p in gathered]

    def join_failure(self, error: BaseException) -> None:
        """Tell the other processes this one failed, unless they know already.

        A failure before or after training (bad input on one process, say)
        joins the next exchange the others reach, so they raise instead of
        waiting. Agreed errors and failures mid-training need nothing more.
        """
        if self.broken or is_agreed(error):
            return
        message = str(error).splitlines()[0] if str(error) else ""
        with contextlib.suppress(Exception):
            self.exchange(("failed", type(error).__name__, message[:500]))

    def agree_to_start(self, call: tuple) -> None:
        """Check the call and its hyper-parameters match; share rank 0's seed."""
        entropy = int(np.random.SeedSequence().entropy % 2**63)
        gathered = self.agree("start", (call, entropy))
        self.entropy = gathered[0][1]
        check_same_call([theirs for theirs, _ in gathered])

    def agreed_random_state(self, random_state):
        """``random_state``, or rank 0's entropy when it is None.

        Without a seed, each process would draw its own initialisation and
        shuffling; inside a data-parallel fit they all use rank 0's.
        """
        return self.entropy if random_state is None else random_state

    def device(self, name: str, requested: str) -> str:
        """The GPU of this process: its ``LOCAL_RANK``'s.

        ``device='auto'`` or ``'cuda'`` resolve to ``cuda:0`` in one process;
        data-parallel, each process takes the GPU of its ``LOCAL_RANK``. An
        explicit ``'cuda:N'`` is kept.
        """
        if not name.startswith("cuda") or requested not in ("auto", "cuda"):
            return name
        import torch

        return f"cuda:{_local_rank(torch)}"

    def check_data(self, train, valid, seed: int) -> None:
        """Raise on every process unless all hold the same data and order seed.

        A ``random_state`` Generator given to each process separately may
        disagree; so may data loaded differently.
        """
        mine = {
            "train": batch_fingerprint(train),
            "valid": None if valid is None else batch_fingerprint(valid),
        }
        check_same_data(self.agree("data", (mine, seed)), self.world_size)

    def seeds(self, seeds):
        """Rank 0's seeds, with this process's own noise and dropout streams."""
        return seeds.for_process(self.rank)

    # ----------------------------------------------------- sharding
    def rows(self, n: int) -> tuple[int, int]:
        """The contiguous piece of ``n`` rows that this process evaluates.

        Pieces differ in size by at most one row, the larger ones on the lower
        ranks (rank 0 is never empty).
        """
        return self._piece(0, n)

    def _piece(self, lo: int, hi: int) -> tuple[int, int]:
        size, extra = divmod(hi - lo, self.world_size)
        start = lo + self.rank * size + min(self.rank, extra)
        return start, start + size + (self.rank < extra)

    def shard(self, batch, order, lo: int, hi: int):
        """A contiguous piece of batch ``[lo, hi)`` and its share of the batch.

        The share is of the batch's rows, or of its ``weight`` when it has
        one. A process whose piece is empty (a batch smaller than the number
        of processes) computes the batch with share 0, so that it still
        joins the gradient reduction while adding nothing to it.
        """
        start, stop = self._piece(lo, hi)
        share = (stop - start) / (hi - lo)
        if start == stop:
            start, stop, share = lo, hi, 0.0
        rows = slice(start, stop) if order is None else order[start:stop]
        part = batch.rows(rows)
        if share and batch.weight is not None:
            whole = slice(lo, hi) if order is None else order[lo:hi]
            share = part.weight.sum() / batch.weight[whole].sum()
        return part, share

    # ----------------------------------------------------- collectives
    def backward(self, loss, share):
        """Scale the shard's loss by ``share * world_size``, then backward.

        DDP averages the gradients, so their average is the gradient of the
        whole batch's mean loss; the part returned (``share * loss``) sums to
        the batch loss over processes.
        """
        part = loss * share
        (part * self.world_size).backward()
        return part

    def agreed_loss(self, part):
        """The sum of every process's part: the batch loss, on every process."""
        return self.sum(part)

    def epoch_values(self, sums: list, main_values: list) -> list[float]:
        """One all-reduce for every value of the epoch.

        A collective per value would cost more than a step on small networks.
        """
        import torch

        device = sums[0].device if sums else None
        parts = [s.double().reshape(()) for s in sums]
        mine = [v if self.is_main else 0.0 for v in main_values]
        parts += [torch.tensor(v, dtype=torch.float64, device=device) for v in mine]
        parts = [p.to(device, torch.float64) for p in parts]
        return self.sum(torch.stack(parts)).tolist()

    def sum(self, tensor):
        """The sum of ``tensor`` over processes (a new tensor)."""
        out = tensor.detach().clone()
        self.dist.all_reduce(out, group=self.group)
        return out

    def finish(self, module) -> None:
        """Give every process rank 0's parameters and buffers.

        Batch-norm statistics are per process until here.
        """
        root = self.dist.get_global_rank(self.group, 0)
        for tensor in module.state_dict().values():
            self.dist.broadcast(tensor, root, group=self.group)

    def wrap(self, module, generator):
        """The module's loss through DDP: ``loss(batch)`` syncs gradients.

        DDP averages gradients in the backward pass of *its* ``forward``, so
        the loss (which may call any of the module's methods) is the forward
        of a small wrapper; DDP also broadcasts rank 0's weights at the start.
        The wrapper is held here only, so that :meth:`abort` can free it.
        """
        from torch.nn.parallel import DistributedDataParallel

        device = next(module.parameters()).device
        self.ddp = DistributedDataParallel(
            _loss_module(module, generator),
            device_ids=[device.index] if device.type == "cuda" else None,
            process_group=self.group,
            # Gradients live in the all-reduce buckets: no copy per step.
            gradient_as_bucket_view=True,
        )
        return self.forward

    def forward(self, batch):
        """The wrapped loss of ``batch`` (see :meth:`wrap`)."""
        return self.ddp(batch)

    # ----------------------------------------------------- failures
    @contextlib.contextmanager
    def guard(self):
        """Guard training: a failure on one process stops all of them.

        An error only this process raised tears the call's group down, so the
        others, waiting in a collective, fail at once; a process that sees its
        group fail raises an error saying another process failed.
        """
        try:
            yield
        except BaseException as error:
            if is_agreed(error):
                raise
            peer = _communication_failed(error)
            self.abort(error)
            if peer:
                raise RuntimeError(
                    "Data-parallel training stopped: another process failed or "
                    f"left the process group ({str(error).splitlines()[0][:300]}). "
                    "The estimator was left as it was before this fit."
                ) from error
            raise

    def abort(self, error: BaseException | None = None) -> None:
        """Destroy this call's group so the other processes stop waiting.

        gloo closes its connections only when the group is freed, so the
        references to it (the DDP wrapper, the frames of the traceback) are
        dropped first.
        """
        self.broken = True
        self.ddp = None
        seen = set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            traceback.clear_frames(error.__traceback__)
            error = error.__cause__ or error.__context__
        self.close()

    def close(self) -> None:
        """Destroy the call's group (idempotent).

        After a successful call every process first waits for the others:
        destroying the group while DDP's last reduction may still be settling
        on another process aborted some runs at exit.
        """
        group, self.group, self.ddp = self.group, None, None
        # DDP sits in reference cycles: collected later, during the
        # interpreter's teardown, its reducer and this group abort the process.
        gc.collect()
        if group is not None and self.dist.is_initialized():
            with contextlib.suppress(Exception):
                if not self.broken:
                    self.dist.barrier(group=group)
                self.dist.destroy_process_group(group)


def _communication_failed(error: BaseException) -> bool:
    """Whether ``error`` comes from a collective that another process broke."""
    import torch.distributed as dist

    if isinstance(error, getattr(dist, "DistError", ())):
        return True
    text = str(error)
    markers = ("Connection closed", "Connection reset", "imed out", "gloo", "NCCL")
    return isinstance(error, RuntimeError) and any(m in text for m in markers)


def _loss_module(module, generator):
    """An ``nn.Module`` whose forward is ``module.loss(batch, generator)``.

    The class is made on first use, so importing this module needs no torch.
    """
    global _LOSS_MODULE
    if _LOSS_MODULE is None:
        from torch import nn

        class LossModule(nn.Module):
            def __init__(self, module, generator):
                super().__init__()
                self.module, self.generator = module, generator

            def forward(self, batch):
                return self.module.loss(batch, generator=self.generator)

        _LOSS_MODULE = LossModule
    return _LOSS_MODULE(module, generator)


_LOSS_MODULE = None
