"""The VAE's mixture prior: fitted to the aggregate posterior, exact in the bound."""

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from probmodels import VAE, load, save
from probmodels.datasets import make_toy_2d

FAST = dict(device="cpu", random_state=0)


def bimodal(n=400, seed=0):
    rng = np.random.default_rng(seed)
    side = rng.integers(0, 2, n)
    return (np.where(side, 2.0, -2.0) + 0.4 * rng.standard_normal(n))[:, None]


@pytest.fixture(scope="module")
def one_dim():
    X = bimodal()
    # beta=0.5: sharp posteriors, so the fitted mixture is far from N(0, I)
    # and the test below can tell which prior a bound used.
    vae = VAE(
        latent_dim=1,
        hidden_layer_sizes=(32,),
        beta=0.5,
        n_prior_components=3,
        max_epochs=60,
        lr=3e-3,
        **FAST,
    ).fit(X)
    return vae, X


def exact_log_density(vae, X, log_prior):
    """log p(x) of the fitted model by quadrature over its one latent dimension."""
    module = vae.module_.double()
    u = torch.tensor(vae._scaler.transform(X))
    grid = torch.linspace(-12, 12, 6001, dtype=torch.float64)[:, None]
    with torch.no_grad():
        log_joint = torch.stack(
            [module.log_likelihood(row.expand(len(grid), 1), grid) for row in u]
        ) + log_prior(grid)
    step = float(grid[1, 0] - grid[0, 0])
    vae.module_.float()
    log_p = logsumexp(log_joint.numpy(), axis=1) + np.log(step)
    return log_p + vae._scaler.log_jacobian


def test_scores_bound_the_exact_likelihood_under_the_fitted_prior(one_dim):
    # The prior enters the bound exactly (Monte Carlo only over q): the ELBO
    # stays below log p(x) computed by quadrature under the mixture, and the
    # IWAE bound climbs to it.
    from probmodels.nn.distributions import standard_normal_log_prob

    vae, X = one_dim
    prior = vae.module_.prior
    exact = exact_log_density(vae, X, lambda z: prior.double().log_prob(z))
    elbo = vae.set_params(n_importance=1).score(X)
    iwae = vae.set_params(n_importance=500).score(X)
    assert elbo <= exact.mean() + 0.01
    assert elbo <= iwae + 0.005
    assert iwae == pytest.approx(exact.mean(), abs=0.01)
    assert iwae <= exact.mean() + 0.005
    # The mixture is not N(0, I) in disguise: under N(0, I) the same
    # decoder gives a likelihood the IWAE bound would miss.
    under_normal = exact_log_density(vae, X, standard_normal_log_prob)
    assert abs(under_normal.mean() - exact.mean()) > 0.05


def test_the_prior_has_the_moments_of_the_aggregate_posterior(one_dim):
    vae, X = one_dim
    u = torch.tensor(vae._scaler.transform(X), dtype=torch.float32)
    with torch.no_grad():
        q = vae.module_.encode(u)
    mu, var = q.mean.double().numpy(), q.std.double().numpy() ** 2
    # Moments of q(z) = mean_x q(z | x): the mean of the means, and the mean
    # variance plus the variance of the means.
    mean, second = mu.mean(0), (var + mu**2).mean(0) - mu.mean(0) ** 2
    mix = vae.prior_
    mix_mean = mix.weights_ @ mix.means_
    mix_var = (
        mix.weights_ @ (mix.covariances_[:, 0, 0] + mix.means_[:, 0] ** 2) - mix_mean**2
    )
    # 4,000 draws (ten per row): the moments' Monte Carlo error is well under 5%.
    assert mix_mean == pytest.approx(mean, abs=0.05 * np.sqrt(second[0]))
    assert mix_var == pytest.approx(second, rel=0.05)
    # And the buffers the network samples and scores with are that mixture.
    np.testing.assert_allclose(
        vae.module_.prior.means.numpy(), mix.means_, rtol=1e-5, atol=1e-6
    )


def near_a_centre(S, radius):
    angles = np.pi / 4 * np.arange(8)
    centres = 4.0 / 1.414 * np.column_stack([np.cos(angles), np.sin(angles)])
    distance = np.linalg.norm(S[:, None] - centres, axis=-1).min(1)
    return float(np.mean(distance < radius))


def test_mixture_prior_samples_stay_on_the_modes_where_the_normal_prior_blurs():
    # Eight Gaussians of spread 0.35: about 86% of the data lie within 0.7 of
    # a centre. A VAE sampled through N(0, I) bridges the modes; with the
    # mixture fitted to its codes its samples are where the data are.
    X = make_toy_2d("8gaussians", 2000, random_state=0)
    truth = near_a_centre(X, 0.7)
    common = dict(latent_dim=2, hidden_layer_sizes=(64, 64), max_epochs=60, **FAST)
    mixture = VAE(**common).fit(X)
    normal = VAE(prior="normal", **common).fit(X)
    on_modes = near_a_centre(mixture.sample(2000, random_state=0), 0.7)
    blurred = near_a_centre(normal.sample(2000, random_state=0), 0.7)
    assert on_modes > truth - 0.06
    assert on_modes > blurred + 0.4


