"""The column-type layer: kinds read from dtypes, encoded, and given back."""

import pickle

import numpy as np
import pandas as pd
import pytest

from probmodels.columns import ColumnTypes, one_hot

RNG = np.random.default_rng(0)
N = 30


def table():
    """One column of every kind, with the dtypes users have."""
    return pd.DataFrame(
        {
            "x": RNG.normal(size=N),
            "x32": RNG.normal(size=N).astype(np.float32),
            "count": RNG.integers(-3, 40, N),
            "small": RNG.integers(0, 5, N).astype(np.uint8),
            "nullable": pd.array(RNG.integers(0, 9, N), dtype="Int64"),
            "flag": RNG.random(N) > 0.5,
            "colour": pd.Categorical(
                RNG.choice(["red", "blue"], N), categories=["red", "green", "blue"]
            ),
            "grade": pd.Categorical(
                RNG.choice(["lo", "hi"], N), categories=["lo", "hi"], ordered=True
            ),
            "name": RNG.choice(["ann", "bob", "cy"], N).astype(object),
            "text": pd.array(RNG.choice(["p", "q"], N), dtype="string"),
            "day": pd.date_range("2021-03-01", periods=N, freq="D")[RNG.permutation(N)],
            "stamp": pd.date_range(
                "2021-03-01 09:30", periods=N, freq="17min", tz="Europe/Paris"
            ),
        }
    )


def test_kinds_are_read_from_the_dtypes():
    types, encoded = ColumnTypes.fit(table())
    assert types.kinds == [
        "continuous",
        "continuous",
        "integer",
        "integer",
        "integer",
        "boolean",
        "categorical",
        "categorical",
        "categorical",
        "categorical",
        "datetime",
        "datetime",
    ]
    assert encoded.continuous.shape == (N, 7) and encoded.codes.shape == (N, 5)
    assert types.category_sizes == [2, 2, 2, 3, 2]  # the categories seen
    assert types.columns[10].step == 86_400 * 10**9  # whole days
    assert types.columns[11].step == 60 * 10**9  # whole minutes


def test_every_dtype_round_trips():
    frame = table()
    types, encoded = ColumnTypes.fit(frame)
    back = types.decode(encoded.continuous, encoded.codes)
    # float32 comes back as float32 values, the rest exactly.
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert list(back["colour"].cat.categories) == ["red", "green", "blue"]
    assert back["grade"].cat.ordered


def test_decoding_rounds_clips_and_restores():
    frame = table()
    types, encoded = ColumnTypes.fit(frame)
    noisy = encoded.continuous + RNG.normal(scale=0.3, size=encoded.continuous.shape)
    noisy[0] += 1e9  # far out of range
    noisy[1] -= 1e9
    back = types.decode(noisy, encoded.codes)
    for name in ("count", "small", "nullable"):
        assert back[name].dtype == frame[name].dtype
        assert back[name].min() >= frame[name].min()
        assert back[name].max() <= frame[name].max()
    assert back["day"].dtype == frame["day"].dtype
    assert (back["day"].dt.normalize() == back["day"]).all()  # whole days
    assert back["day"].between(frame["day"].min(), frame["day"].max()).all()
    assert str(back["stamp"].dt.tz) == "Europe/Paris"
    assert (back["stamp"].dt.second == 0).all()


def test_new_rows_are_encoded_and_unseen_categories_named():
    frame = table()
    types, encoded = ColumnTypes.fit(frame)
    again = types.encode(frame)
    np.testing.assert_array_equal(again.continuous, encoded.continuous)
    np.testing.assert_array_equal(again.codes, encoded.codes)
    bad = frame.assign(name=frame["name"].replace("bob", "dan"))
    with pytest.raises(ValueError, match=r"Column 'name' holds 'dan' \(row \d+\)"):
        types.encode(bad)
    with pytest.raises(ValueError, match="missing values"):
        types.encode(frame.assign(flag=frame["flag"].astype(object).where(frame.x > 0)))


def test_categorical_features_names_indices_and_masks():
    frame = pd.DataFrame({"code": RNG.integers(0, 3, N), "v": RNG.normal(size=N)})
    for chosen in (["code"], [0], [True, False]):
        types, encoded = ColumnTypes.fit(frame, chosen)
        assert types.kinds == ["categorical", "continuous"]
        assert types.columns[0].categories == [0, 1, 2]
    array = frame.to_numpy(float)
    types, encoded = ColumnTypes.fit(array, [0])
    back = types.decode(encoded.continuous, encoded.codes)
    np.testing.assert_array_equal(back, array)
    with pytest.raises(ValueError, match="not a column"):
        ColumnTypes.fit(frame, ["nope"])
    text = pd.DataFrame({"t": ["a", "b"] * 15})
    with pytest.raises(TypeError, match="categorical_features"):
        ColumnTypes.fit(text, None)


@pytest.mark.parametrize(
    "column, match",
    [
        (RNG.normal(size=N) + 1j, "complex numbers"),
        (pd.to_timedelta(RNG.integers(0, 9, N), unit="h"), "total_seconds"),
        (pd.period_range("2020-01", periods=N, freq="M"), "to_timestamp"),
        ([f"id{i}" for i in range(N)], "an identifier, not a category"),
    ],
)
def test_columns_no_model_takes_are_named(column, match):
    frame = pd.DataFrame({"ok": RNG.normal(size=N), "bad": column})
    with pytest.raises((TypeError, ValueError), match=match):
        ColumnTypes.fit(frame)


def test_the_types_pickle_as_plain_values():
    types, _ = ColumnTypes.fit(table())
    state = types.__getstate__()
    text = repr(state)
    assert "Timestamp(" not in text and "Index(" not in text
    back = pickle.loads(pickle.dumps(types))
    assert back.kinds == types.kinds and back.columns == types.columns
    pd.testing.assert_index_equal(back.labels, types.labels)


def test_one_hot_blocks():
    codes = np.array([[0, 2], [1, 0]])
    np.testing.assert_array_equal(
        one_hot(codes, [2, 3]), [[1, 0, 0, 0, 1], [0, 1, 1, 0, 0]]
    )
