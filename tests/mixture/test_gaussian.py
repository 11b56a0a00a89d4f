"""Mixture maths against direct formulas (scipy's densities, weighted sums)."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from probmodels.mixture import _gaussian as mg
from probmodels.mixture._em import NumpyStatistics

TYPES = ["full", "tied", "diag", "spherical"]
K, D = 3, 4


def random_parameters(covariance_type, seed=0):
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(K))
    means = rng.normal(size=(K, D))
    A = rng.normal(size=(K, D, D))
    full = A @ A.transpose(0, 2, 1) + D * np.eye(D)
    cov = {
        "full": full,
        "tied": full[0],
        "diag": rng.uniform(0.5, 2.0, (K, D)),
        "spherical": rng.uniform(0.5, 2.0, K),
    }[covariance_type]
    return weights, means, cov


def dense_cov(cov, covariance_type, k):
    if covariance_type == "full":
        return cov[k]
    if covariance_type == "tied":
        return cov
    if covariance_type == "diag":
        return np.diag(cov[k])
    return cov[k] * np.eye(D)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_natural_parameters_give_weighted_log_densities(covariance_type):
    weights, means, cov = random_parameters(covariance_type)
    X = np.random.default_rng(1).normal(size=(50, D))
    prec_chol = mg.precision_cholesky(cov, covariance_type)
    theta = mg.natural_parameters(weights, means, prec_chol, covariance_type)
    logits = (theta @ mg.features(X, covariance_type)).T
    for k in range(K):
        expected = np.log(weights[k]) + multivariate_normal(
            means[k], dense_cov(cov, covariance_type, k)
        ).logpdf(X)
        np.testing.assert_allclose(logits[:, k], expected, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_parameters_from_statistics_are_weighted_moments(covariance_type):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, D))
    resp = rng.dirichlet(np.ones(K), size=200)
    stats = mg.features(X, covariance_type) @ resp
    nk, means, cov = mg.parameters_from_statistics(stats, covariance_type, 1e-3, D)
    np.testing.assert_allclose(nk, resp.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(means, resp.T @ X / nk[:, None], rtol=1e-10)
    full = np.stack(
        [
            (resp[:, k, None] * (X - means[k])).T @ (X - means[k]) / nk[k]
            for k in range(K)
        ]
    )
    expected = {
        "full": full + 1e-3 * np.eye(D),
        "tied": np.einsum("k,kij->ij", nk, full) / nk.sum() + 1e-3 * np.eye(D),
        "diag": np.diagonal(full, axis1=1, axis2=2) + 1e-3,
        "spherical": np.diagonal(full, axis1=1, axis2=2).mean(axis=1) + 1e-3,
    }[covariance_type]
    np.testing.assert_allclose(cov, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_precision_cholesky_layouts(covariance_type):
    _, _, cov = random_parameters(covariance_type)
    U = mg.precision_cholesky(cov, covariance_type)
    prec = mg.precisions_from_cholesky(U, covariance_type)
    if covariance_type in ("full", "tied"):
        np.testing.assert_allclose(prec, np.linalg.inv(cov), rtol=1e-10)
        assert np.allclose(U, np.triu(U))  # scikit-learn's upper layout
        np.testing.assert_allclose(
            mg.precision_cholesky_from_precisions(prec, covariance_type), U, rtol=1e-9
        )
    else:
        np.testing.assert_allclose(prec, 1 / cov)


def test_singular_covariance_names_components_and_fix():
    cov = np.stack([np.eye(2), np.zeros((2, 2))])
    with pytest.raises(ValueError, match=r"component\(s\) \[1\].*Increase reg_covar"):
        mg.precision_cholesky(cov, "full", reg_covar=0.0)
    with pytest.raises(ValueError, match=r"\[0\]"):
        mg.precision_cholesky(np.array([[0.0, 1.0]]), "diag")


@pytest.mark.parametrize(
    ("covariance_type", "expected"),
    [
        ("full", 3 * 10 + 12 + 2),
        ("tied", 10 + 12 + 2),
        ("diag", 12 + 12 + 2),
        ("spherical", 3 + 12 + 2),
    ],
)
def test_n_parameters(covariance_type, expected):
    assert mg.n_parameters(covariance_type, K, D) == expected


def test_statistics_pass_is_thread_count_independent():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40_000, D))  # several chunks
    phi = mg.features(X, "full")
    theta = mg.natural_parameters(
        np.full(K, 1 / K), rng.normal(size=(K, D)), np.stack([np.eye(D)] * K), "full"
    )
    weight = rng.uniform(0.5, 2.0, len(X))
    with (
        NumpyStatistics(phi, weight, n_threads=1, n_components=K) as one,
        NumpyStatistics(phi, weight, n_threads=2, n_components=K) as two,
    ):
        s1, ll1 = one(theta)
        s2, ll2 = two(theta)
        np.testing.assert_array_equal(one.labels(theta), two.labels(theta))
    np.testing.assert_array_equal(s1, s2)
    assert ll1 == ll2
    # And against a direct computation.
    logits = (theta @ phi).T
    log_norm = np.logaddexp.reduce(logits, axis=1)
    resp = np.exp(logits - log_norm[:, None]) * weight[:, None]
    np.testing.assert_allclose(s1, phi @ resp, rtol=1e-10)
    assert ll1 == pytest.approx(log_norm @ weight, rel=1e-12)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_packed_moments_are_phi_transposed_times_the_responsibilities(covariance_type):
    from probmodels.mixture._gaussian import (
        pack_statistics,
        statistics_of,
        symmetric_from_vech,
        vech_index,
    )

    rng = np.random.default_rng(3)
    X, resp = rng.normal(size=(50, 4)), rng.dirichlet(np.ones(3), size=50)
    mass = resp.sum(axis=0)
    first = resp.T @ X
    second = np.einsum("nk,ni,nj->kij", resp, X, X)
    packed = pack_statistics(mass, first, second, covariance_type)
    np.testing.assert_allclose(packed, statistics_of(X, resp, covariance_type))
    rows, cols = vech_index(4)
    assert len(rows) == 10 and (rows <= cols).all()  # the upper triangle
    np.testing.assert_allclose(symmetric_from_vech(second[:, rows, cols], 4), second)


@pytest.mark.parametrize(
    "shape", [(3, 400, 1, 1), (16, 300, 4, 4), (2, 200, 6, 6), (5, 3, 3)]
)
def test_spd_log_det_inverse_equals_numpy(shape):
    from probmodels.mixture._observed import spd_log_det_inverse

    rng = np.random.default_rng(0)
    m = shape[-1]
    a = rng.normal(size=shape)
    a = a @ np.swapaxes(a, -1, -2) + m * np.eye(m)
    log_det, inverse = spd_log_det_inverse(a)
    np.testing.assert_allclose(inverse, np.linalg.inv(a), atol=1e-12)
    np.testing.assert_allclose(log_det, np.linalg.slogdet(a)[1], atol=1e-12)


def test_spd_log_det_inverse_refuses_an_indefinite_batch():
    from probmodels.mixture._observed import spd_log_det_inverse

    a = np.tile(np.eye(3), (400, 1, 1))
    a[17, 1, 1] = -1.0
    with pytest.raises(np.linalg.LinAlgError):
        spd_log_det_inverse(a)
