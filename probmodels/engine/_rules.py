"""The rules the training loop applies, apart from the loop itself.

When to stop (:class:`StoppingRule`), how an epoch splits into batches
(:func:`batch_bounds`), where randomness comes from (:func:`seeded`), and
when a loss has diverged (:func:`finite`).
"""

from __future__ import annotations

import contextlib
import math

from ._agreement import agreed

__all__ = ["StoppingRule", "batch_bounds", "diverged", "finite", "seeded"]


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


class StoppingRule:
    """When to stop: ``n_iter_no_change`` epochs without improving by ``tol``.

    The rule of scikit-learn's ``MLPClassifier`` (its
    ``_update_no_improvement_count``): an epoch is stale unless its value beats
    the best so far by more than ``tol``; the best value follows the minimum.

    Parameters
    ----------
    tol : float
        Improvement that counts.
    n_iter_no_change : int
        Stale epochs in a row that stop training.
    key : str
        The record entry watched (lower is better).
    """

    def __init__(self, tol: float, n_iter_no_change: int, key: str):
        self.tol, self.n_iter_no_change, self.key = tol, n_iter_no_change, key
        self.best, self.stale, self.improved = math.inf, 0, False

    def update(self, value: float) -> bool:
        """Take one epoch's value; return True when training should stop.

        Parameters
        ----------
        value : float

        Returns
        -------
        bool
        """
        self.stale = self.stale + 1 if value > self.best - self.tol else 0
        self.improved = value < self.best
        self.best = min(self.best, value)
        return self.stale >= self.n_iter_no_change


def batch_bounds(n: int, batch: int) -> list[tuple[int, int]]:
    """Row ranges of the mini-batches of an epoch over ``n`` shuffled rows.

    A last batch of a single row joins the one before it: batch normalisation
    cannot normalise one row (torch raises), and one row's gradient step
    would be the noisiest of the epoch.

    Parameters
    ----------
    n : int
        Rows in the epoch.
    batch : int
        Rows per batch.

    Returns
    -------
    list of (int, int)
        ``(lo, hi)`` bounds; every batch has ``batch`` rows, the last one
        between 2 and ``batch + 1`` (or all ``n`` when ``n < batch``).
    """
    bounds = [(lo, min(lo + batch, n)) for lo in range(0, n, batch)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def diverged(what: str, epoch: int, lr: float) -> FloatingPointError:
    return FloatingPointError(
        f"Training diverged at epoch {epoch}: the {what}. Use a lower lr (now "
        f"{lr}), and scale the inputs (e.g. StandardScaler) if their values are "
        "large; the estimator was left as it was before this fit."
    )


def finite(value: float, epoch: int, lr: float) -> float:
    """``value``, or the divergence error when it is NaN or infinite.

    The values checked are agreed by every process of a data-parallel fit,
    so all of them raise this error together.
    """
    if not math.isfinite(value):
        raise agreed(diverged(f"loss became {value}", epoch, lr))
    return value
