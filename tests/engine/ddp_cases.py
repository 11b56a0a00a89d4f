"""The scenarios of the data-parallel tests, shared by the worker and the test.

Each case fits on every process of a 2-process gloo group
(``distributed(rank)``) and, where the result must equal one process's,
the same fit with ``distributed=False`` in the test process (``single()``).
Models are tiny so the whole set runs in seconds on 2 CPU cores.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits, make_moons

from probmodels import DDPM, VAE, FFNClassifier, GaussianMixture, TransformerClassifier
from probmodels.engine import Callback
from probmodels.exceptions import ConvergenceWarning


def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def FFN(**kw):
    params = dict(
        hidden_layer_sizes=(32,),
        max_epochs=3,
        batch_size=64,
        random_state=0,
        tol=None,
        device="cpu",
    )
    return FFNClassifier(**{**params, **kw})


class FailAtStep(Callback):
    """Raises after optimiser step ``step``: a process that crashes mid-training."""

    def __init__(self, step: int):
        self.step, self.steps = step, 0

    def on_step_end(self, trainer, loss):
        self.steps += 1
        if self.steps >= self.step:
            raise RuntimeError("injected failure on this process")


@dataclass
class Case:
    distributed: Callable[[int], dict]
    single: Callable[[], dict] | None = None


def _ffn(**kw):
    def run(distributed="auto"):
        X, y = digits()
        model = FFN(distributed=distributed, **kw).fit(X, y)
        return {
            "proba": model.predict_proba(X),
            "n_iter": model.n_iter_,
            "train_loss": [h["train_loss"] for h in model.history_],
        }

    return Case(lambda rank: run(), lambda: run(False))


def _uneven():
    # 203 rows in batches of 50: the last global batch has 3 rows, 2 + 1.
    def run(distributed="auto"):
        X, y = digits()
        model = FFN(batch_size=50, distributed=distributed).fit(X[:203], y[:203])
        return {"proba": model.predict_proba(X)}

    return Case(lambda rank: run(), lambda: run(False))


def _partial_fit():
    def run(distributed="auto"):
        X, y = digits()
        model = FFN(distributed=distributed)
        for rows in (slice(0, 900), slice(900, None)):
            model.partial_fit(X[rows], y[rows], classes=np.arange(10))
        return {"proba": model.predict_proba(X)}

    return Case(lambda rank: run(), lambda: run(False))


def _transformer():
    def run(distributed="auto"):
        X, y = digits()
        model = TransformerClassifier(
            d_model=16,
            n_heads=2,
            n_layers=1,
            dim_feedforward=32,
            dropout=0.0,
            max_epochs=2,
            batch_size=128,
            random_state=0,
            tol=None,
            device="cpu",
            distributed=distributed,
        ).fit(X[:600], y[:600])
        return {"proba": model.predict_proba(X[:200])}

    return Case(lambda rank: run(), lambda: run(False))


def _mixture(**kw):
    # Weighted rows: a process's share of a batch is its share of the weight.
    def run(distributed="auto"):
        X, _ = make_moons(400, noise=0.1, random_state=0)
        w = np.random.default_rng(0).uniform(0.2, 2.0, len(X))
        model = GaussianMixture(
            4,
            solver="gradient",
            random_state=0,
            max_iter=15,
            tol=0.0,
            device="cpu",
            distributed=distributed,
            **kw,
        )
        with warnings.catch_warnings():  # 15 iterations do not converge
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, sample_weight=w)
        return {"means": model.means_, "covariances": model.covariances_}

    return Case(lambda rank: run(), lambda: run(False))


def _vae(rank):
    X, y = digits()
    model, again = (
        VAE(
            latent_dim=2,
            hidden_layer_sizes=(16,),
            max_epochs=3,
            batch_size=64,
            random_state=0,
            device="cpu",
        ).fit(X[:500], y[:500])
        for _ in range(2)
    )
    return {
        "score": model.score_samples(X[:40], y[:40]),
        # A run repeats for a given random_state and number of processes.
        "score_again": again.score_samples(X[:40], y[:40]),
        "history": [[h["train_loss"], h["duration"]] for h in model.history_],
        "sample": model.sample(5, y=[1, 2, 3, 4, 5], random_state=1),
        "weights": np.concatenate(
            [p.detach().numpy().ravel() for p in model.module_.parameters()]
        ),
    }


def _ddpm(rank):
    X, y = make_moons(300, noise=0.05, random_state=0)
    model = DDPM(
        n_timesteps=50,
        hidden_layer_sizes=(32, 32),
        max_epochs=4,
        batch_size=64,
        ema_decay=0.9,
        random_state=0,
        device="cpu",
        n_score_timesteps=10,
    ).fit(X, y)
    return {
        "sample": model.sample(6, y=[0, 1, 0, 1, 0, 1], random_state=2),
        "history": [h["train_loss"] for h in model.history_],
    }


def _unseeded(rank):
    X, y = digits()
    model = FFN(random_state=None).fit(X, y)
    return {"proba": model.predict_proba(X)}


def _different_data(rank):
    X, y = digits()
    if rank == 1:
        X = X.copy()
        X[17, 3] += 0.5
    FFN().fit(X, y)
    return {}


def _nan_on_one_process(rank):
    X, y = digits()
    model = FFN().fit(X, y)
    before = model.predict_proba(X)
    bad = X.copy()
    if rank == 1:
        bad[5, 5] = np.nan
    try:
        model.fit(bad, y)
        error = ""
    except ValueError as err:
        error = str(err)
    # Both processes keep the model they had.
    return {"error": error, "changed": np.abs(model.predict_proba(X) - before).max()}


def _diverging(rank):
    X, y = digits()
    FFN(lr=1e6, max_epochs=5).fit(X * 1000, y)
    return {}


def _too_few_rows(rank):
    X, _ = digits()
    VAE(hidden_layer_sizes=(4,), max_epochs=1, device="cpu").fit(X[:1])
    return {}


def _different_params(rank):
    X, y = digits()
    FFN(lr=1e-3 if rank == 0 else 2e-3).fit(X, y)
    return {}


CASES: dict[str, Case] = {
    "ffn": _ffn(),
    "uneven": _uneven(),
    "early_stopping": _ffn(
        early_stopping=True, max_epochs=40, n_iter_no_change=2, tol=1e-3
    ),
    "partial_fit": _partial_fit(),
    "transformer": _transformer(),
    "mixture_lbfgs": _mixture(),
    "mixture_adam": _mixture(batch_size=64, optimizer="adam"),
    "vae": Case(_vae),
    "ddpm": Case(_ddpm),
    "unseeded": Case(_unseeded),
    "different_data": Case(_different_data),
    "nan_on_one_process": Case(_nan_on_one_process),
    "diverging": Case(_diverging),
    "too_few_rows": Case(_too_few_rows),
    "different_params": Case(_different_params),
}
