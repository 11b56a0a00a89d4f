"""Model files: every estimator round-trips, and foreign code never runs."""

import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio

import probmodels
from probmodels import (
    DDPM,
    VAE,
    ARRegressor,
    FFNClassifier,
    GaussianMixture,
    TransformerClassifier,
)
from probmodels._persistence import (
    NAMES_0_1_0,
    TRUSTED_TYPES,
    ModelFileError,
    ModelVersionWarning,
    read_model_file,
)
from probmodels.datasets import load_nile

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)
FRAME = pd.DataFrame(RNG.normal(size=(40, 3)), columns=["a", "b", "c"])
LABELS = np.array(["x", "y"])[np.arange(40) % 2]

CASES = {
    "ar": (lambda: ARRegressor(p=2, random_state=0), load_nile(), None),
    "ar-panel": (
        lambda: ARRegressor(p=1, random_state=0),
        pd.DataFrame(
            RNG.normal(size=(60, 2)),
            columns=["u", "v"],
            index=pd.date_range("2020-01-01", periods=60, freq="D", tz="UTC"),
        ),
        None,
    ),
    "gmm": (lambda: GaussianMixture(2, random_state=0), FRAME, None),
    "gmm-gradient": (
        lambda: GaussianMixture(2, solver="gradient", max_iter=5, random_state=0),
        FRAME.to_numpy(),
        None,
    ),
    "ffn": (lambda: FFNClassifier((4,), max_epochs=2, random_state=0), FRAME, LABELS),
    "ffn-batchnorm": (
        lambda: FFNClassifier(
            (4,), normalization="batch", max_epochs=2, random_state=0
        ),
        FRAME.to_numpy(),
        LABELS,
    ),
    "transformer": (
        lambda: TransformerClassifier(
            d_model=4,
            n_heads=1,
            n_layers=1,
            dim_feedforward=4,
            max_epochs=2,
            random_state=0,
        ),
        FRAME,
        LABELS,
    ),
    "vae": (
        lambda: VAE(
            latent_dim=1, hidden_layer_sizes=(4,), max_epochs=2, random_state=0
        ),
        FRAME,
        None,
    ),
    "ddpm": (
        lambda: DDPM(
            n_timesteps=5,
            hidden_layer_sizes=(4,),
            max_epochs=2,
            n_score_timesteps=2,
            random_state=0,
        ),
        FRAME,
        LABELS,
    ),
}


def fitted(name):
    make, X, y = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make().fit(X) if y is None else make().fit(X, y), X


def outputs(est, X):
    """What a user would compare: scores, predictions, seeded samples."""
    out = {}
    if hasattr(est, "score_samples"):
        out["score_samples"] = np.asarray(est.score_samples(X), dtype=float)
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X)
    if hasattr(est, "predict"):
        out["predict"] = np.asarray(est.predict(X))
    if hasattr(est, "sample"):
        out["sample"] = np.asarray(est.sample(3, random_state=1), dtype=float)
    return out


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("suffix", [".skops", ".joblib"])
def test_every_estimator_round_trips(name, suffix, tmp_path):
    est, X = fitted(name)
    path = probmodels.save(est, tmp_path / f"model{suffix}")
    back = probmodels.load(path, trust_pickle=True)
    assert type(back) is type(est)
    assert back.get_params() == est.get_params()
    ours, theirs = outputs(est, X), outputs(back, X)
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)
    # The generator that sample() draws from continues where it was.
    if hasattr(est, "sample"):
        np.testing.assert_array_equal(
            np.asarray(est.sample(2), dtype=float),
            np.asarray(back.sample(2), dtype=float),
        )


@pytest.mark.parametrize("name", ["ffn", "vae", "gmm-gradient"])
def test_saved_state_holds_no_torch_object_and_training_continues(name, tmp_path):
    est, X = fitted(name)
    path = probmodels.save(est, tmp_path / "m.skops")
    assert set(sio.get_untrusted_types(file=path)) <= set(TRUSTED_TYPES)
    back = probmodels.load(path)
    # partial_fit / warm start continue from the restored optimiser state.
    _, _, y = CASES[name]
    if hasattr(est, "partial_fit"):
        args = (X,) if y is None else (X, y)
        np.testing.assert_array_equal(
            np.asarray(est.partial_fit(*args).predict(X)),
            np.asarray(back.partial_fit(*args).predict(X)),
        )


