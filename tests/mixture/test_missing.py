"""GaussianMixture on rows with missing entries: exact EM, scores, conditionals.

Checked against the observed-marginal densities computed independently with
scipy, a hand-written Ghahramani-Jordan EM step, the analytic conditional
of a Gaussian, and today's complete-data EM (bit for bit).
"""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

from probmodels import GaussianMixture
from probmodels.impute import GenerativeImputer
from probmodels.mixture._gaussian import (
    full_precisions,
    moments_from_natural,
    natural_parameters,
    precision_cholesky,
)

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def blobs_with_holes(n=400, d=4, share=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 1, (n // 2, d)), rng.normal(3, 0.6, (n // 2, d))])
    X[:, 1] += 0.8 * X[:, 0]
    holes = X.copy()
    holes[rng.random(X.shape) < share] = np.nan
    return X, holes[~np.isnan(holes).all(axis=1)]


def observed_log_density(model, X):
    """log sum_k w_k N(x_o; mu_ko, Sigma_koo), by scipy on each row."""
    k, d = model.means_.shape
    cov = np.linalg.inv(full_precisions(model.precisions_, model.covariance_type, k, d))
    out = []
    for x in X:
        o = ~np.isnan(x)
        dens = [
            model.weights_[j]
            * multivariate_normal(model.means_[j][o], cov[j][np.ix_(o, o)]).pdf(x[o])
            for j in range(k)
        ]
        out.append(np.log(sum(dens)))
    return np.array(out)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_score_samples_is_the_observed_marginal(covariance_type):
    _, X = blobs_with_holes()
    model = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
    np.testing.assert_allclose(
        model.score_samples(X), observed_log_density(model, X), rtol=0, atol=1e-10
    )
    # predict_proba uses the observed entries: rows sum to one, finite.
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.filterwarnings("ignore:Best performing initialization")
def test_em_never_decreases_the_observed_likelihood(covariance_type):
    _, X = blobs_with_holes(share=0.3, seed=1)
    model = GaussianMixture(
        3, covariance_type=covariance_type, tol=0, max_iter=25, random_state=0
    ).fit(X)
    assert np.all(np.diff(model.lower_bounds_) >= -1e-12)
    # The bound is the mean observed log-likelihood of the final E-step's input.
    assert model.lower_bound_ <= model.score(X) + 1e-9


def gj_em_step(X, weights, means, covs):
    """One EM step of Ghahramani and Jordan (1994), written row by row."""
    n, d = X.shape
    k = len(weights)
    resp = np.zeros((n, k))
    fills = np.zeros((k, n, d))
    extra = np.zeros((k, n, d, d))
    for i, x in enumerate(X):
        o, m = ~np.isnan(x), np.isnan(x)
        for j in range(k):
            s_oo = covs[j][np.ix_(o, o)]
            resp[i, j] = weights[j] * multivariate_normal(means[j][o], s_oo).pdf(x[o])
            gain = covs[j][np.ix_(m, o)] @ np.linalg.inv(s_oo)
            fills[j, i] = x
            fills[j, i, m] = means[j][m] + gain @ (x[o] - means[j][o])
            extra[j, i][np.ix_(m, m)] = (
                covs[j][np.ix_(m, m)] - gain @ covs[j][np.ix_(o, m)]
            )
    resp /= resp.sum(axis=1, keepdims=True)
    nk = resp.sum(axis=0)
    new_means = np.einsum("nk,knd->kd", resp, fills) / nk[:, None]
    new_covs = np.empty((k, d, d))
    for j in range(k):
        centred = fills[j] - new_means[j]
        second = np.einsum("n,ni,nj->ij", resp[:, j], centred, centred)
        new_covs[j] = (second + np.einsum("n,nij->ij", resp[:, j], extra[j])) / nk[j]
    return nk / n, new_means, new_covs


def test_one_em_step_equals_ghahramani_jordan():
    _, X = blobs_with_holes(n=60, d=3, share=0.25, seed=2)
    weights = np.array([0.4, 0.6])
    means = np.array([[0.0, 0.0, 0.0], [3.0, 5.0, 3.0]])
    covs = np.array([np.eye(3) + 0.3, 0.5 * np.eye(3) + 0.1])
    model = GaussianMixture(
        2,
        max_iter=1,
        weights_init=weights,
        means_init=means,
        precisions_init=np.linalg.inv(covs),
        reg_covar=0.0,
        tol=0,
    )
    with pytest.warns(Warning, match="did not converge"):
        model.fit(X)
    w, mu, cov = gj_em_step(X, weights, means, covs)
    np.testing.assert_allclose(model.weights_, w, atol=1e-10)
    np.testing.assert_allclose(model.means_, mu, atol=1e-9)
    np.testing.assert_allclose(model.covariances_, cov, atol=1e-9)


def test_complete_rows_take_the_complete_data_pass(monkeypatch):
    """No NaN: today's E-step pass (so today's fit, bit for bit); NaN: the exact one."""
    from probmodels.mixture import _missing

    X, holes = blobs_with_holes()
    calls = []
    original = _missing.MissingStatistics.__call__

    def spy(self, theta):
        calls.append(1)
        return original(self, theta)

    monkeypatch.setattr(_missing.MissingStatistics, "__call__", spy)
    GaussianMixture(2, random_state=0).fit(X)
    assert not calls
    GaussianMixture(2, random_state=0).fit(holes)
    assert calls


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_natural_parameters_round_trip(covariance_type):
    rng = np.random.default_rng(0)
    k, d = 3, 4
    means = rng.normal(size=(k, d))
    a = rng.normal(size=(k, d, d))
    cov = {
        "full": a @ a.transpose(0, 2, 1) + np.eye(d),
        "tied": a[0] @ a[0].T + np.eye(d),
        "diag": rng.uniform(0.5, 2, (k, d)),
        "spherical": rng.uniform(0.5, 2, k),
    }[covariance_type]
    weights = np.array([0.2, 0.3, 0.5])
    prec_chol = precision_cholesky(cov, covariance_type, 0.0)
    theta = natural_parameters(weights, means, prec_chol, covariance_type)
    log_w, mu, prec = moments_from_natural(theta, covariance_type, d)
    np.testing.assert_allclose(np.exp(log_w), weights, rtol=1e-10)
    np.testing.assert_allclose(mu, means, atol=1e-10)
    full_cov = np.linalg.inv(prec)
    expected = np.linalg.inv(
        full_precisions(
            np.linalg.inv(cov) if covariance_type in ("full", "tied") else 1 / cov,
            covariance_type,
            k,
            d,
        )
    )
    np.testing.assert_allclose(full_cov, expected, atol=1e-10)


def test_conditional_sample_matches_the_analytic_conditional():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8, 0.3], [0.8, 2.0, 0.5], [0.3, 0.5, 1.5]])
    X = rng.multivariate_normal([1, 2, 3], cov, size=2000)
    model = GaussianMixture(1, random_state=0).fit(X)
    n = 20000
    draws = model.sample(n, given={0: 2.0}, random_state=1)
    assert np.all(draws[:, 0] == 2.0)
    mu, c = model.means_[0], model.covariances_[0]
    mean = mu[1:] + c[1:, 0] / c[0, 0] * (2.0 - mu[0])
    cond = c[1:, 1:] - np.outer(c[1:, 0], c[0, 1:]) / c[0, 0]
    se = np.sqrt(np.diag(cond) / n)
    assert np.all(np.abs(draws[:, 1:].mean(axis=0) - mean) < 4 * se)
    np.testing.assert_allclose(np.cov(draws[:, 1:].T), cond, rtol=0.05, atol=0.02)


