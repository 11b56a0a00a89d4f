"""VAE(missing="mnar"): not-MIWAE's self-masking model (Ipsen et al., 2021)."""

import pickle

import numpy as np
import pytest
import torch
from scipy.special import expit

from probmodels import VAE
from probmodels.generative._network import VAENetwork
from probmodels.impute import ampute

SMALL = dict(
    latent_dim=2,
    hidden_layer_sizes=(32, 32),
    activation="tanh",
    decoder_variance="feature",
    train_importance=5,
    lr=3e-3,
    random_state=0,
)


def _above_mean(n=400, d=4, seed=3):
    rng = np.random.default_rng(seed)
    cov = 0.6 * np.ones((d, d)) + 0.4 * np.eye(d)
    X = rng.multivariate_normal(np.zeros(d), cov, size=n)
    holes = X.copy()
    holes[ampute(X, 0.5, "mnar_above_mean", random_state=0)] = np.nan
    return X, holes


def _net():
    torch.manual_seed(0)
    net = VAENetwork(
        3,
        2,
        (8,),
        decoder_variance="feature",
        missing_inputs=True,
        self_masking=(0.5, 0.0, 0.2),
    ).double()
    with torch.no_grad():
        net.mask_intercept.copy_(torch.tensor([0.3, -1.0, -0.2]))
        net.mask_coef.copy_(torch.tensor([1.5, 2.0, -0.7]))
    return net


def test_mask_log_prob_is_each_holed_columns_logistic():
    net = _net()
    x = torch.tensor([[0.4, -1.2, 2.0], [-0.3, 0.8, 0.1]], dtype=torch.float64)
    mask = torch.tensor([[0.0, 1.0, 1.0], [1.0, 1.0, 0.0]], dtype=torch.float64)
    got = net.mask_log_prob(x, mask).detach().numpy()
    a, b = np.array([0.3, -1.0, -0.2]), np.array([1.5, 2.0, -0.7])
    p = expit(a + b * x.numpy())
    terms = np.where(mask.numpy() > 0, np.log(1 - p), np.log(p))
    terms[:, 1] = 0.0  # column 1 had no holes: it never goes missing
    np.testing.assert_allclose(got, terms.sum(axis=1))


def test_log_weights_add_the_mask_term_at_the_decoder_draws():
    net = _net()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn((4, 3), generator=gen, dtype=torch.float64)
    mask = torch.tensor([[0, 1, 1], [1, 1, 0], [1, 1, 1], [0, 1, 0]]).double()
    x = x * mask
    eps = torch.randn((4, 5, 2), generator=gen, dtype=torch.float64)
    noise = torch.randn((4, 5, 3), generator=gen, dtype=torch.float64)
    plain = net.log_weights(x, None, eps, mask=mask)
    tilted, full = net.log_weights(
        x, None, eps, mask=mask, x_noise=noise, return_draws=True
    )
    # The draws: the decoder's mean plus its sd times the noise, where missing.
    q = net.encode(x, mask=mask)
    z = (q.mean[:, None] + q.std[:, None] * eps).reshape(20, 2)
    loc, logvar, _ = net.decode(z)
    draws = (loc + torch.exp(0.5 * logvar) * noise.reshape(20, 3)).view(4, 5, 3)
    expected_full = torch.where(mask[:, None] > 0, x[:, None], draws)
    torch.testing.assert_close(full, expected_full)
    extra = net.mask_log_prob(full.reshape(20, 3), mask.repeat_interleave(5, 0))
    torch.testing.assert_close(tilted, plain + extra.view(4, 5))


def test_not_miwae_imputes_censored_values_better_than_miwae():
    X, holes = _above_mean()
    missing = np.isnan(holes)

    def rmse(vae):
        filled = vae.impute(holes, method="mean", random_state=0)
        np.testing.assert_array_equal(filled[~missing], holes[~missing])
        return np.sqrt(np.mean((filled - X)[missing] ** 2))

    mar = VAE(**SMALL, max_epochs=150).fit(holes)
    mnar = VAE(**SMALL, missing="mnar", max_epochs=150).fit(holes)
    assert rmse(mnar) < 0.85 * rmse(mar)
    # The fitted masks: large values of the holed columns go missing.
    assert np.all(mnar.mask_coef_[:2] > 0.5)
    assert np.all(mnar.mask_intercept_[2:] == -np.inf)


def test_mask_model_is_reported_in_the_columns_units():
    _, holes = _above_mean(n=200)
    a = VAE(**SMALL, missing="mnar", max_epochs=5).fit(holes)
    b = VAE(**SMALL, missing="mnar", max_epochs=5).fit(10 * holes + 5)
    # The network sees the same standardised rows; the slopes scale by 1/10.
    np.testing.assert_allclose(b.mask_coef_, a.mask_coef_ / 10, rtol=1e-4)
    np.testing.assert_allclose(
        b.mask_intercept_[:2],
        a.mask_intercept_[:2] - a.mask_coef_[:2] * 5 / 10,
        rtol=1e-4,
        atol=1e-6,
    )
    copy = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(copy.mask_coef_, a.mask_coef_)


def test_sample_given_and_scores_do_not_use_the_mask():
    _, holes = _above_mean(n=200)
    vae = VAE(**SMALL, missing="mnar", max_epochs=5).fit(holes)
    given = vae.sample(50, given={0: 0.5}, random_state=0)
    assert np.all(given[:, 0] == 0.5) and not np.isnan(given).any()
    assert np.isfinite(vae.score_samples(holes)).all()


def test_complete_rows_have_no_mask_model():
    X, _ = _above_mean(n=100)
    vae = VAE(**SMALL, missing="mnar", max_epochs=2).fit(X)
    with pytest.raises(AttributeError, match="mask model"):
        _ = vae.mask_coef_


@pytest.mark.parametrize(
    "params, match",
    [
        ({"beta": 0.5}, "no KL weight"),
    ],
)
def test_refusals(params, match):
    _, holes = _above_mean(n=100)
    vae = VAE(**{**SMALL, **params}, missing="mnar", max_epochs=2)
    with pytest.raises(ValueError, match=match):
        vae.fit(holes)
    assert not hasattr(vae, "module_")


def test_bernoulli_is_refused():
    rng = np.random.default_rng(0)
    X = (rng.random((60, 3)) < 0.5).astype(float)
    X[::4, 0] = np.nan
    vae = VAE(likelihood="bernoulli", missing="mnar", activation="tanh", max_epochs=2)
    with pytest.raises(ValueError, match="Gaussian decoder"):
        vae.fit(X)


def test_relu_warns():
    _, holes = _above_mean(n=100)
    with pytest.warns(UserWarning, match="activation='tanh'"):
        VAE(**{**SMALL, "activation": "relu"}, missing="mnar", max_epochs=1).fit(holes)
