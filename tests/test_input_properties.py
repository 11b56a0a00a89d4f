"""Property: any input gets a fitted model with finite parameters or a clear error.

Hypothesis draws tables of odd shapes and values (NaN, infinities, numbers
near the ends of float64 and float32, integers, DataFrames, labels of the
wrong length) and fits every estimator on them, starting from a fitted model.
Whatever the input, the call either succeeds with finite parameters or raises
a ``ValueError``, ``TypeError`` or ``FloatingPointError`` with a one-line
message, and a failed call leaves the model exactly as it was.

CI runs a fixed set of examples (the "ci" profile); elsewhere each run draws
new ones, so that cases nobody thought of turn up.
"""

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from probmodels import (
    DDPM,
    VAE,
    ARRegressor,
    FFNClassifier,
    GaussianMixture,
    TransformerClassifier,
)

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=25, database=None
)
settings.register_profile("dev", deadline=None, max_examples=int(os.environ.get("PM_EXAMPLES", 25)))
settings.load_profile("ci" if os.environ.get("CI") else "dev")

CLEAR_ERRORS = (ValueError, TypeError, FloatingPointError)

ESTIMATORS = {
    "ar": lambda: ARRegressor(p=1),
    "gmm": lambda: GaussianMixture(2, max_iter=5, random_state=0),
    "gmm-gradient": lambda: GaussianMixture(
        2, solver="gradient", max_iter=3, random_state=0
    ),
    "ffn": lambda: FFNClassifier((4,), max_epochs=1, random_state=0),
    "transformer": lambda: TransformerClassifier(
        d_model=4, n_heads=1, n_layers=1, dim_feedforward=4, max_epochs=1
    ),
    "vae": lambda: VAE(latent_dim=1, hidden_layer_sizes=(4,), max_epochs=1),
    "ddpm": lambda: DDPM(
        n_timesteps=5, hidden_layer_sizes=(4,), max_epochs=1, n_score_timesteps=2
    ),
}
CLASSIFIERS = {"ffn", "transformer"}

ODD_VALUES = st.sampled_from(
    [np.nan, np.inf, -np.inf, 1e300, -1e300, 1e39, 1e-300, 0.0, 5e-324]
)


@st.composite
def tables(draw):
    """An (n, d) table: mostly ordinary numbers, some odd ones, odd dtypes."""
    n = draw(st.integers(0, 12))
    d = draw(st.integers(1, 3))
    values = draw(
        hnp.arrays(
            np.float64,
            (n, d),
            elements=st.one_of(
                st.floats(-10, 10, allow_nan=False, width=64), ODD_VALUES
            ),
        )
    )
    kind = draw(st.sampled_from(["float", "int", "frame", "bool", "object"]))
    if kind == "int":
        return np.nan_to_num(values, posinf=7, neginf=-7).clip(-9, 9).astype(np.int64)
    if kind == "frame":
        return pd.DataFrame(values, columns=[f"c{j}" for j in range(d)])
    if kind == "bool":
        return np.nan_to_num(values) > 0
    if kind == "object":
        table = values.astype(object)
        if n and draw(st.booleans()):
            table[0, 0] = "text"
        return table
    return values


def fingerprint(est):
    """Everything a fit may change, as comparable values."""
    out = {}
    for name, value in vars(est).items():
        if isinstance(value, np.ndarray):
            out[name] = (value.dtype, value.shape, value.tobytes())
        elif isinstance(value, np.random.Generator):
            out[name] = repr(value.bit_generator.state)
        elif hasattr(value, "state_dict"):
            out[name] = [
                (k, v.detach().cpu().numpy().tobytes())
                for k, v in value.state_dict().items()
            ]
        else:
            out[name] = repr(value)
    return out


def fitted_values(est):
    """The fitted parameters, as float arrays."""
    if hasattr(est, "module_"):
        return [p.detach().cpu().numpy() for p in est.module_.parameters()]
    names = ["coef_", "sigma2_", "weights_", "means_", "covariances_"]
    return [np.asarray(getattr(est, n), float) for n in names if hasattr(est, n)]


def fit(est, name, X, y):
    if name in CLASSIFIERS:
        return est.fit(X, y)
    return est.fit(X)


@pytest.fixture(scope="module")
def fitted():
    """Each estimator fitted once on ordinary data."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), np.arange(30) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: fit(make(), name, X, y) for name, make in ESTIMATORS.items()}


@pytest.mark.parametrize("name", ESTIMATORS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(X=tables(), y_shift=st.integers(-1, 1))
def test_any_input_fits_or_fails_clearly(fitted, name, X, y_shift):
    import copy

    est = copy.deepcopy(fitted[name])
    before = fingerprint(est)
    y = np.arange(max(0, len(X) + y_shift)) % 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit(est, name, X, y)
    except CLEAR_ERRORS as err:
        event(f"refused: {type(err).__name__}")
        message = str(err)
        assert message and "\n" not in message, message
        assert fingerprint(est) == before, f"{name} changed state on {err!r}"
        return
    event("fitted")
    for value in fitted_values(est):
        assert np.isfinite(value).all(), f"{name} fitted non-finite parameters"