def test_conditional_on_a_category_is_the_component_mixture():
    rng = np.random.default_rng(0)
    n = 600
    kind = rng.choice(["a", "b"], n, p=[0.9, 0.1])
    value = np.where(kind == "a", rng.normal(0, 1, n), rng.normal(6, 0.5, n))
    frame = pd.DataFrame({"kind": pd.Categorical(kind), "value": value})
    model = GaussianMixture(2, random_state=0).fit(frame)
    draws = model.sample(4000, given={"kind": "b"}, random_state=0)
    assert (draws["kind"] == "b").all()
    assert list(draws["kind"].cat.categories) == ["a", "b"]
    # Analytic: p(value | kind=b) is the components weighted by w_k pi_k(b).
    pi_b = np.array([np.exp(lp[1]) for lp in model.category_log_prob_[0]])
    post = model.weights_ * pi_b
    post /= post.sum()
    expected = post @ model.means_[:, 0]
    assert abs(draws["value"].mean() - expected) < 0.05
    assert abs(draws["value"].mean() - 6.0) < 0.15
    with pytest.raises(ValueError, match="'c'.*never saw"):
        model.sample(3, given={"kind": "c"})


def test_impute_mean_is_the_conditional_mean_and_keeps_observed():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    X = rng.multivariate_normal([0, 0], cov, size=3000)
    model = GaussianMixture(1, random_state=0).fit(X)
    query = np.array([[1.0, np.nan], [np.nan, -2.0], [0.5, 0.5]])
    filled = model.impute(query, method="mean")
    mu, c = model.means_[0], model.covariances_[0]
    assert filled[0, 1] == pytest.approx(mu[1] + c[1, 0] / c[0, 0] * (1 - mu[0]))
    assert filled[1, 0] == pytest.approx(mu[0] + c[0, 1] / c[1, 1] * (-2 - mu[1]))
    np.testing.assert_array_equal(filled[~np.isnan(query)], query[~np.isnan(query)])
    draws = np.array([model.impute(query, random_state=s)[0, 1] for s in range(400)])
    cond_sd = np.sqrt(c[1, 1] - c[1, 0] ** 2 / c[0, 0])
    assert abs(draws.mean() - filled[0, 1]) < 4 * cond_sd / 20
    assert draws.std() == pytest.approx(cond_sd, rel=0.15)


