"""The AR maths functions against brute force and statsmodels."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from statsmodels.tsa.arima_process import arma2ma

from probmodels.timeseries import _ar_math as am
from probmodels.timeseries._design import (
    Terms,
    basis_gram,
    regression_in_basis,
    shared_basis,
    shared_cross_products,
)


def lag_matrix(a, p, start):
    """Rows t = start..n-1 of [a_t, a_{t-1}, ..., a_{t-p}], built explicitly."""
    return np.stack([a[start - k : len(a) - k] for k in range(p + 1)], axis=1)


@pytest.mark.parametrize(
    ("p", "start", "n"), [(0, 0, 7), (1, 1, 9), (3, 3, 40), (3, 8, 40), (5, 5, 600)]
)
def test_lag_cross_products_equal_explicit_gram(p, start, n):
    rng = np.random.default_rng(p + n)
    A = rng.standard_normal((4, n)) + 3.0
    shift = A.mean(axis=1)
    for s in (None, shift):
        G = am.lag_cross_products(A, p, start, s)
        for j in range(4):
            x = A[j] - (0 if s is None else s[j])
            Z = lag_matrix(x, p, start)
            np.testing.assert_allclose(G[j], Z.T @ Z, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("trend", ["n", "c", "ct", "ctt"])
@pytest.mark.parametrize(("lags", "start"), [((), 0), ((1, 2), 2), ((1, 3), 9)])
def test_shared_cross_products_equal_explicit(trend, lags, start):
    rng = np.random.default_rng(0)
    n = 300  # more than one block of BLOCK_STEPS
    A = rng.standard_normal((3, n))
    shift = rng.standard_normal(3)
    terms = Terms(trend, 4, lags, ("x1",))
    shared = terms.shared(np.arange(1.0, n + 1.0), rng.standard_normal((n, 1)))
    offsets = (0, *lags)
    C = shared_cross_products(A, shared[start:], offsets, start, shift)
    for j in range(3):
        Z = lag_matrix(A[j] - shift[j], max(offsets), start)[:, list(offsets)]
        np.testing.assert_allclose(C[j], shared[start:].T @ Z, rtol=1e-11, atol=1e-8)


def test_shared_basis_is_orthonormal_and_spans_the_constant():
    n, start = 60, 5
    terms = Terms("ctt", 12, (1,), ("x1",))
    rng = np.random.default_rng(0)
    shared = terms.shared(np.arange(1.0, n + 1.0), 100.0 + rng.standard_normal((n, 1)))
    rows, coords, one = shared_basis(shared, start)
    np.testing.assert_allclose(rows.T @ rows, np.eye(rows.shape[1]), atol=1e-12)
    np.testing.assert_allclose(rows @ coords, shared[start:], rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(rows @ one, 1.0, atol=1e-12)
    # Full seasonal dummies span the constant without an extra column.
    full = Terms("n", 4, ()).shared(np.arange(1.0, n + 1.0), None)
    assert shared_basis(full, 0)[0].shape[1] == 4


def test_seasonal_dummies_follow_autoreg():
    terms = Terms("c", 3, (1,))
    D = terms.deterministic(np.arange(1.0, 6.0))
    # statsmodels' Seasonality(3): s(1,3) at the first step, dropped with a constant.
    np.testing.assert_array_equal(D[:, 1:], [[0, 0], [1, 0], [0, 1], [0, 0], [1, 0]])
    assert terms.names() == ["const", "s(2,3)", "s(3,3)", "y.L1"]
    assert Terms("n", 3, (2,), ("a",)).names("z") == [
        "s(1,3)",
        "s(2,3)",
        "s(3,3)",
        "z.L2",
        "a",
    ]


@pytest.mark.parametrize("trend", ["n", "c", "t", "ct", "ctt"])
@pytest.mark.parametrize("mean", [0.0, 1e6])
def test_least_squares_in_basis_equals_lstsq(trend, mean):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((2, 80)).cumsum(axis=1) + mean
    n, start = 80, 3
    terms = Terms(trend, 0, (1, 3), ("x1",))
    exog = rng.standard_normal((n, 1)) + 5.0
    shared = terms.shared(np.arange(1.0, n + 1.0), exog)
    shift = A.mean(axis=1)
    rows, coords, one = shared_basis(shared, start)
    offsets = (0, 1, 3)
    gram = basis_gram(A, rows, offsets, start, shift)
    design, target = regression_in_basis(terms, offsets, coords, one, shift)
    beta, ssr, singular, xtx_inv = am.least_squares_in_basis(gram, design, target)
    assert not singular.any()
    for j in range(2):
        Z = lag_matrix(A[j], 3, start)
        X = np.column_stack(
            [shared[start:, : terms.n_deterministic], Z[:, [1, 3]], exog[start:]]
        )
        ref, res, *_ = np.linalg.lstsq(X, Z[:, 0], rcond=None)
        np.testing.assert_allclose(beta[j], ref, rtol=1e-7)
        # The residual sum of squares from the residuals: no cancellation.
        resid = Z[:, 0] - X @ ref
        np.testing.assert_allclose(ssr[j], resid @ resid, rtol=1e-9)
        # (X'X)^-1 = X^+ X^+' from the SVD of X: no squared condition number.
        pinv = np.linalg.pinv(X)
        np.testing.assert_allclose(xtx_inv[j], pinv @ pinv.T, rtol=1e-6)


def test_least_squares_in_basis_reports_collinear_regressors():
    A = np.vstack([np.full(50, 7.0), np.random.default_rng(0).standard_normal(50)])
    shift = A.mean(axis=1)
    terms = Terms("c", 0, (1,))
    rows, coords, one = shared_basis(terms.shared(np.arange(1.0, 51.0), None), 1)
    gram = basis_gram(A, rows, (0, 1), 1, shift)
    design, target = regression_in_basis(terms, (0, 1), coords, one, shift)
    singular = am.least_squares_in_basis(gram, design, target)[2]
    np.testing.assert_array_equal(singular, [True, False])


def test_information_criteria_formulas():
    llf, nobs, k = -100.0, 50, 3
    ic = am.information_criteria(llf, nobs, k)
    assert ic["aic"] == pytest.approx(200 + 2 * 4)
    assert ic["bic"] == pytest.approx(200 + np.log(50) * 4)
    assert ic["hqic"] == pytest.approx(200 + 2 * np.log(np.log(50)) * 4)
    assert ic["aicc"] == pytest.approx(200 + 2 * 4 * 50 / (50 - 4 - 1))
    fpe = am.information_criteria(llf, nobs, k, sigma2=2.0)["fpe"]
    assert fpe == pytest.approx(2.0 * (50 + 3) / (50 - 3))
    assert am.gaussian_llf(2.0, 10) == pytest.approx(-5 * (np.log(2 * np.pi * 2.0) + 1))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-2.5, 2.5), min_size=1, max_size=6))
def test_step_down_agrees_with_roots(coef):
    assume(abs(coef[-1]) > 1e-6)  # a zero last coefficient is a lower order
    coef = np.array([coef])
    roots = am.ar_roots(coef)
    if np.any(np.abs(np.abs(roots) - 1) < 1e-6):
        return  # on the unit circle: rounding decides either way
    assert am.is_stationary(coef)[0] == bool(np.all(np.abs(roots) > 1))


def test_roots_are_roots_of_the_ar_polynomial():
    coef = np.array([[0.5, -0.3, 0.2]])
    for z in am.ar_roots(coef)[0]:
        assert abs(1 - 0.5 * z + 0.3 * z**2 - 0.2 * z**3) < 1e-10


def test_ma_weights_match_statsmodels():
    coef = np.array([[0.6, -0.2, 0.1], [1.1, -0.3, 0.0]])
    psi = am.ma_weights(coef, 12)
    for j in range(2):
        ref = arma2ma(np.r_[1, -coef[j]], np.ones(1), lags=12)
        np.testing.assert_allclose(psi[j], ref, rtol=1e-12)


def test_simulate_follows_the_recursion():
    rng = np.random.default_rng(0)
    coef = np.array([[0.5, 0.2]])
    history = np.array([[1.0, 2.0]])  # y_{n-1} = 1, y_n = 2
    det = np.full((3, 1), 0.1)
    shocks = rng.standard_normal((3, 1, 2))
    out = am.simulate_ar(history, coef, det, shocks)
    for k in range(2):
        y = [1.0, 2.0]
        for h in range(3):
            y.append(0.1 + 0.5 * y[-1] + 0.2 * y[-2] + shocks[h, 0, k])
        np.testing.assert_allclose(out[:, 0, k], y[2:])
    mean = am.simulate_ar(history, coef, det)
    assert mean.shape == (3, 1, 1)
    assert mean[0, 0, 0] == pytest.approx(0.1 + 0.5 * 2 + 0.2 * 1)


def test_one_step_predictions():
    A = np.array([[1.0, 2.0, 4.0, 3.0]])
    pred = am.one_step_predictions(A, np.array([[0.5, 0.25]]), np.ones((1, 4)))
    np.testing.assert_allclose(
        pred[0, 2:], [1 + 0.5 * 2 + 0.25 * 1, 1 + 0.5 * 4 + 0.25 * 2]
    )
