"""Log-densities, KL divergences and the posterior of latent-variable models.

Small pure functions of tensors, each named after the quantity it computes,
summed over the last (feature) dimension so that each returns one value per
row. Every draw takes a ``torch.Generator``: nothing here reads torch's global
random state.

References
----------
Kingma and Welling, Auto-Encoding Variational Bayes (ICLR 2014): the
reparameterisation trick (section 2.4) and the Gaussian KL in closed form
(appendix B). Burda, Grosse and Salakhutdinov, Importance Weighted
Autoencoders (ICLR 2016): the bound of eq. (8).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "DiagonalGaussian",
    "bernoulli_log_prob",
    "gaussian_kl",
    "gaussian_log_prob",
    "iwae_bound",
    "standard_normal_log_prob",
]

LOG_2PI = math.log(2 * math.pi)


def gaussian_log_prob(x, mean, logvar, mask=None):
    """``log N(x; mean, diag exp(logvar))``, summed over the last dimension.

    Parameters
    ----------
    x, mean, logvar : torch.Tensor
        Broadcastable; ``logvar`` is the log-variance.
    mask : torch.Tensor, optional
        1 for the entries to count, 0 for the others (missing ones): the
        density of the observed entries, a marginal of a diagonal Gaussian.

    Returns
    -------
    torch.Tensor
        One value per row.
    """
    terms = LOG_2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar)
    if mask is not None:
        terms = terms * mask
    return -0.5 * terms.sum(-1)


def standard_normal_log_prob(z):
    """``log N(z; 0, I)``, summed over the last dimension.

    Parameters
    ----------
    z : torch.Tensor

    Returns
    -------
    torch.Tensor
    """
    return -0.5 * (LOG_2PI + z**2).sum(-1)


def bernoulli_log_prob(x, logits, mask=None):
    """``sum_j x_j log p_j + (1 - x_j) log(1 - p_j)`` with ``p = sigmoid(logits)``.

    For ``x`` in {0, 1} the log-probability; for ``x`` in [0, 1] the usual
    cross-entropy reconstruction term (not a normalised density on [0, 1]).

    Parameters
    ----------
    x, logits : torch.Tensor
    mask : torch.Tensor, optional
        1 for the entries to count, 0 for the others (missing ones).

    Returns
    -------
    torch.Tensor
    """
    terms = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    if mask is not None:
        terms = terms * mask
    return -terms.sum(-1)


def gaussian_kl(mean_q, logvar_q, mean_p=None, logvar_p=None, mask=None):
    """``KL(N(mean_q, diag var_q) || N(mean_p, diag var_p))``, summed per row.

    With ``mean_p`` and ``logvar_p`` left out, p is N(0, I) and this is
    ``1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)`` (Kingma and
    Welling, 2014, appendix B).

    Parameters
    ----------
    mean_q, logvar_q : torch.Tensor
    mean_p, logvar_p : torch.Tensor, optional
    mask : torch.Tensor, optional
        1 for the coordinates to count, 0 for the others (missing ones).

    Returns
    -------
    torch.Tensor
    """
    if mean_p is None and logvar_p is None:
        terms = mean_q**2 + torch.exp(logvar_q) - 1.0 - logvar_q
    else:
        mean_p = torch.zeros_like(mean_q) if mean_p is None else mean_p
        logvar_p = torch.zeros_like(logvar_q) if logvar_p is None else logvar_p
        ratio = torch.exp(logvar_q - logvar_p)
        terms = (
            ratio
            + (mean_q - mean_p) ** 2 * torch.exp(-logvar_p)
            - 1.0
            - (logvar_q - logvar_p)
        )
    if mask is not None:
        terms = terms * mask
    return 0.5 * terms.sum(-1)


def iwae_bound(log_weights):
    """``log (1/K) sum_k w_k`` from ``log w_k``, over the last dimension.

    With ``log w_k = log p(x, z_k) - log q(z_k | x)``, ``z_k ~ q``, this is
    the importance-weighted bound of Burda et al. (2016, eq. 8); K = 1 is the
    ELBO.

    Parameters
    ----------
    log_weights : torch.Tensor of shape (..., K)

    Returns
    -------
    torch.Tensor of shape (...)
    """
    k = log_weights.shape[-1]
    return torch.logsumexp(log_weights, dim=-1) - math.log(k)


class DiagonalGaussian:
    """A batch of Gaussians ``N(mean, diag exp(logvar))``: a VAE's posterior.

    The shape of diffusers' ``DiagonalGaussianDistribution``: the loss of a
    VAE reads ``q.rsample(g)``, ``q.kl()``, ``q.log_prob(z)``.

    Parameters
    ----------
    mean, logvar : torch.Tensor of shape (n_rows, latent_dim)
    """

    def __init__(self, mean, logvar):
        self.mean, self.logvar = mean, logvar

    @property
    def std(self):
        """Standard deviations, ``exp(logvar / 2)``."""
        return torch.exp(0.5 * self.logvar)

    def rsample(self, generator, n_samples=None):
        """Reparameterised draws ``mean + std * eps``, ``eps ~ N(0, I)``.

        Gradients flow to ``mean`` and ``logvar`` (Kingma and Welling, 2014,
        section 2.4).

        Parameters
        ----------
        generator : torch.Generator
            On the tensors' device.
        n_samples : int, optional
            Draws per row, stacked in a new leading dimension.

        Returns
        -------
        torch.Tensor
            Shape of ``mean``, or ``(n_samples, *mean.shape)``.
        """
        shape = self.mean.shape if n_samples is None else (n_samples, *self.mean.shape)
        eps = torch.randn(
            shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype
        )
        return self.mean + self.std * eps

    def kl(self):
        """``KL(q || N(0, I))`` per row, in closed form."""
        return gaussian_kl(self.mean, self.logvar)

    def log_prob(self, z):
        """``log q(z)`` per row (``z`` may carry leading sample dimensions)."""
        return gaussian_log_prob(z, self.mean, self.logvar)
