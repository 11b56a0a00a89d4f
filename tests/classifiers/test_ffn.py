"""FFNClassifier: learning, sklearn integration, continuation, robustness."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from probmodels import FFNClassifier

FAST = dict(
    hidden_layer_sizes=(16,),
    max_epochs=60,
    batch_size=32,
    lr=1e-2,
    device="cpu",
    random_state=0,
)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("normalization", [None, "batch", "layer", "group"])
def test_learns_iris_with_every_normalization(iris, normalization):
    X, y = iris
    clf = FFNClassifier(normalization=normalization, n_groups=4, **FAST).fit(X, y)
    assert clf.score(X, y) > 0.93
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


def test_string_labels_and_binary_problems():
    X, y = load_breast_cancer(return_X_y=True)
    labels = np.where(y == 1, "benign", "malignant")
    Xtr, Xte, ytr, yte = train_test_split(X, labels, random_state=0, stratify=labels)
    pipe = make_pipeline(StandardScaler(), FFNClassifier(**FAST)).fit(Xtr, ytr)
    assert list(pipe.classes_) == ["benign", "malignant"]
    assert pipe.score(Xte, yte) > 0.93
    assert pipe.predict_proba(Xte).shape == (len(Xte), 2)


def test_grid_search_over_normalization_lr_and_sizes(iris):
    X, y = iris
    grid = {
        "normalization": [None, "batch"],
        "lr": [1e-3, 1e-2],
        "hidden_layer_sizes": [(8,), (16, 16)],
    }
    search = GridSearchCV(
        FFNClassifier(max_epochs=15, device="cpu", random_state=0), grid, cv=3
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    assert search.best_score_ == max(search.cv_results_["mean_test_score"])
    assert search.best_params_["lr"] == 1e-2  # 15 epochs at 1e-3 cannot reach it


def test_early_stopping_records_validation_and_restores_best(iris):
    X, y = iris
    clf = FFNClassifier(
        early_stopping=True, n_iter_no_change=5, **{**FAST, "max_epochs": 300}
    ).fit(X, y)
    valid = [r["valid_loss"] for r in clf.history_]
    assert len(valid) == clf.n_iter_ < 300
    assert min(valid) < valid[0]


def test_seeded_fits_repeat_without_touching_global_rng(iris, untouched_global_rng):
    X, y = iris
    torch.manual_seed(0)
    torch_state = torch.random.get_rng_state()
    a = FFNClassifier(dropout=0.2, **FAST).fit(X, y)
    b = FFNClassifier(dropout=0.2, **FAST).fit(X, y)
    for p, q in zip(a.module_.parameters(), b.module_.parameters(), strict=True):
        assert torch.equal(p, q)
    assert torch.equal(torch.random.get_rng_state(), torch_state)


def test_warm_start_and_partial_fit_continue(iris):
    X, y = iris
    clf = FFNClassifier(**{**FAST, "max_epochs": 3}).fit(X, y)
    first = clf.score(X, y)
    clf.set_params(warm_start=True, max_epochs=40).fit(X, y)
    assert clf.score(X, y) > first
    stream = FFNClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        stream.partial_fit(X[:10], y[:10])
    for _ in range(30):
        for part in np.array_split(np.random.default_rng(0).permutation(len(X)), 3):
            stream.partial_fit(X[part], y[part], classes=[0, 1, 2])
    assert stream.n_iter_ == 90 and len(stream.history_) == 90
    assert stream.score(X, y) > 0.9
    with pytest.raises(ValueError, match=r"labels \[7\] that were not seen in fit"):
        stream.partial_fit(X[:3], np.array([0, 1, 7]))


def test_partial_fit_ignores_early_stopping(iris):
    # One epoch over a chunk has no validation split to stop on: partial_fit
    # trains, as sklearn's MLPClassifier.partial_fit does.
    X, y = iris
    clf = FFNClassifier(**FAST, early_stopping=True)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 1 and "valid_loss" not in clf.history_[0]


def test_divergence_is_reported_and_leaves_the_model_unchanged(iris):
    X, y = iris
    clf = FFNClassifier(**FAST).fit(X, y)
    before = [p.detach().clone() for p in clf.module_.parameters()]
    X_bad = X * 1e30
    with pytest.raises(FloatingPointError, match="epoch 1.*lower lr"):
        clf.set_params(warm_start=True, lr=1e10).fit(X_bad, y)
    for p, q in zip(before, clf.module_.parameters(), strict=True):
        assert torch.equal(p, q)
    fresh = FFNClassifier(**{**FAST, "lr": 1e10})
    with pytest.raises(FloatingPointError):
        fresh.fit(X_bad, y)
    assert not hasattr(fresh, "module_")


def test_pickle_and_joblib_round_trip(iris, tmp_path):
    X, y = iris
    clf = FFNClassifier(normalization="batch", **FAST).fit(X, y)
    for restored in (
        pickle.loads(pickle.dumps(clf)),
        joblib.load(joblib.dump(clf, tmp_path / "clf.joblib")[0]),
    ):
        np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_model_saved_on_a_gpu_loads_on_a_cpu_only_machine(iris):
    X, y = iris
    clf = FFNClassifier(**FAST).fit(X, y)
    state = clf.__getstate__()
    state["device_"] = "cuda:0"  # as saved by a GPU machine (module stored on the CPU)
    restored = FFNClassifier.__new__(FFNClassifier)
    restored.__setstate__(state)
    expected = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert restored.device_ == expected
    np.testing.assert_allclose(
        restored.predict_proba(X), clf.predict_proba(X), rtol=1e-5
    )


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_and_cpu_pickle(iris):
    X, y = iris
    clf = FFNClassifier(**{**FAST, "device": "cuda"}).fit(X, y)
    assert clf.device_.startswith("cuda") and clf.score(X, y) > 0.93
    state = pickle.dumps(clf)
    restored = pickle.loads(state)
    assert next(restored.module_.parameters()).device.type == "cuda"
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


@pytest.mark.parametrize(
    ("X", "y", "error", "match"),
    [
        (
            np.array([[1.0, np.nan], [2.0, 3.0]]),
            [0, 1],
            ValueError,
            "1 NaN.*SimpleImputer",
        ),
        (
            np.array([["a", "b"], ["c", "d"]], dtype=object),
            [0, 1],
            ValueError,
            "non-numeric values.*OneHotEncoder",
        ),
        (
            pd.DataFrame({"x": [1.0, 2.0], "kind": ["a", "b"]}),
            [0, 1],
            TypeError,
            "non-numeric columns: 'kind'",
        ),
        (np.ones((4, 2)), [1, 1, 1, 1], ValueError, "only one class"),
        (np.ones((4, 2)), [0.5, 1.5, 2.5, 3.5], ValueError, "Unknown label type"),
    ],
)
def test_bad_input(X, y, error, match):
    with pytest.raises(error, match=match):
        FFNClassifier(**FAST).fit(X, y)


def test_bad_input_at_predict(iris):
    X, y = iris
    with pytest.raises(NotFittedError):
        FFNClassifier().predict(X)
    clf = FFNClassifier(**{**FAST, "max_epochs": 2}).fit(X, y)
    with pytest.raises(
        ValueError, match="X has 3 features, but FFNClassifier is expecting 4"
    ):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="n_groups=3.*must divide"):
        FFNClassifier(
            normalization="group", n_groups=3, **{**FAST, "max_epochs": 1}
        ).fit(X, y)
