"""The model commands, driven as a user would, on small files.

The main flows run ``python -m probmodels.cli`` as a subprocess; the error
cases and the other models call ``main`` in this process (the same code
path, without paying for a fresh interpreter each time).
"""

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

import probmodels
from probmodels import ARRegressor, GaussianMixture
from probmodels.cli import main
from probmodels.datasets import load_nile

IRIS = "sl,sw,pl,pw"


def run(command, cwd):
    """``probmodels COMMAND`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "probmodels.cli", *map(str, command)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture
def cli(files, capsys, monkeypatch):
    """``probmodels COMMAND`` in this process: (exit status, stdout, stderr)."""
    monkeypatch.chdir(files)

    def call(command):
        try:
            code = main([str(a) for a in command])
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    iris = load_iris(as_frame=True).frame
    iris.columns = ["sl", "sw", "pl", "pw", "species"]
    iris["species"] = np.array(["setosa", "versicolor", "virginica"])[iris["species"]]
    iris.to_csv(folder / "iris.csv", index=False)
    iris.to_parquet(folder / "iris.parquet")
    nile = load_nile()
    years = nile.index.to_timestamp()
    pd.DataFrame({"year": years, "flow": nile.to_numpy()}).to_csv(
        folder / "nile.csv", index=False
    )
    probmodels.save(
        GaussianMixture(2, random_state=0).fit(np.eye(3) + np.arange(3)),
        folder / "small.skops",
    )
    return folder


def test_gmm_fit_info_sample_score(files, cli):
    fit = run(
        ["fit", "gmm", "iris.csv", "--columns", IRIS, "-o", "gmm.skops"]
        + ["-p", "n_components=3", "-p", "covariance_type=diag", "-p", "random_state=0"],
        files,
    )
    assert fit.returncode == 0, fit.stderr
    info = run(["info", "gmm.skops"], files).stdout
    assert "model: GaussianMixture" in info and "covariance_type = 'diag'" in info
    assert "rows: 150" in info and "['sl', 'sw', 'pl', 'pw']" in info
    assert "sklearn" in info and "numpy" in info
    code, _, _ = cli(["sample", "gmm.skops", "-n", "5", "--seed", "0", "-o", "s.csv"])
    # No index column: the file reads back with the fitted columns alone.
    samples = pd.read_csv(files / "s.csv")
    assert code == 0 and samples.shape == (5, 4)
    assert list(samples.columns) == ["sl", "sw", "pl", "pw"]
    # The printed score is the model's own on the same rows; the fitted
    # columns are picked from the file by name.
    X = pd.read_csv(files / "iris.csv")[["sl", "sw", "pl", "pw"]]
    ref = GaussianMixture(3, covariance_type="diag", random_state=0).fit(X).score(X)
    code, out, _ = cli(["score", "gmm.skops", "iris.csv", "-o", "rows.parquet"])
    assert f"mean log-likelihood: {ref:.6g} nats per row (150 rows)" in out
    rows = pd.read_parquet(files / "rows.parquet")
    assert rows["log_likelihood"].mean() == pytest.approx(ref)


def test_ar_with_a_time_index_forecasts_the_future_dates(files, cli):
    fit = ["fit", "ar", "nile.csv", "--time-index", "year", "-o", "ar.skops"]
    assert run([*fit, "-p", "p=2"], files).returncode == 0
    out = run(["forecast", "ar.skops", "--steps", "3", "--alpha", "0.1"], files)
    table = pd.read_csv(io.StringIO(out.stdout), index_col=0)
    assert list(table.index) == ["1971-01-01", "1972-01-01", "1973-01-01"]
    mean, lower, _ = ARRegressor(p=2).fit(load_nile()).forecast(3, alpha=0.1)
    np.testing.assert_allclose(table["mean"], mean, rtol=1e-9)
    np.testing.assert_allclose(table["lower"], lower, rtol=1e-9)
    code, out, _ = cli(["sample", "ar.skops", "-n", "4", "--paths", "3", "--seed", "1"])
    assert code == 0 and len(out.splitlines()) == 2 + 4  # two header rows


def test_classifier_from_parquet_predicts_and_scores(files, cli):
    params = ["hidden_layer_sizes=(16,)", "lr=0.01", "max_epochs=200", "random_state=0"]
    fit = ["fit", "ffn", "iris.parquet", "--target", "species", "-o", "ffn.skops"]
    fit = run(fit + [x for p in params for x in ("-p", p)], files)
    assert fit.returncode == 0, fit.stderr
    assert "FFNClassifier" in fit.stderr  # the tqdm bar, on stderr
    # The fitted columns are taken from the file; the labels are left out.
    pred = run(["predict", "ffn.skops", "iris.csv", "-o", "p.csv"], files)
    assert pred.returncode == 0, pred.stderr
    labels = pd.read_csv(files / "p.csv")["prediction"]
    assert (labels == pd.read_csv(files / "iris.csv")["species"]).mean() > 0.9
    code, out, _ = cli(["score", "ffn.skops", "iris.csv", "--target", "species"])
    assert code == 0 and out.startswith("accuracy: 0.9")


@pytest.mark.parametrize(
    ("model", "params", "extra"),
    [
        ("vae", "latent_dim=1 hidden_layer_sizes=(8,) max_epochs=3", "--target species"),
        (
            "ddpm",
            "n_timesteps=10 hidden_layer_sizes=(8,) max_epochs=3 n_score_timesteps=2",
            "--target species",
        ),
        (
            "transformer",
            "d_model=4 n_heads=1 n_layers=1 dim_feedforward=4 max_epochs=2",
            "--target species",
        ),
        ("GaussianMixture", "n_components=2", f"--columns {IRIS}"),
    ],
)
def test_every_model_is_reachable(cli, model, params, extra):
    flags = [x for p in params.split() for x in ("-p", p)]
    command = ["fit", model, "iris.csv", *extra.split(), "-o", f"{model}.skops"]
    code, _, err = cli([*command, "--quiet", *flags])
    assert code == 0, err
    assert err == ""  # --quiet: no progress bar, no warnings
    if model in ("vae", "ddpm"):
        code, out, err = cli(["sample", f"{model}.skops", "-n", "2", "--y", "setosa"])
        assert code == 0 and len(out.splitlines()) == 3, err


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("fit gmm missing.csv -o m.skops", "No data file at missing.csv"),
        (
            "fit gmm iris.csv -o m.skops -p categorical_features=None",
            "Column 'species' has dtype",
        ),
        ("fit forest iris.csv -o m.skops", "unknown model 'forest'"),
        ("fit gmm iris.csv --columns sl -o m.skops -p colour=1", "parameter 'colour'"),
        (
            "fit gmm iris.csv --columns sl -o m.skops -p n_components=0",
            "'n_components' parameter",
        ),
        ("fit gmm iris.csv --columns nope -o m.skops", "no column(s) ['nope']"),
        ("fit ffn iris.csv --columns sl -o m.skops", "needs labels"),
        ("fit gmm iris.csv --columns sl -o m.csv", "ends in .skops"),
        ("info iris.csv", "not a skops model file"),
        ("forecast small.skops --steps 2", "forecast needs a time-series model"),
        ("sample small.skops -n 0", "must be at least 1"),
        ("sample small.skops -n x", "expected a whole number"),
        ("sample small.skops -n 2 --paths 3", "--paths needs a time-series model"),
    ],
)
def test_bad_input_gets_one_line_and_leaves_no_file(files, cli, command, message):
    code, _, err = cli(command.split())
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert not (files / "m.skops").exists() and not (files / "m.csv").exists()
    lines = [line for line in err.splitlines() if not line.startswith(("usage:", " "))]
    assert len(lines) == 1, err


def test_bad_input_in_a_fresh_process_has_no_traceback(files):
    for command in (["fit", "gmm", "missing.csv", "-o", "m.skops"], ["info", "nile.csv"]):
        out = run(command, files)
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert len(out.stderr.splitlines()) == 1, out.stderr


def test_a_failed_fit_keeps_the_good_model_file(files, cli, tmp_path):
    good = tmp_path / "model.skops"
    probmodels.save(GaussianMixture(2, random_state=0).fit(np.eye(3)), good)
    before = good.read_bytes()
    # 'species' is text, and told it is not categorical.
    command = ["fit", "gmm", "iris.csv", "-o", good, "-p", "categorical_features=None"]
    code, _, _ = cli(command)
    assert code == 2 and good.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.skops"]  # no temporary


def test_debug_raises_the_error(files, monkeypatch):
    monkeypatch.chdir(files)
    with pytest.raises(FileNotFoundError):
        main(["fit", "gmm", "missing.csv", "-o", "m.skops", "--debug"])


def test_parquet_without_pyarrow_says_how_to_install(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow fails
    code, _, err = cli(["fit", "gmm", "iris.parquet", "-o", "m.skops"])
    assert code == 2 and "pip install 'probmodels[parquet]'" in err


def test_a_mixed_table_fits_samples_and_reads_back(tmp_path, capsys, monkeypatch):
    """Text, flags, integers and dates: fitted as they are; a sample file
    reads back with the same columns (no index column) and fits again."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {
            "species": rng.choice(["a", "b"], 80),
            "mass": rng.normal(4, 1, 80).round(2),
            "count": rng.integers(0, 9, 80),
            "male": rng.random(80) > 0.5,
            "seen": pd.date_range("2021-01-01", periods=80, freq="D").strftime("%Y-%m-%d"),
        }
    ).to_csv("table.csv", index=False)
    fit = ["fit", "gmm", "table.csv", "--dates", "seen", "-o", "g.skops"]
    assert main([*fit, "-p", "n_components=2", "-p", "random_state=0"]) == 0
    assert main(["sample", "g.skops", "-n", "20", "--seed", "0", "-o", "s.csv"]) == 0
    samples = pd.read_csv("s.csv")
    assert list(samples.columns) == ["species", "mass", "count", "male", "seen"]
    assert set(samples["species"]) <= {"a", "b"} and samples["count"].dtype == int
    assert pd.to_datetime(samples["seen"]).between("2021-01-01", "2021-03-21").all()
    again = ["fit", "gmm", "s.csv", "--dates", "seen", "-o", "h.skops"]
    assert main(again) == 0
    assert main(["score", "g.skops", "table.csv", "--dates", "seen"]) == 0
    assert "mean log-likelihood" in capsys.readouterr().out


