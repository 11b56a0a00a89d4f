"""Prediction types (eps, x_0, v) and min-SNR-gamma weighting, against formulas."""

import numpy as np
import pytest
import torch
from torch import nn

from probmodels import DDPM
from probmodels.diffusion import GaussianDiffusion
from probmodels.diffusion.schedule import (
    PREDICTION_TYPES,
    NoiseSchedule,
    min_snr_weight,
)
from probmodels.engine import Batch


def numpy_abar(T=1000, kind="linear"):
    return NoiseSchedule.from_name(T, kind).alphas_cumprod.numpy()


@pytest.mark.parametrize("gamma", [None, 5.0, 0.5])
@pytest.mark.parametrize("kind", PREDICTION_TYPES)
def test_min_snr_weight_is_the_papers(kind, gamma):
    abar = numpy_abar()[1:]
    snr = abar / (1 - abar)
    got = min_snr_weight(torch.tensor(snr), gamma, kind).numpy()
    if gamma is None:
        want = np.ones_like(snr)
    else:
        cap = np.minimum(snr, gamma)
        want = {"epsilon": cap / snr, "v_prediction": cap / (snr + 1), "sample": cap}
        want = want[kind]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_velocity_and_the_noise_each_prediction_implies():
    schedule = NoiseSchedule.from_name(1000, "cosine").double()
    rng = np.random.default_rng(0)
    x0, eps = (torch.tensor(rng.standard_normal((6, 3))) for _ in range(2))
    t = torch.tensor([1, 10, 200, 500, 900, 1000])
    abar = numpy_abar(kind="cosine")[t.numpy()][:, None]
    a, s = np.sqrt(abar), np.sqrt(1 - abar)
    v = schedule.get_velocity(x0, eps, t)
    np.testing.assert_allclose(v.numpy(), a * eps.numpy() - s * x0.numpy(), rtol=1e-12)
    xt = schedule.q_sample(x0, t, eps)
    for kind in PREDICTION_TYPES:
        target = schedule.prediction_target(x0, eps, t, kind)
        back = schedule.eps_from_prediction(xt, t, target, kind)
        np.testing.assert_allclose(back.numpy(), eps.numpy(), rtol=1e-9, atol=1e-9)
    # x_0 from v: a x_t - s v (the v-parametrisation's own predict_x0).
    x0_from_v = a * xt.numpy() - s * v.numpy()
    np.testing.assert_allclose(x0_from_v, x0.numpy(), atol=1e-12)


