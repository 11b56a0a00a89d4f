"""Failed calls, warm starts, parameter checks and messages, shared by all models.

Each test is a case a new user ran into (issue 11); each checks the shared
mechanism (the rollback, parameter validation, the input checks, the
warm-start rule) through the estimators that use it.
"""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from probmodels import (
    ARRegressor,
    FFNClassifier,
    GaussianMixture,
    TransformerClassifier,
)
from probmodels.engine import batch_bounds

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y = (X[:, 0] > 0).astype(int)
X2 = X[:, :2]
S = RNG.normal(size=80)
TINY = dict(
    d_model=8, n_heads=2, n_layers=1, dim_feedforward=8, max_epochs=2, random_state=0
)


# ------------------------------------------------------ failed calls roll back
def test_failed_partial_fit_leaves_generator_and_optimiser_state_as_they_were():
    g = GaussianMixture(2, solver="gradient", batch_size=10, random_state=0)
    g.partial_fit(X2)
    h = copy.deepcopy(g)
    g.set_params(lr=1e30)  # diverges after the call has drawn its seed
    with pytest.raises(FloatingPointError):
        g.partial_fit(X2 * 1e3)
    g.set_params(lr=None)
    np.testing.assert_array_equal(g.partial_fit(X2).means_, h.partial_fit(X2).means_)


def test_failed_warm_start_leaves_the_generator_as_it_was():
    tr = TransformerClassifier(warm_start=True, **TINY).fit(X, Y)
    h = copy.deepcopy(tr)
    tr.set_params(lr=1e30)
    with pytest.raises(FloatingPointError, match="scale the inputs"):
        tr.fit(X * 1e3, Y)
    tr.set_params(lr=0.001)
    np.testing.assert_array_equal(
        tr.fit(X, Y).predict_proba(X), h.fit(X, Y).predict_proba(X)
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: FFNClassifier((4,), random_state=0),
        lambda: TransformerClassifier(**TINY),
    ],
)
def test_set_params_lr_applies_to_the_next_partial_fit(make):
    est = make().partial_fit(X, Y, classes=[0, 1])
    est.set_params(lr=0.5).partial_fit(X, Y)
    assert est.history_[-1]["lr"] == 0.5


def test_set_params_lr_applies_to_the_next_mixture_partial_fit():
    g = GaussianMixture(2, solver="gradient", lr=0.01, random_state=0).partial_fit(X2)
    h = copy.deepcopy(g)
    moved = g.set_params(lr=0.5).partial_fit(X2).means_ - h.means_
    kept = copy.deepcopy(h).partial_fit(X2).means_ - h.means_
    # Adam's first steps move each mean by about lr: 50 times further.
    assert np.abs(moved).max() > 10 * np.abs(kept).max()


# ----------------------------------------------------------- mini-batches
@pytest.mark.parametrize(
    ("n", "batch", "expected"),
    [
        (10, 4, [(0, 4), (4, 8), (8, 10)]),
        (9, 4, [(0, 4), (4, 9)]),
        (3, 4, [(0, 3)]),
        (1, 4, [(0, 1)]),
        (8, 4, [(0, 4), (4, 8)]),
    ],
)
def test_batch_bounds_never_leave_a_single_row(n, batch, expected):
    assert batch_bounds(n, batch) == expected


def test_batch_normalisation_trains_when_a_single_row_is_left_over():
    X201 = np.r_[np.tile(X, (5, 1)), X[:1]]
    y201 = np.r_[np.tile(Y, 5), Y[:1]]
    clf = FFNClassifier((4,), normalization="batch", max_epochs=2, random_state=0)
    assert clf.fit(X201, y201).n_iter_ == 2


