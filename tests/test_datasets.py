"""The 2-D toy densities against their definitions (FFJORD's toy data)."""

import numpy as np
import pytest

from probmodels.datasets import make_toy_2d


def test_eight_gaussians_sit_on_the_circle_with_their_spread():
    X = make_toy_2d("8gaussians", 8000, random_state=0) * 1.414
    angles = np.pi / 4 * np.arange(8)
    centres = 4 * np.column_stack([np.cos(angles), np.sin(angles)])
    nearest = np.argmin(((X[:, None] - centres) ** 2).sum(-1), axis=1)
    counts = np.bincount(nearest, minlength=8)
    assert counts.min() > 900 and counts.max() < 1100  # 1000 each
    spread = X - centres[nearest]
    np.testing.assert_allclose(spread.std(0), [0.5, 0.5], rtol=0.05)


def test_checkerboard_fills_the_dark_squares_only():
    X = make_toy_2d("checkerboard", 8000, random_state=1)
    assert np.all(np.abs(X) <= 4)
    col, row = np.floor(X[:, 0] / 2), np.floor(X[:, 1] / 2)
    assert np.all((col + row) % 2 == 0)  # every point on a dark square
    squares = np.bincount(((col + 2) * 4 + row + 2).astype(int), minlength=16)
    occupied = squares[squares > 0]
    assert len(occupied) == 8 and occupied.min() > 900  # 1000 each


def test_pinwheel_has_five_arms_at_radius_two():
    X = make_toy_2d("pinwheel", 10000, random_state=2)
    radius = np.hypot(X[:, 0], X[:, 1]) / 2
    # |(1 + 0.3 r, 0.1 s)|: mean about 1.05, most mass between 0.4 and 1.9.
    assert 0.95 < radius.mean() < 1.15 and np.quantile(radius, 0.99) < 2.0
    # Near the centre of each arm (radial part 1, so the turn is 0.25 e):
    # five directions, 72 degrees apart, turned clockwise.
    core = np.abs(radius - 1) < 0.05
    angle = np.mod(-np.arctan2(X[core, 1], X[core, 0]) - 0.25 * np.e, 2 * np.pi)
    arm = np.mod(angle, 2 * np.pi / 5)
    arm = np.minimum(arm, 2 * np.pi / 5 - arm)
    assert np.quantile(arm, 0.9) < 0.2  # tangential spread 0.1 at radius 1


def test_same_seed_same_points_and_bad_names():
    a = make_toy_2d("pinwheel", 50, random_state=3)
    np.testing.assert_array_equal(a, make_toy_2d("pinwheel", 50, random_state=3))
    with pytest.raises(ValueError, match="Unknown toy 'spiral'"):
        make_toy_2d("spiral")


def test_adult_is_the_raw_uci_files_as_the_papers_read_them():
    from probmodels.datasets import ADULT_COLUMNS, load_adult

    train, test = load_adult(), load_adult("test")
    # The sizes and label counts the UCI page and the papers give.
    assert train.shape == (32561, 15) and test.shape == (16281, 15)
    assert train["income"].value_counts().to_dict() == {"<=50K": 24720, ">50K": 7841}
    assert test["income"].value_counts().to_dict() == {"<=50K": 12435, ">50K": 3846}
    assert list(train.columns) == list(ADULT_COLUMNS)
    integers = [c for c, kind in ADULT_COLUMNS.items() if kind == "integer"]
    assert len(integers) == 6 and all(train[c].dtype == "int64" for c in integers)
    # "?" is a category of its own, and both files share the categories.
    assert train["workclass"].value_counts()["?"] == 1836
    assert train["native_country"].isna().sum() == 0
    for column in set(ADULT_COLUMNS) - set(integers):
        assert list(train[column].cat.categories) == list(test[column].cat.categories)
    # The first training row, as in the file.
    assert train.iloc[0][["age", "fnlwgt", "capital_gain"]].tolist() == [39, 77516, 2174]
    both = load_adult("all")
    assert len(both) == len(train) + len(test)
    assert both.iloc[len(train)]["age"] == test.iloc[0]["age"] == 25
    with pytest.raises(ValueError, match="subset must be"):
        load_adult("valid")