def test_beta_auto_and_refits(one_dim):
    _, X = one_dim
    vae = VAE(latent_dim=1, hidden_layer_sizes=(8,), max_epochs=2, **FAST)
    assert vae._objective_settings(False, False, 100) == (0.5, 1.0)
    assert vae.set_params(prior="normal")._objective_settings(False, False, 100) == (1.0,)
    vae.set_params(prior="mixture", train_importance=3)
    assert vae._objective_settings(False, False, 100) == (1.0,)
    fitted = vae.fit(X)  # IWAE training, then the mixture prior
    assert fitted.module_.beta == 1.0 and fitted.prior_ is not None
    assert fitted.beta_ == 1.0 and fitted.beta_scores_ is None
    normal = VAE(prior="normal", max_epochs=2, **FAST).fit(X)
    assert normal.prior_ is None and normal.module_.prior is None
    # A warm-started fit trains on and fits a new prior to the new codes.
    warm = VAE(latent_dim=1, hidden_layer_sizes=(8,), max_epochs=2, warm_start=True)
    warm.set_params(**FAST).fit(X)
    before = warm.prior_.means_.copy()
    warm.fit(X + 1.0)
    assert not np.allclose(warm.prior_.means_, before)
    with pytest.raises(ValueError, match="n_prior_components"):
        VAE(n_prior_components=0).fit(X)


def test_fewer_draws_than_components_pads_with_weightless_copies():
    X = bimodal(n=4)
    vae = VAE(latent_dim=1, hidden_layer_sizes=(4,), max_epochs=1, **FAST)
    vae.set_params(n_prior_components=12)
    import probmodels.generative._prior as prior_module

    old, prior_module.PRIOR_DRAWS = prior_module.PRIOR_DRAWS, (8, 8)
    try:
        vae.fit(X)  # eight draws for twelve components
    finally:
        prior_module.PRIOR_DRAWS = old
    weights = torch.exp(vae.module_.prior.log_weights).numpy()
    assert len(vae.prior_.weights_) == 8
    np.testing.assert_allclose(weights[8:], 0.0)
    assert weights.sum() == pytest.approx(1.0, rel=1e-5)
    assert np.all(np.isfinite(vae.score_samples(X)))
    assert np.all(np.isfinite(vae.sample(50, random_state=0)))


def test_model_files_keep_the_prior(one_dim, tmp_path):
    vae, X = one_dim
    save(vae, tmp_path / "vae.skops")
    again = load(tmp_path / "vae.skops")
    np.testing.assert_array_equal(
        again.sample(20, random_state=3), vae.sample(20, random_state=3)
    )
    np.testing.assert_array_equal(again.score_samples(X), vae.score_samples(X))
    np.testing.assert_array_equal(again.prior_.means_, vae.prior_.means_)


@pytest.mark.parametrize("candidates", [(1.0, 50.0), (50.0, 1.0)])
def test_beta_auto_keeps_the_better_held_out_bound(candidates, monkeypatch):
    # Five columns along one line, up to small noise: at beta = 50 the
    # posteriors collapse onto the prior and the decoder learns independent
    # wide Gaussians, whose held-out bound is far below beta = 1's, which
    # uses its latent; whichever order the candidates are trained in.
    rng = np.random.default_rng(0)
    z = rng.standard_normal((300, 1))
    X = z @ rng.standard_normal((1, 5)) + 0.05 * rng.standard_normal((300, 5))
    monkeypatch.setattr(VAE, "AUTO_BETAS", candidates)
    vae = VAE(latent_dim=1, hidden_layer_sizes=(16,), max_epochs=40, lr=3e-3, **FAST)
    vae.fit(X)
    assert set(vae.beta_scores_) == set(candidates)
    assert vae.beta_scores_[1.0] > vae.beta_scores_[50.0] + 0.5
    assert vae.beta_ == 1.0 and vae.module_.beta == 1.0
    # The two networks start from the same weights and see the same rows:
    # the order they are trained in changes nothing.
    other = VAE(**vae.get_params()).fit(X)
    assert other.beta_scores_ == pytest.approx(vae.beta_scores_)
    # The choice is then trained on every row, from the same seeds as a fit
    # at that beta: the same network and prior, the same scores.
    fixed = VAE(**{**vae.get_params(), "beta": 1.0}).fit(X)
    np.testing.assert_allclose(fixed.score_samples(X), vae.score_samples(X))
    # With early stopping the network that stopped on the held-out rows is kept.
    stopped = VAE(**{**vae.get_params(), "early_stopping": True}).fit(X)
    assert stopped.beta_ == 1.0 and stopped.n_iter_ <= 40
    # A warm-started fit trains on at the weight chosen, without choosing.
    vae.set_params(warm_start=True).fit(X)
    assert vae.beta_ == 1.0 and vae.beta_scores_ is None


def test_beta_auto_needs_rows_to_hold_out():
    # One row: nothing to hold out, so "auto" is the standard VAE's 1.
    assert VAE(max_epochs=1, **FAST).fit(bimodal(n=1)).beta_ == 1.0
    assert VAE(beta=0.5, max_epochs=1, **FAST).fit(bimodal(n=1)).beta_ == 0.5
    # Two rows and a held-out fraction that leaves none to train on.
    with pytest.raises(ValueError, match=r"beta='auto' .*beta of your choice"):
        VAE(max_epochs=1, validation_fraction=0.9, **FAST).fit(bimodal(n=2))
    # Labels whose classes cannot all be in both parts: a plain random split.
    X, y = bimodal(n=10), np.repeat([0, 1, 2], [4, 3, 3])
    assert VAE(max_epochs=1, **FAST).fit(X, y).beta_scores_ is not None


def test_a_candidate_with_a_nan_held_out_bound_is_never_chosen(monkeypatch):
    def held_out(self, module, rows, codes, parts, seeds):
        return np.nan if module.beta == 0.5 else -1e6

    monkeypatch.setattr(VAE, "_held_out_score", held_out)
    vae = VAE(latent_dim=1, hidden_layer_sizes=(4,), max_epochs=1, **FAST)
    vae.fit(bimodal(n=50))
    assert vae.beta_ == 1.0 and np.isnan(vae.beta_scores_[0.5])
