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
