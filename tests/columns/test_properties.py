"""Properties of the column layer over drawn values: dates, extreme integers, given values.

Hypothesis draws dates of every datetime64 unit (past 2262 for the coarse
ones), with or without a time zone and with NaT among them; integers up to
the ends of their dtypes; and values for ``sample(given=...)``. Each is
checked against a direct computation. CI runs a fixed set of examples (the
"ci" profile of ``tests/test_input_properties.py``).
"""

import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from probmodels import GaussianMixture
from probmodels.columns import ColumnTypes

UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


@st.composite
def date_columns(draw):
    unit = draw(st.sampled_from(list(UNITS)))
    # The range each unit holds: nanoseconds end in 2262, the rest far past.
    low, high = (1700, 2250) if unit == "ns" else (1000, 2900)
    years = draw(st.lists(st.integers(low, high), min_size=2, max_size=12))
    seconds = [
        int((datetime.datetime(y, 1, 1, tzinfo=datetime.UTC) - EPOCH).total_seconds())
        + draw(st.integers(0, 364 * 86_400))
        for y in years
    ]
    stamps = pd.Series(np.array(seconds, dtype="datetime64[s]").astype(f"M8[{unit}]"))
    tz = draw(st.sampled_from([None, "UTC", "Europe/Paris", "America/New_York"]))
    if tz is not None:
        stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(tz)
    holes = draw(st.lists(st.booleans(), min_size=len(years), max_size=len(years)))
    holes[0] = False  # one observed date at least
    stamps[np.array(holes)] = pd.NaT
    return stamps, np.array(seconds, dtype=float), np.array(holes)


@given(column=date_columns())
def test_dates_encode_to_their_seconds_nat_to_nan_and_decode_back(column):
    stamps, seconds, holes = column
    frame = pd.DataFrame({"d": stamps})
    types, encoded = ColumnTypes.fit(frame, allow_nan=True)
    column = types.columns[0]
    got = encoded.continuous[:, 0] * column.scale + column.center
    assert np.isnan(got[holes]).all()
    # Exact up to the rounding of the standardisation and of its inverse here.
    tol = 16 * np.finfo(float).eps * (abs(column.center) + np.abs(seconds).max())
    np.testing.assert_allclose(got[~holes], seconds[~holes], rtol=0, atol=tol)
    back = types.decode(encoded.continuous[~holes])["d"]
    assert back.dtype == stamps.dtype
    pd.testing.assert_series_equal(
        back.reset_index(drop=True), stamps[~holes].reset_index(drop=True), check_names=False
    )


INTEGER_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64]


@given(
    dtype=st.sampled_from(INTEGER_DTYPES),
    data=st.data(),
    noise=st.lists(st.floats(-1e30, 1e30), min_size=1, max_size=8),
)
def test_integers_at_the_ends_of_their_dtype_never_wrap(dtype, data, noise):
    info = np.iinfo(dtype)
    near = st.one_of(
        st.integers(int(info.min), int(info.min) + 3),
        st.integers(int(info.max) - 3, int(info.max)),
        st.integers(int(info.min), int(info.max)),
    )
    values = data.draw(st.lists(near, min_size=2, max_size=8))
    column = pd.Series(np.array(values, dtype=dtype))
    types, encoded = ColumnTypes.fit(pd.DataFrame({"i": column}))
    low, high = int(column.min()), int(column.max())
    # Model output anywhere, even far out of range, comes back in range.
    out = types.decode(np.r_[encoded.continuous[:, 0], noise][:, None])["i"]
    assert out.dtype == dtype
    assert all(low <= int(v) <= high for v in out)
    # Decoding the encoded values is exact up to float64's spacing.
    spacing = np.spacing(np.abs(column.to_numpy(float))) + 1
    assert (np.abs(out[: len(column)].to_numpy(float) - column.to_numpy(float)) <= spacing).all()
    if float(low) != float(high):  # else float64 cannot tell the two apart
        extremes = types.decode(np.array([[float(low)], [float(high)]]))["i"]
        assert [int(v) for v in extremes] == [low, high]


@pytest.fixture(scope="module")
def mixture():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=120),
            "i": rng.integers(-5, 5, 120),
            "c": rng.choice(["a", "b", "c"], 120).astype(object),
            "d": pd.Timestamp("2021-01-01", tz="Europe/Paris")
            + pd.to_timedelta(rng.integers(0, 90, 120), unit="D"),
        }
    )
    return GaussianMixture(2, random_state=0).fit(frame)


GIVEN = {
    "x": st.floats(-10, 10),
    "i": st.one_of(st.integers(-5, 4), st.floats(-5, 4)),
    "c": st.sampled_from(["a", "b", "c", "z"]),
    "d": st.datetimes(datetime.datetime(2021, 1, 1), datetime.datetime(2021, 4, 1)),
}


@given(
    data=st.data(),
    names=st.lists(st.sampled_from(list(GIVEN)), min_size=1, max_size=3, unique=True),
)
def test_given_values_are_kept_exactly_or_refused(mixture, data, names):
    given_values = {name: data.draw(GIVEN[name]) for name in names}
    if "d" in given_values:
        given_values["d"] = pd.Timestamp(given_values["d"], tz="Europe/Paris")
    whole = not isinstance(given_values.get("i"), float) or float(given_values["i"]).is_integer()
    known = given_values.get("c", "a") != "z"
    if not (whole and known):
        with pytest.raises(ValueError, match="given|category"):
            mixture.sample(3, given=given_values, random_state=0)
        return
    out = mixture.sample(3, given=given_values, random_state=0)
    for name, value in given_values.items():
        assert (out[name] == value).all(), (name, value, out[name].tolist())


@pytest.mark.parametrize("missing", [np.nan, None, pd.NaT, pd.NA])
@pytest.mark.parametrize("name", ["x", "i", "c", "d"])
def test_a_missing_given_value_is_refused(mixture, name, missing):
    with pytest.raises(ValueError, match="missing value"):
        mixture.sample(2, given={name: missing})
