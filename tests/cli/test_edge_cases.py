"""The command line's edge cases: --target, empty files, time indexes, huge counts.

Each test is a reproducer of a probe (issue 23).
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import probmodels
from probmodels import VAE
from probmodels.cli import main

RNG = np.random.default_rng(0)

# --------------------------------------------------- 10. command-line edge cases
@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = pd.DataFrame(RNG.normal(size=(60, 2)), columns=["u", "v"])
    rows["label"] = np.where(rows["u"] > 0, "up", "down")
    rows.to_csv("rows.csv", index=False)
    return tmp_path


def test_target_is_refused_where_a_model_takes_no_labels(folder, capsys):
    code = main(["fit", "gmm", "rows.csv", "--target", "label", "-o", "g.skops"])
    assert code == 2 and "takes no labels" in capsys.readouterr().err
    assert not Path("g.skops").exists()
    main(["fit", "gmm", "rows.csv", "--columns", "u,v", "-o", "g.skops"])
    capsys.readouterr()
    code = main(["score", "g.skops", "rows.csv", "--target", "label"])
    assert code == 2 and "fitted without labels" in capsys.readouterr().err


def test_target_conditions_the_score_of_a_conditional_model(folder, capsys):
    params = [
        "-p",
        "max_epochs=2",
        "-p",
        "random_state=0",
        "-p",
        "hidden_layer_sizes=(4,)",
    ]
    main(["fit", "vae", "rows.csv", "--target", "label", "-o", "v.skops", *params])
    capsys.readouterr()
    assert main(["score", "v.skops", "rows.csv", "--target", "label"]) == 0
    printed = capsys.readouterr().out
    model = probmodels.load("v.skops")
    rows = pd.read_csv("rows.csv")
    expected = model.score_samples(rows[["u", "v"]], rows["label"]).mean()
    assert f"{expected:.6g}" in printed
    assert isinstance(model, VAE) and list(model.classes_) == ["down", "up"]


def test_empty_columns_and_header_only_files_are_named(folder, capsys):
    assert main(["fit", "gmm", "rows.csv", "--columns", "", "-o", "g.skops"]) == 2
    assert "--columns names no column" in capsys.readouterr().err
    Path("header.csv").write_text("u,v\n")
    assert main(["fit", "gmm", "header.csv", "-o", "g.skops"]) == 2
    assert "has no rows" in capsys.readouterr().err


def test_a_time_index_is_read_without_a_pandas_warning(folder, capsys):
    months = pd.date_range("2020-01-01", periods=36, freq="MS")
    frame = pd.DataFrame(
        {"month": months.strftime("%Y-%m-%d"), "y": RNG.normal(size=36)}
    )
    frame.to_csv("series.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code = main(
            ["fit", "ar", "series.csv", "--time-index", "month", "-o", "a.skops"]
        )
    assert code == 0 and "warning" not in capsys.readouterr().err
    main(["forecast", "a.skops", "--steps", "2"])
    assert "2023-01-01" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command, message",
    [
        (["sample", "g.skops", "-n", str(10**12)], "at most 10,000,000"),
        (["forecast", "a.skops", "--steps", str(10**12)], "at most 100,000"),
        (["sample", "a.skops", "-n", "2", "--paths", str(10**9)], "at most 100,000"),
    ],
)
def test_huge_counts_get_a_plain_message(folder, capsys, command, message):
    with pytest.raises(SystemExit) as exit_:
        main(command)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "MemoryError" not in err and "Traceback" not in err


# ------------------------------------------- files we write, read back (issue 34)
def test_dates_across_a_daylight_saving_change_read_back(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    when = pd.date_range("2021-03-20", periods=80, freq="7h", tz="Europe/Paris")
    frame = pd.DataFrame({"x": RNG.normal(size=80), "when": when})
    frame.to_csv("dst.csv", index=False)  # +01:00 and +02:00 offsets
    assert main(["fit", "gmm", "dst.csv", "--dates", "when", "-o", "m.skops", "--quiet"]) == 0
    assert main(["sample", "m.skops", "-n", "40", "-o", "back.csv", "--seed", "0"]) == 0
    assert main(["score", "m.skops", "back.csv", "--dates", "when"]) == 0
    assert main(["fit", "gmm", "back.csv", "--dates", "when", "-o", "n.skops"]) == 0
    # Read back as the same instants: the scores equal the library's.
    back = pd.read_csv("back.csv")
    back["when"] = pd.to_datetime(back["when"], utc=True).dt.tz_convert("Europe/Paris")
    expected = probmodels.load("m.skops").score(back)
    out = capsys.readouterr().out
    assert f"{expected:.6g}" in out


def test_a_semicolon_csv_is_read_by_its_delimiter(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = pd.DataFrame({"a": RNG.normal(size=30), "b": RNG.normal(size=30)})
    pd.concat([frame, frame]).to_csv("semi.csv", index=False, sep=";")
    assert main(["fit", "gmm", "semi.csv", "-o", "m.skops", "--quiet"]) == 0
    assert probmodels.load("m.skops").n_features_in_ == 2


def test_python_m_probmodels_runs_the_command():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "probmodels", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "fit" in done.stdout
