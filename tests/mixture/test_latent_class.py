"""LatentClassMixture against direct computations on tiny tables: one EM step
written out, the density, normalisation, exact conditionals by enumeration."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

from probmodels import LatentClassMixture, load, save
from probmodels.exceptions import ConvergenceWarning
from probmodels.mixture._bins import ColumnBins


def small_table(n=600, seed=0):
    """An integer with a spike at 0 and a spread of other values, a float,
    and a category that goes with them."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    spike = rng.random(n) < 0.6
    count = np.where(spike, 0, rng.integers(1, 41, n) + 10 * group)
    return pd.DataFrame(
        {
            "count": count,
            "size": rng.normal(3.0 * group, 1.0, n),
            "kind": np.where(group == 1, "b", "a"),
        }
    )


def few_values(n=400, seed=0):
    """Only atoms: an integer of four values and a category."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    return pd.DataFrame(
        {
            "level": rng.integers(0, 4, n) + 2 * group,
            "kind": np.where(group == 1, "b", "a"),
        }
    )


def test_bins_hold_spikes_as_atoms_and_cut_the_rest_at_quantiles():
    x = small_table()["count"].to_numpy(float)
    bins = ColumnBins.fit(x, 8, integer=True)
    assert 0.0 in bins.atoms
    codes = bins.codes(x)
    assert (codes >= 0).all()
    # Values round-trip through their state: an atom exactly, a bin's draw
    # inside the bin, an integer, never an atom.
    rng = np.random.default_rng(0)
    drawn = bins.draw(codes, rng)
    assert np.array_equal(drawn[x == 0], x[x == 0])
    assert np.array_equal(bins.codes(drawn), codes)
    assert np.array_equal(drawn, np.round(drawn))
    # The states' masses: the pmf sums to one over the integers of the range.
    values = np.arange(bins.low, bins.high + 1)
    state = bins.codes(values)
    share = np.bincount(state, minlength=bins.n_states) / bins.n_states
    pmf = share[state] * np.exp(bins.log_base(state))
    assert pmf.sum() == pytest.approx(share.sum())
    # Tails: each side holds half of 2 / (n + 1).
    gaps = np.arange(1, 20000)
    left = np.exp(bins.log_tail(bins.low - gaps)).sum()
    assert left == pytest.approx(bins.tail_mass / 2, rel=1e-6)


def test_one_em_step_equals_a_hand_written_one():
    X = small_table(n=80)
    X.loc[3, "size"] = np.nan  # a missing entry is left out of its row
    model = LatentClassMixture(3, n_bins=4, max_iter=5, tol=0.0, random_state=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    encoded = model._types.encode(X, allow_nan=True)
    table = model._table()
    states = table.encode(encoded)[0]
    onehot = table.onehot(states)
    log_w = np.log(model.weights_)
    sizes = table.n_states
    # E-step by hand.
    K = 3
    joint = np.tile(log_w, (len(X), 1))
    for i, j in itertools.product(range(len(X)), range(states.shape[1])):
        if states[i, j] >= 0:
            joint[i] += model.state_log_prob_[j][:, states[i, j]]
    resp = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
    # M-step by hand (the Dirichlet pseudo-count on every state).
    a = model.smoothing
    got_w, got_p = model._m_step(onehot, resp, table.starts)
    np.testing.assert_allclose(np.exp(got_w), resp.sum(0) / len(X), rtol=1e-12)
    start = 0
    for j, size in enumerate(sizes):
        seen = states[:, j] >= 0
        for k, s in itertools.product(range(K), range(size)):
            mass = resp[seen & (states[:, j] == s), k].sum() + a
            total = resp[seen, k].sum() + a * size
            assert np.exp(got_p[start + s, k]) == pytest.approx(mass / total, rel=1e-10)
        start += size


def test_score_samples_is_the_mixture_density_computed_directly():
    X = small_table()
    model = LatentClassMixture(4, n_bins=8, random_state=0).fit(X)
    rows = pd.concat([X.head(20), X.head(2).assign(count=[1000, -5])])
    got = model.score_samples(rows)
    count_bins, size_bins = model.bins_
    cats = list(model._types.columns[2].categories)
    for i, (_, row) in enumerate(rows.iterrows()):
        per_class = np.log(model.weights_).copy()
        logs = 0.0
        for j, (bins, value) in enumerate(
            [(count_bins, row["count"]), (size_bins, row["size"])]
        ):
            state = bins.codes(np.array([float(value)]))[0]
            if state >= 0:
                per_class += model.state_log_prob_[j][:, state]
                logs += bins.log_base(np.array([state]))[0] + np.log1p(-bins.tail_mass)
            else:  # outside the range: the tail, the same in every class
                logs += bins.log_tail(np.array([float(value)]))[0]
        per_class += model.state_log_prob_[2][:, cats.index(row["kind"])]
        assert got[i] == pytest.approx(logsumexp(per_class) + logs, rel=1e-10)
    assert np.isfinite(got).all()


def test_probabilities_of_a_discrete_table_sum_to_one_less_the_tails():
    X = few_values()
    model = LatentClassMixture(3, n_bins=8, random_state=0).fit(X)
    (bins,) = model.bins_
    grid = pd.DataFrame(
        list(itertools.product(range(0, 6), ["a", "b"])), columns=["level", "kind"]
    )
    total = np.exp(model.score_samples(grid)).sum()
    assert total == pytest.approx(1 - bins.tail_mass, rel=1e-10)
    # With a spread of integers in bins too, summed over every integer.
    table = small_table(n=300)[["count", "kind"]]
    model = LatentClassMixture(3, n_bins=6, random_state=0).fit(table)
    (bins,) = model.bins_
    grid = pd.DataFrame(
        list(itertools.product(range(int(bins.low), int(bins.high) + 1), ["a", "b"])),
        columns=["count", "kind"],
    )
    total = np.exp(model.score_samples(grid)).sum()
    assert total == pytest.approx(1 - bins.tail_mass, rel=1e-9)


def test_conditionals_are_exact_by_enumeration():
    X = few_values()
    model = LatentClassMixture(3, n_bins=8, random_state=0).fit(X)
    levels = np.arange(0, 6)
    joint = np.exp(
        model.score_samples(pd.DataFrame({"level": levels, "kind": ["b"] * 6}))
    )
    exact = joint / joint.sum()  # p(level | kind = b)
    query = pd.DataFrame({"level": [np.nan], "kind": ["b"]})
    mean = model.impute(query, method="mean")["level"].iloc[0]
    # impute's mean is of the fitted histogram; the draw is rounded to an int.
    assert mean == pytest.approx(np.round((levels * exact).sum()))
    drawn = model.sample(20000, given={"kind": "b"}, random_state=0)
    assert (drawn["kind"] == "b").all()
    freq = np.bincount(drawn["level"], minlength=6) / len(drawn)
    np.testing.assert_allclose(freq, exact, atol=0.015)
    # The posterior of the classes given the observed entries.
    proba = model.predict_proba(query)
    direct = np.log(model.weights_) + model.state_log_prob_[1][:, 1]
    np.testing.assert_allclose(proba[0], np.exp(direct - logsumexp(direct)))


def test_samples_keep_kinds_spikes_and_structure(tmp_path):
    X = small_table(n=2000)
    X["when"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        np.where(X["kind"] == "b", 100, 0) + np.arange(2000) % 30, unit="D"
    )
    model = LatentClassMixture(10, random_state=0).fit(X)
    out = model.sample(4000, random_state=1)
    assert (out.dtypes == X.dtypes).all()
    assert abs((out["count"] == 0).mean() - (X["count"] == 0).mean()) < 0.03
    late = out["when"] >= pd.Timestamp("2024-04-01")
    assert ((out["kind"] == "b") == late).mean() > 0.95
    save(model, tmp_path / "lcm.skops")
    again = load(tmp_path / "lcm.skops")
    np.testing.assert_array_equal(again.score_samples(X), model.score_samples(X))


def test_missing_entries_are_left_out_and_filled():
    X = small_table(n=400)
    holes = X.copy()
    holes.loc[::7, "size"] = np.nan
    holes.loc[::5, "kind"] = None
    model = LatentClassMixture(4, random_state=0).fit(holes)
    filled = model.impute(holes, random_state=0)
    assert not filled.isna().any().any()
    kept = holes.notna()
    assert (filled[kept["size"]]["size"] == holes[kept["size"]]["size"]).all()
    # A row's density of what was observed: the missing column summed out.
    row = holes.iloc[[0]]
    grid = pd.concat([row.assign(kind=k) for k in ["a", "b"]])
    np.testing.assert_allclose(
        np.exp(model.score_samples(row.assign(kind=None))),
        np.exp(model.score_samples(grid)).sum(),
        rtol=1e-10,
    )


def test_bad_input_is_refused_clearly():
    X = small_table(n=20)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        LatentClassMixture(50).fit(X)
    model = LatentClassMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="'c'"):
        model.score_samples(X.assign(kind="c"))
    with pytest.raises(ValueError):
        LatentClassMixture(0).fit(X)


def test_bic_counts_every_free_state_probability():
    X = few_values()
    model = LatentClassMixture(3, random_state=0).fit(X)
    (bins,) = model.bins_
    free = 3 - 1 + 3 * ((bins.n_states - 1) + (2 - 1))
    expected = -2 * model.score_samples(X).sum() + free * np.log(len(X))
    assert model.bic(X) == pytest.approx(expected)


def test_auto_classes_follow_the_rows_and_float32_em_ends_normalised():
    X = small_table(n=200)
    model = LatentClassMixture(random_state=0).fit(X)
    # One class per 32 rows (at most 1,000).
    assert model.n_components_ == 200 // 32 == len(model.weights_)
    assert LatentClassMixture(random_state=0).fit(X.iloc[:20]).n_components_ == 1
    # EM passes in float32, but the last M-step is in float64.
    assert model.weights_.dtype == np.float64
    assert model.weights_.sum() == pytest.approx(1.0, abs=1e-12)
    for log_p in model.state_log_prob_:
        np.testing.assert_allclose(np.exp(log_p).sum(axis=1), 1.0, atol=1e-12)
    assert model.bic(X) == pytest.approx(
        -2 * model.score(X) * len(X) + model._n_parameters() * np.log(len(X))
    )
