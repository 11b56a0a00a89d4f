"""The forecasters' scores against worked examples, direct sums and known laws."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from probmodels import ARRegressor
from probmodels.metrics import crps, interval_coverage, mase, smape
from probmodels.metrics._forecast import crps_ensemble, naive_scale


def test_mase_worked_example_and_seasonal_scale():
    # Naive errors in training: |2-1|, |4-2|, |7-4| -> scale 2; MAE 1.5.
    assert mase([8, 10], [9, 8], [1, 2, 4, 7]) == pytest.approx(0.75)
    # Seasonal naive with m = 2: |4-1|, |7-2| -> scale 4.
    assert mase([8, 10], [9, 8], [1, 2, 4, 7], seasonality=2) == pytest.approx(1.5 / 4)
    # Several series: the mean of each series' MASE.
    true = np.array([[8.0, 1.0], [10.0, 1.0]])
    pred = np.array([[9.0, 2.0], [8.0, 3.0]])
    train = np.array([[1.0, 0.0], [2.0, 1.0], [4.0, 0.0], [7.0, 1.0]])
    np.testing.assert_allclose(naive_scale(train), [2.0, 1.0])
    assert mase(true, pred, train) == pytest.approx((0.75 + 1.5) / 2)


def test_smape_worked_example():
    # 200/h sum |e| / (|y| + |yhat|): 10/210 at the first step, 0/0 -> 0.
    assert smape([100.0, 0.0], [110.0, 0.0]) == pytest.approx(100.0 * 10 / 210)
    assert smape([1.0, -1.0], [-1.0, 1.0]) == pytest.approx(200.0)
    frame = pd.DataFrame({"a": [100.0, 50.0], "b": [1.0, 1.0]})
    assert smape(frame, frame) == 0.0


def test_interval_coverage_counts_the_ends():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    assert interval_coverage(y, y - 1, y + 1) == 1.0
    assert interval_coverage(y, y, y) == 1.0  # ends included
    assert interval_coverage(y, [1, 1, 1, 1], [2, 2, 2, 2]) == 0.5


def test_crps_ensemble_equals_the_direct_double_sum():
    rng = np.random.default_rng(0)
    y, paths = rng.normal(size=5), rng.normal(size=(5, 37))
    direct = np.abs(paths - y[:, None]).mean(1) - 0.5 * np.abs(
        paths[:, :, None] - paths[:, None, :]
    ).mean((1, 2))
    np.testing.assert_allclose(crps_ensemble(y, paths), direct, rtol=1e-12)
    # One path: the absolute error; paths all at y: zero.
    assert crps([1.0], [[3.5]]) == pytest.approx(2.5)
    assert crps([2.0, 2.0], np.full((2, 4), 2.0)) == 0.0


def test_crps_of_gaussian_paths_matches_the_closed_form():
    # Gneiting & Raftery (2007), eq. 5: sigma (z (2 Phi(z) - 1) + 2 phi(z)
    # - 1 / sqrt(pi)) for N(mu, sigma^2) at y, z = (y - mu) / sigma.
    rng = np.random.default_rng(1)
    sigma, y = 2.0, np.array([0.0, 1.0, -3.0])
    z = y / sigma
    exact = sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))
    paths = rng.normal(0.0, sigma, size=(3, 40_000))
    got = crps_ensemble(y, paths)
    np.testing.assert_allclose(got, exact, atol=0.02)


def test_scores_of_ar_forecasts_across_many_series():
    # 300 AR(1) series: the 95% intervals of the next step cover about 95%
    # of the actual values, and the paths' CRPS is near the Gaussian one.
    rng = np.random.default_rng(2)
    n, m, phi = 201, 300, 0.6
    Y = np.zeros((n, m))
    for t in range(1, n):
        Y[t] = phi * Y[t - 1] + rng.normal(size=m)
    est = ARRegressor(p=1, random_state=0).fit(Y[:-1])
    mean, lower, upper = est.forecast(1, alpha=0.05)
    cover = interval_coverage(Y[-1:], lower, upper)
    assert abs(cover - 0.95) < 0.04  # binomial sd 0.013
    paths = est.sample(1, n_paths=2000, random_state=0)
    assert paths.shape == (1, m, 2000)
    z = Y[-1] - np.asarray(mean)[0]
    exact = z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi)
    assert crps(Y[-1:], paths) == pytest.approx(exact.mean(), abs=0.03)
    # A DataFrame of (series, path) columns gives the same score.
    frame = est.fit(pd.DataFrame(Y[:-1])).sample(1, n_paths=50, random_state=0)
    again = frame.to_numpy().reshape(1, m, 50)
    assert crps(Y[-1:], frame) == pytest.approx(crps(Y[-1:], again))
    # Forecasts better than naive: MASE below 1 on the held-out step.
    assert mase(Y[-1:], mean, Y[:-1]) < 1.0


def test_bad_input_is_refused_in_one_line():
    with pytest.raises(ValueError, match="same shape"):
        mase([1.0, 2.0], [1.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="missing or infinite"):
        smape([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="more than seasonality=4"):
        mase([1.0], [1.0], [1.0, 2.0, 3.0, 4.0], seasonality=4)
    with pytest.raises(ValueError, match="naive forecast is exact"):
        mase([1.0], [1.0], [5.0, 5.0, 5.0])
    with pytest.raises(ValueError, match="lower exceeds upper"):
        interval_coverage([1.0], [2.0], [0.0])
    with pytest.raises(ValueError, match="paths"):
        crps([1.0, 2.0], np.zeros((3, 10)))
    with pytest.raises(ValueError, match="1-D"):
        smape(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
