"""The VAE's network: an encoder q(z|x) and a decoder p(x|z), optionally given a label.

Kingma and Welling, Auto-Encoding Variational Bayes (2014), section 3 and
appendix C.2 (Gaussian MLP encoder and decoder); a label, when given, is a
one-hot vector appended to the encoder's and the decoder's input (a
conditional VAE, Sohn, Lee and Yan, 2015).

Tables with categorical columns: the encoder reads each category one-hot
beside the continuous columns, and the decoder has a head per column kind,
a Gaussian for the continuous ones and a softmax per categorical one (a
boolean column is a softmax over two, the same distribution as a
Bernoulli), as TVAE (Xu et al., NeurIPS 2019) and HI-VAE (Nazabal et al.,
2020) do; the likelihood of a row adds each column's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..nn.distributions import (
    DiagonalGaussian,
    GaussianMixturePrior,
    bernoulli_log_prob,
    gaussian_log_prob,
    iwae_bound,
    standard_normal_log_prob,
)
from ..nn.modules import MLP

__all__ = ["MIN_VARIANCE", "VAENetwork"]

#: Floor of the decoder's variance, in units of the scaled data: a column
#: that never varies (a border pixel) would otherwise drive its variance, and
#: its density, to infinity.
MIN_VARIANCE = 1e-4


def _join(*parts):
    """The parts given (not None) side by side."""
    present = [p for p in parts if p is not None]
    return present[0] if len(present) == 1 else torch.cat(present, dim=-1)


class VAENetwork(nn.Module):
    """Encoder, decoder and the terms of the variational bound.

    Parameters
    ----------
    n_features : int
    latent_dim : int
    hidden : sequence of int
        Encoder layer sizes; the decoder mirrors them. Empty gives linear maps.
    n_classes : int, default=0
        Size of the one-hot label given to both networks (0: unconditional).
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Of the continuous columns.
    decoder_variance : {"row", "feature", "shared"}, default="row"
        Gaussian decoder variance: an output of the decoder per row and
        feature, a learned constant per feature, or one learned constant.
    activation : str, default="relu"
    category_sizes : sequence of int, default=()
        Categories of each categorical column (read one-hot, decoded by a
        softmax each).
    missing_inputs : bool, default=False
        The encoder also reads which entries were observed (a 0/1 mask per
        continuous column and per categorical one), as MIWAE's does for
        rows with missing entries (Mattei and Frellsen, ICML 2019).
    self_masking : sequence of float or None, default=None
        Each continuous column's share of missing entries in the training
        rows, to model why entries are missing (not-MIWAE; Ipsen, Mattei
        and Frellsen, ICLR 2021): column j goes missing with probability
        ``sigmoid(a_j + b_j u_j)`` of its own scaled value
        (:meth:`mask_log_prob`), starting from the logit of its share with
        slope 0; a column without holes never goes missing. The bound gains
        ``log p(m | x)`` with the missing entries drawn from ``p(x | z)``.
        None: no mask model.
    prior_components : int, default=0
        Components of the latent prior ``p(z)`` that scores and samples use
        (:attr:`prior`, fitted after training by the estimator); 0 keeps
        ``N(0, I)``. Training always regularises the posterior towards
        ``N(0, I)``: the first stage of a two-stage VAE.

    Attributes
    ----------
    beta : float
        Weight of the KL term in :meth:`loss` (beta-VAE); set by the
        estimator for each fit, 1 by default.
    train_importance : int
        Draws of the importance-weighted bound :meth:`loss` trains (1: the
        ELBO); set by the estimator for each fit.
    prior : GaussianMixturePrior or None
        The ``p(z)`` of :meth:`log_prior` and :meth:`sample_prior`; None is
        ``N(0, I)``.
    """

    beta = 1.0
    train_importance = 1

    def __init__(
        self,
        n_features,
        latent_dim,
        hidden,
        n_classes=0,
        likelihood="gaussian",
        decoder_variance="row",
        activation="relu",
        category_sizes=(),
        missing_inputs=False,
        prior_components=0,
        self_masking=None,
    ):
        super().__init__()
        self.missing_inputs = bool(missing_inputs)
        self.self_masking = self_masking is not None
        if self.self_masking:
            if likelihood != "gaussian":
                raise ValueError(
                    "The self-masking model draws the missing values from a "
                    "Gaussian decoder; use likelihood='gaussian'."
                )
            rates = torch.as_tensor(self_masking, dtype=torch.float32)
            self.register_buffer("mask_active", rates > 0)
            rates = rates.clamp(1e-3, 1 - 1e-3)
            self.mask_intercept = nn.Parameter(torch.log(rates / (1 - rates)))
            self.mask_coef = nn.Parameter(torch.zeros(n_features))
        self.latent_dim = int(latent_dim)
        self.likelihood, self.decoder_variance = likelihood, decoder_variance
        self.n_features, self.category_sizes = n_features, tuple(category_sizes)
        n_onehot = sum(self.category_sizes)
        gaussian = likelihood == "gaussian"
        heads = 2 if gaussian and decoder_variance == "row" else 1
        hidden = tuple(hidden)
        n_masks = n_features + len(self.category_sizes) if missing_inputs else 0
        self.encoder = MLP(
            n_features + n_onehot + n_masks + n_classes,
            hidden,
            2 * latent_dim,
            activation,
        )
        self.decoder = MLP(
            latent_dim + n_classes,
            hidden[::-1],
            heads * n_features + n_onehot,
            activation,
        )
        if gaussian and decoder_variance != "row":
            size = n_features if decoder_variance == "feature" else 1
            # softplus(0.5413) = 1: start at unit variance.
            self.raw_variance = nn.Parameter(torch.full((size,), 0.5413))
        self.prior = (
            GaussianMixturePrior(prior_components, latent_dim)
            if prior_components
            else None
        )

    def log_prior(self, z):
        """``log p(z)`` per row: the fitted mixture, or ``N(0, I)`` without one."""
        if self.prior is None:
            return standard_normal_log_prob(z)
        return self.prior.log_prob(z)

    def sample_prior(self, n, generator, device):
        """``n`` draws of ``z ~ p(z)``."""
        if self.prior is None:
            return torch.randn((n, self.latent_dim), generator=generator, device=device)
        return self.prior.sample(n, generator)

    def _onehot(self, codes, dtype):
        """Category codes as one-hot blocks (None without categorical columns).

        A missing category (code -1) is a block of zeros.
        """
        if codes is None or not self.category_sizes:
            return None
        parts = [
            F.one_hot(codes[:, j].clamp(min=0), size) * (codes[:, j : j + 1] >= 0)
            for j, size in enumerate(self.category_sizes)
        ]
        return torch.cat(parts, dim=-1).to(dtype)

    def _masks(self, x, codes, mask):
        """What the encoder reads of missingness (None unless ``missing_inputs``)."""
        if not self.missing_inputs:
            return None
        seen = torch.ones_like(x) if mask is None else mask.to(x.dtype)
        if codes is not None and self.category_sizes:
            seen = torch.cat([seen, (codes >= 0).to(x.dtype)], dim=-1)
        return seen

    def encode(self, x, c=None, codes=None, mask=None) -> DiagonalGaussian:
        """The posterior ``q(z | x, c) = N(mu, diag sigma^2)``.

        With missing entries ``x`` holds 0 where ``mask`` is 0 and a missing
        category is code -1 (MIWAE's zero-filled input).
        """
        inputs = _join(x, self._onehot(codes, x.dtype), self._masks(x, codes, mask), c)
        mean, logvar = self.encoder(inputs).chunk(2, dim=-1)
        return DiagonalGaussian(mean, logvar)

    def decode(self, z, c=None):
        """Parameters of ``p(x | z, c)``.

        Returns
        -------
        loc, logvar : torch.Tensor
            The continuous columns' means and log-variances (Bernoulli logits
            and None for ``likelihood="bernoulli"``).
        logits : list of torch.Tensor
            One (n, C_j) block of category logits per categorical column.
        """
        out = self.decoder(_join(z, c))
        split = out.shape[-1] - sum(self.category_sizes)
        out, tail = out[:, :split], out[:, split:]
        logits = list(torch.split(tail, self.category_sizes, dim=-1))
        if self.likelihood == "bernoulli":
            return out, None, logits
        if self.decoder_variance == "row":
            loc, raw = out.chunk(2, dim=-1)
        else:
            loc, raw = out, self.raw_variance.expand_as(out)
        return loc, torch.log(MIN_VARIANCE + F.softplus(raw)), logits

    def decoded_mean(self, z, c=None):
        """``E[x | z, c]`` of the continuous columns (Gaussian mean, Bernoulli p)."""
        loc, _, _ = self.decode(z, c)
        return torch.sigmoid(loc) if self.likelihood == "bernoulli" else loc

    def log_likelihood(self, x, z, c=None, codes=None, mask=None, decoded=None):
        """``log p(x | z, c)`` per row: each column's density or probability.

        With ``mask`` (and codes -1), of the observed entries only: the
        columns are independent given z, so this is the marginal likelihood
        of what was observed (MIWAE's bound, Mattei and Frellsen, 2019).
        ``decoded``: :meth:`decode`'s output for z, when the caller has it.
        """
        loc, logvar, logits = self.decode(z, c) if decoded is None else decoded
        if self.likelihood == "bernoulli":
            out = bernoulli_log_prob(x, loc, mask)
        else:
            out = gaussian_log_prob(x, loc, logvar, mask)
        for j, block in enumerate(logits):
            log_p = torch.log_softmax(block, dim=-1)
            code = codes[:, j : j + 1]
            if mask is None and not self.missing_inputs:
                out = out + log_p.gather(-1, code)[:, 0]
            else:
                seen = code >= 0
                picked = log_p.gather(-1, code.clamp(min=0))
                out = out + torch.where(seen, picked, 0.0)[:, 0]
        return out

    def mask_log_prob(self, x, mask):
        """``log p(m | x) = sum_j log P(m_j | x_j)`` per row (self-masking).

        ``P(m_j = 1 | x_j) = sigmoid(a_j + b_j x_j)`` (not-MIWAE, Ipsen,
        Mattei and Frellsen, 2021, eq. 11, with ``a = W b`` and ``b = -W``);
        ``mask`` is 1 where observed. ``x`` holds every entry, the missing
        ones drawn.
        """
        logit = self.mask_intercept + self.mask_coef * x
        log_p = F.logsigmoid(torch.where(mask > 0, -logit, logit))
        # A column without holes in training never goes missing: no term.
        return torch.where(self.mask_active, log_p, 0.0).sum(-1)

    def elbo(self, x, c, generator, beta=1.0, codes=None, mask=None):
        """One-sample estimate of ``E_q[log p(x|z)] - beta KL(q(z|x) || N(0, I))``.

        The training objective, whatever :attr:`prior` holds. The KL is in
        closed form; the reconstruction term uses one
        reparameterised draw (Kingma and Welling, 2014, eq. 10). With a
        ``mask``, of the observed entries.
        """
        q = self.encode(x, c, codes, mask)
        z = q.rsample(generator)
        return self.log_likelihood(x, z, c, codes, mask) - beta * q.kl()

    def loss(self, batch, generator):
        """Negative ELBO per row, averaged over the batch: the training loss.

        With ``train_importance = K > 1``, the negative importance-weighted
        bound of K draws instead.

        Parameters
        ----------
        batch : probmodels.engine.Batch
            Scaled continuous columns ``x``, category ``codes`` of a table's
            categorical columns, and for a conditional VAE one-hot labels
            ``y``.
        generator : torch.Generator
            Draws the reparameterised sample.

        Returns
        -------
        torch.Tensor
            0-d.
        """
        k = self.train_importance
        # IWAE (Burda et al., 2016); MIWAE with a mask; not-MIWAE with the
        # self-masking model, whose draws of the missing values it needs.
        if k > 1 or self.self_masking:
            x = batch.x
            shape = (len(x), k, self.latent_dim)
            eps = torch.randn(shape, generator=generator, device=x.device, dtype=x.dtype)
            x_noise = None
            if self.self_masking:
                x_noise = torch.randn(
                    (len(x), k, x.shape[1]),
                    generator=generator,
                    device=x.device,
                    dtype=x.dtype,
                )
            log_w = self.log_weights(
                x,
                batch.y,
                eps,
                batch.codes,
                batch.mask,
                standard_prior=True,
                x_noise=x_noise,
            )
            return -iwae_bound(log_w).mean()
        elbo = self.elbo(
            batch.x, batch.y, generator, self.beta, batch.codes, batch.mask
        )
        return -elbo.mean()

    def log_weights(
        self,
        x,
        c,
        eps,
        codes=None,
        mask=None,
        standard_prior=False,
        x_noise=None,
        return_draws=False,
    ):
        """``log p(x, z_k) - log q(z_k | x)`` for ``z_k = mu + sigma eps_k`` (IWAE).

        ``p(z)`` is :meth:`log_prior`, or ``N(0, I)`` with ``standard_prior``
        (the training objective, which the fitted prior does not enter).
        With ``x_noise`` and the self-masking model, the weights of
        not-MIWAE (Ipsen et al., 2021, eq. 9): the missing entries drawn as
        ``x_m = loc + sigma x_noise`` from ``p(x_m | z_k)`` and
        ``log p(m | x_o, x_m)`` added.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)
        c : torch.Tensor of shape (n, n_classes) or None
        eps : torch.Tensor of shape (n, K, latent_dim)
            Standard normal draws.
        codes : torch.Tensor of shape (n, n_categorical), optional
        mask : torch.Tensor of shape (n, n_features), optional
            1 where observed; the weights are then of the observed entries.
        standard_prior : bool, default=False
        x_noise : torch.Tensor of shape (n, K, n_features), optional
        return_draws : bool, default=False
            Also return the rows completed by the draws ``(n, K, n_features)``
            (``x_noise`` needed).

        Returns
        -------
        torch.Tensor of shape (n, K)
        """
        n, k, _ = eps.shape
        q = self.encode(x, c, codes, mask)
        z = q.mean[:, None] + q.std[:, None] * eps
        log_q = gaussian_log_prob(z, q.mean[:, None], q.logvar[:, None])
        xs, zs = x.repeat_interleave(k, dim=0), z.reshape(n * k, -1)
        cs = None if c is None else c.repeat_interleave(k, dim=0)
        codes = None if codes is None else codes.repeat_interleave(k, dim=0)
        mask = None if mask is None else mask.repeat_interleave(k, dim=0)
        decoded = self.decode(zs, cs)
        log_px = self.log_likelihood(xs, zs, cs, codes, mask, decoded).view(n, k)
        log_pz = standard_normal_log_prob(z) if standard_prior else self.log_prior(z)
        log_w = log_px + log_pz - log_q
        if x_noise is None or not self.self_masking or mask is None:
            return log_w
        loc, logvar, _ = decoded
        draws = loc + torch.exp(0.5 * logvar) * x_noise.reshape(n * k, -1)
        full = torch.where(mask > 0, xs, draws)
        log_w = log_w + self.mask_log_prob(full, mask).view(n, k)
        return (log_w, full.view(n, k, -1)) if return_draws else log_w

    def forward(self, x, c=None, codes=None, mask=None):
        """Posterior means ``mu(x)``: the latent representation."""
        return self.encode(x, c, codes, mask).mean

    def importance_fill(
        self, x, c, eps, codes, mask, noise, uniform, draw, x_noise=None
    ):
        """Missing entries from p(x_m | x_o) by self-normalised importance sampling.

        The K posterior draws ``z_k = mu + sigma eps_k`` of each row, weighted
        by ``w_k ∝ p(x_o, z_k) / q(z_k | x_o)`` (:meth:`log_weights`), stand
        for p(z | x_o) (MIWAE, Mattei and Frellsen, 2019, section 3.3).
        ``draw=False``: the weighted means ``sum_k w_k E[x | z_k]`` (for a
        category, the most probable under ``sum_k w_k p(c | z_k)``);
        ``draw=True``: one z_k resampled by its weight (``uniform[:, 0]``),
        then x from p(x | z_k) (``noise`` for the Gaussian or Bernoulli
        columns, ``uniform[:, 1 + j]`` for category j).

        With ``x_noise`` and the self-masking model, the weights take
        ``p(m | x)`` and the values are the decoder draws they weigh
        (not-MIWAE's imputation, Ipsen et al., 2021, eq. 12).

        Returns
        -------
        torch.Tensor of shape (n, n_features + n_categorical)
            The continuous columns, then each category's code (as a float).
        """
        n, k, _ = eps.shape
        tilted = x_noise is not None and self.self_masking
        if tilted:
            log_w, full = self.log_weights(
                x, c, eps, codes, mask, x_noise=x_noise, return_draws=True
            )
        else:
            log_w = self.log_weights(x, c, eps, codes, mask)
        weights = torch.softmax(log_w, dim=1)  # (n, K)
        q = self.encode(x, c, codes, mask)
        z = (q.mean[:, None] + q.std[:, None] * eps).reshape(n * k, -1)
        cs = None if c is None else c.repeat_interleave(k, dim=0)
        loc, logvar, logits = self.decode(z, cs)
        loc = loc.view(n, k, -1)
        if draw:
            cdf = torch.cumsum(weights, dim=1)
            pick = (cdf < uniform[:, :1] * cdf[:, -1:]).sum(1).clamp(max=k - 1)
            rows = torch.arange(n, device=x.device)
            mean = loc[rows, pick]
        if tilted:
            values = full[rows, pick] if draw else (weights[..., None] * full).sum(1)
        elif draw:
            if self.likelihood == "bernoulli":
                values = (noise < torch.sigmoid(mean)).to(mean.dtype)
            else:
                values = (
                    mean + torch.exp(0.5 * logvar.view(n, k, -1)[rows, pick]) * noise
                )
        else:
            if self.likelihood == "bernoulli":
                loc = torch.sigmoid(loc)
            values = (weights[..., None] * loc).sum(1)
        codes_out = []
        for j, block in enumerate(logits):
            probs = torch.softmax(block, dim=-1).view(n, k, -1)
            if draw:
                p = probs[rows, pick]
                cdf = torch.cumsum(p, dim=-1)
                code = (cdf < uniform[:, 1 + j : 2 + j] * cdf[:, -1:]).sum(-1)
                code = code.clamp(max=p.shape[-1] - 1)
            else:
                code = (weights[..., None] * probs).sum(1).argmax(-1)
            codes_out.append(code[:, None].to(values.dtype))
        return torch.cat([values, *codes_out], dim=-1)
