"""GaussianMixture against scikit-learn's, and against known mixtures."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.mixture import GaussianMixture as SkMixture

from probmodels import GaussianMixture
from probmodels.exceptions import ConvergenceWarning

TYPES = ["full", "tied", "diag", "spherical"]


def blobs(n=600, d=3, k=3, seed=0):
    X, _ = make_blobs(
        n, n_features=d, centers=k, cluster_std=[1.0, 2.0, 0.5][:k], random_state=seed
    )
    return X


def sklearn_start(X, k, covariance_type, seed=0):
    """One sklearn iteration from k-means: a shared, non-trivial starting point."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = SkMixture(
            k, covariance_type=covariance_type, max_iter=1, random_state=seed
        ).fit(X)
    return {
        "weights_init": ref.weights_,
        "means_init": ref.means_,
        "precisions_init": ref.precisions_,
    }


def assert_same_fit(ours, ref, rtol=1e-6):
    for name in (
        "weights_",
        "means_",
        "covariances_",
        "precisions_cholesky_",
        "precisions_",
    ):
        np.testing.assert_allclose(
            getattr(ours, name), getattr(ref, name), rtol=rtol, atol=1e-12, err_msg=name
        )
    assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-8)
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-8)
    assert ours.n_iter_ == ref.n_iter_ and ours.converged_ == ref.converged_


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_em_follows_sklearn_step_for_step(covariance_type, seed):
    X = blobs(seed=seed)
    start = sklearn_start(X, 3, covariance_type, seed)
    for max_iter in (1, 4, 10):
        kw = dict(covariance_type=covariance_type, max_iter=max_iter, tol=0.0, **start)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ref = SkMixture(3, **kw).fit(X)
            ours = GaussianMixture(3, **kw).fit(X)
        assert_same_fit(ours, ref)
    # With the default tol both stop at the same iteration.
    ref = SkMixture(3, covariance_type=covariance_type, **start).fit(X)
    ours = GaussianMixture(3, covariance_type=covariance_type, **start).fit(X)
    assert_same_fit(ours, ref)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_inference_matches_sklearn(covariance_type):
    X = blobs(seed=3)
    start = sklearn_start(X, 3, covariance_type)
    ref = SkMixture(3, covariance_type=covariance_type, **start).fit(X)
    ours = GaussianMixture(3, covariance_type=covariance_type, **start).fit(X)
    X_new = np.random.default_rng(0).normal(scale=5, size=(100, 3))
    np.testing.assert_allclose(
        ours.score_samples(X_new), ref.score_samples(X_new), rtol=1e-8
    )
    np.testing.assert_allclose(
        ours.predict_proba(X_new), ref.predict_proba(X_new), atol=1e-8
    )
    np.testing.assert_array_equal(ours.predict(X_new), ref.predict(X_new))
    assert ours.score(X_new) == pytest.approx(ref.score(X_new), rel=1e-8)
    assert ours.bic(X_new) == pytest.approx(ref.bic(X_new), rel=1e-8)
    assert ours.aic(X_new) == pytest.approx(ref.aic(X_new), rel=1e-8)
    np.testing.assert_array_equal(
        GaussianMixture(3, covariance_type=covariance_type, **start).fit_predict(X),
        ours.predict(X),
    )


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_chunked_threaded_fit_matches_sklearn(covariance_type):
    X = blobs(n=30_000, d=4, seed=5)  # several chunks on several threads
    start = sklearn_start(X, 3, covariance_type)
    kw = dict(covariance_type=covariance_type, max_iter=3, tol=0.0, **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert_same_fit(GaussianMixture(3, **kw).fit(X), SkMixture(3, **kw).fit(X))


def draw_known_mixture(n, seed=0):
    rng = np.random.default_rng(seed)
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[0.0, 0.0], [6.0, 1.0], [-2.0, 7.0]])
    covs = np.array(
        [[[1.0, 0.6], [0.6, 1.5]], [[0.5, 0.0], [0.0, 0.5]], [[2.0, -0.8], [-0.8, 1.0]]]
    )
    labels = rng.choice(3, size=n, p=weights)
    X = np.stack([rng.multivariate_normal(means[k], covs[k]) for k in labels])
    return X, weights, means, covs


def test_recovers_known_parameters():
    X, weights, means, covs = draw_known_mixture(6000)
    gm = GaussianMixture(3, n_init=2, random_state=0).fit(X)
    order = [int(np.argmin(np.linalg.norm(gm.means_ - m, axis=1))) for m in means]
    assert sorted(order) == [0, 1, 2]
    # Tolerances are ~5 standard errors at n = 6000.
    np.testing.assert_allclose(gm.weights_[order], weights, atol=0.03)
    np.testing.assert_allclose(gm.means_[order], means, atol=0.12)
    np.testing.assert_allclose(gm.covariances_[order], covs, atol=0.2)


