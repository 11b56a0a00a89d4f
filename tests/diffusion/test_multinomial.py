"""Multinomial diffusion against direct computations (Hoogeboom et al., 2021).

The forward marginal of eq. 12 against composing eq. 11's one-step
transitions; the posterior of eq. 13 against Bayes' rule with the
transition matrices, for a step and for a few-step sampler's jump.
"""

import functools

import numpy as np
import pytest
import torch

from probmodels.diffusion._multinomial import (
    categorical_kl,
    log_onehot,
    q_posterior_log,
    q_xt_log,
    sample_log,
)
from probmodels.diffusion.schedule import make_betas

K, T = 4, 30
BETAS = make_betas(T, "cosine").numpy()
ALPHAS = 1 - BETAS
ABAR = np.concatenate([[1.0], np.cumprod(ALPHAS)])


def step_matrix(alpha):
    """Q[i, j] = q(x_t = j | x_{t-1} = i) = alpha [i == j] + (1 - alpha) / K."""
    return alpha * np.eye(K) + (1 - alpha) / K


def chain(first, last):
    """The transition matrix of steps first..last (the identity when none)."""
    return functools.reduce(
        np.matmul,
        [step_matrix(ALPHAS[r - 1]) for r in range(first, last + 1)],
        np.eye(K),
    )


def column(value):
    return torch.tensor([[float(value)]], dtype=torch.float64)


@pytest.mark.parametrize("t", [1, 5, 17, T])
def test_the_forward_marginal_is_eq_12(t):
    x0 = 2
    by_steps = np.eye(K)[x0]
    for s in range(1, t + 1):
        by_steps = by_steps @ step_matrix(ALPHAS[s - 1])
    closed = q_xt_log(
        log_onehot(torch.tensor([x0]), K, torch.float64), column(ABAR[t]), K
    )
    np.testing.assert_allclose(torch.exp(closed)[0].numpy(), by_steps, rtol=1e-10)


@pytest.mark.parametrize("t, s", [(2, 1), (9, 8), (T, T - 1), (12, 4), (T, 1), (5, 0)])
def test_the_posterior_is_bayes_rule(t, s):
    """q(x_s | x_t, x_0) for a step (s = t - 1) and for a jump (s < t - 1)."""
    rng = np.random.default_rng(t * 31 + s)
    x0 = rng.dirichlet(np.ones(K))  # a predicted x_0: any distribution
    xt = int(rng.integers(K))
    forward_s = x0 @ chain(1, s)
    jump = chain(s + 1, t)
    joint = forward_s * jump[:, xt]  # q(x_s = i | x0) q(x_t | x_s = i)
    expected = joint / joint.sum()
    got = q_posterior_log(
        torch.log(torch.from_numpy(x0[None])),
        log_onehot(torch.tensor([xt]), K, torch.float64),
        column(ABAR[t] / ABAR[s]),
        column(ABAR[s]),
        K,
    )
    np.testing.assert_allclose(torch.exp(got)[0].numpy(), expected, rtol=1e-9)


def test_categorical_kl_and_draws():
    p = torch.tensor([[0.5, 0.3, 0.2]], dtype=torch.float64)
    q = torch.tensor([[0.2, 0.2, 0.6]], dtype=torch.float64)
    direct = (p * (p / q).log()).sum()
    assert float(categorical_kl(p.log(), q.log())) == pytest.approx(float(direct))
    assert float(categorical_kl(p.log(), p.log())) == 0.0
    u = torch.rand(
        20_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    draws = sample_log(p.log().expand(len(u), 3), u)
    freq = torch.bincount(draws, minlength=3).double() / len(u)
    np.testing.assert_allclose(freq.numpy(), p[0].numpy(), atol=0.01)