def test_mixed_frame_with_missing_values_round_trips_dtypes():
    rng = np.random.default_rng(1)
    n = 300
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 2, n),
            "count": rng.integers(0, 20, n),
            "colour": pd.Categorical(rng.choice(["red", "blue", "green"], n)),
        }
    )
    holes = frame.copy()
    holes.loc[rng.random(n) < 0.2, "size"] = np.nan
    holes["count"] = holes["count"].astype("Int64")
    holes.loc[rng.random(n) < 0.2, "count"] = pd.NA
    holes.loc[rng.random(n) < 0.2, "colour"] = np.nan
    model = GaussianMixture(2, random_state=0).fit(holes)
    filled = model.impute(holes)
    assert not filled.isna().any().any()
    assert filled["colour"].dtype == holes["colour"].dtype
    kept = holes["size"].notna()
    np.testing.assert_array_equal(filled.loc[kept, "size"], holes.loc[kept, "size"])
    assert set(filled["colour"]) <= {"red", "blue", "green"}
    # score_samples counts the categories observed: dropping one raises the density.
    one = holes.dropna().iloc[:1]
    less = one.copy()
    less["colour"] = np.nan
    assert model.score_samples(less)[0] > model.score_samples(one)[0]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda m: m.sample(2, given={"nope": 1.0}), "'nope', which is not a fitted"),
        (lambda m: m.sample(2, given={0: 1.0, 1: 2.0, 2: 0.0}), "fixes every column"),
        (lambda m: m.sample(2, given=pd.DataFrame({0: [1.0]})), "n_samples=len"),
        (lambda m: m.sample(2, given={0: "x"}), "holds numbers"),
        (lambda m: m.impute(np.full((2, 3), np.nan)), "Row 0 of X has no observed"),
        (lambda m: m.impute(np.ones((2, 3)), method="median"), "method must be one of"),
    ],
)
def test_bad_conditions_get_one_line_errors(call, match):
    X, _ = blobs_with_holes(d=3)
    model = GaussianMixture(2, random_state=0).fit(X)
    before = model.sample(3, random_state=0)
    with pytest.raises((ValueError, TypeError), match=match):
        call(model)
    np.testing.assert_array_equal(model.sample(3, random_state=0), before)


def test_a_column_with_no_value_is_refused():
    X, _ = blobs_with_holes(d=3)
    empty = X.copy()
    empty[:, 2] = np.nan
    with pytest.raises(ValueError, match="Column 2 has no observed value"):
        GaussianMixture(2).fit(empty)
    frame = pd.DataFrame({"a": X[:, 0], "b": pd.Categorical([None] * len(X))})
    with pytest.raises(ValueError, match="Column 'b' has no observed value"):
        GaussianMixture(2).fit(frame)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gradient_solver_maximises_the_same_observed_likelihood(covariance_type):
    """L-BFGS on the observed-marginal loss reaches EM's optimum."""
    _, X = blobs_with_holes(d=3, share=0.25)
    kw = dict(covariance_type=covariance_type, random_state=0)
    em = GaussianMixture(2, tol=1e-9, max_iter=500, **kw).fit(X)
    grad = GaussianMixture(2, solver="gradient", tol=1e-10, max_iter=300, **kw).fit(X)
    assert grad.score(X) == pytest.approx(em.score(X), abs=1e-6)
    np.testing.assert_allclose(
        grad.score_samples(X), observed_log_density(grad, X), atol=1e-10
    )
    # partial_fit takes holes too (Adam over the chunk).
    step = GaussianMixture(2, solver="gradient", **kw).partial_fit(X)
    assert np.isfinite(step.score(X))