def test_a_table_with_holes_fits_imputes_and_samples_given(tmp_path, capsys, monkeypatch):
    """NaN in the file: fitted as missing entries, filled by impute (observed
    entries unchanged), and sample --given fixes columns to the values."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "species": rng.choice(["a", "b"], 120),
            "mass": rng.normal(4, 1, 120).round(2),
            "length": rng.normal(10, 2, 120).round(2),
        }
    )
    holes = table.copy()
    holes.loc[rng.random(120) < 0.2, "mass"] = np.nan
    holes.loc[rng.random(120) < 0.1, "species"] = np.nan
    holes.to_csv("holes.csv", index=False)
    fit = ["fit", "gmm", "holes.csv", "-o", "g.skops", "-p", "n_components=2"]
    assert main([*fit, "-p", "random_state=0"]) == 0
    assert main(["impute", "g.skops", "holes.csv", "-o", "filled.csv"]) == 0
    filled = pd.read_csv("filled.csv")
    assert not filled.isna().any().any()
    seen = holes["mass"].notna()
    np.testing.assert_allclose(filled.loc[seen, "mass"], holes.loc[seen, "mass"])
    command = ["sample", "g.skops", "-n", "30", "--given", "species=b"]
    assert main([*command, "--given", "length=12.5", "--seed", "0", "-o", "s.csv"]) == 0
    samples = pd.read_csv("s.csv")
    assert (samples["species"] == "b").all() and (samples["length"] == 12.5).all()
    capsys.readouterr()
    assert main(["sample", "g.skops", "-n", "3", "--given", "species=c"]) == 2
    assert "not a category of 'species'" in capsys.readouterr().err
    assert main(["sample", "g.skops", "-n", "3", "--given", "mass"]) == 2
    assert "column=value" in capsys.readouterr().err


def test_ar_with_exog_columns_forecasts_from_a_future_file(files, cli):
    from tests.timeseries.test_arx import macro

    data = macro().iloc[:-8]
    future = macro().iloc[-8:]
    table = data.set_axis(data.index.to_timestamp()).rename_axis("quarter")
    table.to_csv(files / "macro.csv")
    future.set_axis(future.index.to_timestamp()).rename_axis("quarter")[
        ["inv", "cons"]
    ].to_csv(files / "future.csv")
    fit = ["fit", "ar", "macro.csv", "--time-index", "quarter", "-o", "arx.skops"]
    code, _, err = cli([*fit, "-p", "p=2", "-p", "exog=cons,inv"])
    assert code == 0, err
    code, out, err = cli(
        ["forecast", "arx.skops", "--steps", "8", "--exog", "future.csv"]
        + ["--time-index", "quarter"]
    )
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out), index_col=0)
    est = ARRegressor(p=2, exog=["cons", "inv"]).fit(table)
    ref = est.forecast(8, alpha=0.05, exog=future[["cons", "inv"]].to_numpy())
    np.testing.assert_allclose(got["mean"], ref.mean, rtol=1e-9)
    code, out, _ = cli(
        ["sample", "arx.skops", "-n", "8", "--seed", "0", "--exog", "future.csv"]
    )
    assert code == 0 and len(out.splitlines()) == 1 + 8
    code, _, err = cli(["forecast", "arx.skops", "--steps", "9", "--exog", "future.csv"])
    assert code != 0 and "has 8 future rows, but 9 steps need 9" in err
    code, _, err = cli(["forecast", "arx.skops", "--steps", "2"])
    assert code != 0 and "pass exog=" in err


def test_exog_file_for_a_model_without_regressors_is_refused(files, cli):
    fit = ["fit", "ar", "nile.csv", "--time-index", "year", "-o", "plain.skops"]
    assert cli([*fit, "-p", "p=1"])[0] == 0
    code, _, err = cli(["forecast", "plain.skops", "--steps", "2", "--exog", "nile.csv"])
    assert code != 0 and "no exogenous regressors" in err


def test_ar_on_a_long_table_of_many_series(files, cli):
    from tests.timeseries.test_ar_panel import long_table

    df = long_table([50, 70, 60], seed=3, with_x=True)
    df = df.rename(columns={"unique_id": "store", "ds": "day", "y": "sales"})
    df.to_csv(files / "long.csv", index=False)
    fit = ["fit", "ar", "long.csv", "--id-col", "store", "--time-col", "day"]
    params = ["-p", "p=2", "-p", "target_col=sales", "-p", "exog=x"]
    code, _, err = cli([*fit, *params, "-o", "long.skops"])
    assert code == 0, err
    est = ARRegressor(p=2, id_col="store", time_col="day", target_col="sales", exog="x")
    est.fit(df)
    # The future drivers: a long table of each store's next 3 days.
    ends = df.groupby("store")["day"].max()
    future = pd.concat(
        [
            pd.DataFrame(
                {"store": k, "day": pd.date_range(end, periods=4, freq="D")[1:], "x": 0.5}
            )
            for k, end in ends.items()
        ]
    )
    future.to_csv(files / "future_long.csv", index=False)
    code, out, err = cli(
        ["forecast", "long.skops", "--steps", "3", "--exog", "future_long.csv"]
    )
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out), parse_dates=["day"])
    ref = est.forecast(3, alpha=0.05, exog=future)
    assert list(got.columns) == ["store", "day", "mean", "lower", "upper"]
    np.testing.assert_allclose(got["mean"], ref["mean"], rtol=1e-9)
    assert (got["day"] == ref["day"]).all()
    code, _, err = cli(["fit", "ar", "long.csv", "--id-col", "store", "-o", "x.skops"])
    assert code != 0 and "--id-col and --time-col go together" in err
