"""GaussianMixture(missing="mnar"): the self-masking selection model.

Checked against a numerical integral of the row likelihood, against the
truth on censored data (a known threshold and mean), and against the MAR
fit it corrects.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import expit, log_expit

from probmodels import GaussianMixture
from probmodels.impute import ampute
from probmodels.mixture._gaussian import natural_parameters
from probmodels.mixture._self_masking import (
    MaskData,
    SelfMaskingStatistics,
    mask_log_prob,
)


def _censored(n=2000, threshold=1.5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.multivariate_normal([1.0, 0.0], [[1.0, 0.5], [0.5, 1.0]], size=n)
    holes = X.copy()
    holes[X[:, 0] > threshold, 0] = np.nan
    return X, holes


def test_mask_log_prob_is_the_logistic_of_each_side():
    x = np.array([-1.0, 0.5, 2.0])
    missing = np.array([True, False, True])
    got = mask_log_prob(x, missing, 0.3, 1.7)
    p = expit(0.3 + 1.7 * x)
    np.testing.assert_allclose(got, np.log(np.where(missing, p, 1 - p)))


def test_likelihood_equals_numerical_integration():
    # One Gaussian column, logistic self-masking: a missing row's likelihood
    # is the integral of N(x; mu, s^2) sigmoid(a + b x) over x.
    mu, sd, a, b = 0.4, 1.3, -0.5, 1.2
    x = np.array([0.1, -0.7, np.nan, 1.9, np.nan, np.nan, 0.3])
    center = 0.2
    data = SelfMaskingStatistics((x - center)[:, None], None, "full")
    theta = natural_parameters(
        np.ones(1), np.array([[mu - center]]), np.array([[[1 / sd]]]), "full"
    )
    # The mask in centred units: a + b x = (a + b c) + b (x - c).
    mask = np.array([[a + b * center], [b]])
    _, ll = data(theta, mask)
    seen = x[~np.isnan(x)]
    missing_mass, _ = integrate.quad(
        lambda v: stats.norm.pdf(v, mu, sd) * expit(a + b * v), -np.inf, np.inf
    )
    expected = np.sum(
        stats.norm.logpdf(seen, mu, sd) + np.log(1 - expit(a + b * seen))
    ) + np.isnan(x).sum() * np.log(missing_mass)
    assert ll == pytest.approx(expected, rel=1e-9)


def test_two_missing_entries_against_a_double_integral():
    mean = np.array([0.3, -0.2])
    cov = np.array([[1.0, 0.6], [0.6, 1.5]])
    mask = np.array([[-0.4, 0.2], [1.5, -0.8]])
    data = SelfMaskingStatistics(np.array([[np.nan, np.nan], [0.1, 0.2]]), None, "full")
    chol = np.linalg.cholesky(np.linalg.inv(cov))
    theta = natural_parameters(np.ones(1), mean[None], chol[None], "full")
    _, ll = data(theta, mask)
    both, _ = integrate.dblquad(
        lambda v, u: (
            stats.multivariate_normal.pdf([u, v], mean, cov)
            * expit(mask[0, 0] + mask[1, 0] * u)
            * expit(mask[0, 1] + mask[1, 1] * v)
        ),
        -8,
        8,
        -8,
        8,
    )
    seen = stats.multivariate_normal.logpdf([0.1, 0.2], mean, cov) + np.sum(
        np.log(1 - expit(mask[0] + mask[1] * np.array([0.1, 0.2])))
    )
    # 64 quasi-random draws stand for the two-dimensional integral.
    assert ll == pytest.approx(np.log(both) + seen, abs=5e-3)


def test_censoring_recovers_the_threshold_and_the_mean():
    X, holes = _censored()
    mar = GaussianMixture(1, random_state=0).fit(holes)
    mnar = GaussianMixture(1, missing="mnar", tol=1e-6, random_state=0).fit(holes)
    truth = X[:, 0].mean()
    assert abs(mar.means_[0, 0] - truth) > 0.35  # MAR is biased by construction
    assert abs(mnar.means_[0, 0] - truth) < 0.08
    assert mnar.covariances_[0, 0, 0] == pytest.approx(X[:, 0].var(), rel=0.15)
    threshold = -mnar.mask_intercept_[0] / mnar.mask_coef_[0]
    assert threshold == pytest.approx(1.5, abs=0.1)
    assert mnar.mask_coef_[0] > 5  # a steep rise: censoring
    assert mnar.mask_intercept_[1] <= -50  # no holes, no mask
    assert np.all(np.diff(mnar.lower_bounds_[1:]) > -1e-3)


def test_mask_step_is_the_weighted_logistic_regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    y = rng.random(400) < expit(-0.5 + 2.0 * x)
    data = MaskData(1, np.ones(1), np.zeros((2, 1)))
    data.add(np.zeros((~y).sum(), int), x[~y], np.ones((~y).sum()), 0)
    data.add(np.zeros(y.sum(), int), x[y], np.ones(y.sum()), 1)
    a, b = data.maximise()[:, 0]
    # The ridge (0.1 on b) aside, the logistic MLE: its score is zero.
    p = expit(a + b * x)
    assert np.sum(y - p) == pytest.approx(0.0, abs=1e-6)
    assert np.sum((y - p) * x) == pytest.approx(0.1 * b, abs=1e-6)


def test_impute_corrects_the_mar_bias_and_keeps_observed_entries():
    rng = np.random.default_rng(1)
    X = rng.multivariate_normal(
        [0, 0, 0], [[1, 0.5, 0.3], [0.5, 1, 0.2], [0.3, 0.2, 1]], 1500
    )
    holes = X.copy()
    for j in (0, 1):
        holes[rng.random(len(X)) < expit(3 * (X[:, j] - 0.5)), j] = np.nan
    missing = np.isnan(holes)

    def rmse(model):
        filled = model.impute(holes, method="mean")
        np.testing.assert_array_equal(filled[~missing], holes[~missing])
        return np.sqrt(np.mean((filled - X)[missing] ** 2))

    mar = GaussianMixture(1, random_state=0).fit(holes)
    mnar = GaussianMixture(1, missing="mnar", tol=1e-5, random_state=0).fit(holes)
    assert rmse(mnar) < 0.75 * rmse(mar)
    drawn = mnar.impute(holes, method="draw", random_state=0)
    assert not np.isnan(drawn).any()
    # Draws of the holes sit as high as the truth, not at the MAR level.
    assert drawn[missing].mean() == pytest.approx(X[missing].mean(), abs=0.15)
    np.testing.assert_array_equal(
        drawn, mnar.impute(holes, method="draw", random_state=0)
    )


def test_score_is_the_likelihood_of_values_and_holes():
    # Column 0 self-masked, column 1 always seen: an observed row scores
    # log N(x) + log P(seen | x_0); a hole the log of the integral of
    # N(v; mu_0|1, s^2_0|1) sigmoid(a + b v) times N(x_1).
    X, _ = _censored(n=300, seed=4)
    rng = np.random.default_rng(4)
    holes = X.copy()
    holes[rng.random(300) < expit(-1.0 + 1.5 * X[:, 0]), 0] = np.nan
    model = GaussianMixture(1, missing="mnar", tol=1e-7, max_iter=500, random_state=0)
    model.fit(holes)
    mu, cov = model.means_[0], model.covariances_[0]
    a, b = model.mask_intercept_[0], model.mask_coef_[0]
    expected = []
    for x0, x1 in holes:
        if np.isnan(x0):
            mean = mu[0] + cov[0, 1] / cov[1, 1] * (x1 - mu[1])
            sd = np.sqrt(cov[0, 0] - cov[0, 1] ** 2 / cov[1, 1])
            mass, _ = integrate.quad(
                lambda v, m=mean, s=sd: stats.norm.pdf(v, m, s) * expit(a + b * v),
                -np.inf,
                np.inf,
            )
            expected.append(
                np.log(mass) + stats.norm.logpdf(x1, mu[1], np.sqrt(cov[1, 1]))
            )
        else:
            seen = log_expit(-(a + b * x0))
            expected.append(stats.multivariate_normal.logpdf([x0, x1], mu, cov) + seen)
    np.testing.assert_allclose(model.score_samples(holes), expected, rtol=1e-9)
    # What the fit maximised, and the mask's two parameters counted.
    assert model.score(holes) == pytest.approx(model.lower_bound_, abs=1e-6)
    n = len(holes)
    assert model.bic(holes) == pytest.approx(
        -2 * n * model.score(holes) + (5 + 2) * np.log(n)
    )
    assert model.aic(holes) == pytest.approx(-2 * n * model.score(holes) + 2 * 7)


def test_bic_counts_only_the_masks_that_were_fitted():
    _, holes = _censored(n=500)
    mnar = GaussianMixture(1, missing="mnar", random_state=0).fit(holes)
    mar = GaussianMixture(1, random_state=0).fit(holes)
    assert mnar._n_parameters() == mar._n_parameters() + 2  # column 1 has no holes


def test_sample_given_draws_from_the_full_data_mixture():
    _, holes = _censored()
    model = GaussianMixture(1, missing="mnar", random_state=0).fit(holes)
    drawn = model.sample(4000, given={1: 0.5}, random_state=0)
    mean, cov = model.means_[0], model.covariances_[0]
    expected = mean[0] + cov[0, 1] / cov[1, 1] * (0.5 - mean[1])
    assert drawn[:, 0].mean() == pytest.approx(expected, abs=0.05)


def test_mnar_fit_on_complete_rows_is_the_mar_fit():
    X, _ = _censored()
    a = GaussianMixture(2, missing="mnar", random_state=0).fit(X)
    b = GaussianMixture(2, random_state=0).fit(X)
    np.testing.assert_allclose(a.means_, b.means_)
    assert not hasattr(a, "mask_coef_")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_refit_as_mar_drops_the_mask_and_warm_start_continues():
    _, holes = _censored(n=600)
    model = GaussianMixture(1, missing="mnar", max_iter=5, tol=0, random_state=0)
    model.fit(holes)
    first = model.mask_coef_.copy()
    model.set_params(warm_start=True).fit(holes)
    assert model.mask_coef_[0] != first[0]  # continued from the fitted mask
    model.set_params(missing="mar", warm_start=False).fit(holes)
    assert not hasattr(model, "mask_coef_")


@pytest.mark.parametrize(
    "params, call, match",
    [
        ({"solver": "gradient"}, "fit", "EM over all rows"),
        ({"solver": "gradient"}, "partial_fit", "EM over all rows"),
    ],
)
def test_refusals(params, call, match):
    _, holes = _censored(n=100)
    model = GaussianMixture(1, missing="mnar", **params)
    with pytest.raises(ValueError, match=match):
        getattr(model, call)(holes)
    assert not hasattr(model, "means_")


def test_categorical_columns_are_refused_by_name():
    frame = pd.DataFrame({"x": [1.0, np.nan, 2.0, 3.0, 0.5, 1.5], "c": list("ababab")})
    with pytest.raises(ValueError, match="categorical columns"):
        GaussianMixture(1, missing="mnar").fit(frame)
    with pytest.raises(ValueError, match="missing"):
        GaussianMixture(1, missing="mcar").fit(frame)


def test_not_miwae_protocol_holes_are_fitted_better_than_mar():
    rng = np.random.default_rng(3)
    cov = 0.6 * np.ones((4, 4)) + 0.4 * np.eye(4)
    X = rng.multivariate_normal(np.zeros(4), cov, size=1000)
    holes = X.copy()
    holes[ampute(X, 0.5, "mnar_above_mean", random_state=0)] = np.nan
    missing = np.isnan(holes)
    scores = {}
    for kind in ("mar", "mnar"):
        model = GaussianMixture(1, missing=kind, tol=1e-5, random_state=0).fit(holes)
        filled = model.impute(holes, method="mean")
        scores[kind] = np.sqrt(np.mean((filled - X)[missing] ** 2))
    assert scores["mnar"] < 0.8 * scores["mar"]
