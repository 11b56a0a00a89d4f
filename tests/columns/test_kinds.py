"""Each kind of column on its own: read, encode, decode, given values, files."""

import datetime

import numpy as np
import pandas as pd
import pytest

from probmodels.columns import (
    BooleanColumn,
    CategoricalColumn,
    Column,
    ColumnTypes,
    ContinuousColumn,
    DatetimeColumn,
    IntegerColumn,
    column_from_state,
    datetime_seconds,
)

RNG = np.random.default_rng(1)


def read(series, categorical=False):
    types, _ = ColumnTypes.fit(
        series.to_frame("c"), "from_dtype" if not categorical else ["c"]
    )
    return types.columns[0]


CASES = {
    "continuous": (pd.Series(RNG.normal(size=20)), ContinuousColumn),
    "integer": (pd.Series(RNG.integers(-5, 50, 20)), IntegerColumn),
    "boolean": (pd.Series(RNG.random(20) > 0.5), BooleanColumn),
    "categorical": (pd.Series(RNG.choice(["a", "b", "c"], 20)), CategoricalColumn),
    "datetime": (
        pd.Series(pd.date_range("2020-01-01", periods=20, freq="h", tz="Asia/Tokyo")),
        DatetimeColumn,
    ),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_is_its_own_class_and_round_trips(kind):
    series, cls = CASES[kind]
    column = read(series)
    assert type(column) is cls and column.kind == kind
    assert isinstance(column, Column)
    encoded = column.encode(series, "c")
    assert encoded.dtype == (np.int64 if column.categorical else np.float64)
    back = pd.Series(column.decode(encoded))
    pd.testing.assert_series_equal(back, series, check_names=False)


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_is_stored_as_plain_values_and_restored(kind):
    series, _ = CASES[kind]
    column = read(series)
    state = column.state()
    for value in state.values():
        assert value is None or isinstance(value, (str, int, float, bool, list, dict))
    assert column_from_state(state) == column


def test_a_file_of_the_old_record_restores_each_kind():
    # Files written before the kinds had classes store all nine fields.
    old = {
        "kind": "datetime",
        "dtype": "datetime64[ns]",
        "categories": None,
        "declared": None,
        "ordered": False,
        "low": 0.0,
        "high": 86_400.0,
        "step": 3_600 * 10**9,
        "tz": None,
    }
    column = column_from_state(old)
    assert isinstance(column, DatetimeColumn) and column.range == (0.0, 86_400.0)
    stamps = column.decode(np.array([-5.0, 5_000.0, 1e9]))
    assert list(stamps.astype(str)) == [
        "1970-01-01 00:00:00",
        "1970-01-01 01:00:00",
        "1970-01-02 00:00:00",
    ]


def test_datetime_seconds_against_a_direct_computation():
    stamps = pd.Series(pd.to_datetime(["2021-03-28 00:30:00", None, "1969-12-31 23:59:59"]))
    stamps = stamps.dt.tz_localize("Europe/Paris")
    got = datetime_seconds(stamps)
    utc = [datetime.datetime(2021, 3, 27, 23, 30, tzinfo=datetime.UTC)]
    utc.append(datetime.datetime(1969, 12, 31, 22, 59, 59, tzinfo=datetime.UTC))
    np.testing.assert_array_equal(got[[0, 2]], [d.timestamp() for d in utc])
    assert np.isnan(got[1])  # NaT is a missing value, not 1677


def test_dates_past_2262_convert_at_their_own_unit():
    far = pd.Series(pd.date_range("2300-01-01", periods=10, freq="D").as_unit("us"))
    assert far.dtype == "datetime64[us]"
    column = read(far)
    encoded = column.encode(far, "c")
    expected = (far - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy()
    np.testing.assert_array_equal(datetime_seconds(far), expected)
    # Standardised by the training dates' mean and standard deviation.
    assert column.center == expected.mean() and column.scale == expected.std()
    np.testing.assert_allclose(encoded * column.scale + column.center, expected, rtol=1e-15)
    back = pd.Series(column.decode(encoded))
    pd.testing.assert_series_equal(back, far)


def test_a_missing_date_encodes_as_nan():
    series, _ = CASES["datetime"]
    column = read(series)
    holes = series.copy()
    holes[3] = pd.NaT
    encoded = column.encode(holes, "c", allow_nan=True)
    assert np.isnan(encoded[3]) and np.isfinite(np.delete(encoded, 3)).all()


def test_a_missing_category_is_code_minus_one_or_refused():
    series, _ = CASES["categorical"]
    column = read(series)
    holes = series.astype(object).copy()
    holes[2] = None
    assert column.encode(holes, "c", allow_nan=True)[2] == -1
    with pytest.raises(ValueError, match="Column 'c' has missing values"):
        column.encode(holes, "c")


def test_integers_are_rounded_and_clipped_to_the_training_range():
    column = read(pd.Series([3, 7, 5], dtype=np.int16))
    out = column.decode(np.array([2.4, 5.5, 6.5, 99.0]))
    assert out.dtype == np.int16 and list(out) == [3, 6, 6, 7]  # half to even


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("continuous", "2.5", 2.5),
        ("categorical", "b", "b"),
        ("boolean", "True", True),
        ("datetime", "2020-01-01 03:00+09:00", pd.Timestamp("2020-01-01 03:00+09:00")),
    ],
)
def test_text_from_the_command_line_parses_per_kind(kind, text, value):
    column = read(CASES[kind][0])
    assert column.parse(text, "c") == value


