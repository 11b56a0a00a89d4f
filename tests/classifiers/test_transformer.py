"""TransformerClassifier: features as tokens, sequences, masks, integration."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from probmodels import TransformerClassifier

TINY = dict(
    d_model=16,
    n_heads=2,
    n_layers=1,
    dim_feedforward=32,
    dropout=0.0,
    lr=3e-3,
    device="cpu",
    random_state=0,
)


def test_learns_wine_in_a_pipeline():
    X, y = load_wine(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), TransformerClassifier(max_epochs=40, **TINY))
    # Chance is 0.40; across seeds the mean is 0.91 with a spread of +-0.03.
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.85


def sequences(n=300, steps=8, seed=0):
    """Label = whether the first step's first feature is positive: only a
    model that can look back to step 0 from the end can learn it."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, steps, 3)).astype(np.float32)
    y = (X[:, 0, 0] > 0).astype(int)
    return X, y


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_sequences_with_and_without_the_causal_mask(causal, pooling):
    X, y = sequences()
    clf = TransformerClassifier(
        pooling=pooling, causal=causal, max_epochs=60, **TINY
    ).fit(X, y)
    assert clf.n_features_in_ == 3
    assert clf.score(X, y) > 0.9
    assert clf.predict(X[:5, :6]).shape == (5,)  # other lengths get their positions
    with pytest.raises(ValueError, match="3-D sequences"):
        clf.predict(X[:, :, 0])
    with pytest.raises(ValueError, match="2 features per step"):
        clf.predict(X[:, :, :2])


def test_continuing_needs_the_same_kind_of_input():
    X, y = sequences(60)
    clf = TransformerClassifier(max_epochs=1, warm_start=True, **TINY).fit(X, y)
    with pytest.raises(ValueError, match="fitted on 3-D sequences"):
        clf.fit(X[:, :, 0], y)


def test_pickle_round_trip():
    X, y = sequences(120)
    clf = TransformerClassifier(max_epochs=3, **TINY).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_heads_must_divide_width():
    X, y = sequences(40)
    with pytest.raises(ValueError, match="d_model=10 must be a multiple of n_heads=4"):
        TransformerClassifier(**{**TINY, "d_model": 10, "n_heads": 4}).fit(X, y)
