"""HiddenChowLiuTree against enumeration on tiny tables: the density summed
over every latent configuration, one EM step written out, normalisation,
exact conditionals, the Chow-Liu tree, and what the tree adds."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp
from sklearn.metrics import mutual_info_score

from probmodels import HiddenChowLiuTree, LatentClassMixture, load, save
from probmodels.exceptions import ConvergenceWarning
from probmodels.mixture._chow_liu import (
    chow_liu_parents,
    pairwise_mutual_information,
)


def chain(n=600, d=4, seed=0, keep=0.85):
    """Categorical columns a Markov chain links: each copies the one before
    it with probability ``keep``, else draws one of three values."""
    rng = np.random.default_rng(seed)
    cols = [rng.integers(0, 3, n)]
    for _ in range(d - 1):
        copy = rng.random(n) < keep
        cols.append(np.where(copy, cols[-1], rng.integers(0, 3, n)))
    return pd.DataFrame({f"c{j}": np.array(list("xyz"))[c] for j, c in enumerate(cols)})


def mixed(n=500, seed=0):
    """An integer of few values, a spiked integer, and a category."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    return pd.DataFrame(
        {
            "level": rng.integers(0, 3, n) + 2 * group,
            "count": np.where(
                rng.random(n) < 0.5, 0, rng.integers(1, 30, n) + 10 * group
            ),
            "kind": np.where(group == 1, "b", "a"),
        }
    )


def enumerate_joint(model, states):
    """log p(states, z) for every latent configuration z, by brute force.

    Returns an array of shape (n, H ** d) and the configurations.
    """
    H, d = model.n_latent, len(model.transitions_)
    configs = np.array(list(itertools.product(range(H), repeat=d)))
    logs = np.zeros((len(states), len(configs)))
    for k, z in enumerate(configs):
        for j in range(d):
            p = model._parent[j]
            logs[:, k] += np.log(model.transitions_[j][0 if p < 0 else z[p], z[j]])
            seen = states[:, j] >= 0
            logs[seen, k] += model.state_log_prob_[j][z[j], states[seen, j]]
    return logs, configs


def fitted(X, H=2, **kw):
    with pytest.warns(ConvergenceWarning):
        return HiddenChowLiuTree(
            H, n_bins=4, max_iter=3, tol=0, random_state=0, **kw
        ).fit(X)


def test_density_is_the_sum_over_every_latent_configuration():
    X = mixed(n=300)
    X = X.astype({"level": float})
    X.loc[2, "level"] = np.nan  # a missing entry leaves its leaf out
    model = fitted(X)
    rows = pd.concat([X.head(12), X.head(1).assign(count=500)])  # 500: a tail
    got = model.score_samples(rows)
    encoded = model._types.encode(rows, allow_nan=True)
    states, base = model._table().encode(encoded)
    logs = enumerate_joint(model, states)[0]
    np.testing.assert_allclose(got, logsumexp(logs, axis=1) + base, rtol=1e-10)


def test_one_em_step_equals_one_written_out_by_enumeration():
    X = chain(n=150, d=3)
    X.loc[4, "c1"] = None
    model = fitted(X, batch_size=64)  # several chunks: counts add up
    table = model._table()
    states = table.encode(model._types.encode(X, allow_nan=True))[0]
    logs, configs = enumerate_joint(model, states)
    post = np.exp(logs - logsumexp(logs, axis=1, keepdims=True))  # p(z | x_n)
    (pair, leaf), mean = model._expected_counts(
        states, model.transitions_, [np.exp(lp) for lp in model.state_log_prob_]
    )
    assert mean == pytest.approx(logsumexp(logs, axis=1).mean(), rel=1e-10)
    H = model.n_latent
    for j, p in enumerate(model._parent):
        expected = np.zeros_like(pair[j])
        for k, z in enumerate(configs):
            expected[0 if p < 0 else z[p], z[j]] += post[:, k].sum()
        np.testing.assert_allclose(pair[j], expected, rtol=1e-9)
        expected = np.zeros((H, 3))
        for k, z in enumerate(configs):
            seen = states[:, j] >= 0
            np.add.at(expected[z[j]], states[seen, j], post[seen, k])
        np.testing.assert_allclose(leaf[j], expected, rtol=1e-9, atol=1e-12)
    # The M-step: counts plus the pseudo-count 0.01, normalised per row.
    transitions, leaves = model._m_step(pair, leaf)
    np.testing.assert_allclose(
        transitions[1], (pair[1] + 0.01) / (pair[1] + 0.01).sum(1, keepdims=True)
    )
    np.testing.assert_allclose(
        leaves[0], (leaf[0] + 0.01) / (leaf[0] + 0.01).sum(1, keepdims=True)
    )


