"""Model files users ran into trouble with: labels, metadata, warnings, crafted files.

Each test is a reproducer of a probe (issue 23): labels that saved but did
not load, warnings and errors that pointed at our internals,
``trust_pickle`` taken for true, and crafted files.
"""

import datetime
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

import probmodels
from probmodels import ARRegressor, GaussianMixture
from probmodels._persistence import (
    FORMAT,
    ModelFileError,
    ModelVersionWarning,
    read_model_file,
)
from probmodels.cli import main

RNG = np.random.default_rng(0)

#: Every kind of label pandas takes for columns and Series names that a
#: model may remember.
LABELS = {
    "str": ["a", "b"],
    "int": [3, 7],
    "numpy int": [np.int64(3), np.int64(7)],
    "float": [0.5, 1.5],
    "bool": [True, False],
    "timestamp": list(pd.date_range("2020-01-01", periods=2, freq="D")),
    "timestamp tz": list(pd.date_range("2020-01-01", periods=2, freq="h", tz="UTC")),
    "timedelta": [pd.Timedelta("1D"), pd.Timedelta("2h")],
    "period": list(pd.period_range("2020-01", periods=2, freq="M")),
    "interval": [pd.Interval(0, 1), pd.Interval(1, 2, closed="left")],
    "date": [datetime.date(2020, 1, 1), datetime.date(2021, 6, 30)],
    "tuple": [("x", 1), ("y", 2)],
}


# ------------------------------------------------ 3. labels that did not load
@pytest.mark.parametrize("kind", LABELS)
def test_every_column_label_type_round_trips(kind, tmp_path):
    labels = LABELS[kind]
    columns = (
        pd.MultiIndex.from_tuples(labels, names=["k", "n"])
        if kind == "tuple"
        else pd.Index(labels, name="what")
    )
    frame = pd.DataFrame(RNG.normal(size=(30, 2)), columns=columns)
    model = GaussianMixture(1, random_state=0).fit(frame)
    back = probmodels.load(probmodels.save(model, tmp_path / "m.skops"))
    pd.testing.assert_index_equal(back.sample(2).columns, frame.columns)


@pytest.mark.parametrize("name", [None, *(labels[0] for labels in LABELS.values())])
def test_every_series_name_type_round_trips(name, tmp_path):
    series = pd.Series(RNG.normal(size=40), name=name)
    model = ARRegressor(p=1).fit(series)
    back = probmodels.load(probmodels.save(model, tmp_path / "m.skops"))
    assert back.sample(2).name == name
    if not isinstance(name, np.generic):  # numpy's scalars come back as Python's
        assert type(back.sample(2).name) is type(name)


def test_metadata_comes_back_as_it_was(tmp_path):
    metadata = {
        "when": pd.Timestamp("2021-03-04 05:06:07.000000008", tz="Europe/Paris"),
        "span": (pd.Period("2020Q1"), pd.Timedelta("3D")),
        "day": datetime.date(2020, 2, 29),
        "rows": np.int64(40),
        "nested": {"ok": [1.5, None, "x"], 3: "int key"},
    }
    model = GaussianMixture(1).fit(RNG.normal(size=(10, 2)))
    path = probmodels.save(model, tmp_path / "m.skops", metadata=metadata)
    assert read_model_file(path).metadata == metadata


def test_metadata_a_file_cannot_hold_is_refused_at_save(tmp_path):
    model = GaussianMixture(1).fit(RNG.normal(size=(10, 2)))
    with pytest.raises(ModelFileError, match=r"metadata\['x'\].*of type object"):
        probmodels.save(model, tmp_path / "m.skops", metadata={"x": object()})
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file


# ------------------------------------------- 9. messages that named internals
def test_the_version_warning_points_at_the_users_call(tmp_path):
    model = GaussianMixture(1).fit(RNG.normal(size=(10, 2)))
    path = probmodels.save(model, tmp_path / "m.skops")
    record = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    record["versions"]["numpy"] = "0.0.1"
    sio.dump(record, path)
    for load in (probmodels.load, read_model_file):
        with pytest.warns(ModelVersionWarning) as caught:
            load(path)
        assert caught[0].filename == __file__


def test_a_missing_directory_is_named_not_a_temporary_file(tmp_path):
    model = GaussianMixture(1).fit(RNG.normal(size=(10, 2)))
    target = tmp_path / "nodir" / "m.skops"
    with pytest.raises(FileNotFoundError) as caught:
        probmodels.save(model, target)
    assert str(target) in str(caught.value) and ".m.skops." not in str(caught.value)


# ------------------------------------------------------ 11. trust_pickle="no"
@pytest.mark.parametrize("flag", ["no", 1, None, "False"])
def test_trust_pickle_takes_only_a_bool(flag, tmp_path):
    marker = tmp_path / "ran"

    class Touch:
        def __reduce__(self):
            return (Path.touch, (marker,))

    import pickle

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(Touch()))
    with pytest.raises(TypeError, match="trust_pickle must be True or False"):
        probmodels.load(path, trust_pickle=flag)
    assert not marker.exists()


# --------------------------------------------------------- 12. crafted files
def crafted(path, **changes):
    record = {"format": FORMAT, "versions": {}, "metadata": {}}
    record.update(changes)
    sio.dump({k: v for k, v in record.items() if v is not ...}, path)
    return path


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"versions": None, "estimator": GaussianMixture()}, "versions and metadata"),
        ({"metadata": [1], "estimator": GaussianMixture()}, "versions and metadata"),
        ({}, "holds no estimator"),
        ({"estimator": "GaussianMixture"}, "holds a str where"),
        ({"estimator": {"weights_": np.ones(2)}}, "holds a dict where"),
    ],
)
def test_crafted_records_are_model_file_errors(changes, match, tmp_path, capsys):
    path = crafted(tmp_path / "m.skops", **changes)
    with pytest.raises(ModelFileError, match=match):
        probmodels.load(path)
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_schema_that_is_a_json_list_is_a_model_file_error(tmp_path, capsys):
    path = tmp_path / "m.skops"
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("schema.json", json.dumps([1, 2, 3]))
    with pytest.raises(ModelFileError, match="not a skops model file"):
        probmodels.load(path)
    assert main(["sample", str(path), "-n", "2"]) == 2
    assert "Traceback" not in capsys.readouterr().err