# ------------------------------------------------------- non-finite results
def test_mixture_refuses_data_whose_squares_overflow_and_keeps_its_fit():
    g = GaussianMixture(2, random_state=0).fit(X2)
    means = g.means_.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warning leaks
        with pytest.raises(ValueError, match="squares overflow float64"):
            g.fit(np.r_[X2 - 3, X2 + 3] * 1e300)
    np.testing.assert_array_equal(g.means_, means)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"means_init": [[np.nan, 0.0], [1.0, 1.0]]}, "means_init contains NaN"),
        ({"precisions_init": np.full((2, 2, 2), np.inf)}, "precisions_init"),
        ({"weights_init": [np.nan, 1.0]}, "weights_init contains NaN"),
    ],
)
def test_mixture_refuses_non_finite_initial_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(2, random_state=0, **kwargs).fit(X2)


def test_mixture_sample_weights_that_overflow_are_named():
    with pytest.raises(ValueError, match="divide the weights by a constant"):
        GaussianMixture(2).fit(X2, sample_weight=np.full(40, 1e307))


# --------------------------------------------------------------- warm starts
@pytest.mark.parametrize(
    "change", [{"n_components": 3}, {"covariance_type": "diag"}], ids=str
)
def test_mixture_warm_start_with_a_new_shape_starts_over(change):
    warm = GaussianMixture(2, warm_start=True, random_state=0).fit(X2)
    warm.set_params(**change).fit(X2)
    cold = GaussianMixture(2, random_state=0).set_params(**change).fit(X2)
    np.testing.assert_allclose(warm.means_, cold.means_)
    assert warm.score(X2) == pytest.approx(cold.score(X2))
    assert warm.sample(3).shape == (3, 2)


def test_mixture_inference_uses_the_fitted_shape_after_set_params():
    g = GaussianMixture(2, random_state=0).fit(X2)
    before = (g.predict_proba(X2), g.score(X2), g.bic(X2))
    g.set_params(n_components=3, covariance_type="spherical")
    np.testing.assert_array_equal(g.predict_proba(X2), before[0])
    assert (g.score(X2), g.bic(X2)) == before[1:]
    assert g.sample(4).shape == (4, 2)


def test_partial_fit_refuses_a_changed_shape():
    g = GaussianMixture(2, solver="gradient", random_state=0).partial_fit(X2)
    with pytest.raises(ValueError, match="n_components: 2 -> 3 changed"):
        g.set_params(n_components=3).partial_fit(X2)
    f = FFNClassifier((4,), random_state=0).partial_fit(X, Y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"hidden_layer_sizes: \(4,\) -> \(5,\)"):
        f.set_params(hidden_layer_sizes=(5,)).partial_fit(X, Y)


