"""Tables through the models and their files: what used to change silently.

Reproducers of the hardening probe (issue 34): flags read as numbers,
categories that Python counts equal, empty tables, object columns whose
values a model file could not hold, and given values on the command line.
"""

import datetime
import decimal

import numpy as np
import pandas as pd
import pytest

import probmodels
from probmodels import DDPM, VAE, GaussianMixture
from probmodels._persistence import ModelFileError
from probmodels.cli import main

RNG = np.random.default_rng(0)
TINY = {"max_epochs": 2, "random_state": 0}


def test_flags_stay_flags_when_no_column_is_categorical():
    frame = pd.DataFrame({"x": RNG.normal(size=60), "b": RNG.random(60) > 0.3})
    for model in (
        GaussianMixture(1, categorical_features=None, random_state=0),
        VAE(latent_dim=1, hidden_layer_sizes=(4,), categorical_features=None, **TINY),
    ):
        out = model.fit(frame).sample(200, random_state=0)
        assert out["b"].dtype == bool and set(out["b"]) == {False, True}


def test_one_true_and_one_point_zero_are_three_categories():
    values = pd.Series([1, True, 1.0, "a"] * 15, dtype=object)
    frame = pd.DataFrame({"x": RNG.normal(size=60), "o": values})
    gm = GaussianMixture(1, random_state=0).fit(frame)
    assert len(gm.categories_[0]) == 4
    drawn = gm.sample(400, random_state=0)["o"].tolist()
    kinds = {(type(v), v) for v in drawn}
    assert kinds == {(int, 1), (bool, True), (float, 1.0), (str, "a")}
    # Each value scores as its own category (each a quarter of the rows).
    codes = gm._types.encode(frame).codes[:, 0]
    assert sorted(np.bincount(codes)) == [15, 15, 15, 15]


@pytest.mark.parametrize("make", [GaussianMixture, VAE, DDPM])
def test_a_table_without_rows_is_refused_clearly(make):
    empty = pd.DataFrame({"x": pd.Series([], dtype=float), "c": pd.Series([], dtype=object)})
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        make().fit(empty)


ROUND_TRIPS = {
    "str": ["a", "b", "c"],
    "int": [1, 2, 3],
    "mixed": [1, "a", 2.5],
    "date": [datetime.date(2020, 1, d) for d in (1, 2, 3)],
    "datetime": [datetime.datetime(2020, 1, 1, h) for h in (1, 2, 3)],
    "tuple": [("a", 1), ("a", 2), ("b", 1)],
}
REFUSED = {
    "time": [datetime.time(h) for h in (1, 2, 3)],
    "decimal": [decimal.Decimal(d) for d in (1, 2, 3)],
    "bytes": [b"a", b"b", b"c"],
}


@pytest.mark.parametrize("kind", list(ROUND_TRIPS) + list(REFUSED))
def test_object_values_save_and_load_or_are_refused_at_save(kind, tmp_path):
    values = {**ROUND_TRIPS, **REFUSED}[kind]
    column = pd.Series([values[i % 3] for i in range(45)], dtype=object)
    frame = pd.DataFrame({"x": RNG.normal(size=45), "o": column})
    gm = GaussianMixture(1, random_state=0).fit(frame)
    path = tmp_path / "m.skops"
    if kind in REFUSED:
        with pytest.raises(ModelFileError, match="was not written"):
            probmodels.save(gm, path)
        assert not path.exists()
        return
    probmodels.save(gm, path)
    back = probmodels.load(path)
    expected = gm.sample(30, random_state=0)
    got = back.sample(30, random_state=0)
    pd.testing.assert_frame_equal(got, expected)
    np.testing.assert_array_equal(back.score_samples(frame), gm.score_samples(frame))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    days = pd.to_timedelta(RNG.integers(0, 100, 80), unit="D")
    frame = pd.DataFrame(
        {
            "x": RNG.normal(size=80),
            "i": RNG.integers(0, 5, 80),
            "d": pd.Timestamp("2020-01-01") + days,
        }
    )
    frame.to_csv("t.csv", index=False)
    frame.assign(d=frame["d"].where(frame.index > 5)).to_csv("holes.csv", index=False)
    assert main(["fit", "gmm", "t.csv", "--dates", "d", "-o", "g.skops", "--quiet"]) == 0
    return tmp_path


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["i=2.5"], "holds integers"),
        (["x=nan"], "missing value"),
        (["i=2", "i=3"], "twice"),
    ],
)
def test_given_values_on_the_command_line_are_refused(folder, capsys, given, message):
    flags = [f for g in given for f in ("--given", g)]
    assert main(["sample", "g.skops", "-n", "2", *flags]) == 2
    assert message in capsys.readouterr().err


def test_empty_date_cells_are_missing_dates_on_the_command_line(folder, capsys):
    assert main(["score", "g.skops", "holes.csv", "--dates", "d", "-o", "s.csv"]) == 0
    capsys.readouterr()
    scores = pd.read_csv("s.csv").iloc[:, -1].to_numpy()
    holes = pd.read_csv("holes.csv", parse_dates=["d"])
    assert holes["d"].isna().sum() == 6
    # The command line scores as the library does: a row without its date
    # scores its other columns (finite, nowhere near 1677).
    expected = probmodels.load("g.skops").score_samples(holes)
    np.testing.assert_allclose(scores, expected, rtol=1e-9)
    assert np.isfinite(scores).all() and scores[:6].min() > -50