def test_gradient_solver_on_missing_categories_matches_em():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=200),
            "c": pd.Categorical(rng.choice(["x", "y"], 200)),
        }
    )
    frame.loc[::7, "c"] = np.nan
    frame.loc[::5, "a"] = np.nan
    frame.loc[::35, "a"] = 1.0
    em = GaussianMixture(2, random_state=0, tol=1e-9, max_iter=500).fit(frame)
    grad = GaussianMixture(
        2, solver="gradient", random_state=0, tol=1e-10, max_iter=300
    ).fit(frame)
    assert grad.score(frame) == pytest.approx(em.score(frame), abs=1e-5)


def test_sample_weight_counts_like_repeated_rows():
    _, X = blobs_with_holes(n=120, d=3, seed=3)
    weight = np.tile([1, 2], len(X) // 2 + 1)[: len(X)]
    a = GaussianMixture(2, random_state=0, tol=1e-12, max_iter=200)
    b = GaussianMixture(2, random_state=0, tol=1e-12, max_iter=200)
    a.fit(X, sample_weight=weight)
    b.fit(np.repeat(X, weight, axis=0), sample_weight=None)
    order = np.argsort(a.means_[:, 0]), np.argsort(b.means_[:, 0])
    np.testing.assert_allclose(a.means_[order[0]], b.means_[order[1]], atol=1e-3)


def test_generative_imputer_in_a_pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    X, _ = blobs_with_holes(n=200, d=3, share=0.0)
    y = (X[:, 0] > 1.5).astype(int)
    holes = X.copy()
    holes[rng.random(X.shape) < 0.2] = np.nan
    holes[np.isnan(holes).all(axis=1), 0] = 0.0
    pipe = make_pipeline(
        GenerativeImputer(GaussianMixture(2, random_state=0)), LogisticRegression()
    )
    search = GridSearchCV(
        pipe, {"generativeimputer__estimator__n_components": [1, 2]}, cv=2
    )
    search.fit(holes, y)
    assert search.score(holes, y) > 0.8
    imputer = GenerativeImputer(
        GaussianMixture(2, random_state=0), method="draw", n_draws=3
    )
    tables = imputer.fit(holes).multiple_imputations(holes)
    assert len(tables) == 3 and not np.isnan(tables[0]).any()
    assert not np.array_equal(tables[0], tables[1])
    frame = pd.DataFrame(holes, columns=["a", "b", "c"])
    out = GenerativeImputer().set_output(transform="pandas").fit_transform(frame)
    assert list(out.columns) == ["a", "b", "c"]
    assert list(GenerativeImputer().fit(frame).get_feature_names_out()) == [
        "a",
        "b",
        "c",
    ]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pattern_blocks_and_the_per_row_pass_agree(covariance_type):
    """Common patterns as complete data on their observed columns give the
    same statistics as the per-row pass (categories missing too)."""
    from probmodels.mixture._missing import MissingStatistics

    _, X = blobs_with_holes(n=300, d=4, share=0.3, seed=5)
    rng = np.random.default_rng(0)
    onehot = np.eye(3)[rng.integers(0, 3, len(X))]
    onehot[rng.random(len(X)) < 0.2] = np.nan
    rows = np.hstack([X - np.nanmean(X, axis=0), onehot])
    # Rows with only their category seen: a pattern with no continuous entry.
    seen = ~np.isnan(onehot[:, 0])
    rows[np.flatnonzero(seen)[:5], :4] = np.nan
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0)
    model.fit(pd.DataFrame(X))
    center = np.zeros(4)
    params = model._current_parameters(center)
    log_probs = np.log([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [1 / 3, 1 / 3, 1 / 3]])
    theta = np.hstack([model._natural_parameters(params), log_probs])
    results = []
    for threshold in (1, 10**9):  # every pattern as a block; none
        with MissingStatistics(rows, None, covariance_type, 3, threshold) as data:
            results.append(data(theta))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-9, atol=1e-9)
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-12)


