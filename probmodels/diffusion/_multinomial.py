"""Multinomial diffusion of categorical columns (Hoogeboom et al., NeurIPS 2021).

A categorical value with K classes is noised towards the uniform
distribution: ``q(x_t | x_{t-1}) = Cat((1 - beta_t) x_{t-1} + beta_t / K)``
(eq. 11), so ``q(x_t | x_0) = Cat(abar_t x_0 + (1 - abar_t) / K)`` (eq. 12),
with the alphas and abar of the continuous columns' schedule, and one reverse
step is the posterior

    q(x_{t-1} | x_t, x_0) = Cat(theta / sum theta),
    theta = [alpha_t x_t + (1 - alpha_t) / K] * [abar_{t-1} x_0 + (1 - abar_{t-1}) / K]

(eq. 13). The network predicts x_0's probabilities, and the model's reverse
step is this posterior at the prediction. TabDDPM (Kotelnikov et al., ICML
2023) trains it beside the Gaussian diffusion of the continuous columns,
with the KL of these reverse steps as its loss.

Everything is in log space, each x a row of log-probabilities (a one-hot
row is ``log(max(onehot, 1e-30))``), one column at a time. A step from t
to an earlier s > 0 (a few-step sampler's jump) is the same posterior with
``alpha_t`` replaced by ``abar_t / abar_s``: the forward process from s to
t is one multinomial step with that cumulative alpha.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "categorical_kl",
    "log_onehot",
    "q_posterior_log",
    "q_xt_log",
    "sample_log",
]

_TINY = 1e-30


def log_onehot(codes, size: int, dtype=torch.float32):
    """``log(max(onehot(codes), 1e-30))``, shape (n, size)."""
    onehot = torch.nn.functional.one_hot(codes, size).to(dtype)
    return torch.log(onehot.clamp(min=_TINY))


def _mix(log_x, log_keep, size: int):
    """``log(keep x + (1 - keep) / K)`` for a keep probability per row."""
    log_spread = torch.log1p(-torch.exp(log_keep).clamp(max=1.0)) - math.log(size)
    return torch.logaddexp(log_keep + log_x, log_spread)


def q_xt_log(log_x0, abar, size: int):
    """``log q(x_t | x_0) = log(abar_t x_0 + (1 - abar_t) / K)`` (eq. 12).

    Parameters
    ----------
    log_x0 : torch.Tensor of shape (n, K)
        Log-probabilities of x_0 (a one-hot row, or a prediction).
    abar : torch.Tensor of shape (n, 1)
        abar_t of each row.
    size : int
        K.

    Returns
    -------
    torch.Tensor of shape (n, K)
    """
    return _mix(log_x0, torch.log(abar), size)


def q_posterior_log(log_x0, log_xt, alpha, abar_prev, size: int):
    """``log q(x_s | x_t, x_0)``, normalised (eq. 13; s = t - 1 or earlier).

    Parameters
    ----------
    log_x0 : torch.Tensor of shape (n, K)
        x_0 (one-hot in training, the network's prediction in sampling).
    log_xt : torch.Tensor of shape (n, K)
        The noisy value x_t, one-hot.
    alpha : torch.Tensor of shape (n, 1)
        alpha_t for a step to t - 1; ``abar_t / abar_s`` for a jump to s.
    abar_prev : torch.Tensor of shape (n, 1)
        abar_s (1 at s = 0, where the posterior is x_0's own distribution
        times the step's likelihood).
    size : int

    Returns
    -------
    torch.Tensor of shape (n, K)
    """
    theta = _mix(log_xt, torch.log(alpha), size) + _mix(
        log_x0, torch.log(abar_prev), size
    )
    return theta - torch.logsumexp(theta, dim=-1, keepdim=True)


def categorical_kl(log_p, log_q):
    """``KL(p || q) = sum_k p_k (log p_k - log q_k)`` per row."""
    return (torch.exp(log_p) * (log_p - log_q)).sum(-1)


def sample_log(log_probs, uniform):
    """A category per row, by the inverse CDF of its probabilities.

    Parameters
    ----------
    log_probs : torch.Tensor of shape (n, K)
    uniform : torch.Tensor of shape (n,)
        Uniform draws in [0, 1): one per row, so a row's draw can come from
        a stream keyed on the row.

    Returns
    -------
    torch.Tensor of long, shape (n,)
    """
    cdf = torch.cumsum(torch.softmax(log_probs, dim=-1), dim=-1)
    below = cdf < uniform[:, None] * cdf[:, -1:]
    return below.sum(-1).clamp(max=log_probs.shape[-1] - 1)