def test_text_that_is_no_value_of_the_column_is_refused():
    with pytest.raises(ValueError, match="not a category of 'c'"):
        read(CASES["categorical"][0]).parse("z", "c")
    with pytest.raises(ValueError, match="holds numbers"):
        read(CASES["continuous"][0]).parse("z", "c")


def test_given_values_and_missing_entries_per_kind():
    dates = read(CASES["datetime"][0])
    missing = dates.missing(3)
    assert missing.isna().all() and str(missing.dt.tz) == "Asia/Tokyo"
    assert read(CASES["categorical"][0]).missing(2).dtype == object
    assert np.isnan(read(CASES["continuous"][0]).missing(2)).all()
    with pytest.raises(ValueError, match="holds numbers"):
        read(CASES["continuous"][0]).given(["x"], "c")


def test_new_values_of_another_kind_are_refused_by_name():
    with pytest.raises(TypeError, match="held dates in training"):
        read(CASES["datetime"][0]).encode(pd.Series([1.0]), "c")
    with pytest.raises(TypeError, match="held numbers in training"):
        read(CASES["continuous"][0]).encode(pd.Series(["a"]), "c")


def _dated(n=100, start="2020-01-01", unit="ns"):
    r = np.random.default_rng(0)
    days = pd.to_timedelta(r.integers(0, 100, n), unit="D")
    return pd.DataFrame(
        {"x": r.normal(size=n), "d": (pd.Timestamp(start) + days).as_unit(unit)}
    )


def test_a_model_reads_nat_as_missing_not_as_1677():
    from probmodels import GaussianMixture

    X = _dated()
    gm = GaussianMixture(1, random_state=0).fit(X)
    low, high = X["d"].min(), X["d"].max()
    filled = gm.impute(X.head(3).assign(d=pd.NaT), method="mean")["d"]
    assert filled.between(low, high).all() and filled.nunique() > 1
    # A row without its date scores its x alone: the marginal of x.
    x = X["x"].to_numpy()
    marginal = -0.5 * np.log(2 * np.pi * x.var()) - 0.5 * (x[0] - x.mean()) ** 2 / x.var()
    got = gm.score_samples(X.head(1).assign(d=pd.NaT))[0]
    np.testing.assert_allclose(got, marginal, rtol=1e-6)
    drawn = gm.sample(200, given={"x": 0.0}, random_state=0)["d"]
    assert drawn.between(low, high).all() and drawn.nunique() > 20


def test_a_model_of_dates_past_2262_samples_them_there():
    from probmodels import GaussianMixture

    X = _dated(start="2300-01-01", unit="us")
    out = GaussianMixture(1, random_state=0).fit(X).sample(50, random_state=0)
    assert out["d"].dtype == X["d"].dtype
    assert out["d"].between(X["d"].min(), X["d"].max()).all()