def test_log_density_bounds_hold_the_exact_observed_density():
    from probmodels.mixture._observed import (
        MissingLayout,
        bound_coefficients,
        distance_features,
        log_density_bounds,
        observed_log_prob,
    )

    rng = np.random.default_rng(3)
    k, d = 4, 5
    A = rng.normal(size=(k, d, d))
    prec = A @ A.transpose(0, 2, 1) + 0.3 * np.eye(d)  # ill-conditioned too
    means = rng.normal(0, 3, (k, d))
    log_w = np.log(rng.dirichlet(np.ones(k)))
    X = rng.normal(0, 3, (500, d))
    X[rng.random(X.shape) < 0.4] = np.nan
    X = X[~np.isnan(X).all(axis=1)]
    exact = observed_log_prob(X, log_w, means, prec)
    X0 = np.nan_to_num(X)
    lower, upper = log_density_bounds(
        distance_features(X0, MissingLayout(np.isnan(X))),
        bound_coefficients(log_w, means, prec),
    )
    assert np.all(lower <= exact + 1e-9)
    assert np.all(exact <= upper + 1e-9)
    # Tight where a component is spherical: its bounds meet.
    iso = np.broadcast_to(2.0 * np.eye(d), (k, d, d))
    exact = observed_log_prob(X, log_w, means, iso)
    lower, upper = log_density_bounds(
        distance_features(X0, MissingLayout(np.isnan(X))),
        bound_coefficients(log_w, means, iso),
    )
    np.testing.assert_allclose(lower, exact, atol=1e-9)
    np.testing.assert_allclose(upper, exact, atol=1e-9)


def test_pair_posterior_is_the_dense_posterior():
    from probmodels.mixture._observed import pair_posterior, posterior

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 30, (50, 6))
    keep = rng.random(logits.shape) < 0.5
    keep[np.arange(50), logits.argmax(axis=1)] = True
    rows, components = np.nonzero(keep)
    resp, log_norm = pair_posterior(rows, logits[keep].copy())
    dense = np.where(keep, logits, -np.inf)
    expected, expected_norm = posterior(dense)
    np.testing.assert_allclose(resp, expected[keep], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(log_norm, expected_norm, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pairs_left_out_by_the_bounds_change_no_statistic(monkeypatch, covariance_type):
    """Separated components: most (row, component) pairs are left out, and
    the statistics equal the pass over every pair to rounding."""
    from probmodels.mixture import _missing

    rng = np.random.default_rng(1)
    centres = rng.normal(0, 12, (4, 5))
    X = np.vstack([c + rng.normal(size=(150, 5)) for c in centres])
    X[rng.random(X.shape) < 0.3] = np.nan
    X = X[~np.isnan(X).all(axis=1)]
    onehot = np.eye(2)[rng.integers(0, 2, len(X))]
    rows = np.hstack([X - np.nanmean(X, axis=0), onehot])
    model = GaussianMixture(4, covariance_type=covariance_type, random_state=0)
    model.fit(X)
    params = model._current_parameters(np.nanmean(X, axis=0))
    log_probs = np.log([[0.3, 0.7]] * 4)
    theta = np.hstack([model._natural_parameters(params), log_probs])
    weight = rng.uniform(0.5, 2.0, len(X))
    results, pairs = [], []
    for share in (1.0, 0.0):  # pairs left out where the bounds allow; none
        monkeypatch.setattr(_missing, "DENSE_SHARE", share)
        with _missing.MissingStatistics(
            rows, weight, covariance_type, 2, 10**9
        ) as data:
            results.append(data(theta))
            rare = data._rare_logits(data._parameters(theta))
            pairs.append(rare.logits.size)
            labels = data.labels(theta)
        np.testing.assert_array_equal(labels, model.predict(X))
    assert pairs[0] < 0.5 * pairs[1] == 0.5 * len(X) * 4
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-9)
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-14)


@pytest.mark.parametrize("share", [0.0, 1.0])  # every pair; pairs left out
def test_e_step_log_likelihood_is_scipys_observed_density(monkeypatch, share):
    from probmodels.mixture import _missing

    _, X = blobs_with_holes(n=300, d=4, share=0.3, seed=7)
    model = GaussianMixture(3, random_state=0).fit(X)
    center = np.nanmean(X, axis=0)
    theta = model._natural_parameters(model._current_parameters(center))
    monkeypatch.setattr(_missing, "DENSE_SHARE", share)
    with _missing.MissingStatistics(X - center, None, "full", 0, 10**9) as data:
        _, ll = data(theta)
    assert ll == pytest.approx(observed_log_density(model, X).sum(), rel=1e-10)
