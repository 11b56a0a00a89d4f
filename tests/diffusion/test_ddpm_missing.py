"""The DDPM on rows with missing entries: masked loss and bound, RePaint imputation.

Checked against the exact conditional of a Gaussian (the one-component
mixture) on correlated data, and the masked terms against the same terms
on the observed coordinates alone.
"""

import numpy as np
import pytest
import torch

from probmodels import DDPM, GaussianMixture
from probmodels.engine import Batch
from probmodels.nn.distributions import gaussian_kl
from tests.conftest import correlated_with_holes, kinds_with_holes

FAST = dict(
    n_timesteps=30,
    hidden_layer_sizes=(64, 64),
    max_epochs=200,
    lr=3e-3,
    random_state=0,
    n_score_timesteps=5,
)


@pytest.fixture(scope="module")
def fitted():
    X, holes = correlated_with_holes(n=500)
    return X, holes, DDPM(**FAST).fit(holes)


def test_masked_kl_counts_the_observed_coordinates_only():
    g = torch.Generator().manual_seed(0)
    a, b, c, d = (torch.randn(4, 5, generator=g, dtype=torch.float64) for _ in range(4))
    mask = torch.tensor([[1.0, 0, 1, 1, 0]] * 4, dtype=torch.float64)
    seen = [0, 2, 3]
    torch.testing.assert_close(
        gaussian_kl(a, b, c, d, mask=mask),
        gaussian_kl(a[:, seen], b[:, seen], c[:, seen], d[:, seen]),
    )


def test_the_loss_ignores_what_was_missing(fitted):
    _, _, model = fitted
    net = model.module_.double()
    try:
        x = torch.randn(8, 3, dtype=torch.float64)
        mask = torch.ones_like(x)
        mask[:, 1] = 0
        changed = x.clone()
        changed[:, 1] = 50.0
        losses = [
            net.loss(Batch(rows * mask, mask=mask), torch.Generator().manual_seed(1))
            for rows in (x, changed)
        ]
        torch.testing.assert_close(losses[0], losses[1])
        # A mask of ones is the plain loss.
        full = net.loss(
            Batch(x, mask=torch.ones_like(x)), torch.Generator().manual_seed(1)
        )
        plain = net.loss(Batch(x), torch.Generator().manual_seed(1))
        torch.testing.assert_close(full, plain)
    finally:
        net.float()


def test_score_samples_with_holes_is_finite_and_higher_with_fewer_terms(fitted):
    X, holes, model = fitted
    scores = model.score_samples(holes)
    assert np.isfinite(scores).all()
    one = np.full((100, 3), np.nan)
    one[:, 0] = X[:100, 0]
    # One coordinate's terms: near the true N(0, 1) marginal's log-likelihood.
    exact = -0.5 * (np.log(2 * np.pi) + X[:100, 0] ** 2)
    assert abs(model.score_samples(one).mean() - exact.mean()) < 0.5


def test_repaint_keeps_the_known_entries_and_nears_the_exact_conditional(fitted):
    X, holes, model = fitted
    missing = np.isnan(holes)
    filled = model.impute(holes, method="mean", n_resample=2, random_state=0)
    np.testing.assert_array_equal(filled[~missing], holes[~missing])
    rmse = lambda f: np.sqrt(np.mean((f[missing] - X[missing]) ** 2))  # noqa: E731
    exact = GaussianMixture(1, random_state=0).fit(holes).impute(holes, method="mean")
    column_means = np.where(missing, np.nanmean(holes, axis=0), holes)
    assert rmse(filled) < 0.8 * rmse(column_means)
    assert rmse(filled) < 1.25 * rmse(exact)


def test_sample_given_follows_the_condition(fitted):
    _, _, model = fitted
    high = model.sample(300, given={0: 1.5}, random_state=0)
    assert np.all(high[:, 0] == 1.5)
    assert 0.9 < high[:, 1].mean() < 1.7  # exact conditional mean 1.275


def test_mixed_table_with_missing_categories():
    frame, holes = kinds_with_holes()
    model = DDPM(**FAST).fit(holes)
    assert np.isfinite(model.score_samples(holes)).all()
    filled = model.impute(holes, n_resample=2, random_state=0)
    assert not filled.isna().any().any()
    lost = holes["kind"].isna()
    assert (filled.loc[lost, "kind"] == frame.loc[lost, "kind"]).mean() > 0.85
    given = model.sample(100, given={"kind": "b"}, random_state=0)
    assert (given["kind"] == "b").all() and given["value"].mean() > 1.0


def test_bad_input_changes_nothing(fitted):
    _, holes, model = fitted
    before = model.sample(3, random_state=0)
    with pytest.raises(ValueError, match="n_resample must be at least 1"):
        model.impute(holes, n_resample=0)
    with pytest.raises(ValueError, match="method must be one of"):
        model.impute(holes, method="median")
    with pytest.raises(ValueError, match="Row 0 of X has no observed entry"):
        model.impute(np.full((2, 3), np.nan))
    np.testing.assert_array_equal(model.sample(3, random_state=0), before)
