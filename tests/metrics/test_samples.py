"""Sample-quality metrics against closed forms and brute force."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold

from probmodels import GaussianMixture
from probmodels.metrics import c2st, frechet_distance, make_sample_scorer, mmd


def test_c2st_is_chance_for_one_distribution_and_one_for_separable_sets():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
    assert abs(c2st(a, b) - 0.5) < 0.08
    assert c2st(a, b + 10) > 0.99
    with pytest.raises(ValueError, match="same width"):
        c2st(a, b[:, :1])


def test_mmd_matches_the_double_sum_and_vanishes_for_equal_laws():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 2)), rng.normal(0.5, 1.0, size=(25, 2))
    s = 0.8
    k = lambda a, b: np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * s**2))  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    expected = (
        (kxx.sum() - np.trace(kxx)) / (30 * 29)
        + (kyy.sum() - np.trace(kyy)) / (25 * 24)
        - 2 * kxy.mean()
    )
    assert mmd(x, y, bandwidth=s) == pytest.approx(expected, rel=1e-12)
    same = [
        mmd(rng.normal(size=(200, 2)), rng.normal(size=(200, 2))) for _ in range(20)
    ]
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(20) + 1e-3


def test_frechet_distance_of_gaussians_has_its_closed_form():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(200_000, 2))
    b = rng.normal(size=(200_000, 2)) * [2.0, 0.5] + [1.0, -1.0]
    # |mu|^2 + sum (s_a - s_b)^2 for diagonal covariances: 2 + 1 + 0.25.
    assert frechet_distance(a, b) == pytest.approx(3.25, rel=0.02)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_equals_the_formula_with_a_matrix_square_root():
    """The eigenvalue route gives tr((S_r S_f)^(1/2)) of the FID formula."""
    from scipy import linalg

    rng = np.random.default_rng(5)
    a = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4))
    b = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 4)) + 0.3
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(s_a @ s_b).real
    direct = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s_a + s_b - 2 * root)
    assert frechet_distance(a, b) == pytest.approx(direct, rel=1e-9)
    # Scaled rows: the distance scales with the square, with no overflow.
    assert frechet_distance(a * 1e150, b * 1e150) == pytest.approx(
        direct * 1e300, rel=1e-9
    )


def test_sample_scorer_in_a_grid_search():
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(-3, 1, (300, 2)), rng.normal(3, 1, (300, 2))]
    scorer = make_sample_scorer(frechet_distance)
    search = GridSearchCV(
        GaussianMixture(random_state=0),
        {"n_components": [1, 2]},
        scoring=scorer,
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(X)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_ == {"n_components": 2}
