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
Autoencoders (ICLR 2016): the bound of eq. (8). The Gaussian mixture's
density is written with precision Cholesky factors as scikit-learn's
``GaussianMixture`` stores them (``sklearn/mixture/_gaussian_mixture.py``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "DiagonalGaussian",
    "GaussianMixturePrior",
    "bernoulli_log_prob",
    "gaussian_kl",
    "gaussian_log_prob",
    "gaussian_mixture_log_prob",
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


def gaussian_mixture_log_prob(z, log_weights, means, precisions_cholesky):
    """``log sum_k w_k N(z; mu_k, Sigma_k)``, one value per row.

    ``Sigma_k^{-1} = U_k U_k^T`` with ``U_k`` the precision Cholesky factor
    (upper triangular), so ``log N(z; mu_k, Sigma_k) = -||U_k^T (z - mu_k)||^2
    / 2 + sum log diag U_k - d log(2 pi) / 2``: scikit-learn's
    ``precisions_cholesky_`` of a ``covariance_type="full"`` mixture.

    Parameters
    ----------
    z : torch.Tensor of shape (..., d)
    log_weights : torch.Tensor of shape (K,)
        Log mixing weights (they sum to one).
    means : torch.Tensor of shape (K, d)
    precisions_cholesky : torch.Tensor of shape (K, d, d)

    Returns
    -------
    torch.Tensor of shape (...)
    """
    d = z.shape[-1]
    diff = z.unsqueeze(-2) - means  # (..., K, d)
    white = torch.einsum("...ki,kij->...kj", diff, precisions_cholesky)
    log_det = torch.log(torch.diagonal(precisions_cholesky, dim1=-2, dim2=-1)).sum(-1)
    log_n = -0.5 * (white**2).sum(-1) + log_det - 0.5 * d * LOG_2PI
    return torch.logsumexp(log_weights + log_n, dim=-1)


class GaussianMixturePrior(nn.Module):
    """A latent prior ``p(z) = sum_k w_k N(z; mu_k, Sigma_k)`` held in buffers.

    Built as K copies of ``N(0, I)``, the standard normal itself; a
    mixture fitted elsewhere (scikit-learn's or probmodels'
    ``GaussianMixture`` with full covariances) is copied in by
    :meth:`set_parameters`. The parameters are buffers, not trained: they
    travel with the network's ``state_dict`` and its device and dtype.

    Parameters
    ----------
    n_components : int
    dim : int
    """

    def __init__(self, n_components, dim):
        super().__init__()
        k = int(n_components)
        self.register_buffer("log_weights", torch.full((k,), -math.log(k)))
        self.register_buffer("means", torch.zeros(k, dim))
        self.register_buffer("precisions_cholesky", torch.eye(dim).repeat(k, 1, 1))

    def set_parameters(self, weights, means, precisions_cholesky):
        """Copy in a fitted mixture's ``weights_``, ``means_`` and ``precisions_cholesky_``."""
        for name, value in (
            ("log_weights", torch.log(torch.as_tensor(weights))),
            ("means", torch.as_tensor(means)),
            ("precisions_cholesky", torch.as_tensor(precisions_cholesky)),
        ):
            buffer = getattr(self, name)
            if value.shape != buffer.shape:
                raise ValueError(
                    f"{name} has shape {tuple(value.shape)}; this prior's is "
                    f"{tuple(buffer.shape)}."
                )
            buffer.copy_(value.to(buffer))

    def log_prob(self, z):
        """``log p(z)`` per row (``z`` may carry leading sample dimensions)."""
        return gaussian_mixture_log_prob(
            z, self.log_weights, self.means, self.precisions_cholesky
        )

    def sample(self, n, generator):
        """``n`` draws: a component by its weight, then ``mu_k + L_k eps``.

        ``L_k = U_k^{-T}`` is the covariance's Cholesky factor, applied by a
        triangular solve with ``U_k^T``.

        Parameters
        ----------
        n : int
        generator : torch.Generator
            On the buffers' device.

        Returns
        -------
        torch.Tensor of shape (n, dim)
        """
        means = self.means
        pick = torch.multinomial(
            torch.exp(self.log_weights), n, replacement=True, generator=generator
        )
        eps = torch.randn(
            (n, means.shape[1], 1),
            generator=generator,
            device=means.device,
            dtype=means.dtype,
        )
        lower = self.precisions_cholesky[pick].transpose(-1, -2)
        return (
            means[pick] + torch.linalg.solve_triangular(lower, eps, upper=False)[..., 0]
        )


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