# ------------------------------------------------------- dates on their scale
def _orders(n=200):
    ordered = pd.Timestamp("2022-01-01") + pd.to_timedelta(RNG.integers(0, 365, n), unit="D")
    return pd.DataFrame(
        {
            "x": RNG.normal(size=n),
            "ordered": ordered,
            "shipped": ordered + pd.Timedelta(days=3),  # a fixed lag
        }
    )


def test_two_dates_a_fixed_lag_apart_fit_and_keep_the_lag():
    frame = _orders()
    gm = GaussianMixture(2, random_state=0).fit(frame)
    out = gm.sample(200, random_state=0)
    lag = (out["shipped"] - out["ordered"]).dt.days
    assert (lag.between(2, 4)).mean() > 0.95


def test_a_spherical_covariance_is_not_swamped_by_a_date():
    frame = _orders()[["x", "ordered"]]
    out = GaussianMixture(1, covariance_type="spherical", random_state=0).fit(frame)
    x = out.sample(500, random_state=0)["x"]
    assert x.abs().max() < 6  # x is N(0, 1); in seconds its sd was 1.7e6


def test_scores_are_densities_of_the_dates_in_seconds():
    from scipy.stats import norm

    frame = _orders()[["x", "ordered"]]
    gm = GaussianMixture(1, covariance_type="diag", random_state=0).fit(frame)
    seconds = (frame["ordered"] - pd.Timestamp("1970-01-01")).dt.total_seconds()
    expected = norm.logpdf(frame["x"], frame["x"].mean(), frame["x"].std(ddof=0))
    expected += norm.logpdf(seconds, seconds.mean(), seconds.std(ddof=0))
    np.testing.assert_allclose(gm.score_samples(frame), expected, rtol=1e-5)
    # A row without its date scores its x alone.
    x_only = norm.logpdf(frame["x"], frame["x"].mean(), frame["x"].std(ddof=0))
    holes = frame.assign(ordered=pd.NaT)
    np.testing.assert_allclose(gm.score_samples(holes), x_only, rtol=1e-5)


def test_the_log_jacobian_counts_the_observed_dates():
    from probmodels.columns import ColumnTypes

    frame = _orders(50)
    frame.loc[:4, "shipped"] = pd.NaT
    types, encoded = ColumnTypes.fit(frame, allow_nan=True)
    scales = [types.columns[1].scale, types.columns[2].scale]
    jacobian = types.log_jacobian(encoded.continuous)
    np.testing.assert_allclose(jacobian[5:], -np.log(scales).sum())
    np.testing.assert_allclose(jacobian[:5], -np.log(scales[0]))
    quantiles, rows = ColumnTypes.fit(frame, quantile_transform=True, allow_nan=True)
    assert not quantiles.log_jacobian(rows.continuous).any()


@pytest.mark.parametrize("make", [VAE])
def test_neural_scores_of_dates_equal_those_of_their_seconds(make):
    frame = _orders(120)[["x", "ordered"]]
    seconds = frame.assign(
        ordered=(frame["ordered"] - pd.Timestamp("1970-01-01")).dt.total_seconds()
    )
    small = (
        {"latent_dim": 1, "hidden_layer_sizes": (8,)}
        if make is VAE
        else {"hidden_layer_sizes": (8,), "n_timesteps": 10, "n_score_timesteps": 3}
    )
    on_dates = make(**small, **TINY).fit(frame).score_samples(frame)
    on_seconds = make(**small, **TINY).fit(seconds).score_samples(seconds)
    # The same standardised inputs, so alike networks (the Monte Carlo draws
    # are keyed on the encoded rows, so they differ): without the dates'
    # log-Jacobian the two would stand log(scale) = 16 nats apart.
    scale = (frame["ordered"] - pd.Timestamp("1970-01-01")).dt.total_seconds().std()
    assert np.log(scale) > 15
    assert abs(on_dates.mean() - on_seconds.mean()) < 1.0


@pytest.mark.parametrize(
    ("make", "params"),
    [
        (VAE, {"latent_dim": 1, "max_epochs": 20}),
        (DDPM, {"max_epochs": 20, "n_timesteps": 50}),
    ],
)
def test_a_row_with_holes_counts_only_its_observed_scales(make, params):
    # x1 ~ N(0, 1) beside an independent x2 ~ N(0, 1000^2): a row without
    # x2 scores its x1 alone, not that minus log(1000) = 6.9 nats.
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=1500), 1000 * rng.normal(size=1500)]
    holes = X.copy()
    holes[::5, 1] = np.nan
    model = make(random_state=0, **params).fit(holes)
    query = X[:300].copy()
    query[:, 1] = np.nan
    exact = np.mean(-0.5 * np.log(2 * np.pi) - 0.5 * X[:300, 0] ** 2)
    got = model.score_samples(query).mean()
    assert exact - 0.3 < got < exact + 0.1  # a bound, a little below