def test_network_warm_start_with_new_layers_builds_the_new_network():
    warm = FFNClassifier((4,), warm_start=True, max_epochs=2, random_state=0)
    warm.fit(X, Y).set_params(hidden_layer_sizes=(6,)).fit(X, Y)
    cold = FFNClassifier((6,), max_epochs=2, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(warm.predict_proba(X), cold.predict_proba(X))
    # Same layers: the warm start continues (another 2 epochs).
    assert warm.fit(X, Y).n_iter_ == 2 and len(warm.history_) == 2
    assert not np.allclose(warm.predict_proba(X), cold.predict_proba(X))


def test_mixture_partial_fit_with_em_says_which_solver():
    assert not hasattr(GaussianMixture(2), "partial_fit")
    with pytest.raises(AttributeError, match="needs solver='gradient'"):
        GaussianMixture(2).partial_fit(X2)


def test_partial_fit_with_other_classes_is_refused():
    clf = FFNClassifier((4,), random_state=0).partial_fit(X, Y, classes=[0, 1])
    with pytest.raises(ValueError, match="is not the same as on last call"):
        clf.partial_fit(X, Y, classes=[0, 1, 2])


# --------------------------------------------------------- parameter checks
@pytest.mark.parametrize("device", ["meta", "mps"])
def test_unavailable_devices_are_named(device):
    with pytest.raises(ValueError, match=f"device='{device}' is not available"):
        FFNClassifier((4,), device=device, max_epochs=1).fit(X, Y)


@pytest.mark.parametrize("sizes", [(-1,), (0,), (2.5,), (4, True)])
def test_layer_sizes_must_be_positive_ints(sizes):
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive"):
        FFNClassifier(sizes, max_epochs=1).fit(X, Y)


@pytest.mark.parametrize(
    ("make", "fit"),
    [
        (lambda: ARRegressor(p=True), lambda e: e.fit(S)),
        (lambda: FFNClassifier((4,), max_epochs=True), lambda e: e.fit(X, Y)),
        (lambda: GaussianMixture(n_components=True), lambda e: e.fit(X2)),
        (lambda: TransformerClassifier(n_layers=True), lambda e: e.fit(X, Y)),
    ],
)
def test_bools_are_not_integers(make, fit):
    with pytest.raises(ValueError, match="a bool; pass a number"):
        fit(make())


def test_booleans_and_verbose_still_take_bools():
    FFNClassifier((4,), max_epochs=1, early_stopping=False, verbose=False).fit(X, Y)


# ------------------------------------------------------------------ AR input
@pytest.mark.parametrize(
    ("order", "problem"),
    [
        (slice(None, None, -1), "runs newest first"),
        (np.random.default_rng(1).permutation(80), "is not sorted"),
    ],
)
def test_time_index_out_of_order_is_refused(order, problem):
    index = pd.period_range("2000-01", periods=80, freq="M")[order]
    with pytest.raises(ValueError, match=f"{problem}.*sort_index"):
        ARRegressor(p=1).fit(pd.Series(S, index=index))


def test_repeated_times_are_refused():
    index = pd.date_range("2000", periods=79, freq="D")
    index = index.insert(5, index[5])
    with pytest.raises(ValueError, match="repeats labels"):
        ARRegressor(p=1).fit(pd.Series(S, index=index))


@pytest.mark.parametrize(
    "fit",
    [
        lambda v: ARRegressor(p=1).fit(v),
        lambda v: GaussianMixture(1).fit(v.reshape(-1, 2)),
    ],
)
def test_dates_as_values_are_refused(fit):
    with pytest.raises(TypeError, match="datetime64.*not numeric"):
        fit(np.arange(80).astype("datetime64[D]"))


def test_ragged_panel_is_fitted_series_by_series():
    frame = pd.DataFrame(
        {
            "a": np.r_[np.nan, np.nan, S[2:]],
            "b": np.r_[S[:-3], [np.nan] * 3],
            "c": S * 2 + 1,
            "d": np.r_[S[:10], np.nan, S[11:]],
        }
    )
    est = ARRegressor(p=1).fit(frame)
    # Leading and trailing NaN: each series is its own stretch.
    for name in "abc":
        alone = ARRegressor(p=1).fit(frame[name].dropna())
        np.testing.assert_allclose(est.params_.loc[name], alone.params_, rtol=1e-8)
    # A hole drops the two windows it touches.
    assert est.nobs_["d"] == len(S) - 1 - 2


def test_every_constant_series_is_named():
    frame = pd.DataFrame({"a": np.ones(80), "b": S, "c": np.full(80, 2.0)})
    with pytest.raises(ValueError, match=r"Series \['a', 'c'\] are constant"):
        ARRegressor(p=1).fit(frame)


def test_series_too_small_for_float64_are_named_as_such():
    with pytest.raises(ValueError, match="less than 1e-150.*Multiply"):
        ARRegressor(p=1).fit(S * 1e-170)
    # Well inside the range, the scale changes nothing but the intercept.
    a = ARRegressor(p=2).fit(S * 1e-100)
    np.testing.assert_allclose(a.coef_, ARRegressor(p=2).fit(S).coef_, rtol=1e-9)


def test_singular_message_does_not_suggest_the_trend_in_use():
    geometric = 1.1 ** np.arange(40.0)  # lags 1 and 2 are collinear
    with pytest.raises(ValueError, match="singular") as info:
        ARRegressor(p=2, trend="n").fit(geometric)
    assert "trend='n'" not in str(info.value)
    with pytest.raises(ValueError, match="smaller p or trend='n'"):
        ARRegressor(p=2, trend="c").fit(geometric)


# ---------------------------------------------------------------- messages
def test_nan_messages_name_the_column_and_the_index_label():
    series = pd.Series(
        S, index=pd.date_range("2000", periods=80, freq="D"), name="sales"
    )
    series.iloc[5] = np.inf
    with pytest.raises(ValueError, match="row 2000-01-06 00:00:00 of column 'sales'"):
        ARRegressor(p=1).fit(series)
    frame = pd.DataFrame(X, columns=list("abc"), index=pd.RangeIndex(100, 140))
    frame.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="row 103 of column 'b'"):
        FFNClassifier((4,)).fit(frame, Y)
    # The mixture takes NaN as a missing entry; inf it names as others do.
    frame.iloc[3, 1] = np.inf
    with pytest.raises(ValueError, match="row 103 of column 'b'"):
        GaussianMixture(2).fit(frame)
    array = X.copy()
    array[3, 2] = np.inf
    with pytest.raises(ValueError, match=r"row 3 of column 2\. "):
        GaussianMixture(2).fit(array)
    array[3, 2] = np.nan
    with pytest.raises(ValueError, match="row 3, step 2 of column 0"):
        TransformerClassifier(**TINY).fit(array.reshape(40, 3, 1), Y)


