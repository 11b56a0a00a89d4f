"""Densities, KL divergences and the IWAE bound against closed forms and scipy."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from probmodels.nn.distributions import (
    DiagonalGaussian,
    bernoulli_log_prob,
    gaussian_kl,
    gaussian_log_prob,
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
