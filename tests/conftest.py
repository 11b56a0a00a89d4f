"""Shared test helpers."""

import numpy as np
import pytest


def global_numpy_state():
    """The legacy global generator's key array, to prove nobody advanced it."""
    return np.random.get_state()[1].copy()  # noqa: NPY002 - reading it is the point


@pytest.fixture
def untouched_global_rng():
    """Seed numpy's global generator and fail if the test advances it."""
    np.random.seed(12345)  # noqa: NPY002
    before = global_numpy_state()
    yield
    np.testing.assert_array_equal(global_numpy_state(), before)


# ------------------------------------------------- builders several files use
# Imported by name (``from tests.conftest import ...``): plain functions, as
# they take sizes and seeds.
def correlated_with_holes(n=400, seed=0, share=0.2):
    """Three correlated normal columns and a copy with MCAR holes.

    Returns ``(X, holes)``; every row of ``holes`` keeps one observed entry.
    """
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, 0.85, 0.6], [0.85, 1.0, 0.7], [0.6, 0.7, 1.0]])
    X = rng.multivariate_normal(np.zeros(3), cov, size=n)
    holes = X.copy()
    holes[rng.random(X.shape) < share] = np.nan
    empty = np.isnan(holes).all(axis=1)
    holes[empty, 0] = X[empty, 0]
    return X, holes


def kinds_with_holes(n=300, seed=0):
    """A category that its value tells (a: -2, b: +2), with 20% holes in each.

    Returns ``(frame, holes)``; no row of ``holes`` lacks both columns.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    kind = rng.choice(["a", "b"], n)
    frame = pd.DataFrame(
        {
            "kind": pd.Categorical(kind),
            "value": np.where(kind == "a", -2.0, 2.0) + rng.normal(0, 0.3, n),
        }
    )
    holes = frame.copy()
    holes.loc[rng.random(n) < 0.2, "kind"] = np.nan
    holes.loc[rng.random(n) < 0.2, "value"] = np.nan
    both = holes["kind"].isna() & holes["value"].isna()
    holes.loc[both, "value"] = frame.loc[both, "value"]
    return frame, holes


def regression_batch(n=64, seed=0, noise=0.1):
    """A ``Batch`` of 3 features and y = x . (1, -2, 0.5) + noise."""
    import torch

    from probmodels.engine import Batch

    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g)
    y = X @ torch.tensor([1.0, -2.0, 0.5])
    if noise:
        y = y + noise * torch.randn(n, generator=g)
    return Batch(X, y)
