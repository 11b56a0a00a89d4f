"""The holes of the imputation protocol (ampute) and its distributional score."""

import numpy as np
import pytest
from scipy.stats import energy_distance as scipy_energy
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from probmodels.impute import ampute
from probmodels.metrics import energy_distance

RNG = np.random.default_rng(0)
X = RNG.normal(size=(20_000, 6))  # independent columns: dependence is the mask's


def test_energy_distance_is_scipys_for_one_column():
    a, b = RNG.normal(size=300), RNG.normal(1.0, 2.0, size=200)
    assert energy_distance(a[:, None], b[:, None]) == pytest.approx(scipy_energy(a, b), rel=1e-12)


def test_energy_distance_against_the_double_sums():
    a, b = RNG.normal(size=(40, 3)), RNG.normal(0.5, 1.0, size=(30, 3))

    def mean_norm(p, q):
        return np.mean(np.linalg.norm(p[:, None, :] - q[None, :, :], axis=2))

    want = np.sqrt(2 * mean_norm(a, b) - mean_norm(a, a) - mean_norm(b, b))
    assert energy_distance(a, b) == pytest.approx(want, rel=1e-12)
    assert energy_distance(b, a) == pytest.approx(want, rel=1e-12)
    assert energy_distance(a, a) == pytest.approx(0.0, abs=1e-12)


def test_energy_distance_separates_conditional_means_from_draws():
    # Completing holes by the mean shrinks the spread; draws keep it.
    truth = RNG.normal(size=(2000, 2))
    by_mean, by_draws = truth.copy(), truth.copy()
    holes = RNG.random(2000) < 0.4
    by_mean[holes, 1] = 0.0
    by_draws[holes, 1] = RNG.normal(size=holes.sum())
    assert energy_distance(by_draws, truth) < energy_distance(by_mean, truth) / 2
    # Subsampling is seeded.
    big = RNG.normal(size=(3000, 2))
    kw = {"max_rows": 500, "random_state": 1}
    assert energy_distance(big, truth, **kw) == energy_distance(big, truth, **kw)
    with pytest.raises(ValueError, match="same features"):
        energy_distance(truth, truth[:, :1])
    with pytest.raises(ValueError, match="NaN"):
        energy_distance(np.where(holes[:, None], np.nan, truth), truth)


def test_mcar_rate_and_independence():
    mask = ampute(X, 0.3, "mcar", random_state=0)
    assert mask.mean() == pytest.approx(0.3, abs=0.005)
    assert abs(X[mask].mean() - X[~mask].mean()) < 0.03


def test_mar_depends_on_observed_columns_only():
    mask = ampute(X, 0.3, "mar", observed_share=0.3, random_state=0)
    observed = np.flatnonzero(~mask.any(axis=0))
    amputed = np.flatnonzero(mask.any(axis=0))
    assert len(observed) == 1  # int(0.3 * 6) columns always observed
    np.testing.assert_allclose(mask[:, amputed].mean(axis=0), 0.3, atol=0.015)
    for j in amputed:
        # The observed column predicts the holes; the column's own value,
        # independent of it here, does not.
        seen = X[:, observed]
        auc = roc_auc_score(mask[:, j], LogisticRegression().fit(seen, mask[:, j]).decision_function(seen))
        assert auc > 0.6
        assert abs(X[mask[:, j], j].mean() - X[~mask[:, j], j].mean()) < 0.05


def test_mnar_logistic_depends_on_the_value_itself():
    mask = ampute(X, 0.3, "mnar_logistic", random_state=0)
    np.testing.assert_allclose(mask.mean(axis=0), 0.3, atol=0.015)
    for j in range(X.shape[1]):
        gap = X[mask[:, j], j].mean() - X[~mask[:, j], j].mean()
        assert abs(gap) > 0.5  # slope +-1 on the standardised value


def test_mnar_above_mean_is_not_miwaes_mask():
    mask = ampute(X, mechanism="mnar_above_mean")
    np.testing.assert_array_equal(mask[:, :3], X[:, :3] > X[:, :3].mean(axis=0))
    assert not mask[:, 3:].any()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mechanism": "mnar"}, "mechanism must be one of"),
        ({"rate": 1.0}, r"rate must be a float in \(0, 1\)"),
        ({"observed_share": 0}, r"observed_share must be a float in \(0, 1\)"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ampute(X[:10], **kwargs)


def test_one_column_cannot_be_mar_and_nan_is_refused():
    with pytest.raises(ValueError, match="at least 2 columns"):
        ampute(X[:, :1], mechanism="mar")
    with pytest.raises(ValueError, match="NaN"):
        ampute(np.where(X > 2, np.nan, X))
