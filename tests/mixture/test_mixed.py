"""GaussianMixture on tables with categorical columns (the latent class model).

Each component is a Gaussian over the continuous columns times an
independent categorical distribution per categorical column (Hunt and
Jorgensen, 2003). Checked against direct computations: the density by
scipy, one EM step written out by hand, the parameter count.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import logsumexp

from probmodels import GaussianMixture
from probmodels.exceptions import ConvergenceWarning
from probmodels.mixture._em import NumpyStatistics
from probmodels.mixture._gaussian import features

RNG = np.random.default_rng(0)


def table(n=300, seed=0):
    """Two groups that differ in the numbers and in the categories."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n) + 3 * group,
            "kind": pd.Categorical(
                np.where(
                    rng.random(n) < np.where(group, 0.8, 0.1),
                    "x",
                    rng.choice(["y", "z"], n),
                )
            ),
            "b": rng.normal(size=n) * (1 + group),
            "flag": (rng.random(n) < np.where(group, 0.2, 0.7)),
        }
    )


def direct_log_density(gm, frame):
    """log sum_k w_k N(x_cont; mu_k, S_k) prod_j pi_kj(x_j), by scipy."""
    cont = frame[["a", "b"]].to_numpy()
    cats = [frame["kind"].astype(object), frame["flag"]]
    per_component = []
    for k in range(gm.n_components):
        log_p = np.log(gm.weights_[k]) + stats.multivariate_normal(
            gm.means_[k], gm.covariances_[k]
        ).logpdf(cont)
        for j, values in enumerate(cats):
            index = {c: i for i, c in enumerate(gm.categories_[j])}
            codes = np.array([index[v] for v in values])
            log_p = log_p + gm.category_log_prob_[j][k, codes]
        per_component.append(log_p)
    return logsumexp(np.column_stack(per_component), axis=1)


@pytest.fixture(scope="module")
def fitted():
    return GaussianMixture(2, random_state=0).fit(table())


def test_score_samples_is_density_times_probability(fitted):
    frame = table(50, seed=1)
    np.testing.assert_allclose(
        fitted.score_samples(frame), direct_log_density(fitted, frame), rtol=1e-10
    )
    # The groups are found: each component favours one category pattern.
    x_share = np.exp(fitted.category_log_prob_[0][:, fitted.categories_[0].index("x")])
    assert abs(x_share[0] - x_share[1]) > 0.5


def test_one_em_step_equals_a_hand_written_one(fitted):
    frame = table(40, seed=2)
    gm = GaussianMixture(2, random_state=0).fit(frame)
    X = gm._validate_X(frame, reset=False)
    center = gm._center(X, None)
    params = gm._current_parameters(center)
    phi = features(X - center, "full", gm._n_onehot)
    stats_, _ = NumpyStatistics(phi, None, n_components=2)(
        gm._natural_parameters(params)
    )
    weights, means_c, cov, _, log_probs = gm._m_step(stats_)
    # By hand: responsibilities from the direct density, then weighted
    # counts, means, covariances and category shares (Bishop, eqs. 9.23-9.27).
    cont = frame[["a", "b"]].to_numpy()
    joint = np.column_stack(
        [
            np.log(gm.weights_[k])
            + stats.multivariate_normal(gm.means_[k], gm.covariances_[k]).logpdf(cont)
            + gm.category_log_prob_[0][k, frame["kind"].cat.codes.to_numpy()]
            + gm.category_log_prob_[1][k, frame["flag"].to_numpy().astype(int)]
            for k in range(2)
        ]
    )
    resp = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
    nk = resp.sum(0)
    np.testing.assert_allclose(weights, nk / nk.sum(), rtol=1e-9)
    mu = resp.T @ cont / nk[:, None]
    np.testing.assert_allclose(means_c + center[:2], mu, rtol=1e-9)
    for k in range(2):
        diff = cont - mu[k]
        # reg_covar, relative to each column's variance on a table.
        reg = 1e-6 * np.diag(cont.var(axis=0))
        expected = (resp[:, k, None] * diff).T @ diff / nk[k] + reg
        np.testing.assert_allclose(cov[k], expected, rtol=1e-8)
    shares = (
        np.column_stack(
            [resp[frame["kind"].cat.codes.to_numpy() == c].sum(0) for c in range(3)]
        )
        / nk[:, None]
    )
    np.testing.assert_allclose(np.exp(log_probs[:, :3]), shares, rtol=1e-9, atol=1e-12)


def test_sample_gives_the_table_back_in_its_dtypes(fitted):
    frame = table()
    samples = fitted.sample(400, random_state=0)
    assert list(samples.columns) == list(frame.columns)
    assert (samples.dtypes == frame.dtypes).all()
    assert list(samples["kind"].cat.categories) == list(frame["kind"].cat.categories)
    # The joint structure comes back: the numbers follow the categories.
    high = samples["a"] > 1.5
    assert samples.loc[high, "kind"].eq("x").mean() > 0.6
    assert samples.loc[~high, "kind"].eq("x").mean() < 0.3


def test_bic_counts_the_category_probabilities(fitted):
    frame = table()
    n = len(frame)
    # full covariance over 2 continuous columns: 2 * 3 + 2 * 2 + 1 = 11,
    # categories: 2 components x ((3 - 1) + (2 - 1)) = 6.
    assert fitted._n_parameters() == 17
    assert fitted.bic(frame) == pytest.approx(
        -2 * fitted.score(frame) * n + 17 * np.log(n)
    )


def test_an_unseen_category_is_named(fitted):
    frame = table(10).astype({"kind": object})
    frame.loc[3, "kind"] = "w"
    for method in (fitted.score_samples, fitted.predict_proba):
        with pytest.raises(ValueError, match=r"Column 'kind' holds 'w' \(row 3\)"):
            method(frame)