def test_a_model_trained_on_a_gpu_loads_on_the_cpu(tmp_path):
    est, X = fitted("ffn")
    est.device_ = "cuda:0"  # what a GPU fit records; the weights are arrays
    back = probmodels.load(probmodels.save(est, tmp_path / "m.skops"))
    if not __import__("torch").cuda.is_available():
        assert back.device_ == "cpu"
        assert next(back.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))


def test_pickle_keeps_working_for_python_users():
    est, X = fitted("transformer")
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))


def test_trusted_types_are_public_paths_of_our_classes():
    import importlib

    for name in TRUSTED_TYPES:
        module, _, cls = name.rpartition(".")
        found = getattr(importlib.import_module(module), cls)
        assert found.__module__.startswith("probmodels.")
    # 0.1.0's names read as today's, or as the stand-in a model drops.
    for new in NAMES_0_1_0.values():
        assert new in TRUSTED_TYPES or new == "probmodels._persistence.Superseded"


@pytest.mark.parametrize("name", ["ddpm", "vae", "ar", "gmm"])
def test_files_name_public_paths_so_moves_do_not_break_them(name, tmp_path):
    """A file names ``probmodels.DDPM``, not the module that defines it, and
    plain skops loads it with those names trusted."""
    est, X = fitted(name)
    path = probmodels.save(est, tmp_path / "m.skops")
    named = set(sio.get_untrusted_types(file=path))
    assert named <= set(TRUSTED_TYPES)
    assert f"probmodels.{type(est).__name__}" in named
    assert not any("._" in n for n in named)  # no private module
    back = sio.load(path, trusted=list(TRUSTED_TYPES))["estimator"]
    assert type(back) is type(est)


def test_file_records_versions_and_warns_on_a_mismatch(tmp_path):
    est, _ = fitted("gmm")
    path = probmodels.save(est, tmp_path / "m.skops", metadata={"rows": 40})
    record = read_model_file(path)
    assert record.versions["sklearn"] and record.versions["numpy"]
    assert record.metadata == {"rows": 40}
    tampered = sio.load(path, trusted=list(TRUSTED_TYPES))
    tampered["versions"]["numpy"] = "0.0.1"
    sio.dump(tampered, path)
    with pytest.warns(ModelVersionWarning, match=r"numpy 0\.0\.1"):
        probmodels.load(path)


def test_files_that_are_not_models_are_named(tmp_path):
    (tmp_path / "text.skops").write_text("hello")
    with pytest.raises(ModelFileError, match="not a skops model file"):
        probmodels.load(tmp_path / "text.skops")
    sio.dump({"weights": np.ones(3)}, tmp_path / "other.skops")
    with pytest.raises(ModelFileError, match="not a probmodels model file"):
        probmodels.load(tmp_path / "other.skops")
    with pytest.raises(ModelFileError, match="ends in .skops"):
        probmodels.save(GaussianMixture(), tmp_path / "model.csv")


# ------------------------------------------------------ files that run code
class Payload:
    """Writes a marker file when constructed from a model file."""

    marker = None

    def __setstate__(self, state):
        Path(state["marker"]).write_text("ran")


def info(path, *flags):
    return subprocess.run(
        [sys.executable, "-m", "probmodels.cli", "info", str(path), *flags],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_a_skops_file_naming_a_foreign_class_is_refused_unrun(tmp_path):
    marker = tmp_path / "marker"
    payload = Payload()
    payload.__dict__["marker"] = str(marker)
    record = {"format": "probmodels-model", "versions": {}, "estimator": payload}
    path = tmp_path / "evil.skops"
    sio.dump(record, path)
    # The file does run code when a loader trusts it: the control.
    sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert marker.read_text() == "ran"
    marker.unlink()
    result = info(path)
    assert result.returncode == 2
    assert "tests.test_persistence.Payload" in result.stderr
    assert "nothing in it was loaded or run" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert not marker.exists()


class Touch:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_pickle_is_refused_without_trust_pickle(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(Touch(marker)))
    result = info(path)
    assert result.returncode == 2 and "--trust-pickle" in result.stderr
    assert not marker.exists()
    # With the flag it is loaded (and its code runs), then named as not ours.
    result = info(path, "--trust-pickle")
    assert marker.exists() and "not a probmodels model file" in result.stderr
    joblib.dump({"format": "probmodels-model"}, tmp_path / "x.joblib")
    with pytest.raises(ModelFileError, match="pickle"):
        probmodels.load(tmp_path / "x.joblib")
