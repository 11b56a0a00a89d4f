"""Inputs the models convert or refuse: labels as a column, scales, parameters, Dask.

Each test is a reproducer of a probe (issue 23), checked through the shared
mechanism it was fixed in: the one label encoder, the generative models'
scaler, the parameter constraints checked where a method reads them, the
Dask path, the DDPM's shapes, the data-parallel switch.
"""

import copy
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.exceptions import DataConversionWarning
from sklearn.utils._param_validation import InvalidParameterError

from probmodels import (
    DDPM,
    VAE,
    FFNClassifier,
    GaussianMixture,
    TransformerClassifier,
)

X, Y = make_moons(200, noise=0.1, random_state=0)
LABELLED = {
    "ffn": lambda: FFNClassifier((4,), max_epochs=2, random_state=0),
    "transformer": lambda: TransformerClassifier(
        d_model=4,
        n_heads=1,
        n_layers=1,
        dim_feedforward=4,
        max_epochs=1,
        random_state=0,
    ),
    "vae": lambda: VAE(
        latent_dim=2, hidden_layer_sizes=(8,), max_epochs=2, random_state=0
    ),
    "ddpm": lambda: DDPM(
        n_timesteps=10,
        hidden_layer_sizes=(8,),
        max_epochs=2,
        n_score_timesteps=3,
        random_state=0,
    ),
}


def outputs(model):
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    samples = model.sample(3, y=1, random_state=0).ravel()
    return np.r_[model.score_samples(X, Y), samples]


# --------------------------------------------------------- 1. labels as a column
@pytest.mark.parametrize("name", LABELLED)
def test_labels_as_a_column_are_one_label_per_row_with_a_warning(name):
    """``df[['label']]`` is raveled, as scikit-learn does, for every model
    that takes labels; the DDPM used to broadcast it and ignore the labels."""
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = LABELLED[name]().fit(X, Y.reshape(-1, 1))
    flat = LABELLED[name]().fit(X, Y)
    np.testing.assert_array_equal(outputs(column), outputs(flat))


# ------------------------------------------------------------ 2. extreme scales
@pytest.mark.parametrize("name", ["vae", "ddpm"])
def test_the_scaler_is_relative_to_the_data(name):
    """Data times 2**-44 train the same network (the scaled rows are equal to
    the bit), so samples are 2**-44 times as large and every score is the
    log-Jacobian, d * 44 log 2, higher."""
    c = 2.0**-44
    plain = LABELLED[name]().fit(X)
    tiny = LABELLED[name]().fit(X * c)
    shift = X.shape[1] * 44 * np.log(2)
    np.testing.assert_allclose(
        tiny.score_samples(X * c), plain.score_samples(X) + shift, rtol=1e-12
    )
    np.testing.assert_array_equal(
        tiny.sample(4, random_state=1), plain.sample(4, random_state=1) * c
    )


@pytest.mark.parametrize("name", ["vae", "ddpm"])
def test_data_whose_squares_overflow_are_refused_and_the_model_kept(name):
    model = LABELLED[name]().fit(X)
    before = model.score_samples(X)
    with pytest.raises(ValueError, match="squares overflow float64"):
        model.fit(X * 1e300)
    np.testing.assert_array_equal(model.score_samples(X), before)


def test_a_column_constant_to_rounding_keeps_scale_one():
    from probmodels.nn import Standardizer

    rows = np.c_[np.full(50, 1e9) + np.arange(50) * 1e-8, np.arange(50.0)]
    scaler = Standardizer.fit(rows)
    assert scaler.scale[0] == 1.0 and scaler.scale[1] == pytest.approx(rows[:, 1].std())
    assert Standardizer.fit(rows * 1e-30).scale[1] == pytest.approx(
        rows[:, 1].std() * 1e-30
    )


# ------------------------------------------ 5. parameters read at score / sample
@pytest.fixture(scope="module")
def fitted():
    return {name: LABELLED[name]().fit(X) for name in ("vae", "ddpm")}