def test_probabilities_of_a_discrete_table_sum_to_one_less_the_tails():
    X = mixed(n=400)[["level", "kind"]]
    model = HiddenChowLiuTree(3, random_state=0).fit(X)
    (bins,) = model.bins_
    grid = pd.DataFrame(
        list(itertools.product(range(0, 5), ["a", "b"])), columns=["level", "kind"]
    )
    total = np.exp(model.score_samples(grid)).sum()
    assert total == pytest.approx(1 - bins.tail_mass, rel=1e-10)


def test_conditionals_and_marginals_are_exact():
    X = chain(n=800, d=4)
    model = HiddenChowLiuTree(3, random_state=0).fit(X)
    grid = pd.DataFrame(list(itertools.product("xyz", repeat=4)), columns=X.columns)
    joint = np.exp(model.score_samples(grid))
    assert joint.sum() == pytest.approx(1.0, rel=1e-10)
    # A missing entry is summed out: p(c0 = x, c3 = z) from the full joint.
    query = pd.DataFrame({"c0": ["x"], "c1": [None], "c2": [None], "c3": ["z"]})
    pick = (grid["c0"] == "x") & (grid["c3"] == "z")
    assert np.exp(model.score_samples(query))[0] == pytest.approx(joint[pick].sum())
    # p(c1, c2 | c0 = x, c3 = z) against draws given both.
    exact = joint[pick] / joint[pick].sum()
    drawn = model.sample(20000, given={"c0": "x", "c3": "z"}, random_state=0)
    assert (drawn["c0"] == "x").all() and (drawn["c3"] == "z").all()
    pairs = grid[pick][["c1", "c2"]].agg("".join, axis=1)
    freq = drawn[["c1", "c2"]].agg("".join, axis=1).value_counts(normalize=True)
    np.testing.assert_allclose(freq.reindex(pairs).fillna(0), exact, atol=0.015)
    # impute's "mean" of a category: the mode of its exact conditional.
    mode = model.impute(query, method="mean")["c1"].iloc[0]
    by_c1 = pd.Series(joint[pick], index=grid[pick]["c1"]).groupby(level=0).sum()
    assert mode == by_c1.idxmax()


def test_mutual_information_and_the_chow_liu_tree():
    X = chain(n=3000, d=4)
    codes = np.column_stack([pd.factorize(X[c], sort=True)[0] for c in X])
    mi = pairwise_mutual_information(codes)
    assert mi[0, 2] == pytest.approx(mutual_info_score(codes[:, 0], codes[:, 2]))
    # A chain's neighbours share the most information: the tree is the chain.
    parents = chow_liu_parents(mi)
    edges = {frozenset((j, p)) for j, p in enumerate(parents) if p >= 0}
    assert edges == {frozenset((0, 1)), frozenset((1, 2)), frozenset((2, 3))}
    assert parents[1] == -1 or parents[2] == -1  # rooted at a centre
    model = HiddenChowLiuTree(2, random_state=0).fit(X)
    np.testing.assert_array_equal(model.parents_, parents)
    np.testing.assert_allclose(model.mutual_information_, mi, rtol=0.05)


def test_the_tree_beats_one_class_of_the_same_size_on_a_chain():
    """Dependence along a chain is what a latent class cannot hold with few
    classes and a tree of latents holds exactly: started at the observed
    values, EM finds it (the chain's entropy is 3.07 nats)."""
    train, test = chain(n=2000, d=6, seed=0), chain(n=2000, d=6, seed=1)
    tree = HiddenChowLiuTree(3, init_params="values", random_state=0).fit(train)
    lcm = LatentClassMixture(3, random_state=0).fit(train)
    assert tree.score(test) > lcm.score(test) + 0.5
    assert tree.score(test) == pytest.approx(-3.07, abs=0.05)


def test_samples_keep_kinds_spikes_and_structure(tmp_path):
    X = mixed(n=2000)
    model = HiddenChowLiuTree(8, random_state=0).fit(X)
    out = model.sample(4000, random_state=1)
    assert (out.dtypes == X.dtypes).all()
    assert abs((out["count"] == 0).mean() - (X["count"] == 0).mean()) < 0.03
    high = out["level"] >= 3
    assert ((out["kind"] == "b") == high)[out["level"] != 2].mean() > 0.95
    save(model, tmp_path / "tree.skops")
    again = load(tmp_path / "tree.skops")
    np.testing.assert_array_equal(again.score_samples(X), model.score_samples(X))
    # A model with one column is the root alone.
    alone = HiddenChowLiuTree(2, random_state=0).fit(X[["kind"]])
    assert alone.parents_.tolist() == [-1]
    assert set(alone.sample(50, random_state=0)["kind"]) <= {"a", "b"}


