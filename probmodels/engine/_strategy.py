"""How the trainer's work is spread over processes: the strategy interface.

The trainer (:class:`~probmodels.engine.Trainer`) runs the same loop whether
one process trains or several do; what differs is delegated to a strategy,
handed to it explicitly:

- ``wrap``: the network's loss as the trainer calls it (through DDP when
  several processes average their gradients);
- ``shard`` and ``rows``: which rows of a batch, or of the validation data,
  this process computes, and its share of the batch;
- ``backward`` and ``agreed_loss``: the backward pass of a shard's loss, and
  a loss every process agrees on (L-BFGS's line search needs one);
- ``epoch_values``: the epoch's sums and the main process's values, the same
  on every process, so all take the same stopping decision;
- ``seeds``: the random streams of this process;
- ``guard``: what a failure during training does to the others;
- ``check_data``, ``finish``, ``agreed_random_state``, ``device``: before and
  after training.

:class:`SingleProcess` is the one-process strategy (every method the
identity, at no cost); :class:`~probmodels.engine.DataParallel` is DDP under
``torchrun``.
"""

from __future__ import annotations

import contextlib
import functools

__all__ = ["SingleProcess", "Strategy"]


class Strategy:
    """The interface of a training strategy; :class:`SingleProcess` is the default.

    Attributes
    ----------
    rank : int
        This process's number among ``world_size``.
    world_size : int
    is_main : bool
        Whether this process shows the progress bar, computes the monitor
        and writes files (rank 0).
    """

    rank = 0
    world_size = 1

    @property
    def is_main(self) -> bool:
        """Whether this is the main process (rank 0)."""
        return self.rank == 0

    def agreed_random_state(self, random_state):
        """``random_state``, or the seed every process agreed on when it is None.

        Parameters
        ----------
        random_state : int, RandomState, Generator or None

        Returns
        -------
        int, RandomState, Generator or None
        """
        return random_state

    def device(self, name: str, requested: str) -> str:
        """The device this process trains on, from the resolved ``name``.

        Parameters
        ----------
        name : str
            From :func:`~probmodels.engine.resolve_device`.
        requested : str
            The estimator's ``device`` parameter.

        Returns
        -------
        str
        """
        return name

    def seeds(self, seeds):
        """The seeds of this process (its own noise and dropout streams).

        Parameters
        ----------
        seeds : Seeds

        Returns
        -------
        Seeds
        """
        return seeds

    def check_data(self, train, valid, seed: int) -> None:
        """Raise unless every process holds the same data and order seed.

        Parameters
        ----------
        train : Batch
        valid : Batch or None
        seed : int
        """

    def guard(self):
        """Context around training: what a failure does to the other processes.

        Returns
        -------
        contextlib.AbstractContextManager
        """
        return contextlib.nullcontext()

    def wrap(self, module, generator):
        """The loss the trainer steps on: ``loss(batch)``.

        Parameters
        ----------
        module : torch.nn.Module
            With a ``loss(batch, generator)`` method.
        generator : torch.Generator
            The loss's own random stream.

        Returns
        -------
        callable
        """
        return functools.partial(module.loss, generator=generator)

    def shard(self, batch, order, lo: int, hi: int):
        """The rows of batch ``[lo, hi)`` this process computes, and their share.

        Parameters
        ----------
        batch : Batch
            The training data.
        order : torch.Tensor or None
            The epoch's shuffled row order; None takes rows as they are.
        lo, hi : int

        Returns
        -------
        part : Batch
        share : float, torch.Tensor or None
            The part's share of the batch's loss; None when it is all of it.
        """
        if order is None:
            if lo == 0 and hi == len(batch):
                return batch, None
            return batch.rows(slice(lo, hi)), None
        return batch.rows(order[lo:hi]), None

    def rows(self, n: int) -> tuple[int, int]:
        """The contiguous rows of ``n`` (validation data) this process evaluates.

        Parameters
        ----------
        n : int

        Returns
        -------
        (int, int)
        """
        return 0, n

    def backward(self, loss, share):
        """Back-propagate a part's loss; return the part of the batch loss.

        Parameters
        ----------
        loss : torch.Tensor
            The mean loss of this process's rows (0-d).
        share : float, torch.Tensor or None
            From :meth:`shard`.

        Returns
        -------
        torch.Tensor
            What this process adds to the batch's mean loss.
        """
        loss.backward()
        return loss

    def agreed_loss(self, part):
        """The batch loss from every process's part (L-BFGS's line search).

        Parameters
        ----------
        part : torch.Tensor

        Returns
        -------
        torch.Tensor
        """
        return part

    def epoch_values(self, sums: list, main_values: list) -> list[float]:
        """Sums over every process's rows, and the main process's values.

        Parameters
        ----------
        sums : list of torch.Tensor
            This process's part of each epoch sum (0-d tensors).
        main_values : list of float
            Values the main process decides with (the monitor, the
            duration); the others' are ignored.

        Returns
        -------
        list of float
            The same on every process.
        """
        return [float(s) for s in sums] + list(main_values)

    def finish(self, module) -> None:
        """Bring every process's module to the main process's state.

        Parameters
        ----------
        module : torch.nn.Module
        """


class SingleProcess(Strategy):
    """Training in this process alone: every method of :class:`Strategy` as it is."""


#: The strategy of a fit outside a data-parallel context.
SINGLE_PROCESS = SingleProcess()
