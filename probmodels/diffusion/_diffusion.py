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
"""

from __future__ import annotations

import torch
from torch import nn

from .schedule import NoiseSchedule

__all__ = ["GaussianDiffusion"]


class GaussianDiffusion(nn.Module):
    """A noise predictor trained and sampled under a Gaussian noise schedule.

    Parameters
    ----------
    denoiser : torch.nn.Module
        ``denoiser(x_t, t, y)`` predicts the noise eps of x_t (t = 1..T, y
        class codes or None); a conditional one embeds ``n_classes + 1``
        labels, the last the null label of guidance.
    schedule : NoiseSchedule
    n_classes : int, default=0
        Classes of a conditional model (0: unconditional).

    Attributes
    ----------
    cond_drop_prob : float
        Probability that :meth:`loss` trains a row on the null label instead
        of its own (classifier-free guidance); set by the estimator for each
        fit, 0 by default.
    """

    cond_drop_prob = 0.0

    def __init__(
        self, denoiser: nn.Module, schedule: NoiseSchedule, n_classes: int = 0
    ):
        super().__init__()
        self.denoiser, self.schedule, self.n_classes = denoiser, schedule, n_classes

    @property
    def n_timesteps(self) -> int:
        """T, the number of noising steps."""
        return self.schedule.n_timesteps

    def forward(self, xt, t, y=None):
        """``eps_theta(x_t, t, y)``: the predicted noise."""
        return self.denoiser(xt, t, y)

    # ------------------------------------------------------------ training
    def loss(self, batch, generator):
        """``|| eps - eps_theta(x_t, t) ||^2`` (Ho et al., 2020, eq. 14), per feature.

        Algorithm 1: t uniform on 1..T, eps ~ N(0, I), x_t from eq. (4); with
        labels, each row's label becomes the null label with probability
        ``cond_drop_prob``.

        Parameters
        ----------
        batch : probmodels.engine.Batch
            Scaled rows ``x`` and, for a conditional model, class codes ``y``.
        generator : torch.Generator
            Draws t, eps and the dropped labels.

        Returns
        -------
        torch.Tensor
            0-d.
        """
        x0, y = batch.x, batch.y
        n, device = len(x0), x0.device
        t = torch.randint(
            1, self.n_timesteps + 1, (n,), generator=generator, device=device
        )
        eps = torch.randn(x0.shape, generator=generator, device=device)
        xt = self.schedule.q_sample(x0, t, eps)
        if y is not None and self.cond_drop_prob > 0:
            drop = (
                torch.rand(n, generator=generator, device=device) < self.cond_drop_prob
            )
            y = torch.where(drop, self.n_classes, y)
        return ((self(xt, t, y) - eps) ** 2).mean()

    # ------------------------------------------------------------ sampling
    def guided_eps(self, x, t, labels, guidance_scale):
        """eps_theta, guided: ``(1 + w) eps(x, y) - w eps(x, null)``.

        Ho and Salimans (2022), in one batched forward pass of [x, x] under
        [y, null].
        """
        if labels is None or not guidance_scale:
            return self(x, t, labels)
        null = torch.full_like(labels, self.n_classes)
        both = self(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]))
        cond, uncond = both.chunk(2)
        return (1 + guidance_scale) * cond - guidance_scale * uncond

    @torch.no_grad()
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

        Parameters
        ----------
        shape : tuple of int
            (n_samples, n_features).
        generator : torch.Generator
            On the module's device; x_T first, then each step's noise.
        timesteps : sequence of int
            Descending, from T to 0 (:func:`~probmodels.diffusion.schedule.
            ddim_timesteps`).
        sampler : {"ancestral", "ddim"}, default="ancestral"
            An ancestral step (Algorithm 2) from each timestep to the next,
            which must then be all of them, or a DDIM step (Song et al.,
            2021, eq. 12).
        labels : torch.Tensor of long, optional
            Class codes (the null label ``n_classes`` samples the
            unconditional model).
        guidance_scale : float, default=0.0
        eta : float, default=0.0
            DDIM's noise.
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
        torch.Tensor of shape ``shape``
        """
        device = self.schedule.betas.device
        ancestral = sampler == "ancestral"
        x = torch.randn(shape, generator=generator, device=device)
        if trajectory is not None:
            trajectory.append(x.cpu())
        steps = range(len(timesteps) - 1)
        was_training = self.training
        self.eval()
        try:
            for i in steps if progress is None else progress(steps):
                t = torch.full((shape[0],), timesteps[i], device=device)
                eps = self.guided_eps(x, t, labels, guidance_scale)
                if ancestral:
                    x = self.schedule.p_sample(
                        x, t, eps, generator, clip, variance_type
                    )
                else:
                    prev = torch.full_like(t, timesteps[i + 1])
                    x = self.schedule.ddim_step(x, t, prev, eps, eta, generator, clip)
                if trajectory is not None:
                    trajectory.append(x.cpu())
        finally:
            self.train(was_training)
        return x

    # --------------------------------------------------------------- bound
    def negative_bound(self, x0, labels, t, eps, weights, variance_type=None):
        """``L_T + sum_strata w L_{t-1} + L_0`` for a block of rows (eq. 5).

        Parameters
        ----------
        x0 : torch.Tensor of shape (n, d)
            Scaled rows.
        labels : torch.Tensor or None
            Class codes (the null label scores the unconditional model).
        t : torch.Tensor of shape (n, m)
            One timestep in 2..T per stratum and row.
        eps : torch.Tensor of shape (n, m + 1, d)
            The noise of each KL term, then of the decoder term.
        weights : array-like of shape (m,)
            Each stratum's size: its term stands for that many.
        variance_type : str, optional

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
        kl = schedule.posterior_kl(rows, xt, steps, self(xt, steps, lab), variance_type)
        ones = torch.ones(n, dtype=torch.long, device=x0.device)
        x1 = schedule.q_sample(x0, ones, eps[:, m])
        decoder = schedule.decoder_nll(x0, x1, self(x1, ones, labels), variance_type)
        return schedule.prior_kl(x0) + kl.view(n, m) @ weights + decoder
