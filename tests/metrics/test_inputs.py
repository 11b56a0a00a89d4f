"""The sample metrics' inputs: the fewest rows each needs, and no global state.

Reproducers of a probe (issue 23).
"""

import numpy as np
import pytest
from sklearn.datasets import make_moons

from probmodels.metrics import c2st, frechet_distance, mmd

X, Y = make_moons(200, noise=0.1, random_state=0)
# ----------------------------------------------------------------- 4. metrics
def test_mmd_answers_or_names_the_minimum_input():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(40, 2)), rng.normal(size=(50, 2)) + 0.5
    value = mmd(A, B)
    assert value > 0
    # The median bandwidth is relative to the data: the answer is the same.
    assert mmd(A * 1e200, B * 1e200) == pytest.approx(value, rel=1e-12)
    assert mmd(A * 1e-200, B * 1e-200) == pytest.approx(value, rel=1e-12)
    assert mmd(A * 1e200, B * 1e200, bandwidth=1e200) == pytest.approx(
        mmd(A, B, bandwidth=1.0), rel=1e-12
    )
    constant = np.full((6, 2), 3.0)
    assert mmd(constant, constant) == 0.0  # a collapsed generator
    for small in ((A[:1], B), (A, B[:1])):
        with pytest.raises(ValueError, match="at least 2 rows in each set"):
            mmd(*small)
    for bandwidth in (0, np.nan, -1.0, np.inf, True):
        with pytest.raises(ValueError, match="bandwidth must be a positive"):
            mmd(A, B, bandwidth=bandwidth)


def test_frechet_distance_needs_two_rows():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(30, 3))
    with pytest.raises(ValueError, match="at least 2 rows in each set"):
        frechet_distance(A[:1], A)
    assert frechet_distance(A, A) == pytest.approx(0.0, abs=1e-8)


def test_c2st_without_a_seed_leaves_numpys_global_generator_alone(
    untouched_global_rng,
):
    rng = np.random.default_rng(2)
    score = c2st(rng.normal(size=(40, 2)), rng.normal(size=(40, 2)), random_state=None)
    assert 0 <= score <= 1
    with pytest.raises(ValueError, match="at least 5 rows in each set"):
        c2st(rng.normal(size=(3, 2)), rng.normal(size=(40, 2)))
