"""NoiseSchedule: the forward process of a diffusion model, with no network.

As diffusers keeps its scheduler apart from its model, this object knows the
betas and what follows from them: noising (``q_sample``), the posterior of
one reverse step (``q_posterior``), the reverse step a noise prediction
implies (``p_mean_variance``, ``p_sample``), a DDIM step (``ddim_step``), a
DPM-Solver++(2M) step on log-SNR spaced timesteps (``dpmpp_2m_step``,
``logsnr_timesteps``), the KL terms of the variational bound, and what a
network predicting x_0 or v instead of the noise needs (``get_velocity``,
``prediction_target``, ``eps_from_prediction``, :func:`min_snr_weight`).
:class:`~probmodels.diffusion.GaussianDiffusion` holds the network and the
schedule.

It is a ``torch.nn.Module`` whose coefficients are buffers, computed once:
``.to(device)`` moves them with the network that holds the schedule, and
they are not saved in its ``state_dict`` (they follow from ``betas``, which
follow from the estimator's parameters). :func:`ddim_timesteps` gives the
timesteps a sampler visits, computed once per number of steps.

Timesteps run t = 1..T as in Ho, Jain and Abbeel, Denoising Diffusion
Probabilistic Models (2020); tensors index them as ``t`` (1-based) into
buffers with a leading 1 for ``abar_0``. Equation numbers refer to that paper
unless they name Song, Meng and Ermon, Denoising Diffusion Implicit Models
(2021), or Nichol and Dhariwal, Improved DDPM (2021). Coefficients are kept in
float64 and cast to the data's dtype when they are broadcast. Every draw takes
a ``torch.Generator``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import nn

from ..nn.distributions import gaussian_kl, gaussian_log_prob

__all__ = [
    "PREDICTION_TYPES",
    "NoiseSchedule",
    "check_n_steps",
    "ddim_timesteps",
    "make_betas",
    "min_snr_weight",
    "resolve_sampler",
]

#: What the network may predict, in diffusers' names: the noise, x_0, or
#: the velocity v (Salimans and Ho, 2022, section 4).
PREDICTION_TYPES = ("epsilon", "sample", "v_prediction")


def min_snr_weight(snr, gamma, prediction_type: str = "epsilon"):
    """Min-SNR-gamma loss weight (Hang et al., ICCV 2023, eqs. 9-11).

    The squared error of each prediction is ``SNR``, ``SNR + 1`` or 1 times
    that of x_0 (eps, v, x_0 predictions); dividing it out and capping the
    x_0 error's weight at gamma gives ``min(SNR, gamma) / SNR``,
    ``min(SNR, gamma) / (SNR + 1)`` and ``min(SNR, gamma)``. ``gamma=None``
    weighs every timestep 1 (the plain loss of each prediction).

    Parameters
    ----------
    snr : torch.Tensor
        ``abar_t / (1 - abar_t)`` per row.
    gamma : float or None
    prediction_type : {"epsilon", "sample", "v_prediction"}

    Returns
    -------
    torch.Tensor, shaped as ``snr``
    """
    if gamma is None:
        return torch.ones_like(snr)
    capped = snr.clamp(max=gamma)
    if prediction_type == "epsilon":
        return capped / snr
    if prediction_type == "v_prediction":
        return capped / (snr + 1)
    return capped


def make_betas(n_timesteps: int, kind: str = "linear") -> torch.Tensor:
    """beta_1..beta_T in float64.

    Parameters
    ----------
    n_timesteps : int
        T.
    kind : {"linear", "cosine"}
        "linear": from 1e-4 to 0.02 as in Ho et al. (2020, section 4), scaled
        by 1000 / T so that other T keep the same total noise (as Nichol and
        Dhariwal's code scales it), capped at 0.999 so that alpha_t stays
        positive for short schedules. "cosine":
        abar_t = f(t) / f(0), f(t) = cos^2(pi/2 (t/T + s) / (1 + s)),
        s = 0.008, betas capped at 0.999 (Nichol and Dhariwal, 2021, eq. 17).

    Returns
    -------
    torch.Tensor of shape (n_timesteps,)
    """
    T = n_timesteps
    if kind == "linear":
        scale = 1000.0 / T
        betas = torch.linspace(scale * 1e-4, scale * 0.02, T, dtype=torch.float64)
        return betas.clamp(max=0.999)
    if kind == "cosine":
        s = 0.008
        steps = torch.arange(T + 1, dtype=torch.float64) / T
        f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
        abar = f / f[0]
        return torch.clamp(1 - abar[1:] / abar[:-1], max=0.999)
    raise ValueError(f"Unknown beta schedule {kind!r}; use 'linear' or 'cosine'.")


def check_n_steps(n_steps, n_timesteps: int):
    """``n_steps`` as an int in 1..T (or None), or a clear error.

    Parameters
    ----------
    n_steps : int or None
        Steps a sampler takes.
    n_timesteps : int
        T: a sampler visits a subset of the trained timesteps.

    Returns
    -------
    int or None
    """
    if n_steps is None:
        return None
    if isinstance(n_steps, (bool, np.bool_)) or not isinstance(
        n_steps, (int, np.integer)
    ):
        raise TypeError(f"n_steps must be None or a positive int; got {n_steps!r}.")
    T = n_timesteps
    if not 1 <= n_steps <= T:
        raise ValueError(
            f"n_steps={n_steps} must be between 1 and n_timesteps={T}: DDIM "
            "visits a subset of the trained timesteps. Use n_steps <= "
            f"{T}, or None for ancestral sampling over all of them."
        )
    return int(n_steps)


@functools.lru_cache(maxsize=64)
def ddim_timesteps(n_timesteps: int, n_steps: int | None, spacing: str) -> tuple:
    """The timesteps a sampler visits, from T down to 0.

    Parameters
    ----------
    n_timesteps : int
        T.
    n_steps : int or None
        None: every step, T, T - 1, ..., 1, 0 (ancestral sampling). k: k
        distinct timesteps ``T (i/k)^2`` ("quadratic") or ``T i/k``
        ("linear") for i = k..1 (Song et al., 2021, appendix D.2), then 0.
    spacing : {"quadratic", "linear"}

    Returns
    -------
    tuple of int
        Descending; computed once per arguments.
    """
    T = n_timesteps
    if n_steps is None:
        return tuple(range(T, -1, -1))
    grid = np.linspace(0.0, 1.0, n_steps + 1)[1:]
    if spacing == "quadratic":
        grid = grid**2  # more steps at small t
    ts = np.maximum.accumulate(np.maximum(1, np.round(grid * T)).astype(int))
    # Distinct timesteps: where rounding collides, move up by one.
    for i in range(1, len(ts)):
        ts[i] = max(ts[i], ts[i - 1] + 1)
    return (*(int(t) for t in ts[::-1]), 0)


def resolve_sampler(sampler: str | None, n_steps: int | None, eta: float | None):
    """The sampler and eta a sampling call uses.

    Parameters
    ----------
    sampler : {"ancestral", "ddim", "dpmpp_2m"} or None
        None: ancestral without ``n_steps``, DDIM with it.
    n_steps : int or None
        Steps asked for; ancestral sampling takes every one.
    eta : float or None
        None: 1 for DPM-Solver++ (its SDE form), 0.5 for DDIM (chosen by
        measurement: ``docs/user_guide/ddpm.rst``), 0 for ancestral
        sampling (which has no eta).

    Returns
    -------
    sampler : str
    eta : float
    """
    if sampler is None:
        sampler = "ancestral" if n_steps is None else "ddim"
    elif sampler not in ("ancestral", "ddim", "dpmpp_2m"):
        raise ValueError(
            f"sampler must be 'ancestral', 'ddim' or 'dpmpp_2m' (or None); got "
            f"{sampler!r}."
        )
    elif sampler == "ancestral" and n_steps is not None:
        raise ValueError(
            "Ancestral sampling visits every timestep; drop n_steps, or use "
            "sampler='ddim' or 'dpmpp_2m' for fewer steps."
        )
    if eta is None:
        eta = {"dpmpp_2m": 1.0, "ddim": 0.5}.get(sampler, 0.0)
    return sampler, eta


class NoiseSchedule(nn.Module):
    """The forward process ``q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I)``.

    Parameters
    ----------
    betas : torch.Tensor of shape (T,)
        beta_1..beta_T, each in (0, 1).
    variance_type : {"fixed_large", "fixed_small"}, default="fixed_large"
        The reverse step's variance sigma_t^2 (Ho et al., 2020, section 3.2)
        when a method is not given another: beta_t, optimal for
        x0 ~ N(0, I) (standardised data come close), or beta_tilde_t, optimal
        for a single point (beta_1 at t = 1, where beta_tilde vanishes).
        diffusers' ``DDPMScheduler`` names them so.

    Attributes
    ----------
    n_timesteps : int
    betas, alphas, alphas_cumprod : torch.Tensor of shape (T + 1,), float64
        Index 0 is the identity step: beta_0 = 0, alpha_0 = abar_0 = 1; so
        ``alphas_cumprod[t]`` is abar_t for t = 0..T.
    posterior_variance : torch.Tensor of shape (T + 1,)
        beta_tilde_t (eq. 7); 0 at t = 1.
    """

    def __init__(self, betas: torch.Tensor, variance_type: str = "fixed_large"):
        super().__init__()
        _check_variance_type(variance_type)
        self.variance_type = variance_type
        betas = torch.as_tensor(betas, dtype=torch.float64)
        self.n_timesteps = len(betas)
        full = torch.cat([betas.new_zeros(1), betas])
        alphas = 1.0 - full  # alpha_t = 1 - beta_t (not beta_t)
        abar = torch.cumprod(alphas, 0)
        # eq. (7): beta_tilde_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t
        tilde = torch.cat(
            [betas.new_zeros(1), (1 - abar[:-1]) / (1 - abar[1:]) * betas]
        )
        # Buffers: they move with the module; not persistent, since they
        # follow from the parameters the module is rebuilt from.
        for name, value in [
            ("betas", full),
            ("alphas", alphas),
            ("alphas_cumprod", abar),
            ("posterior_variance", tilde),
        ]:
            self.register_buffer(name, value, persistent=False)

    @classmethod
    def from_name(
        cls, n_timesteps: int, kind: str = "linear", variance_type: str = "fixed_large"
    ) -> NoiseSchedule:
        """The schedule of :func:`make_betas`."""
        return cls(make_betas(n_timesteps, kind), variance_type)

    @staticmethod
    def _at(buffer, t, x):
        """``buffer[t]`` shaped to broadcast over the rows of ``x``, in x's dtype."""
        values = buffer[t].to(x.dtype)
        return values.reshape(-1, *([1] * (x.dim() - 1)))

    # ----------------------------------------------------------- forward
    def q_sample(self, x0, t, noise):
        """``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps`` (eq. 4)."""
        abar = self._at(self.alphas_cumprod, t, x0)
        return abar.sqrt() * x0 + (1 - abar).sqrt() * noise

    def q_posterior(self, x0, xt, t):
        """Mean and variance of ``q(x_{t-1} | x_t, x0)`` (eqs. 6-7), t >= 1.

        ``mu_tilde = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x0
        + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) x_t``,
        ``beta_tilde = (1 - abar_{t-1}) / (1 - abar_t) beta_t``.
        """
        abar = self._at(self.alphas_cumprod, t, xt)
        abar_prev = self._at(self.alphas_cumprod, t - 1, xt)
        beta, alpha = self._at(self.betas, t, xt), self._at(self.alphas, t, xt)
        mean = (abar_prev.sqrt() * beta / (1 - abar)) * x0 + (
            alpha.sqrt() * (1 - abar_prev) / (1 - abar)
        ) * xt
        return mean, self._at(self.posterior_variance, t, xt).expand_as(xt)

    def predict_x0(self, xt, t, eps):
        """``x0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)``: eq. (4) solved for x0."""
        abar = self._at(self.alphas_cumprod, t, xt)
        return (xt - (1 - abar).sqrt() * eps) / abar.sqrt()

    def snr(self, t):
        """``SNR(t) = abar_t / (1 - abar_t)`` (Kingma et al., 2021, eq. 2), float64."""
        abar = self.alphas_cumprod[t]
        return abar / (1 - abar)

    def get_velocity(self, x0, noise, t):
        """``v = sqrt(abar_t) eps - sqrt(1 - abar_t) x0`` (Salimans and Ho, 2022, section 4).

        The target of v-prediction; diffusers' ``DDPMScheduler.get_velocity``.
        """
        abar = self._at(self.alphas_cumprod, t, x0)
        return abar.sqrt() * noise - (1 - abar).sqrt() * x0

    def prediction_target(self, x0, noise, t, prediction_type):
        """What a network of ``prediction_type`` regresses on: eps, x0 or v."""
        if prediction_type == "epsilon":
            return noise
        if prediction_type == "sample":
            return x0
        return self.get_velocity(x0, noise, t)

    def eps_from_prediction(self, xt, t, output, prediction_type):
        """The noise a prediction implies at x_t, so every sampler reads eps.

        x_0: ``eps = (x_t - sqrt(abar_t) x0) / sqrt(1 - abar_t)`` (eq. 4);
        v: ``eps = sqrt(abar_t) v + sqrt(1 - abar_t) x_t`` (from
        ``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps`` and the definition
        of v). Each is affine in the output, so guidance mixes outputs or
        noises alike.
        """
        if prediction_type == "epsilon":
            return output
        abar = self._at(self.alphas_cumprod, t, xt)
        if prediction_type == "sample":
            return (xt - abar.sqrt() * output) / (1 - abar).sqrt()
        return abar.sqrt() * output + (1 - abar).sqrt() * xt

    # ----------------------------------------------------------- reverse
    def p_mean_variance(self, xt, t, eps, variance_type=None):
        """Mean and variance of ``p_theta(x_{t-1} | x_t)`` given predicted noise.

        ``mu = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t)`` (eq. 11);
        variance sigma_t^2 of ``variance_type`` (the schedule's own when
        None): beta_t, or beta_tilde_t for t >= 2 and beta_1 at t = 1 (where
        beta_tilde vanishes), so that the decoder term of the bound stays
        finite.
        """
        beta, alpha = self._at(self.betas, t, xt), self._at(self.alphas, t, xt)
        abar = self._at(self.alphas_cumprod, t, xt)
        mean = (xt - beta / (1 - abar).sqrt() * eps) / alpha.sqrt()
        variance = beta
        if (variance_type or self.variance_type) == "fixed_small":
            tilde = self._at(self.posterior_variance, t, xt)
            variance = torch.where(tilde > 0, tilde, beta)
        return mean, variance.expand_as(xt)

    def clip_noise(self, xt, t, eps, clip):
        """The noise for which x0_hat lies in the box ``clip = (low, high)``.

        x0_hat from eps (eq. 4) is clipped, then eps recomputed from it: the
        reverse mean of eq. (11) with this eps is then the posterior mean of
        eq. (7) at the clipped x0_hat, as diffusers' ``clip_sample`` and
        lucidrains' ``clip_denoised`` compute it. ``clip=None`` returns eps.
        """
        if clip is None:
            return eps
        abar = self._at(self.alphas_cumprod, t, xt)
        x0 = torch.maximum(torch.minimum(self.predict_x0(xt, t, eps), clip[1]), clip[0])
        return (xt - abar.sqrt() * x0) / (1 - abar).sqrt()

    def p_sample(self, xt, t, eps, generator, clip=None, variance_type=None):
        """One ancestral step x_t -> x_{t-1} (Algorithm 2, line 4); no noise at t = 1."""
        eps = self.clip_noise(xt, t, eps, clip)
        mean, variance = self.p_mean_variance(xt, t, eps, variance_type)
        noise = torch.randn(
            xt.shape, generator=generator, device=xt.device, dtype=xt.dtype
        )
        last = (torch.as_tensor(t, device=xt.device) == 1).reshape(
            -1, *([1] * (xt.dim() - 1))
        )
        return mean + torch.where(last, 0.0, variance.sqrt() * noise)

    def ddim_step(self, xt, t, t_prev, eps, eta, generator, clip=None):
        """One DDIM step from t to an earlier t_prev (Song et al., 2021, eq. 12).

        ``x_{t'} = sqrt(abar_{t'}) x0_hat + sqrt(1 - abar_{t'} - sigma^2) eps
        + sigma z`` with ``sigma = eta sqrt((1 - abar_{t'}) / (1 - abar_t))
        sqrt(1 - abar_t / abar_{t'})`` (eq. 16); eta = 0 is deterministic,
        eta = 1 with t' = t - 1 is the ancestral step with variance
        beta_tilde. ``t_prev = 0`` ends at x0. ``clip = (low, high)`` clips
        x0_hat into that box, with eps recomputed from it (diffusers'
        ``clip_sample``).
        """
        abar = self._at(self.alphas_cumprod, t, xt)
        abar_prev = self._at(self.alphas_cumprod, t_prev, xt)
        eps = self.clip_noise(xt, t, eps, clip)
        x0 = self.predict_x0(xt, t, eps)
        sigma = eta * ((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)).sqrt()
        direction = (1 - abar_prev - sigma**2).clamp(min=0).sqrt() * eps
        noise = torch.randn(
            xt.shape, generator=generator, device=xt.device, dtype=xt.dtype
        )
        return abar_prev.sqrt() * x0 + direction + sigma * noise

    def logsnr_timesteps(self, n_steps: int) -> tuple:
        """``n_steps`` timesteps evenly spaced in log-SNR, from T down, then 0.

        ``lambda_t = log(sqrt(abar_t) / sqrt(1 - abar_t))`` runs from
        ``lambda_T`` to ``lambda_1`` in equal steps, each mapped to the
        nearest trained timestep (distinct, descending): the "uniform
        logSNR" spacing of Lu et al. (2022), DPM-Solver, section 3.3, which
        DPM-Solver++ keeps for its multistep solver.

        Parameters
        ----------
        n_steps : int
            Network evaluations, 1..T.

        Returns
        -------
        tuple of int
        """
        abar = self.alphas_cumprod[1:].double().cpu().numpy()
        lam = 0.5 * (np.log(abar) - np.log1p(-abar))  # decreasing in t
        targets = np.linspace(lam[-1], lam[0], n_steps)
        # lam is decreasing: search the reversed (increasing) array.
        rev = lam[::-1]
        pos = np.clip(np.searchsorted(rev, targets), 1, len(rev) - 1)
        nearer = np.where(targets - rev[pos - 1] < rev[pos] - targets, pos - 1, pos)
        ts = len(lam) - nearer  # back to t = 1..T, descending
        for i in range(1, len(ts)):  # distinct: where rounding collides, step down
            ts[i] = min(ts[i], ts[i - 1] - 1)
        low = np.arange(len(ts))[::-1] + 1  # leave room for the steps after
        return (*(int(t) for t in np.maximum(ts, low)), 0)

    def dpmpp_2m_step(self, xt, t, t_prev, x0, previous=None, eta=0.0, generator=None):
        """One DPM-Solver++(2M) step from t to an earlier t_prev (Lu et al., 2022, Alg. 2).

        With ``lambda = log(alpha / sigma)`` (``alpha = sqrt(abar)``,
        ``sigma = sqrt(1 - abar)``) and ``h = lambda_{t'} - lambda_t``:
        ``x_{t'} = sigma_{t'} / sigma_t x_t - alpha_{t'} (e^{-h} - 1) D``,
        where D is the data prediction ``x0`` on the first step and, after
        it, ``(1 + 1/(2r)) x0 - 1/(2r) x0_prev`` with ``r = h_prev / h`` (the
        second-order multistep correction). Into ``t' = 0`` (sigma = 0) the
        step is first order and returns ``x0``, as the authors' code does
        for its final step.

        ``eta > 0`` takes the stochastic (SDE) form of the same solver
        (Lu et al., 2022, section 4 and appendix; Karras et al.'s k-diffusion
        ``sample_dpmpp_2m_sde``): ``x_{t'} = sigma_{t'} / sigma_t e^{-eta h}
        x_t - alpha_{t'} (e^{-(1 + eta) h} - 1) D + sigma_{t'} sqrt(1 -
        e^{-2 eta h}) z``; eta = 1 is the SDE solver, 0 the ODE one.

        Parameters
        ----------
        xt : torch.Tensor
        t, t_prev : torch.Tensor of long
            Current and next timestep of every row.
        x0 : torch.Tensor
            The data prediction at (xt, t).
        previous : (torch.Tensor, torch.Tensor) or None
            ``(x0_prev, h_prev)`` returned by the step before.
        eta : float, default=0.0
            Share of the noise the SDE form re-injects.
        generator : torch.Generator, optional
            For the noise, when ``eta > 0``.

        Returns
        -------
        x : torch.Tensor
            x at t_prev.
        previous : (torch.Tensor, torch.Tensor)
            What the next step needs.
        """
        abar = self._at(self.alphas_cumprod, t, xt)
        abar_prev = self._at(self.alphas_cumprod, t_prev, xt)
        if bool((abar_prev == 1).all()):
            return x0, None
        lam = 0.5 * (abar.log() - (-abar).log1p())
        lam_prev = 0.5 * (abar_prev.log() - (-abar_prev).log1p())
        h = lam_prev - lam
        d = x0
        if previous is not None:
            x0_prev, h_prev = previous
            half_inv_r = 0.5 * h / h_prev  # 1 / (2r)
            d = (1 + half_inv_r) * x0 - half_inv_r * x0_prev
        ratio = ((1 - abar_prev) / (1 - abar)).sqrt()
        if not eta:
            x = ratio * xt - abar_prev.sqrt() * torch.expm1(-h) * d
            return x, (x0, h)
        x = (
            ratio * torch.exp(-eta * h) * xt
            - abar_prev.sqrt() * torch.expm1(-(1 + eta) * h) * d
        )
        noise = torch.randn(
            xt.shape, generator=generator, device=xt.device, dtype=xt.dtype
        )
        x = x + (1 - abar_prev).sqrt() * (-torch.expm1(-2 * eta * h)).sqrt() * noise
        return x, (x0, h)

    # ----------------------------------------------------- the bound (eq. 5)
    # ``mask`` (1 where observed) keeps the terms of observed coordinates
    # only: the bound's terms of a row with missing entries.
    def prior_kl(self, x0, mask=None):
        """``L_T = KL(q(x_T | x0) || N(0, I))`` per row."""
        T = torch.full((len(x0),), self.n_timesteps, device=x0.device)
        abar = self._at(self.alphas_cumprod, T, x0)
        mean, logvar = abar.sqrt() * x0, torch.log(1 - abar).expand_as(x0)
        return gaussian_kl(mean.flatten(1), logvar.flatten(1), mask=mask)

    def posterior_kl(self, x0, xt, t, eps, variance_type=None, mask=None):
        """``L_{t-1} = KL(q(x_{t-1} | x_t, x0) || p_theta(x_{t-1} | x_t))`` per row, t >= 2."""
        q_mean, q_var = self.q_posterior(x0, xt, t)
        p_mean, p_var = self.p_mean_variance(xt, t, eps, variance_type)
        return gaussian_kl(
            q_mean.flatten(1),
            q_var.log().flatten(1),
            p_mean.flatten(1),
            p_var.log().flatten(1),
            mask=mask,
        )

    def decoder_nll(self, x0, x1, eps, variance_type=None, mask=None):
        """``L_0 = -log p_theta(x0 | x1)``: a Gaussian density at t = 1, per row."""
        t = torch.ones(len(x0), dtype=torch.long, device=x0.device)
        mean, variance = self.p_mean_variance(x1, t, eps, variance_type)
        return -gaussian_log_prob(
            x0.flatten(1), mean.flatten(1), variance.log().flatten(1), mask
        )

    def q_step(self, x_prev, t, noise):
        """``x_t ~ q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t I)`` (eq. 2).

        One step forward: RePaint's resampling re-noises x_{t-1} with it.
        """
        alpha = self._at(self.alphas, t, x_prev)
        return alpha.sqrt() * x_prev + (1 - alpha).sqrt() * noise


def _check_variance_type(variance_type: str) -> None:
    if variance_type not in ("fixed_large", "fixed_small"):
        raise ValueError(
            f"Unknown variance_type {variance_type!r}; use 'fixed_large' or "
            "'fixed_small'."
        )
