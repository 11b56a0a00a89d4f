"""The shared contract helpers of probmodels.base."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator

from probmodels.base import (
    Container,
    atomic_fit,
    check_n_samples,
    make_generator,
    spawn_generators,
)


def test_generators_never_touch_global_state(untouched_global_rng):
    make_generator(None).random(3)
    spawn_generators(7, 2)[0].random(3)
    make_generator(np.random.RandomState(0)).random(3)


def test_int_seeds_repeat_and_streams_differ():
    a1, b1 = spawn_generators(5, 2)
    a2, b2 = spawn_generators(5, 2)
    np.testing.assert_array_equal(a1.random(4), a2.random(4))
    assert not np.array_equal(b1.random(4), a1.random(4))
    assert make_generator(3).random() == make_generator(3).random()
    gen = np.random.default_rng(0)
    assert make_generator(gen) is gen
    rs = np.random.RandomState(0)
    assert (
        make_generator(rs).random() == make_generator(np.random.RandomState(0)).random()
    )


@pytest.mark.parametrize("bad", [-1, 1.5, "seed", True])
def test_bad_random_state(bad):
    with pytest.raises(ValueError, match="random_state"):
        make_generator(bad)


def test_check_n_samples():
    assert check_n_samples(np.int64(3)) == 3
    with pytest.raises(ValueError, match="Invalid value for 'n_samples': 0"):
        check_n_samples(0)
    with pytest.raises(TypeError, match="'n_samples': 2.0. It must be a positive int"):
        check_n_samples(2.0)


def test_container_round_trip():
    df = pd.DataFrame({"a": [1.0], "b": [2.0]})
    out = Container.of(df).wrap(np.zeros((3, 2)))
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["a", "b"]
    series = Container.of(pd.Series([1.0], name="y")).wrap(np.zeros(2))
    assert isinstance(series, pd.Series) and series.name == "y"
    arr = np.zeros((3, 2))
    assert Container.of(arr).wrap(arr) is arr


class Flaky(BaseEstimator):
    _parameter_constraints: dict = {"fail": ["boolean"]}

    def __init__(self, fail=False):
        self.fail = fail

    @atomic_fit
    def fit(self, X):
        self.n_features_in_ = len(X)
        self.value_ = X[0]
        if self.fail:
            raise RuntimeError("boom")
        return self


def test_atomic_fit_restores_state_on_failure():
    est = Flaky().fit([1, 2])
    est.set_params(fail=True)
    with pytest.raises(RuntimeError):
        est.fit([9, 9, 9])
    assert est.value_ == 1 and est.n_features_in_ == 2
    fresh = Flaky(fail=True)
    with pytest.raises(RuntimeError):
        fresh.fit([1])
    assert not hasattr(fresh, "value_")
    with pytest.raises(ValueError, match="'fail' parameter of Flaky"):
        Flaky(fail="yes").fit([1])
