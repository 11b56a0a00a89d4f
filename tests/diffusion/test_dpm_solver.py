"""DPM-Solver++(2M) against direct formulas and the probability-flow ODE."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons
from torch import nn

from probmodels import DDPM
from probmodels.diffusion import GaussianDiffusion
from probmodels.diffusion.schedule import NoiseSchedule

MEAN = torch.tensor([1.5, -0.5], dtype=torch.float64)
STD = torch.tensor([0.3, 2.0], dtype=torch.float64)


class ExactGaussianNoise(nn.Module):
    """The exact eps-prediction for data N(MEAN, diag STD^2).

    ``x_t ~ N(a m, a^2 s^2 + 1 - abar)`` with ``a = sqrt(abar)``, so
    ``E[eps | x_t] = sqrt(1 - abar) (x_t - a m) / (abar s^2 + 1 - abar)``.
    """

    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def forward(self, xt, t, y=None):
        abar = self.schedule.alphas_cumprod[t].to(xt.dtype)[:, None]
        m, s2 = MEAN.to(xt.dtype), STD.to(xt.dtype) ** 2
        return (1 - abar).sqrt() * (xt - abar.sqrt() * m) / (abar * s2 + 1 - abar)


def test_one_step_equals_the_formula():
    schedule = NoiseSchedule.from_name(1000, "linear").double()
    rng = np.random.default_rng(0)
    xt, x0, x0_prev = (torch.tensor(rng.standard_normal((4, 3))) for _ in range(3))
    t, s = torch.full((4,), 600), torch.full((4,), 400)
    abar = schedule.alphas_cumprod.numpy()[1:]  # abar_0 = 1 has no log-SNR
    lam = np.r_[np.inf, 0.5 * np.log(abar / (1 - abar))]
    abar = np.r_[1.0, abar]
    h = lam[400] - lam[600]
    first = (
        np.sqrt((1 - abar[400]) / (1 - abar[600])) * xt.numpy()
        - np.sqrt(abar[400]) * (np.exp(-h) - 1) * x0.numpy()
    )
    x, (kept, h_out) = schedule.dpmpp_2m_step(xt, t, s, x0)
    np.testing.assert_allclose(x.numpy(), first, rtol=1e-12)
    assert torch.equal(kept, x0) and np.allclose(h_out.numpy(), h)
    # Second order: D = (1 + 1/2r) x0 - 1/2r x0_prev with r = h_prev / h.
    h_prev = torch.full((4, 1), 0.7, dtype=torch.float64)
    r = 0.7 / h
    d = (1 + 1 / (2 * r)) * x0.numpy() - 1 / (2 * r) * x0_prev.numpy()
    second = first + np.sqrt(abar[400]) * (np.exp(-h) - 1) * (x0.numpy() - d)
    x2, _ = schedule.dpmpp_2m_step(xt, t, s, x0, (x0_prev, h_prev))
    np.testing.assert_allclose(x2.numpy(), second, rtol=1e-12)
    # The SDE form (eta): e^{-eta h} on x_t, e^{-(1 + eta) h} on D, and noise
    # of variance sigma_{t'}^2 (1 - e^{-2 eta h}).
    g = torch.Generator().manual_seed(3)
    z = torch.randn(
        xt.shape, generator=torch.Generator().manual_seed(3), dtype=xt.dtype
    )
    x3, _ = schedule.dpmpp_2m_step(xt, t, s, x0, eta=0.5, generator=g)
    sde = (
        np.sqrt((1 - abar[400]) / (1 - abar[600])) * np.exp(-0.5 * h) * xt.numpy()
        - np.sqrt(abar[400]) * np.expm1(-1.5 * h) * x0.numpy()
        + np.sqrt(1 - abar[400]) * np.sqrt(-np.expm1(-h)) * z.numpy()
    )
    np.testing.assert_allclose(x3.numpy(), sde, rtol=1e-12)
    # Into t = 0 the step returns the data prediction.
    x_end, state = schedule.dpmpp_2m_step(xt, t, torch.zeros(4, dtype=int), x0)
    assert torch.equal(x_end, x0) and state is None


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_logsnr_timesteps_are_even_in_log_snr(kind):
    schedule = NoiseSchedule.from_name(1000, kind)
    steps = schedule.logsnr_timesteps(20)
    assert len(steps) == 21 and steps[0] == 1000 and steps[-2] == 1 and steps[-1] == 0
    assert all(a > b for a, b in zip(steps, steps[1:], strict=False))
    assert schedule.logsnr_timesteps(1000) == tuple(range(1000, -1, -1))
    if kind == "linear":
        abar = schedule.alphas_cumprod.double().numpy()[list(steps[:-1])]
        gaps = np.diff(0.5 * np.log(abar / (1 - abar)))
        # Nearest trained timesteps: equal gaps up to the grid's own spacing.
        assert gaps.std() / gaps.mean() < 0.1


def test_twenty_steps_follow_the_probability_flow_ode_on_a_gaussian():
    schedule = NoiseSchedule.from_name(1000, "linear")
    module = GaussianDiffusion(ExactGaussianNoise(schedule), schedule).double()
    shape = (2000, 2)

    def run(sampler, timesteps):
        generator = torch.Generator().manual_seed(0)
        return module.sample(shape, generator, timesteps=timesteps, sampler=sampler)[0]

    # The ODE solved finely: DDIM with eta = 0 over all 1000 steps.
    fine = run("ddim", tuple(range(1000, -1, -1)))
    steps = schedule.logsnr_timesteps(20)
    fast = run("dpmpp_2m", steps)
    ddim = run("ddim", steps)  # first order on the same 20 steps
    err = (fast - fine).abs().mean().item()
    assert err < 0.03
    assert err < (ddim - fine).abs().mean().item() / 4  # second order pays
    # With every step the two discretisations of the ODE meet.
    every = run("dpmpp_2m", schedule.logsnr_timesteps(1000))
    assert (every - fine).abs().mean().item() < 0.003
    # And land on the exact distribution N(MEAN, STD^2).
    for x in (fine, fast):
        np.testing.assert_allclose(x.mean(0).numpy(), MEAN.numpy(), atol=0.08)
        np.testing.assert_allclose(x.std(0).numpy(), STD.numpy(), rtol=0.05)


def test_ddpm_sample_with_dpm_solver():
    X, _ = make_moons(300, noise=0.05, random_state=0)
    est = DDPM(n_timesteps=100, max_epochs=2, random_state=0).fit(X)
    a = est.sample(50, sampler="dpmpp_2m", random_state=1)
    b = est.sample(50, sampler="dpmpp_2m", n_steps=20, random_state=1)
    np.testing.assert_array_equal(a, b)  # 20 steps by default
    assert np.isfinite(est.sample(10, sampler="dpmpp_2m", n_steps=5)).all()
    # eta = 1 by default: the SDE form draws noise at each step.
    ode = est.sample(50, sampler="dpmpp_2m", eta=0.0, random_state=1)
    assert not np.allclose(a, ode)
    np.testing.assert_array_equal(
        a, est.sample(50, sampler="dpmpp_2m", eta=1.0, random_state=1)
    )
    # DDIM's default eta is 0.5: the same draws as asking for it.
    np.testing.assert_array_equal(
        est.sample(20, n_steps=10, random_state=2),
        est.sample(20, n_steps=10, eta=0.5, random_state=2),
    )
    with pytest.raises(ValueError, match="drop n_steps"):
        est.sample(5, sampler="ancestral", n_steps=10)
    with pytest.raises(ValueError, match="sampler must be"):
        est.sample(5, sampler="euler")
