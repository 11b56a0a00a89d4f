"""Densities, KL divergences and the IWAE bound against closed forms and scipy."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from probmodels.nn.distributions import (
    DiagonalGaussian,
    GaussianMixturePrior,
    bernoulli_log_prob,
    gaussian_kl,
    gaussian_log_prob,
    gaussian_mixture_log_prob,
    iwae_bound,
    standard_normal_log_prob,
)


def test_gaussian_log_prob_matches_scipy():
    g = torch.Generator().manual_seed(0)
    x, mean = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    logvar = torch.randn(5, 3, generator=g)
    expected = stats.norm(mean.numpy(), np.exp(0.5 * logvar.numpy())).logpdf(x.numpy())
    np.testing.assert_allclose(
        gaussian_log_prob(x, mean, logvar).numpy(), expected.sum(1), rtol=1e-5
    )
    np.testing.assert_allclose(
        standard_normal_log_prob(x).numpy(),
        stats.norm().logpdf(x.numpy()).sum(1),
        rtol=1e-5,
    )


def test_bernoulli_log_prob_of_binary_data():
    x = torch.tensor([[1.0, 0.0, 1.0]])
    logits = torch.tensor([[0.3, -1.2, 2.0]])
    p = torch.sigmoid(logits).numpy()
    expected = np.log(p[0, 0]) + np.log(1 - p[0, 1]) + np.log(p[0, 2])
    assert float(bernoulli_log_prob(x, logits)) == pytest.approx(expected, rel=1e-6)


def test_kl_to_the_standard_normal_matches_the_closed_form_and_monte_carlo():
    mean = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.2, -0.7, 1.1]], dtype=torch.float64)
    var = logvar.exp()
    # Kingma and Welling (2014), appendix B.
    closed = 0.5 * float((mean**2 + var - 1 - logvar).sum())
    q = DiagonalGaussian(mean, logvar)
    assert float(q.kl()) == pytest.approx(closed, rel=1e-12)
    # E_q[log q(z) - log p(z)] by Monte Carlo, 200,000 draws.
    z = q.rsample(torch.Generator().manual_seed(0), n_samples=200_000)[:, 0]
    draws = (q.log_prob(z[:, None]) - standard_normal_log_prob(z[:, None])).numpy()
    se = draws.std() / math.sqrt(len(draws))
    assert abs(draws.mean() - closed) < 4 * se


def test_kl_between_two_gaussians_matches_its_closed_form_and_is_zero_on_itself():
    mq, lq = torch.tensor([[0.3, 1.0]]), torch.tensor([[0.1, -0.4]])
    mp, lp = torch.tensor([[-0.2, 0.5]]), torch.tensor([[0.6, 0.2]])
    vq, vp = lq.exp(), lp.exp()
    expected = 0.5 * (torch.log(vp / vq) + (vq + (mq - mp) ** 2) / vp - 1).sum()
    assert float(gaussian_kl(mq, lq, mp, lp)) == pytest.approx(
        float(expected), rel=1e-6
    )
    assert float(gaussian_kl(mq, lq, mq, lq)) == pytest.approx(0.0, abs=1e-7)


def test_iwae_bound_is_the_log_mean_of_the_weights():
    log_w = torch.tensor([[0.0, math.log(3.0)], [-1.0, -1.0]])
    np.testing.assert_allclose(
        iwae_bound(log_w).numpy(), [math.log(2.0), -1.0], rtol=1e-6
    )


def test_rsample_is_reparameterised_and_uses_only_the_given_generator():
    mean = torch.zeros(2, 3, requires_grad=True)
    logvar = torch.zeros(2, 3, requires_grad=True)
    state = torch.random.get_rng_state()
    a = DiagonalGaussian(mean, logvar).rsample(torch.Generator().manual_seed(4))
    b = DiagonalGaussian(mean, logvar).rsample(torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert torch.equal(torch.random.get_rng_state(), state)
    a.sum().backward()  # gradients reach the parameters through the draw
    assert mean.grad is not None and torch.equal(mean.grad, torch.ones(2, 3))


def _mixture(seed=0, k=3, d=2):
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(k))
    means = 3 * rng.normal(size=(k, d))
    factors = rng.normal(size=(k, d, d))
    covs = factors @ factors.transpose(0, 2, 1) + 0.2 * np.eye(d)
    return weights, means, covs


def _precision_cholesky(covs):
    # scikit-learn's convention: U with U U^T = Sigma^{-1}, U = L^{-T}.
    return np.stack([np.linalg.inv(np.linalg.cholesky(c)).T for c in covs])


def test_gaussian_mixture_log_prob_is_the_log_of_the_weighted_densities():
    weights, means, covs = _mixture()
    z = np.random.default_rng(1).normal(size=(7, 2)) * 3
    expected = np.log(
        sum(
            w * stats.multivariate_normal(m, c).pdf(z)
            for w, m, c in zip(weights, means, covs, strict=True)
        )
    )
    got = gaussian_mixture_log_prob(
        torch.tensor(z),
        torch.tensor(np.log(weights)),
        torch.tensor(means),
        torch.tensor(_precision_cholesky(covs)),
    )
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)
    # Leading sample dimensions broadcast, one value per row and draw.
    stacked = torch.tensor(np.stack([z, z]))
    args = [torch.tensor(a) for a in (np.log(weights), means)]
    both = gaussian_mixture_log_prob(
        stacked, *args, torch.tensor(_precision_cholesky(covs))
    )
    np.testing.assert_allclose(both.numpy(), np.stack([expected, expected]))


def test_mixture_prior_starts_as_the_standard_normal_and_takes_a_fitted_mixture():
    prior = GaussianMixturePrior(4, 3).double()
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(0)).double()
    torch.testing.assert_close(prior.log_prob(z), standard_normal_log_prob(z))
    weights, means, covs = _mixture(k=2, d=2)
    with pytest.raises(ValueError, match="shape"):
        prior.set_parameters(weights, means, _precision_cholesky(covs))
    prior = GaussianMixturePrior(2, 2).double()
    prior.set_parameters(weights, means, _precision_cholesky(covs))
    draws = prior.sample(200_000, torch.Generator().manual_seed(0)).numpy()
    mean = weights @ means
    within = np.einsum("k,kij->ij", weights, covs)
    between = np.einsum("k,ki,kj->ij", weights, means - mean, means - mean)
    scale = np.sqrt(np.diag(within + between))
    # 200,000 draws: the standard errors are under 1% of a standard deviation.
    np.testing.assert_allclose(draws.mean(0), mean, atol=0.02 * scale.max())
    np.testing.assert_allclose(
        np.cov(draws.T), within + between, atol=0.03 * scale.max() ** 2
    )
