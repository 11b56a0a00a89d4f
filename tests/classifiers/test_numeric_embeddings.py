"""Piecewise-linear encoding of numeric features (Gorishniy et al., 2022)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_wine
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import probmodels
from probmodels import TransformerClassifier
from probmodels.nn.modules import piecewise_linear_encoding, quantile_bin_edges
from tests.classifiers.test_transformer import TINY


def ple_by_hand(x, edges):
    """Eq. 1 of the paper, bin by bin, for one feature with edges b_0..b_T."""
    T = len(edges) - 1
    out = np.zeros(T)
    for t in range(1, T + 1):
        lo, hi = edges[t - 1], edges[t]
        if x < lo and t > 1:
            out[t - 1] = 0.0
        elif x >= hi and t < T:
            out[t - 1] = 1.0
        else:
            out[t - 1] = (x - lo) / (hi - lo)
    return out


def test_bin_edges_are_the_training_quantiles_without_repeats():
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [rng.normal(size=500), rng.integers(0, 3, size=500), np.full(500, 7.0)]
    )
    edges, counts = quantile_bin_edges(X, 8)
    assert edges.shape == (3, 9)
    np.testing.assert_allclose(edges[0], np.quantile(X[:, 0], np.linspace(0, 1, 9)))
    assert list(counts) == [8, 2, 1]
    np.testing.assert_array_equal(edges[1, :3], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(edges[2, :2], [7.0, 8.0])  # constant: one bin
    assert np.all(np.diff(edges, axis=1) > 0)  # padding keeps widths positive


def test_encoding_matches_the_papers_formula_inside_and_outside_the_range():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.exponential(size=300), rng.integers(0, 4, size=300)])
    edges, counts = quantile_bin_edges(X, 6)
    probe = np.array([[-1.0, -2.0], [0.3, 0.5], [1.1, 2.0], [9.0, 7.5]])
    got = piecewise_linear_encoding(
        torch.tensor(probe, dtype=torch.float64),
        torch.tensor(edges),
        torch.tensor(counts),
    ).numpy()
    for i, row in enumerate(probe):
        for j, x in enumerate(row):
            want = ple_by_hand(x, edges[j, : counts[j] + 1])
            np.testing.assert_allclose(got[i, j, : counts[j]], want, rtol=1e-12)
            assert np.all(got[i, j, counts[j] :] == 0.0)  # padding reads 0
    # Below the range only the first bin moves, above it only the last.
    assert got[0, 0, 0] < 0 and np.all(got[0, 0, 1:] == 0)
    assert got[3, 0, counts[0] - 1] > 1 and np.all(got[3, 0, : counts[0] - 1] == 1)


def test_tokens_do_not_depend_on_the_scaler():
    X, y = load_wine(return_X_y=True)
    proba = []
    for scaler in (StandardScaler(), MinMaxScaler()):
        Z = scaler.fit_transform(X)
        clf = TransformerClassifier(max_epochs=3, **TINY).fit(Z, y)
        proba.append(clf.predict_proba(Z))
    np.testing.assert_allclose(proba[0], proba[1], atol=1e-4)
    # The linear embedding does depend on it: the check above can fail.
    linear = []
    for scaler in (StandardScaler(), MinMaxScaler()):
        Z = scaler.fit_transform(X)
        clf = TransformerClassifier(
            max_epochs=3, numeric_embedding="linear", **TINY
        ).fit(Z, y)
        linear.append(clf.predict_proba(Z))
    assert np.abs(linear[0] - linear[1]).max() > 1e-2


@pytest.mark.parametrize("embedding", ["piecewise_linear", "linear"])
def test_both_embeddings_learn_wine(embedding):
    X, y = load_wine(return_X_y=True)
    Z = StandardScaler().fit_transform(X)
    clf = TransformerClassifier(max_epochs=30, numeric_embedding=embedding, **TINY).fit(
        Z, y
    )
    assert clf.score(Z, y) > 0.9  # chance is 0.40


def test_bins_survive_a_model_file_and_a_warm_start(tmp_path):
    X, y = load_wine(return_X_y=True)
    clf = TransformerClassifier(max_epochs=2, n_bins=5, warm_start=True, **TINY)
    clf.fit(X, y)
    edges = clf.module_.tokenizer.edges.clone()
    assert edges.shape == (X.shape[1], 6)
    probmodels.save(clf, tmp_path / "m.skops")
    restored = probmodels.load(tmp_path / "m.skops")
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    clf.fit(X * 10.0, y)  # continuing: the first fit's bins stay
    torch.testing.assert_close(clf.module_.tokenizer.edges, edges)
    clf.set_params(n_bins=4).fit(X, y)  # another architecture: new bins
    assert clf.module_.tokenizer.edges.shape == (X.shape[1], 5)
