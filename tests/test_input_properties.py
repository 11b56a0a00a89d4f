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
settings.register_profile(
    "dev", deadline=None, max_examples=int(os.environ.get("PM_EXAMPLES", 25))
)
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


# ------------------------------------------ model files, metrics, parameters
# The surfaces of issue 23: whatever a user puts in a model file's labels and
# metadata comes back; a metric answers finitely or refuses in one line; a
# parameter read at sample or score time is checked where it is read.

LABELS = st.one_of(
    st.none(),
    st.text(max_size=4),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(
        min_value=pd.Timestamp("1900-01-01").to_pydatetime(),
        max_value=pd.Timestamp("2200-01-01").to_pydatetime(),
    ).map(pd.Timestamp),
    st.integers(-5000, 5000).map(lambda d: pd.Timedelta(days=d)),
    st.integers(0, 600).map(lambda m: pd.Period("2000-01", freq="M") + m),
)
METADATA = st.recursive(
    LABELS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=3), inner, max_size=3),
    ),
    max_leaves=8,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metadata=st.dictionaries(st.text(max_size=4), METADATA, max_size=3), name=LABELS)
def test_a_model_file_gives_back_its_labels_and_metadata(tmp_path, metadata, name):
    import probmodels
    from probmodels._persistence import read_model_file

    series = pd.Series(np.random.default_rng(0).normal(size=30), name=name)
    model = ARRegressor(p=1).fit(series)
    path = probmodels.save(model, tmp_path / "m.skops", metadata=metadata)
    back = read_model_file(path)
    assert back.metadata == metadata
    assert back.estimator.sample(1).name == name
    np.testing.assert_array_equal(back.estimator.coef_, model.coef_)


@given(real=tables(), fake=tables())
def test_metrics_answer_finitely_or_refuse_in_one_line(real, fake):
    from probmodels.metrics import c2st, frechet_distance, mmd

    for metric in (mmd, frechet_distance, c2st):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = metric(real, fake)
        except CLEAR_ERRORS as err:
            event(f"{metric.__name__} refused")
            assert str(err) and "\n" not in str(err), str(err)
            continue
        event(f"{metric.__name__} answered")
        assert not np.isnan(value), metric.__name__
        if metric is mmd:
            assert abs(value) <= 2 + 1e-9
        elif metric is c2st:
            assert 0 <= value <= 1
        else:
            assert value >= 0


READ_AT_USE = {
    "vae": (["n_importance"], "score_samples"),
    "ddpm-score": (["n_score_timesteps", "variance_type"], "score_samples"),
    "ddpm-sample": (["clip_denoised", "ddim_spacing", "variance_type"], "sample"),
}
ANY_VALUE = st.one_of(
    st.sampled_from([0, -1, 1, 2, 3, True, False, np.True_, None, 1.5, np.nan]),
    st.sampled_from(["no", "cubic", "linear", "quadratic", "fixed_small", ""]),
)


@pytest.mark.parametrize("case", READ_AT_USE)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=ANY_VALUE, which=st.integers(0, 2))
def test_parameters_read_at_use_work_or_are_named(fitted, case, value, which):
    import copy

    from sklearn.utils._param_validation import InvalidParameterError

    names, method = READ_AT_USE[case]
    name = names[which % len(names)]
    model = copy.deepcopy(fitted["vae" if case == "vae" else "ddpm"])
    model.set_params(**{name: value})
    X = np.random.default_rng(1).normal(size=(4, 2))
    try:
        out = model.score_samples(X) if method == "score_samples" else model.sample(3)
    except InvalidParameterError as err:
        event("refused")
        assert repr(name) in str(err) and "\n" not in str(err)
        return
    event("worked")
    assert np.isfinite(np.asarray(out, dtype=float)).all()
