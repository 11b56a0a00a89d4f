"""The noise schedule, term by term, against the formulas computed in numpy.

Ho, Jain and Abbeel (2020): alpha_t = 1 - beta_t, abar_t = prod alpha_s,
q(x_t | x0) = N(sqrt(abar_t) x0, (1 - abar_t) I) (eq. 4), the posterior mean
and variance (eqs. 6-7), the eps-parameterised mean (eq. 11); DDIM (Song et
al., 2021, eqs. 12 and 16).
"""

import math

import numpy as np
import pytest
import torch

from probmodels.diffusion.schedule import NoiseSchedule, make_betas

T = 1000


@pytest.fixture(scope="module")
def numpy_schedule():
    betas = np.linspace(1e-4, 0.02, T)
    alphas = 1.0 - betas
    abar = np.cumprod(alphas)
    return betas, alphas, abar


@pytest.fixture(scope="module")
def schedule():
    return NoiseSchedule.from_name(T, "linear", variance_type="fixed_small")


def rows(seed, n=4, d=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d))


def test_betas_alphas_and_products(schedule, numpy_schedule):
    betas, alphas, abar = numpy_schedule
    np.testing.assert_allclose(schedule.betas[1:].numpy(), betas, rtol=1e-12)
    np.testing.assert_allclose(schedule.alphas[1:].numpy(), alphas, rtol=1e-12)
    np.testing.assert_allclose(schedule.alphas_cumprod[1:].numpy(), abar, rtol=1e-10)
    assert schedule.alphas_cumprod.dtype == torch.float64
    assert abar[-1] < 1e-4  # x_T is almost pure noise


def test_cosine_schedule_follows_nichol_and_dhariwal():
    s, steps = 0.008, np.arange(T + 1) / T
    f = np.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    expected = np.minimum(1 - (f[1:] / f[0]) / (f[:-1] / f[0]), 0.999)
    np.testing.assert_allclose(make_betas(T, "cosine").numpy(), expected, rtol=1e-9)
    with pytest.raises(ValueError, match="'linear' or 'cosine'"):
        make_betas(T, "quadratic")


def test_q_sample_is_eq_4(schedule, numpy_schedule):
    _, _, abar = numpy_schedule
    x0, eps = rows(0), rows(1)
    t = np.array([1, 10, 500, 1000])
    out = schedule.q_sample(torch.tensor(x0), torch.tensor(t), torch.tensor(eps))
    a = abar[t - 1][:, None]
    np.testing.assert_allclose(
        out.numpy(), np.sqrt(a) * x0 + np.sqrt(1 - a) * eps, rtol=1e-10
    )


def test_q_posterior_is_eqs_6_and_7(schedule, numpy_schedule):
    betas, alphas, abar = numpy_schedule
    x0, xt = rows(2), rows(3)
    t = np.array([2, 3, 400, 1000])
    mean, var = schedule.q_posterior(
        torch.tensor(x0), torch.tensor(xt), torch.tensor(t)
    )
    a, a_prev = abar[t - 1][:, None], abar[t - 2][:, None]
    b, al = betas[t - 1][:, None], alphas[t - 1][:, None]
    expected_mean = (
        np.sqrt(a_prev) * b / (1 - a) * x0 + np.sqrt(al) * (1 - a_prev) / (1 - a) * xt
    )
    np.testing.assert_allclose(mean.numpy(), expected_mean, rtol=1e-10)
    np.testing.assert_allclose(
        var.numpy(), np.broadcast_to((1 - a_prev) / (1 - a) * b, xt.shape), rtol=1e-10
    )


def test_eps_parameterised_mean_is_eq_11_and_equals_the_posterior_mean(
    schedule, numpy_schedule
):
    betas, alphas, abar = numpy_schedule
    x0, eps = rows(4), rows(5)
    t = torch.tensor([2, 50, 700, 1000])
    xt = schedule.q_sample(torch.tensor(x0), t, torch.tensor(eps))
    mean, var = schedule.p_mean_variance(xt, t, torch.tensor(eps))
    tn = t.numpy()
    b, al, a = betas[tn - 1][:, None], alphas[tn - 1][:, None], abar[tn - 1][:, None]
    expected = (xt.numpy() - b / np.sqrt(1 - a) * eps) / np.sqrt(al)
    np.testing.assert_allclose(mean.numpy(), expected, rtol=1e-9)
    # With the true noise, the model's mean is the posterior mean: L_{t-1} = 0.
    q_mean, _ = schedule.q_posterior(torch.tensor(x0), xt, t)
    np.testing.assert_allclose(mean.numpy(), q_mean.numpy(), rtol=1e-7, atol=1e-9)
    kl = schedule.posterior_kl(torch.tensor(x0), xt, t, torch.tensor(eps))
    np.testing.assert_allclose(kl.numpy(), 0.0, atol=1e-8)
    np.testing.assert_allclose(
        schedule.predict_x0(xt, t, torch.tensor(eps)).numpy(), x0, rtol=1e-7
    )


