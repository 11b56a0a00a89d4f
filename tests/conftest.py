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
