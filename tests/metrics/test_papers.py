"""The papers' figures (detection, shape and trend errors, alpha-precision and
beta-recall) on hand-made tables with known answers."""

import numpy as np
import pandas as pd
import pytest

from probmodels.metrics import (
    alpha_precision,
    column_shapes,
    detection,
    shape_error,
    trend_error,
)
from probmodels.metrics._papers import detection_from_auc


def linked(n, seed, k=3):
    """Two columns of k categories that determine each other, and a number
    that follows them."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, k, n)
    return pd.DataFrame(
        {
            "kind": np.array([f"k{i}" for i in range(k)])[kind],
            "size": np.array([f"s{i}" for i in range(k)])[kind],
            "value": 5.0 * kind + rng.normal(0, 0.3, n),
        }
    )


def test_detection_is_one_for_a_resample_and_near_zero_for_independent_columns():
    real = linked(4000, 0, k=8)
    assert detection(real, linked(4000, 1, k=8)) > 0.85
    # Shuffled columns: a synthetic row looks real only when its size and
    # its value both match its kind, 1 in 8**2; the detector then ranks
    # those with the real rows and every other one above them, an AUC of
    # 1 - 1 / (2 * 64): a detection score of 1 / 64.
    rng = np.random.default_rng(2)
    independent = real.apply(lambda c: c.sample(frac=1, random_state=rng).to_numpy())
    assert detection(real, independent) == pytest.approx(1 / 64, abs=0.01)


def test_detection_from_auc_is_the_papers_score():
    assert detection_from_auc(0.5) == 1.0
    assert detection_from_auc(1.0) == 0.0
    assert detection_from_auc(0.75) == pytest.approx(0.5)
    assert detection_from_auc(0.3) == 1.0  # worse than chance: indistinguishable


def test_detection_uses_equal_numbers_of_rows_and_refuses_too_few():
    real = linked(3000, 0)
    # Three times the real rows of the same law: still indistinguishable,
    # where an unbalanced AUC would be too.
    assert detection(real, linked(9000, 1)) > 0.85
    with pytest.raises(ValueError, match="at least 5 rows"):
        detection(real, linked(3, 1))


def test_shape_and_trend_errors_in_percent():
    real = linked(500, 0)
    assert shape_error(real, real) == pytest.approx(0.0)
    assert trend_error(real, real) == pytest.approx(0.0)
    moved = real.assign(value=real["value"] + 100.0)  # KS statistic 1
    assert shape_error(real, moved) == pytest.approx(100 / 3)
    expected = 100 * (1 - column_shapes(real, moved)["score"].mean())
    assert shape_error(real, moved) == pytest.approx(expected)
    # Shuffling one column keeps its shape and breaks its two pairs.
    rng = np.random.default_rng(0)
    shuffled = real.assign(kind=rng.permutation(real["kind"].to_numpy()))
    assert shape_error(real, shuffled) == pytest.approx(0.0)
    assert trend_error(real, shuffled) > 20.0
    with pytest.raises(ValueError, match="two columns"):
        trend_error(real[["kind"]], real[["kind"]])


def reference_alpha_precision(A, B, alphas):
    """synthcity's naive figures, written out row by row."""
    center, synth_center = A.mean(0), B.mean(0)
    radii = np.quantile([np.linalg.norm(a - center) for a in A], alphas)
    to_center = [np.linalg.norm(b - center) for b in B]
    nearest_real, nearest_synth, closest = [], [], []
    for i, a in enumerate(A):
        d_real = [np.linalg.norm(a - o) for k, o in enumerate(A) if k != i]
        d_synth = [np.linalg.norm(a - b) for b in B]
        nearest_real.append(min(d_real))
        nearest_synth.append(min(d_synth))
        closest.append(np.linalg.norm(B[int(np.argmin(d_synth))] - synth_center))
    closest_radii = np.quantile(closest, alphas)
    precision = [np.mean([d <= r for d in to_center]) for r in radii]
    pairs = list(zip(nearest_synth, nearest_real, closest, strict=True))
    recall = [np.mean([s <= q and c <= r for s, q, c in pairs]) for r in closest_radii]
    step = alphas[1] - alphas[0]
    return (
        1 - 2 * np.abs(alphas - precision).sum() * step,
        1 - 2 * np.abs(alphas - recall).sum() * step,
    )


def test_alpha_precision_matches_the_definition_written_out():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(60, 3)), rng.normal(0.5, 1.5, size=(60, 3))
    got = alpha_precision(A, B)
    # The numbers are scaled to the real range first, as the function does.
    low, span = A.min(0), A.max(0) - A.min(0)
    want = reference_alpha_precision(
        (A - low) / span, (B - low) / span, np.linspace(0, 1, 30)
    )
    assert got["alpha_precision"] == pytest.approx(want[0])
    assert got["beta_recall"] == pytest.approx(want[1])


def test_alpha_precision_near_one_for_the_same_rows_and_low_far_away():
    real = linked(400, 0)
    same = alpha_precision(real, real)
    assert same["alpha_precision"] > 0.95 and same["beta_recall"] > 0.95
    far = alpha_precision(real, real.assign(value=real["value"] + 50.0))
    assert far["alpha_precision"] < 0.1 and far["beta_recall"] < 0.1
    with pytest.raises(ValueError, match="at least 3 rows"):
        alpha_precision(real, real.iloc[:2])