def test_one_ancestral_step_has_the_posterior_mean_and_variance(schedule):
    # From a known x_t and noise prediction, many draws of x_{t-1}: their mean
    # and variance are eq. (11)'s mean and beta_tilde_t.
    n = 200_000
    xt = torch.full((n, 1), 0.7, dtype=torch.float64)
    eps = torch.full((n, 1), -0.3, dtype=torch.float64)
    t = torch.full((n,), 300)
    draws = schedule.p_sample(xt, t, eps, torch.Generator().manual_seed(0))
    mean, var = schedule.p_mean_variance(xt[:1], t[:1], eps[:1])
    assert float(schedule.posterior_variance[300]) == pytest.approx(
        float(var), rel=1e-12
    )
    se = math.sqrt(float(var) / n)
    assert abs(float(draws.mean()) - float(mean)) < 4 * se
    assert float(draws.var()) == pytest.approx(float(var), rel=0.02)
    # At t = 1 the step returns the mean itself.
    last = schedule.p_sample(
        xt[:2], torch.ones(2, dtype=torch.long), eps[:2], torch.Generator()
    )
    np.testing.assert_allclose(
        last.numpy(),
        schedule.p_mean_variance(xt[:2], torch.ones(2, dtype=torch.long), eps[:2])[
            0
        ].numpy(),
    )


def test_ddim_step_is_song_eq_12(schedule, numpy_schedule):
    _, _, abar = numpy_schedule
    xt, eps = rows(6), rows(7)
    t, t_prev, eta = 600, 550, 0.5
    a, a_prev = abar[t - 1], abar[t_prev - 1]
    sigma = eta * math.sqrt((1 - a_prev) / (1 - a)) * math.sqrt(1 - a / a_prev)
    g = torch.Generator().manual_seed(3)
    z = torch.randn(
        xt.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64
    ).numpy()
    out = schedule.ddim_step(
        torch.tensor(xt),
        torch.full((4,), t),
        torch.full((4,), t_prev),
        torch.tensor(eps),
        eta,
        g,
    )
    x0 = (xt - math.sqrt(1 - a) * eps) / math.sqrt(a)
    expected = (
        math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev - sigma**2) * eps + sigma * z
    )
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-9)
    # eta = 1, one step back: the ancestral variance beta_tilde_t.
    s2 = (1 - abar[t - 2]) / (1 - a) * (1 - a / abar[t - 2])
    assert s2 == pytest.approx(float(schedule.posterior_variance[t]), rel=1e-10)


def test_fixed_large_variance_is_beta(numpy_schedule):
    betas, _, _ = numpy_schedule
    large = NoiseSchedule.from_name(T, "linear", variance_type="fixed_large")
    xt = torch.tensor(rows(9))
    t = torch.tensor([1, 2, 500, 1000])
    _, var = large.p_mean_variance(xt, t, xt)
    np.testing.assert_allclose(var[:, 0].numpy(), betas[t.numpy() - 1], rtol=1e-12)
    with pytest.raises(ValueError, match="fixed_small"):
        NoiseSchedule.from_name(T, variance_type="learned")


def test_prior_kl_of_the_last_step(schedule, numpy_schedule):
    _, _, abar = numpy_schedule
    x0 = rows(8)
    m, v = np.sqrt(abar[-1]) * x0, 1 - abar[-1]
    expected = 0.5 * (m**2 + v - 1 - np.log(v)).sum(1)
    np.testing.assert_allclose(
        schedule.prior_kl(torch.tensor(x0)).numpy(), expected, rtol=1e-8
    )


def test_clipped_noise_gives_the_posterior_mean_at_the_clipped_x0(schedule):
    xt, eps = torch.tensor(rows(10)), torch.tensor(rows(11)) * 5
    t = torch.tensor([5, 50, 300, 900])
    box = (
        torch.full((3,), -0.5, dtype=torch.float64),
        torch.full((3,), 0.5, dtype=torch.float64),
    )
    clipped = schedule.clip_noise(xt, t, eps, box)
    x0 = schedule.predict_x0(xt, t, clipped)
    assert float(x0.abs().max()) <= 0.5 + 1e-9
    mean, _ = schedule.p_mean_variance(xt, t, clipped)
    q_mean, _ = schedule.q_posterior(x0, xt, t)
    np.testing.assert_allclose(mean.numpy(), q_mean.numpy(), rtol=1e-7, atol=1e-9)
    assert schedule.clip_noise(xt, t, eps, None) is eps
