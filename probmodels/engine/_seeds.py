"""Seeds: every seed of one fit, drawn once, in one documented order.

A fit needs several independent random streams: the rows held out for early
stopping, the network's initial weights, the shuffled order of each epoch,
the loss's own draws (diffusion noise, the VAE's reparameterised sample),
dropout, the validation loss's draws, and the Monte Carlo draws of a
model's scores. Each gets its own seed, all drawn in one call from the fit's
numpy generator, so that adding a draw anywhere never shifts another stream
and a seeded fit repeats exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

__all__ = ["Seeds"]


@dataclass(frozen=True)
class Seeds:
    """The seeds of one fit, drawn in field order by :meth:`draw`.

    The trainer reads ``order``, ``noise``, ``dropout`` and ``validation``;
    the estimator reads ``split``, ``init``, ``score`` and ``prior``.

    Parameters
    ----------
    split : int
        The validation split of early stopping; below 2**31, as
        scikit-learn's ``random_state`` takes it.
    init : int
        The network's (or the mixture's) initial parameters.
    order : int
        The shuffled order of the rows in each epoch; the same on every
        process of a data-parallel fit.
    noise : int
        The draws the loss makes (a ``torch.Generator`` on the device).
    dropout : int
        torch's global generator during training (dropout draws from it),
        forked and restored around the fit.
    validation : int
        The validation loss's draws, re-seeded each epoch so every epoch's
        validation loss sees the same noise.
    score : int
        The Monte Carlo draws of ``score_samples``, keyed with each row.
    prior : int
        What a model fits after training (the VAE's mixture prior).
    """

    split: int = 0
    init: int = 1
    order: int = 2
    noise: int = 3
    dropout: int = 4
    validation: int = 5
    score: int = 6
    prior: int = 7

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Seeds:
        """Draw every seed from ``rng`` in one call, in field order.

        Parameters
        ----------
        rng : numpy.random.Generator

        Returns
        -------
        Seeds
        """
        names = [f.name for f in dataclasses.fields(cls)]
        # torch takes 64-bit seeds; scikit-learn's random_state 32-bit ones.
        highs = [2**31 if name == "split" else 2**62 for name in names]
        values = rng.integers(highs)
        return cls(**{name: int(v) for name, v in zip(names, values, strict=True)})

    def for_process(self, rank: int) -> Seeds:
        """The seeds of process ``rank`` of a data-parallel fit.

        Rank 0 keeps these seeds; the others derive their own noise,
        dropout and validation streams from them (``SeedSequence([seed,
        rank])``), so a run repeats for a given seed and number of
        processes. The order of the rows is shared: every process must draw
        the same batches.

        Parameters
        ----------
        rank : int

        Returns
        -------
        Seeds
        """
        if rank == 0:
            return self

        def own(seed):
            return int(np.random.SeedSequence([seed, rank]).generate_state(1)[0])

        return dataclasses.replace(
            self,
            noise=own(self.noise),
            dropout=own(self.dropout),
            validation=own(self.validation),
        )