class Affine(nn.Module):
    """A fixed network: output = x_t W + t c (no parameters to train)."""

    def __init__(self, d, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.W = torch.randn(d, d, generator=g, dtype=torch.float64)
        self.c = torch.randn(d, generator=g, dtype=torch.float64) / 1000

    def forward(self, xt, t, y=None):
        return xt @ self.W + t[:, None].to(xt.dtype) * self.c


@pytest.mark.parametrize("gamma", [None, 5.0])
@pytest.mark.parametrize("kind", PREDICTION_TYPES)
def test_loss_is_the_weighted_error_of_the_own_target(kind, gamma):
    schedule = NoiseSchedule.from_name(100, "linear").double()
    net = GaussianDiffusion(Affine(3, 1), schedule, prediction_type=kind)
    net.snr_gamma = gamma
    x0 = torch.tensor(np.random.default_rng(2).standard_normal((50, 3)))
    loss = net.loss(Batch(x0), torch.Generator().manual_seed(7))
    # The same draws by hand: t first, then eps.
    g = torch.Generator().manual_seed(7)
    t = torch.randint(1, 101, (50,), generator=g)
    eps = torch.randn(x0.shape, generator=g).double()  # drawn as the loss draws it
    abar = numpy_abar(100)[t.numpy()][:, None]
    a, s = np.sqrt(abar), np.sqrt(1 - abar)
    x, e = x0.numpy(), eps.numpy()
    xt = a * x + s * e
    out = Affine(3, 1)(torch.tensor(xt), t).numpy()
    target = {"epsilon": e, "sample": x, "v_prediction": a * e - s * x}[kind]
    snr = abar / (1 - abar)
    weight = np.ones_like(snr)
    if gamma is not None:
        cap = np.minimum(snr, gamma)
        weight = {"epsilon": cap / snr, "sample": cap, "v_prediction": cap / (snr + 1)}
        weight = weight[kind]
    want = np.mean(weight * (out - target) ** 2)
    np.testing.assert_allclose(loss.item(), want, rtol=1e-10)


def test_min_snr_gives_one_objective_whatever_the_network_predicts():
    """An eps network and the x_0 / v networks that imply the same noise have
    the same min-SNR loss (each is min(SNR, gamma) times x_0's error)."""
    schedule = NoiseSchedule.from_name(100, "cosine").double()
    eps_net = Affine(2, 3)

    class Implied(nn.Module):
        def __init__(self, kind):
            super().__init__()
            self.kind = kind

        def forward(self, xt, t, y=None):
            eps = eps_net(xt, t)
            abar = schedule.alphas_cumprod[t][:, None]
            x0 = (xt - (1 - abar).sqrt() * eps) / abar.sqrt()
            return schedule.prediction_target(x0, eps, t, self.kind)

    x0 = torch.tensor(np.random.default_rng(4).standard_normal((64, 2)))
    losses = {}
    for kind in PREDICTION_TYPES:
        net = GaussianDiffusion(Implied(kind), schedule, prediction_type=kind)
        net.snr_gamma = 5.0
        losses[kind] = net.loss(Batch(x0), torch.Generator().manual_seed(0)).item()
        # forward gives back the eps network's noise
        t = torch.full((64,), 37)
        torch.testing.assert_close(net(x0, t), eps_net(x0, t))
    assert losses["sample"] == pytest.approx(losses["epsilon"], rel=1e-9)
    assert losses["v_prediction"] == pytest.approx(losses["epsilon"], rel=1e-9)


# How far below the true log-density the bound may sit after this short fit
# (measured: -0.40, -0.07, -2.05 nats): x_0-prediction's noise estimate
# divides its error by sqrt(1 - abar_t), which is small at small t, where the
# bound's terms weigh most.
BOUND_GAP = {"epsilon": 0.6, "v_prediction": 0.3, "sample": 3.0}


@pytest.mark.parametrize("kind", PREDICTION_TYPES)
def test_each_prediction_type_learns_a_gaussian(kind):
    rng = np.random.default_rng(0)
    X = rng.normal([1.0, -2.0], [0.5, 2.0], size=(1000, 2))
    ddpm = DDPM(
        n_timesteps=100,
        hidden_layer_sizes=(64, 64),
        prediction_type=kind,
        snr_gamma=5.0,
        max_epochs=60,
        lr=3e-3,
        device="cpu",
        random_state=0,
    ).fit(X)
    S = ddpm.sample(2000, random_state=1)
    # Within a tenth of a standard deviation (the sampling error is 0.02).
    assert np.all(np.abs(S.mean(0) - [1.0, -2.0]) < 0.1 * np.array([0.5, 2.0]))
    np.testing.assert_allclose(S.std(0), [0.5, 2.0], rtol=0.15)
    # The bound scores held-out rows near the true log-density.
    Xt = rng.normal([1.0, -2.0], [0.5, 2.0], size=(500, 2))
    true = -np.log(2 * np.pi * 0.5 * 2.0) - 0.5 * (
        ((Xt[:, 0] - 1) / 0.5) ** 2 + ((Xt[:, 1] + 2) / 2) ** 2
    )
    assert ddpm.score(Xt) < true.mean() + 0.02  # a lower bound, up to MC noise
    assert ddpm.score(Xt) > true.mean() - BOUND_GAP[kind]


def test_gamma_changes_between_warm_fits_and_the_type_refits(monkeypatch):
    X = np.random.default_rng(1).normal(size=(200, 2))
    ddpm = DDPM(
        n_timesteps=50,
        hidden_layer_sizes=(16,),
        max_epochs=2,
        warm_start=True,
        device="cpu",
        random_state=0,
    ).fit(X)
    built = []
    build = DDPM._build_module
    monkeypatch.setattr(
        DDPM, "_build_module", lambda self, **kw: built.append(1) or build(self, **kw)
    )
    ddpm.set_params(snr_gamma=5.0).fit(X)  # the objective: training continues
    assert not built and ddpm.module_.snr_gamma == 5.0
    ddpm.set_params(prediction_type="v_prediction").fit(X)  # another network
    assert built and ddpm.module_.prediction_type == "v_prediction"
    with pytest.raises(ValueError, match="snr_gamma"):
        DDPM(snr_gamma=0).fit(X)
    with pytest.raises(ValueError, match="prediction_type"):
        DDPM(prediction_type="v").fit(X)