def test_sample_matches_fitted_moments_and_is_shuffled():
    X, *_ = draw_known_mixture(3000, seed=1)
    df = pd.DataFrame(X, columns=["a", "b"])
    gm = GaussianMixture(3, random_state=0).fit(df)
    draws, labels = gm.sample(100_000, return_labels=True)
    assert isinstance(draws, pd.DataFrame) and list(draws.columns) == ["a", "b"]
    mean = gm.weights_ @ gm.means_
    second = np.einsum(
        "k,kij->ij",
        gm.weights_,
        gm.covariances_ + gm.means_[:, :, None] * gm.means_[:, None, :],
    )
    cov = second - np.outer(mean, mean)
    se = np.sqrt(np.diag(cov) / len(draws))
    assert np.all(np.abs(draws.mean().to_numpy() - mean) < 5 * se)
    np.testing.assert_allclose(np.cov(draws.to_numpy().T), cov, rtol=0.03, atol=0.03)
    freq = np.bincount(labels, minlength=3) / len(labels)
    np.testing.assert_allclose(freq, gm.weights_, atol=0.01)
    assert not np.all(np.diff(labels) >= 0)  # not grouped by component
    # Each row really comes from its labelled component.
    for k in range(3):
        np.testing.assert_allclose(
            draws.to_numpy()[labels == k].mean(axis=0), gm.means_[k], atol=0.05
        )