def test_a_table_of_categories_only_is_a_latent_class_model():
    """Four yes/no items, two classes: identified, so EM finds the classes."""
    rng = np.random.default_rng(3)
    n, truth = 2000, np.array([[0.1, 0.2, 0.3, 0.2], [0.9, 0.8, 0.7, 0.9]])
    group = rng.integers(0, 2, n)
    items = rng.random((n, 4)) < truth[group]
    frame = pd.DataFrame(np.where(items, "yes", "no"), columns=list("pqrs"))
    gm = GaussianMixture(2, random_state=0, n_init=3).fit(frame)
    assert gm.means_.shape == (2, 0)
    # Exact: log sum_k w_k prod_j pi_kj(x_j).
    lp = np.log(gm.weights_)[None] + sum(
        gm.category_log_prob_[j][:, (frame[c] == "yes").to_numpy().astype(int)].T
        for j, c in enumerate(frame.columns)
    )
    np.testing.assert_allclose(
        gm.score_samples(frame), logsumexp(lp, axis=1), rtol=1e-10
    )
    yes = np.exp(np.array([p[:, 1] for p in gm.category_log_prob_]).T)
    order = np.argsort(yes[:, 0])
    np.testing.assert_allclose(yes[order], truth, atol=0.06)
    np.testing.assert_allclose(np.sort(gm.weights_), [0.5, 0.5], atol=0.05)


def test_weights_count_like_repeated_rows():
    frame = table(60, seed=4)
    w = RNG.integers(1, 4, len(frame))
    repeated = frame.loc[np.repeat(frame.index, w)].reset_index(drop=True)
    init = dict(random_state=0, init_params="random_from_data", max_iter=20, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = GaussianMixture(2, means_init=[[0, 0], [3, 0]], **init).fit(
            frame, sample_weight=w
        )
        plain = GaussianMixture(2, means_init=[[0, 0], [3, 0]], **init).fit(repeated)
    np.testing.assert_allclose(weighted.means_, plain.means_, rtol=1e-6)
    for a, b in zip(weighted.category_log_prob_, plain.category_log_prob_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_the_gradient_solver_reaches_em_on_a_mixed_table(fitted):
    frame = table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gradient = GaussianMixture(
            2, solver="gradient", random_state=0, max_iter=200, device="cpu"
        ).fit(frame)
    assert gradient.score(frame) == pytest.approx(fitted.score(frame), abs=0.02)
    np.testing.assert_allclose(
        gradient.score_samples(frame.head()),
        direct_log_density(gradient, frame.head()),
        rtol=1e-8,
    )


def test_warm_start_continues_and_a_numeric_frame_is_unchanged():
    frame = table()
    gm = GaussianMixture(2, random_state=0, max_iter=3, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(frame)
        first = gm.lower_bound_
        gm.fit(frame)
    assert gm.lower_bound_ >= first - 1e-12
    # Float columns only: the same model as the array, parameter for parameter.
    numeric = frame[["a", "b"]]
    a = GaussianMixture(2, random_state=0).fit(numeric)
    b = GaussianMixture(2, random_state=0).fit(numeric.to_numpy())
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(a.covariances_, b.covariances_)
    assert a.category_log_prob_ == [] and not a.is_categorical_.any()


def spiky_table(n=2000, seed=0):
    """Adult's difficulty in small: a weight in the hundred thousands, a gain
    that is 0 in 92% of rows, an age, and a category that goes with them."""
    rng = np.random.default_rng(seed)
    rich = rng.random(n) < 0.08
    return pd.DataFrame(
        {
            "fnlwgt": rng.normal(2e5, 1e5, n).round(),
            "gain": np.where(rich, np.exp(rng.normal(8.5, 1.0, n)).round(), 0.0),
            "age": rng.integers(17, 90, n).astype(float),
            "income": np.where(rich | (rng.random(n) < 0.2), ">50K", "<=50K"),
        }
    )


def test_a_table_with_spikes_and_large_units_fits_with_the_defaults():
    X = spiky_table()
    gm = GaussianMixture(10, random_state=0).fit(X)
    variances = X[["fnlwgt", "gain", "age"]].var(ddof=0).to_numpy()
    np.testing.assert_allclose(gm._regularisation(), 1e-6 * variances)
    # Each covariance holds at least the relative regularisation.
    floor = np.diagonal(gm.covariances_, axis1=1, axis2=2) / variances
    assert (floor >= 1e-6 * (1 - 1e-9)).all()
    # The spike stays a spike: most sampled gains are within a hundredth of
    # the column's spread from 0 (the regularisation's own width is a
    # thousandth of it).
    gains = gm.sample(4000, random_state=0)["gain"].to_numpy()
    assert np.mean(np.abs(gains) < 0.01 * X["gain"].std()) > 0.85
    assert np.isfinite(gm.score(X))
    # A numeric array keeps scikit-learn's absolute reg_covar.
    plain = GaussianMixture(2, random_state=0).fit(X[["age"]].to_numpy())
    assert plain._regularisation() == 1e-6


def test_adult_fits_with_the_defaults():
    # With an absolute reg_covar this refused: "the covariance of
    # component(s) [5] is not positive definite" (issue 32).
    from probmodels.datasets import load_adult

    train, test = load_adult(), load_adult("test")
    gm = GaussianMixture(10, random_state=0).fit(train)
    assert gm.converged_ and np.isfinite(gm.score(test))
    sample = gm.sample(100, random_state=0)
    assert list(sample.columns) == list(train.columns)
    assert (sample.dtypes == train.dtypes).all()