def test_mixture_names_a_text_column_it_was_told_is_not_categorical():
    # Text and dates are modelled (tests/mixture/test_mixed.py); with
    # categorical_features=None a text column has no kind, and is named.
    frame = pd.DataFrame({"a": X[:, 0], "b": ["x", "y"] * 20})
    with pytest.raises(TypeError, match="Column 'b' has dtype .*categorical_features"):
        GaussianMixture(2, categorical_features=None).fit(frame)


def test_classifier_says_float32_overflowed():
    with pytest.raises(ValueError, match="too large for float32.*StandardScaler"):
        FFNClassifier((4,), max_epochs=1).fit(X * 1e300, Y)


def test_transformer_shapes():
    with pytest.raises(ValueError, match="2-D rows .* or 3-D sequences"):
        TransformerClassifier(**TINY).fit(np.zeros((40, 2, 2, 2)), Y)
    with pytest.raises(ValueError, match="at least one step"):
        TransformerClassifier(**TINY).fit(np.zeros((40, 0, 3)), Y)


def test_mixture_init_errors_use_sklearn_wording():
    cases = [
        {"weights_init": [[0.5], [0.5]]},
        {"weights_init": [0.5, 0.5 + 5e-6]},
        {"means_init": np.zeros((3, 2))},
        {"precisions_init": np.array([[[1.0, 2.0], [0.0, 1.0]]] * 2)},
        {"precisions_init": -np.ones(2), "covariance_type": "spherical"},
        {"precisions_init": np.ones((3, 2)), "covariance_type": "diag"},
    ]
    for kwargs in cases:
        with pytest.raises(ValueError) as theirs:
            SkGaussianMixture(2, **kwargs).fit(X2)
        with pytest.raises(ValueError) as ours:
            GaussianMixture(2, **kwargs).fit(X2)
        assert str(ours.value).startswith(str(theirs.value)), kwargs
    # scikit-learn swaps max and min in this one; ours prints them right.
    with pytest.raises(ValueError, match=r"'weights' should be in the range \[0, 1\]"):
        GaussianMixture(2, weights_init=[-0.5, 1.5]).fit(X2)
    with pytest.raises(ValueError) as theirs:
        SkGaussianMixture(5).fit(X2[:3])
    with pytest.raises(ValueError) as ours:
        GaussianMixture(5).fit(X2[:3])
    assert str(ours.value).startswith(str(theirs.value))
    with pytest.raises(ValueError, match="Invalid value for 'n_samples'"):
        GaussianMixture(2).fit(X2).sample(0)
