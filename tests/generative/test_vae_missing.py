"""The VAE on rows with missing entries: the MIWAE bound, imputation, conditioning.

The bound over observed entries is checked against the same terms computed
on the observed columns alone; imputations against the exact conditional
of a Gaussian (the mixture with one component) on correlated data.
"""

import numpy as np
import pytest
import torch

from probmodels import VAE, GaussianMixture
from probmodels.generative._network import VAENetwork
from probmodels.nn.distributions import gaussian_log_prob
from tests.conftest import correlated_with_holes, kinds_with_holes

# beta given (the weight these tolerances were set at), so each fit trains
# once instead of choosing beta on held-out rows.
TINY = dict(
    latent_dim=2,
    hidden_layer_sizes=(32,),
    beta=0.5,
    max_epochs=300,
    lr=1e-2,
    random_state=0,
)


def test_masked_likelihood_is_that_of_the_observed_columns():
    torch.manual_seed(0)
    net = VAENetwork(4, 2, (8,), missing_inputs=True).double()
    x = torch.randn(5, 4, dtype=torch.float64)
    mask = torch.tensor([[1, 0, 1, 1]] * 5, dtype=torch.float64)
    z = torch.randn(5, 2, dtype=torch.float64)
    got = net.log_likelihood(x * mask, z, mask=mask)
    loc, logvar, _ = net.decode(z)
    seen = [0, 2, 3]
    expected = gaussian_log_prob(x[:, seen], loc[:, seen], logvar[:, seen])
    torch.testing.assert_close(got, expected)
    # The unobserved entry's value does not matter.
    other = x.clone()
    other[:, 1] = 100.0
    torch.testing.assert_close(net.log_likelihood(other * mask, z, mask=mask), got)


def test_score_samples_bounds_the_observed_entries():
    X, holes = correlated_with_holes()
    vae = VAE(n_importance=50, **TINY).fit(holes)
    scores = vae.score_samples(holes)
    assert np.isfinite(scores).all()
    # A row scored on its first column alone bounds a one-dimensional
    # density: the true marginal of column 0 is N(0, 1), and the bound on
    # 200 rows comes within a modest gap of its log-likelihood (at most
    # sampling error above it).
    one = np.full((200, 3), np.nan)
    one[:, 0] = X[:200, 0]
    exact = -0.5 * (np.log(2 * np.pi) + X[:200, 0] ** 2)
    bound = vae.score_samples(one).mean()
    assert exact.mean() - 0.3 < bound < exact.mean() + 0.1


def test_impute_is_close_to_the_exact_conditional_mean():
    X, holes = correlated_with_holes()
    missing = np.isnan(holes)
    vae = VAE(**TINY).fit(holes)
    exact = GaussianMixture(1, random_state=0).fit(holes)
    rmse = lambda f: np.sqrt(np.mean((f[missing] - X[missing]) ** 2))  # noqa: E731
    ours, best = (
        rmse(vae.impute(holes, method="mean")),
        rmse(exact.impute(holes, method="mean")),
    )
    column_means = np.where(missing, np.nanmean(holes, axis=0), holes)
    assert ours < 0.85 * rmse(column_means)
    assert ours < 1.2 * best
    filled = vae.impute(holes, random_state=0)
    np.testing.assert_array_equal(filled[~missing], holes[~missing])
    assert not np.isnan(filled).any()


def test_sample_given_fixes_columns_and_follows_them():
    X, holes = correlated_with_holes(n=600, share=0.1)
    vae = VAE(**TINY).fit(holes)
    high = vae.sample(300, given={0: 1.5}, random_state=0)
    low = vae.sample(300, given={0: -1.5}, random_state=0)
    assert np.all(high[:, 0] == 1.5) and np.all(low[:, 0] == -1.5)
    # Correlation 0.85: column 1 follows column 0 (exact means +-1.28).
    assert high[:, 1].mean() > 0.6 and low[:, 1].mean() < -0.6


def test_mixed_table_with_missing_categories():
    frame, holes = kinds_with_holes()
    vae = VAE(**TINY).fit(holes)
    filled = vae.impute(holes, method="mean")
    assert not filled.isna().any().any()
    assert filled["kind"].dtype == holes["kind"].dtype
    lost = holes["kind"].isna()
    # The value tells the kind: the filled kinds are right.
    assert (filled.loc[lost, "kind"] == frame.loc[lost, "kind"]).mean() > 0.9
    given = vae.sample(100, given={"kind": "b"}, random_state=0)
    assert (given["kind"] == "b").all() and given["value"].mean() > 1.0


def test_bad_input_and_a_failed_call_change_nothing():
    X, holes = correlated_with_holes(n=120)
    vae = VAE(**{**TINY, "max_epochs": 5}).fit(holes)
    before = vae.sample(3, random_state=0)
    with pytest.raises(ValueError, match="Row 0 of X has no observed entry"):
        vae.impute(np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="method must be one of"):
        vae.impute(holes, method="median")
    with pytest.raises(ValueError, match="'nope', which is not a fitted"):
        vae.sample(2, given={"nope": 1.0})
    np.testing.assert_array_equal(vae.sample(3, random_state=0), before)


def test_train_importance_trains_the_importance_weighted_bound():
    from probmodels.engine import Batch
    from probmodels.nn.distributions import iwae_bound

    torch.manual_seed(0)
    net = VAENetwork(3, 2, (8,), missing_inputs=True).double()
    net.train_importance = 7
    x = torch.randn(6, 3, dtype=torch.float64)
    mask = torch.ones_like(x)
    mask[:3, 2] = 0
    batch = Batch(x * mask, mask=mask)
    loss = net.loss(batch, torch.Generator().manual_seed(3))
    eps = torch.randn(
        (6, 7, 2), generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    expected = -iwae_bound(net.log_weights(x * mask, None, eps, None, mask)).mean()
    torch.testing.assert_close(loss, expected)
    _, holes = correlated_with_holes(n=60)
    with pytest.raises(ValueError, match="leave beta='auto' or 1"):
        VAE(train_importance=5, beta=0.5, max_epochs=1).fit(holes)
    fitted = VAE(
        **{**TINY, "beta": "auto", "max_epochs": 20, "train_importance": 5}
    ).fit(holes)
    assert np.isfinite(fitted.score(holes))