def test_missing_entries_are_filled_and_kept():
    X = mixed(n=400).astype({"level": float})
    holes = X.copy()
    holes.loc[::7, "level"] = np.nan
    holes.loc[::5, "kind"] = None
    model = HiddenChowLiuTree(4, random_state=0).fit(holes)
    for method in ["draw", "mean"]:
        filled = model.impute(holes, method=method, random_state=0)
        assert not filled.isna().any().any()
        kept = holes["level"].notna()
        assert (filled.loc[kept, "level"] == holes.loc[kept, "level"]).all()


def test_bad_input_is_refused_clearly():
    X = mixed(n=30)
    with pytest.raises(ValueError, match="n_latent"):
        HiddenChowLiuTree(0).fit(X)
    with pytest.raises(ValueError, match="smoothing"):
        HiddenChowLiuTree(2, smoothing=0).fit(X)
    model = HiddenChowLiuTree(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="'c'"):
        model.score_samples(X.assign(kind="c"))
    empty = X.astype({"level": float, "count": float})
    empty.loc[0, ["level", "count", "kind"]] = [np.nan, np.nan, None]
    with pytest.raises(ValueError, match="no observed entry"):
        HiddenChowLiuTree(2).fit(empty)


def test_bic_counts_every_free_parameter():
    X = mixed(n=300)[["level", "kind"]]
    model = HiddenChowLiuTree(3, random_state=0).fit(X)
    (bins,) = model.bins_
    # Leaves: 3 states x (n_states - 1) each; the root's prior 2; a transition 3 x 2.
    free = 3 * (bins.n_states - 1) + 3 * (2 - 1) + 2 + 3 * 2
    expected = -2 * model.score_samples(X).sum() + free * np.log(len(X))
    assert model.bic(X) == pytest.approx(expected)


def test_early_stopping_keeps_the_best_step_on_held_out_rows():
    X = chain(n=400, d=5, keep=0.6)
    stopping = {"early_stopping": True, "tol": 0, "random_state": 0}
    model = HiddenChowLiuTree(6, n_iter_no_change=3, max_iter=200, **stopping).fit(X)
    scores = model.validation_scores_
    assert model.converged_ and len(scores) == model.n_iter_
    best = int(np.argmax(scores)) + 1
    assert model.n_iter_ == best + 3  # three steps without a gain, then stop
    # The parameters kept are those of the best step: the same fit stopped there.
    with pytest.warns(ConvergenceWarning):
        there = HiddenChowLiuTree(6, max_iter=best, **stopping).fit(X)
    np.testing.assert_allclose(there.score_samples(X), model.score_samples(X))
    off = HiddenChowLiuTree(6, random_state=0).fit(X)  # off by default
    assert off.validation_scores_ == []


def test_em_passes_in_float32_match_float64_and_fall_back_on_underflow():
    X = chain(n=300, d=4)
    model = fitted(X, H=3)
    table = model._table()
    states = table.encode(model._types.encode(X, allow_nan=True))[0]
    leaves = [np.exp(lp) for lp in model.state_log_prob_]
    exact = model._expected_counts(states, model.transitions_, leaves)
    single = model._expected_counts(states, model.transitions_, leaves, np.float32)
    assert single[1] == pytest.approx(exact[1], rel=1e-5)
    for a, b in zip(
        single[0][0] + single[0][1], exact[0][0] + exact[0][1], strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)
    # A row whose every latent state is below float32's range at the root
    # (its leaf's 1e-25 times 1e-25 from one child or the other): passed
    # again in float64.
    three = fitted(X[["c0", "c1", "c2"]], H=2)
    assert three._parent.tolist() == [1, -1, 1]  # the chain, rooted at c1
    leaves = [np.full_like(np.exp(lp), 1 / 3) for lp in three.state_log_prob_]
    leaves[1][:, 0] = 1e-25
    leaves[0][:, 0], leaves[2][:, 0] = [1.0, 1e-25], [1e-25, 1.0]
    near_eye = np.eye(2) * (1 - 2e-30) + 1e-30
    transitions = [near_eye, np.array([[0.5, 0.5]]), near_eye]
    rows = np.zeros((1, 3), dtype=np.int64)
    exact = three._expected_counts(rows, transitions, leaves)
    single = three._expected_counts(rows, transitions, leaves, np.float32)
    assert exact[1] < np.log(1e-45)
    assert single[1] == pytest.approx(exact[1], rel=1e-12)
    np.testing.assert_allclose(single[0][0][1], exact[0][0][1], rtol=1e-12)
