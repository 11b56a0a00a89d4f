"""GaussianDiffusion: a denoiser and its noise schedule, as one network.

The shape of lucidrains' ``GaussianDiffusion`` with diffusers' equations: one
``torch.nn.Module`` holds the noise predictor ``eps_theta(x_t, t, y)`` and
the :class:`~probmodels.diffusion.schedule.NoiseSchedule` whose
coefficients are its buffers, so ``.to(device)``, ``state_dict`` and DDP see
one network, and it knows what follows from both: the training loss
(:meth:`GaussianDiffusion.loss`, Ho et al., 2020, Algorithm 1), the samplers
(:meth:`GaussianDiffusion.sample`: Algorithm 2, and DDIM, Song et al.,
2021), and the variational bound (:meth:`GaussianDiffusion.negative_bound`,
eq. 5). The estimator (:class:`~probmodels.DDPM`) validates, scales and
converts; it holds no loop.

A table's categorical columns diffuse by multinomial diffusion (Hoogeboom et
al., 2021; beside the Gaussian part as TabDDPM, Kotelnikov et al., 2023: see
:mod:`probmodels.diffusion._multinomial`): the denoiser reads the noisy
categories one-hot beside the noisy continuous columns and returns, beside
eps, logits of each column's x_0; each reverse step draws the categories
from the posterior at that prediction.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._multinomial import (
    categorical_kl,
    log_onehot,
    q_posterior_log,
    q_xt_log,
    sample_log,
)
from .schedule import NoiseSchedule, min_snr_weight

__all__ = ["GaussianDiffusion"]


class GaussianDiffusion(nn.Module):
    """A noise predictor trained and sampled under a Gaussian noise schedule.

    Parameters
    ----------
    denoiser : torch.nn.Module
        ``denoiser(x_t, t, y)`` predicts the noise eps of x_t (t = 1..T, y
        class codes or None); a conditional one embeds ``n_classes + 1``
        labels, the last the null label of guidance. With categorical
        columns its input is x_t's continuous columns then its categories
        one-hot, and its output eps then the logits of each column's x_0.
    schedule : NoiseSchedule
    n_classes : int, default=0
        Classes of a conditional model (0: unconditional).
    category_sizes : sequence of int, default=()
        Categories of each categorical column.
    prediction_type : {"epsilon", "sample", "v_prediction"}, default="epsilon"
        What the denoiser's continuous output predicts: the noise, x_0, or
        v (Salimans and Ho, 2022). :meth:`forward` turns it into the noise
        it implies, so the samplers and the bound read eps whatever the
        network predicts; :meth:`loss` regresses the output on its own
        target.

    Attributes
    ----------
    cond_drop_prob : float
        Probability that :meth:`loss` trains a row on the null label instead
        of its own (classifier-free guidance); set by the estimator for each
        fit, 0 by default.
    snr_gamma : float or None
        Min-SNR-gamma weighting of the loss (Hang et al., 2023); None, the
        default, weighs every timestep 1. Set by the estimator for each fit.
    """

    cond_drop_prob = 0.0
    snr_gamma = None

    def __init__(
        self,
        denoiser: nn.Module,
        schedule: NoiseSchedule,
        n_classes: int = 0,
        category_sizes=(),
        prediction_type="epsilon",
    ):
        super().__init__()
        self.denoiser, self.schedule, self.n_classes = denoiser, schedule, n_classes
        self.category_sizes = tuple(int(s) for s in category_sizes)
        self.prediction_type = prediction_type

    @property
    def n_timesteps(self) -> int:
        """T, the number of noising steps."""
        return self.schedule.n_timesteps

    def forward(self, xt, t, y=None, codes=None):
        """``eps_theta(x_t, t, y)`` (and the logits of the categories' x_0).

        The noise implied by the denoiser's prediction, whatever its
        ``prediction_type``.
        """
        out = self.predict(xt, t, y, codes)
        if self.prediction_type == "epsilon":
            return out
        d = xt.shape[1]
        eps = self.schedule.eps_from_prediction(xt, t, out[:, :d], self.prediction_type)
        return torch.cat([eps, out[:, d:]], dim=1)

    def predict(self, xt, t, y=None, codes=None):
        """The denoiser's raw output: its ``prediction_type``, then logits."""
        if codes is None or not self.category_sizes:
            return self.denoiser(xt, t, y)
        onehot = [
            nn.functional.one_hot(codes[:, j], size).to(xt.dtype)
            for j, size in enumerate(self.category_sizes)
        ]
        return self.denoiser(torch.cat([xt, *onehot], dim=-1), t, y)

    def _split(self, out, d):
        """The continuous columns' eps, and each categorical column's x_0 log-probs."""
        blocks = torch.split(out[:, d:], self.category_sizes, dim=-1)
        return out[:, :d], [torch.log_softmax(b, dim=-1) for b in blocks]

    def _coefficients(self, t, s, x):
        """The alpha from s to t (``abar_t / abar_s``), and abar_s; (n, 1) each."""
        abar = self.schedule.alphas_cumprod
        abar_t, abar_s = abar[t].to(x.dtype), abar[s].to(x.dtype)
        return (abar_t / abar_s)[:, None], abar_s[:, None]

    def _noisy_codes(self, codes, t, uniform, abar=None):
        """x_t's categories drawn from q(x_t | x_0) (eq. 12), one uniform per value.

        A missing category (code -1) is drawn uniformly: pure noise, as its
        x_t would be at t = T. ``abar`` replaces ``abar_t`` (``alpha_t``
        gives one forward step, q(x_t | x_{t-1})).
        """
        if abar is None:
            abar = self.schedule.alphas_cumprod[t]
        abar = abar.to(uniform.dtype)[:, None]
        out = []
        for j, k in enumerate(self.category_sizes):
            code = codes[:, j]
            log_x0 = log_onehot(code.clamp(min=0), k, uniform.dtype)
            drawn = sample_log(q_xt_log(log_x0, abar, k), uniform[:, j])
            noise = (uniform[:, j] * k).long().clamp(max=k - 1)
            out.append(torch.where(code >= 0, drawn, noise))
        return torch.stack(out, dim=-1)

    def _multinomial_kl(self, codes, xt_codes, log_x0_hat, t):
        """Per row: ``sum_j KL(q(x_{t-1} | x_t, x_0) || q(x_{t-1} | x_t, x0_hat))``.

        The loss of the categorical columns (Hoogeboom et al., eq. 14, as
        TabDDPM trains it). At t = 1 the true posterior is x_0 itself, so
        the term is ``-log p(x_0 | x_1)``, the decoder term of the bound.
        """
        dtype = log_x0_hat[0].dtype
        alpha, abar_prev = self._coefficients(t, t - 1, log_x0_hat[0])
        total = torch.zeros(len(t), dtype=dtype, device=t.device)
        for j, k in enumerate(self.category_sizes):
            # A missing category (code -1) has no term: its KL counts 0.
            seen = codes[:, j] >= 0
            log_x0 = log_onehot(codes[:, j].clamp(min=0), k, dtype)
            log_xt = log_onehot(xt_codes[:, j], k, dtype)
            true = q_posterior_log(log_x0, log_xt, alpha, abar_prev, k)
            model = q_posterior_log(log_x0_hat[j], log_xt, alpha, abar_prev, k)
            total = total + torch.where(seen, categorical_kl(true, model), 0.0)
        return total

    # ------------------------------------------------------------ training
    def loss(self, batch, generator):
        """The training loss of a batch (Ho et al., 2020, Algorithm 1).

        ``|| eps - eps_theta(x_t, t) ||^2`` (eq. 14), per feature, for the
        continuous columns (the error of x_0 or v for those predictions,
        each row weighted by
        :func:`~probmodels.diffusion.schedule.min_snr_weight` when
        ``snr_gamma`` is set); for categorical ones
        (``batch.codes``) the KL of the multinomial reverse step, averaged
        over the columns and added (TabDDPM's loss). With missing entries
        (``batch.mask``, codes -1) only observed ones count (MissDiff,
        Ouyang et al., 2023): the error is averaged over the observed
        coordinates. t is uniform on 1..T, eps ~ N(0, I), x_t from eq. (4)
        (categories from q(x_t | x_0)); with labels, each row's label
        becomes the null label with probability ``cond_drop_prob``.

        Parameters
        ----------
        batch : probmodels.engine.Batch
            Scaled continuous columns ``x``, category ``codes``, and for a
            conditional model class codes ``y``.
        generator : torch.Generator
            Draws t, eps, the noisy categories and the dropped labels.

        Returns
        -------
        torch.Tensor
            0-d.
        """
        x0, y, codes, mask = batch.x, batch.y, batch.codes, batch.mask
        n, device, d = len(x0), x0.device, x0.shape[1]
        t = torch.randint(
            1, self.n_timesteps + 1, (n,), generator=generator, device=device
        )
        eps = torch.randn(x0.shape, generator=generator, device=device)
        xt = self.schedule.q_sample(x0, t, eps)
        xt_codes = None
        if codes is not None:
            uniform = torch.rand(codes.shape, generator=generator, device=device)
            xt_codes = self._noisy_codes(codes, t, uniform)
        if y is not None and self.cond_drop_prob > 0:
            drop = (
                torch.rand(n, generator=generator, device=device) < self.cond_drop_prob
            )
            y = torch.where(drop, self.n_classes, y)
        out = self.predict(xt, t, y, xt_codes)
        target = self.schedule.prediction_target(x0, eps, t, self.prediction_type)
        weight = None
        if self.snr_gamma is not None:
            weight = min_snr_weight(
                self.schedule.snr(t), self.snr_gamma, self.prediction_type
            ).to(x0.dtype)
        if xt_codes is None:
            return _squared_error(out, target, mask, weight)
        prediction, log_x0_hat = self._split(out, d)
        loss = self._multinomial_kl(codes, xt_codes, log_x0_hat, t).mean()
        loss = loss / len(self.category_sizes)
        if not d:
            return loss
        return loss + _squared_error(prediction, target, mask, weight)

    # ------------------------------------------------------------ sampling
    def guided_eps(self, x, t, labels, guidance_scale, codes=None):
        """eps_theta, guided: ``(1 + w) eps(x, y) - w eps(x, null)``.

        Ho and Salimans (2022), in one batched forward pass of [x, x] under
        [y, null]; the categories' logits are guided alike.
        """
        if labels is None or not guidance_scale:
            return self(x, t, labels, codes)
        null = torch.full_like(labels, self.n_classes)
        both_codes = None if codes is None else torch.cat([codes, codes])
        both = self(
            torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]), both_codes
        )
        cond, uncond = both.chunk(2)
        return (1 + guidance_scale) * cond - guidance_scale * uncond

    @torch.inference_mode()
    def sample(
        self,
        shape,
        generator,
        *,
        timesteps,
        sampler="ancestral",
        labels=None,
        guidance_scale=0.0,
        eta=0.0,
        clip=None,
        variance_type=None,
        trajectory=None,
        progress=None,
    ):
        """Run the reverse process from pure noise ``x_T ~ N(0, I)``, in eval mode.

        Categorical columns start uniform and take, between consecutive
        timesteps t > s, the posterior ``q(x_s | x_t, x0_hat)``: an ancestral
        step of the multinomial chain, a jump for few-step sampling (DDIM's
        ``eta`` acts on the continuous columns only).

        Parameters
        ----------
        shape : tuple of int
            (n_samples, n_features) of the continuous columns.
        generator : torch.Generator
            On the module's device; x_T first, then each step's noise.
        timesteps : sequence of int
            Descending, from T to 0 (:func:`~probmodels.diffusion.schedule.
            ddim_timesteps`).
        sampler : {"ancestral", "ddim", "dpmpp_2m"}, default="ancestral"
            An ancestral step (Algorithm 2) from each timestep to the next,
            which must then be all of them, a DDIM step (Song et al.,
            2021, eq. 12), or a DPM-Solver++(2M) step (Lu et al., 2022,
            Algorithm 2; its SDE form with ``eta > 0``).
        labels : torch.Tensor of long, optional
            Class codes (the null label ``n_classes`` samples the
            unconditional model).
        guidance_scale : float, default=0.0
        eta : float, default=0.0
            DDIM's noise, or the share of noise DPM-Solver++ re-injects.
        clip : (torch.Tensor, torch.Tensor), optional
            Box the estimate of x0 is clipped to in each step.
        variance_type : str, optional
            The ancestral step's variance (the schedule's own when None).
        trajectory : list, optional
            Receives x_T and every x_t after it, on the CPU.
        progress : callable, optional
            Wraps the range of steps (a tqdm bar).

        Returns
        -------
        x : torch.Tensor of shape ``shape``
        codes : torch.Tensor of long, shape (n_samples, n_categorical), or None
        """
        device = self.schedule.betas.device
        n, d = shape
        ancestral = sampler == "ancestral"
        previous = None  # DPM-Solver++'s last data prediction and step
        x = torch.randn(shape, generator=generator, device=device)
        codes = None
        if self.category_sizes:
            uniform = torch.rand(
                (n, len(self.category_sizes)), generator=generator, device=device
            )
            codes = torch.stack(
                [
                    (u * k).long().clamp(max=k - 1)
                    for u, k in zip(uniform.T, self.category_sizes, strict=True)
                ],
                dim=-1,
            )
        if trajectory is not None:
            trajectory.append(x.cpu())
        steps = range(len(timesteps) - 1)
        was_training = self.training
        self.eval()
        try:
            for i in steps if progress is None else progress(steps):
                t = torch.full((n,), timesteps[i], device=device)
                prev = torch.full_like(t, timesteps[i + 1])
                out = self.guided_eps(x, t, labels, guidance_scale, codes)
                eps, log_x0_hat = (
                    self._split(out, d) if codes is not None else (out, [])
                )
                if ancestral:
                    x = self.schedule.p_sample(
                        x, t, eps, generator, clip, variance_type
                    )
                elif sampler == "dpmpp_2m":
                    eps = self.schedule.clip_noise(x, t, eps, clip)
                    x0 = self.schedule.predict_x0(x, t, eps)
                    x, previous = self.schedule.dpmpp_2m_step(
                        x, t, prev, x0, previous, eta, generator
                    )
                else:
                    x = self.schedule.ddim_step(x, t, prev, eps, eta, generator, clip)
                if codes is not None:
                    codes = self._step_codes(codes, log_x0_hat, t, prev, generator)
                if trajectory is not None:
                    trajectory.append(x.cpu())
        finally:
            self.train(was_training)
        return x, codes

    def _step_codes(self, codes, log_x0_hat, t, prev, generator):
        """Categories at ``prev``: drawn from q(x_prev | x_t, x0_hat) (eq. 13)."""
        dtype = log_x0_hat[0].dtype
        alpha, abar_prev = self._coefficients(t, prev, log_x0_hat[0])
        uniform = torch.rand(codes.shape, generator=generator, device=codes.device)
        out = []
        for j, k in enumerate(self.category_sizes):
            log_xt = log_onehot(codes[:, j], k, dtype)
            posterior = q_posterior_log(log_x0_hat[j], log_xt, alpha, abar_prev, k)
            # At the last step (prev = 0) the posterior is the prediction's
            # own distribution: draw x_0 from it.
            out.append(sample_log(posterior, uniform[:, j].to(dtype)))
        return torch.stack(out, dim=-1)

    @torch.inference_mode()
    def inpaint(
        self,
        x0,
        mask,
        codes0,
        generator,
        *,
        n_resample=10,
        labels=None,
        guidance_scale=0.0,
        clip=None,
        variance_type=None,
    ):
        """Fill the missing entries of rows by RePaint (Lugmayr et al., 2022, Alg. 1).

        Each reverse step t -> t-1 draws the known entries from the forward
        process, ``q(x_{t-1} | x_0)`` (eq. 4; eq. 12 for categories), and the
        unknown ones from the model's reverse step given the whole x_t, then
        joins them; ``n_resample`` times per step (but the last) the joined
        x_{t-1} goes one step forward again, ``q(x_t | x_{t-1})``, so the
        unknown part harmonises with the known one (RePaint's resampling,
        with a jump of one step). Ancestral steps over all T timesteps.

        Parameters
        ----------
        x0 : torch.Tensor of shape (n, d)
            Scaled continuous columns, 0 where missing.
        mask : torch.Tensor of shape (n, d)
            1 where observed.
        codes0 : torch.Tensor of long, shape (n, n_categorical), or None
            Known categories, -1 where missing.
        generator : torch.Generator
        n_resample : int, default=10
            RePaint's U: passes per timestep (1: no resampling).
        labels, guidance_scale, clip, variance_type
            As for :meth:`sample`.

        Returns
        -------
        x : torch.Tensor of shape (n, d)
        codes : torch.Tensor of long or None
        """
        device = self.schedule.betas.device
        n, d = x0.shape
        x = torch.randn(x0.shape, generator=generator, device=device)
        codes = None
        if self.category_sizes:
            start = torch.full_like(codes0, -1)
            uniform = torch.rand(codes0.shape, generator=generator, device=device)
            codes = self._noisy_codes(
                start, None, uniform, torch.ones(n, device=device)
            )
        was_training = self.training
        self.eval()
        try:
            for step in range(self.n_timesteps, 0, -1):
                t = torch.full((n,), step, device=device)
                for u in range(n_resample):
                    noise = torch.randn(x0.shape, generator=generator, device=device)
                    known = self.schedule.q_sample(x0, t - 1, noise)
                    out = self.guided_eps(x, t, labels, guidance_scale, codes)
                    eps, log_x0_hat = (
                        self._split(out, d) if codes is not None else (out, [])
                    )
                    unknown = self.schedule.p_sample(
                        x, t, eps, generator, clip, variance_type
                    )
                    x = mask * known + (1 - mask) * unknown
                    if codes is not None:
                        drawn = self._step_codes(codes, log_x0_hat, t, t - 1, generator)
                        uniform = torch.rand(
                            codes.shape, generator=generator, device=device
                        )
                        kept = self._noisy_codes(codes0, t - 1, uniform)
                        codes = torch.where(codes0 >= 0, kept, drawn)
                    if u + 1 < n_resample and step > 1:
                        noise = torch.randn(x.shape, generator=generator, device=device)
                        x = self.schedule.q_step(x, t, noise)
                        if codes is not None:
                            uniform = torch.rand(
                                codes.shape, generator=generator, device=device
                            )
                            alpha = self.schedule.alphas[t]
                            codes = self._noisy_codes(codes, t, uniform, alpha)
        finally:
            self.train(was_training)
        return x, codes

    # --------------------------------------------------------------- bound
    def negative_bound(
        self,
        x0,
        labels,
        t,
        eps,
        weights,
        variance_type=None,
        codes=None,
        uniform=None,
        mask=None,
    ):
        """``L_T + sum_strata w L_{t-1} + L_0`` for a block of rows (eq. 5).

        With categorical columns each term adds theirs: the prior KL to the
        uniform distribution, the KL of each multinomial reverse step, and
        ``-log p(x_0 | x_1)``; a row's bound is then on its density times
        the probability of its categories.

        Parameters
        ----------
        x0 : torch.Tensor of shape (n, d)
            Scaled continuous columns.
        labels : torch.Tensor or None
            Class codes (the null label scores the unconditional model).
        t : torch.Tensor of shape (n, m)
            One timestep in 2..T per stratum and row.
        eps : torch.Tensor of shape (n, m + 1, d)
            The noise of each KL term, then of the decoder term.
        weights : array-like of shape (m,)
            Each stratum's size: its term stands for that many.
        variance_type : str, optional
        codes : torch.Tensor of long, shape (n, n_categorical), optional
        uniform : torch.Tensor of shape (n, m + 1, n_categorical), optional
            The draws of x_t's categories for each term.
        mask : torch.Tensor of shape (n, d), optional
            1 where observed: the terms of the observed entries only (x0 then
            holds 0 where missing; a missing category is code -1).

        Returns
        -------
        torch.Tensor of shape (n,)
        """
        schedule = self.schedule
        n, m = t.shape
        weights = torch.as_tensor(weights, device=x0.device, dtype=x0.dtype)
        labels = None if labels is None else labels.long()
        rows = x0.repeat_interleave(m, dim=0)
        steps = t.long().reshape(-1)
        lab = None if labels is None else labels.repeat_interleave(m)
        noise = eps[:, :m].reshape(n * m, -1)
        xt = schedule.q_sample(rows, steps, noise)
        ones = torch.ones(n, dtype=torch.long, device=x0.device)
        x1 = schedule.q_sample(x0, ones, eps[:, m])
        mask_rows = None if mask is None else mask.repeat_interleave(m, dim=0)
        if codes is None or not self.category_sizes:
            kl = schedule.posterior_kl(
                rows, xt, steps, self(xt, steps, lab), variance_type, mask_rows
            )
            decoder = schedule.decoder_nll(
                x0, x1, self(x1, ones, labels), variance_type, mask
            )
            return schedule.prior_kl(x0, mask) + kl.view(n, m) @ weights + decoder
        d = x0.shape[1]
        all_codes = codes.repeat_interleave(m, dim=0)
        xt_codes = self._noisy_codes(
            all_codes, steps, uniform[:, :m].reshape(n * m, -1)
        )
        x1_codes = self._noisy_codes(codes, ones, uniform[:, m])
        eps_t, log_hat_t = self._split(self(xt, steps, lab, xt_codes), d)
        eps_1, log_hat_1 = self._split(self(x1, ones, labels, x1_codes), d)
        kl = self._multinomial_kl(all_codes, xt_codes, log_hat_t, steps)
        decoder = self._multinomial_kl(codes, x1_codes, log_hat_1, ones)
        prior = self._categorical_prior_kl(codes, x0.dtype)
        if d:
            kl = kl + schedule.posterior_kl(
                rows, xt, steps, eps_t, variance_type, mask_rows
            )
            decoder = decoder + schedule.decoder_nll(x0, x1, eps_1, variance_type, mask)
            prior = prior + schedule.prior_kl(x0, mask)
        return prior + kl.view(n, m) @ weights + decoder

    def _categorical_prior_kl(self, codes, dtype):
        """``KL(q(x_T | x_0) || uniform)`` summed over the categorical columns."""
        T = torch.full((len(codes),), self.n_timesteps, device=codes.device)
        abar = self.schedule.alphas_cumprod[T].to(dtype)[:, None]
        total = torch.zeros(len(codes), dtype=dtype, device=codes.device)
        for j, k in enumerate(self.category_sizes):
            log_q = q_xt_log(log_onehot(codes[:, j].clamp(min=0), k, dtype), abar, k)
            kl = categorical_kl(log_q, torch.full_like(log_q, -math.log(k)))
            total = total + torch.where(codes[:, j] >= 0, kl, 0.0)
        return total


def _squared_error(estimate, target, mask=None, weight=None):
    """Mean squared error, over the observed coordinates when there is a mask.

    ``weight`` (one per row) scales each row's errors.
    """
    error = (estimate - target) ** 2
    if weight is not None:
        error = error * weight.reshape(-1, *([1] * (error.dim() - 1)))
    if mask is None:
        return error.mean()
    return (error * mask).sum() / mask.sum().clamp(min=1.0)