@pytest.mark.parametrize(
    "name, param, value, method",
    [
        ("vae", "n_importance", 0, "score_samples"),
        ("vae", "n_importance", -1, "score_samples"),
        ("vae", "n_importance", 1.5, "score_samples"),
        ("vae", "n_importance", True, "score_samples"),
        ("ddpm", "n_score_timesteps", 0, "score_samples"),
        ("ddpm", "n_score_timesteps", True, "score_samples"),
        ("ddpm", "variance_type", "learned", "score_samples"),
        ("ddpm", "ddim_spacing", "cubic", "sample"),
        ("ddpm", "clip_denoised", "no", "sample"),
        ("ddpm", "variance_type", "learned", "sample"),
    ],
)
def test_parameters_read_after_set_params_are_checked_where_read(
    fitted, name, param, value, method
):
    model = copy.deepcopy(fitted[name]).set_params(**{param: value})
    call = (lambda: model.score_samples(X)) if method == "score_samples" else None
    if method == "sample":
        call = lambda: model.sample(3, n_steps=4)  # noqa: E731
    with pytest.raises(InvalidParameterError, match=repr(param)):
        call()


# ------------------------------------------------------------------- 6. Dask
def test_dask_rows_filtered_as_the_message_advises_fit():
    da = pytest.importorskip("dask.array")
    bad = X.copy()
    bad[45, 1] = np.inf
    D = da.from_array(bad, chunks=20)
    with pytest.raises(ValueError, match=r"X\[~da.isinf\(X\).any\(axis=1\)\]"):
        GaussianMixture(2, random_state=0).fit(D)
    model = GaussianMixture(2, random_state=0).fit(D[~da.isinf(D).any(axis=1)])
    assert model.n_features_in_ == 2 and np.isfinite(model.score(X))
    # Inference names the row of the array, not of its chunk.
    with pytest.raises(ValueError, match="row 45 of column 1"):
        model.score_samples(D).compute()


def test_dask_missing_entries_fit_as_in_memory():
    """NaN in a Dask array: the same exact EM, chunk by chunk, as in memory."""
    da = pytest.importorskip("dask.array")
    holes = X.copy()
    holes[np.random.default_rng(0).random(X.shape) < 0.2] = np.nan
    holes = holes[~np.isnan(holes).all(axis=1)]
    start = GaussianMixture(2, max_iter=1, random_state=0).fit(X)
    init = dict(
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
    )
    local = GaussianMixture(2, tol=0, max_iter=10, **init).fit(holes)
    chunked = GaussianMixture(2, tol=0, max_iter=10, **init)
    chunked.fit(da.from_array(holes, chunks=25))
    np.testing.assert_allclose(chunked.means_, local.means_, rtol=1e-8)
    np.testing.assert_allclose(
        chunked.score_samples(da.from_array(holes, chunks=25)).compute(),
        local.score_samples(holes),
        rtol=1e-8,
    )
    empty = holes.copy()
    empty[30] = np.nan
    with pytest.raises(ValueError, match="Row 30 of X has no observed entry"):
        GaussianMixture(2).fit(da.from_array(empty, chunks=25))


# -------------------------------------------------------------- 7. DDPM shapes
@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": ()}, "hidden_layer_sizes=()"),
        ({"image_shape": (-1, -4, 4)}, "image_shape must be three positive ints"),
        ({"image_shape": (1.5, 4, 4)}, "image_shape must be three positive ints"),
        ({"image_shape": (1, 4)}, "image_shape must be three positive ints"),
    ],
)
def test_ddpm_shapes_are_named_at_fit(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        DDPM(max_epochs=1, **params).fit(np.zeros((8, 16)))


# ----------------------------------------------------- 8. numpy's True is True
@pytest.mark.parametrize(
    "make",
    [
        LABELLED["ffn"],
        LABELLED["transformer"],
        LABELLED["vae"],
        LABELLED["ddpm"],
        lambda: GaussianMixture(2, solver="gradient", max_iter=2),
    ],
)
def test_distributed_numpy_true_is_true(make):
    pytest.importorskip("torch.distributed")
    model = make().set_params(distributed=np.True_)
    with pytest.raises(ValueError, match="distributed=True needs a process group"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, Y)