@pytest.mark.parametrize("covariance_type", TYPES)
def test_integer_sample_weight_equals_repeated_rows(covariance_type):
    X = blobs(n=300, seed=7)
    w = np.random.default_rng(0).integers(0, 4, len(X))
    start = sklearn_start(X, 3, covariance_type)
    kw = dict(covariance_type=covariance_type, max_iter=5, tol=0.0, **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = GaussianMixture(3, **kw).fit(X, sample_weight=w)
        repeated = GaussianMixture(3, **kw).fit(np.repeat(X, w, axis=0))
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(
            getattr(weighted, name), getattr(repeated, name), rtol=1e-9
        )
    assert weighted.lower_bound_ == pytest.approx(repeated.lower_bound_, rel=1e-10)


def test_weighted_initialisation_is_a_distribution():
    X = blobs(n=300, seed=6)
    w = np.full(len(X), 2.5)  # scaling every weight changes nothing
    init = GaussianMixture(3, max_iter=0, random_state=0)
    weighted = init.fit(X, sample_weight=w)
    assert weighted.weights_.sum() == pytest.approx(1.0)
    plain = GaussianMixture(3, max_iter=0, random_state=0).fit(X)
    np.testing.assert_allclose(weighted.weights_, plain.weights_, rtol=1e-12)
    np.testing.assert_allclose(
        weighted.covariances_, plain.covariances_, rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("covariance_type", TYPES)
def test_gradient_solver_reaches_em_likelihood(covariance_type):
    X = blobs(n=800, seed=2)
    kw = dict(covariance_type=covariance_type, random_state=0)
    em = GaussianMixture(3, tol=1e-9, max_iter=2000, **kw).fit(X)
    grad = GaussianMixture(3, solver="gradient", tol=1e-9, max_iter=500, **kw).fit(X)
    assert grad.converged_
    assert abs(grad.score(X) - em.score(X)) < 1e-3
    assert grad.lower_bound_ == pytest.approx(grad.score(X), rel=1e-12)
    np.testing.assert_allclose(np.sort(grad.weights_), np.sort(em.weights_), atol=1e-3)


def test_minibatch_adam_and_partial_fit():
    X = blobs(n=1500, seed=4)
    em = GaussianMixture(3, random_state=0).fit(X)
    adam = GaussianMixture(
        3,
        solver="gradient",
        batch_size=100,
        max_iter=40,
        lr=0.05,
        tol=1e-7,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam.fit(X)
    assert em.score(X) - adam.score(X) < 0.02
    stream = GaussianMixture(
        3, solver="gradient", batch_size=100, lr=0.05, random_state=0
    )
    scores = []
    for _ in range(15):
        for chunk in np.array_split(X, 5):
            stream.partial_fit(chunk)
        scores.append(stream.score(X))
    assert stream.n_iter_ == 75 and len(stream.lower_bounds_) == 75
    assert scores[-1] > scores[0] and em.score(X) - scores[-1] < 0.02
    restored = pickle.loads(pickle.dumps(stream))
    assert restored.partial_fit(X[:200]).n_iter_ == 76
    assert not hasattr(GaussianMixture(), "partial_fit")  # EM has no chunked pass


def test_warm_start_continues_like_sklearn():
    X = blobs(seed=8)
    start = sklearn_start(X, 3, "full")
    kw = dict(max_iter=2, tol=0.0, warm_start=True, **start)
    ours, ref = GaussianMixture(3, **kw), SkMixture(3, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(3):
            ours.fit(X)
            ref.fit(X)
    assert_same_fit(ours, ref)


def test_n_init_keeps_the_best_start():
    X = blobs(n=400, k=3, seed=9)
    one = GaussianMixture(3, init_params="random", random_state=0).fit(X)
    five = GaussianMixture(3, init_params="random", n_init=5, random_state=0).fit(X)
    assert five.lower_bound_ >= one.lower_bound_


@pytest.mark.parametrize(
    "init_params", ["kmeans", "k-means++", "random", "random_from_data"]
)
def test_every_init_fits_the_blobs(init_params):
    X = blobs(n=600, seed=10)
    gm = GaussianMixture(3, init_params=init_params, n_init=2, random_state=0).fit(X)
    ref = GaussianMixture(3, random_state=0).fit(X)
    assert gm.score(X) > ref.score(X) - 0.1


def test_random_from_data_ignores_zero_weight_rows():
    X = blobs(n=200, seed=11)
    w = np.zeros(len(X))
    w[:5] = 1.0
    gm = GaussianMixture(3, init_params="random_from_data", max_iter=0, random_state=1)
    gm.fit(X, sample_weight=w)
    for mean in gm.means_:
        assert np.min(np.linalg.norm(X[:5] - mean, axis=1)) < 1e-9


def test_convergence_warning_points_at_the_caller():
    with pytest.warns(ConvergenceWarning, match="did not converge") as record:
        GaussianMixture(3, max_iter=1, random_state=0).fit(blobs())
    assert record[0].filename == __file__


def test_verbose_reports(capsys):
    GaussianMixture(3, verbose=2, verbose_interval=1, random_state=0).fit(blobs())
    out = capsys.readouterr().out
    assert "Initialization 0" in out and "Iteration 1" in out and "converged" in out


@pytest.mark.parametrize(
    ("kwargs", "X", "error", "match"),
    [
        (
            {"n_components": 5},
            np.zeros((3, 2)) + np.arange(3)[:, None],
            ValueError,
            "Expected n_samples >= n_components but got n_components = 5, "
            "n_samples = 3",
        ),
        ({}, np.array([[1.0, np.inf], [2.0, 3.0]]), ValueError, "1 inf value"),
        (
            {},
            np.array([[1.0, 2.0], [np.nan, np.nan], [2.0, 3.0]]),
            ValueError,
            "Row 1 of X has no observed entry",
        ),
        ({}, np.arange(5.0), ValueError, "Expected 2D array"),
        (
            {"n_components": 2, "means_init": np.zeros((3, 2))},
            blobs(d=2),
            ValueError,
            r"The parameter 'means' should have the shape of \(2, 2\), but got \(3, 2\)",
        ),
        (
            {"n_components": 2, "weights_init": [0.5, 0.6]},
            blobs(d=2),
            ValueError,
            "The parameter 'weights' should be normalized",
        ),
        (
            {
                "n_components": 2,
                "precisions_init": -np.ones(2),
                "covariance_type": "spherical",
            },
            blobs(d=2),
            ValueError,
            "'spherical precision' should be positive",
        ),
        ({"solver": "newton"}, blobs(d=2), ValueError, "'solver' parameter"),
    ],
)
def test_bad_input(kwargs, X, error, match):
    with pytest.raises(error, match=match):
        GaussianMixture(**kwargs).fit(X)


def test_singular_covariance_names_the_fix_and_keeps_the_old_model():
    X = blobs(seed=12)
    gm = GaussianMixture(2, random_state=0).fit(X)
    before = gm.means_.copy()
    flat = np.c_[X[:, :2], np.ones(len(X))]  # a constant feature
    with pytest.raises(ValueError, match="Increase reg_covar"):
        gm.set_params(reg_covar=0.0).fit(flat)
    np.testing.assert_array_equal(gm.means_, before)
    assert gm.n_features_in_ == 3 and gm.reg_covar == 0.0


def test_gradient_divergence_is_reported():
    X = blobs(seed=13)
    gm = GaussianMixture(
        3, solver="gradient", optimizer="adam", lr=1e6, max_iter=5, random_state=0
    )
    with pytest.raises((FloatingPointError, ValueError), match="lr|reg_covar"):
        gm.fit(X)
    assert not hasattr(gm, "means_")


def test_lbfgs_with_batch_size_is_refused():
    with pytest.raises(ValueError, match="optimizer='lbfgs' works on the full batch"):
        GaussianMixture(solver="gradient", optimizer="lbfgs", batch_size=10).fit(
            blobs()
        )


cuda = pytest.mark.skipif(
    not __import__("torch").cuda.is_available(), reason="needs a CUDA device"
)


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize("solver", ["em", "gradient"])
def test_cuda_fit_matches_cpu(solver):
    X = blobs(n=5000, seed=14)
    start = sklearn_start(X, 3, "full")
    kw = dict(solver=solver, max_iter=20, tol=0.0, **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gpu = GaussianMixture(3, device="cuda", **kw).fit(X)
        cpu = GaussianMixture(3, device="cpu", **kw).fit(X)
    np.testing.assert_allclose(gpu.means_, cpu.means_, rtol=1e-6)
    assert gpu.lower_bound_ == pytest.approx(cpu.lower_bound_, rel=1e-8)
    assert isinstance(gpu.means_, np.ndarray)
    restored = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_allclose(
        restored.score_samples(X[:10]), gpu.score_samples(X[:10])
    )
