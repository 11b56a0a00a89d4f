"""Denoising diffusion: the DDPM estimator and its network.

:class:`DDPM` is the estimator. Its network, :class:`GaussianDiffusion`
(``diffusion/_diffusion.py``: the denoiser, the noise schedule's
coefficients as buffers, the loss, the samplers and the bound), and the
schedule, :class:`~probmodels.diffusion.schedule.NoiseSchedule`, import
torch: they load when first named, not with ``import probmodels``.
"""

from ._ddpm import DDPM

__all__ = ["DDPM", "GaussianDiffusion"]


def __getattr__(name):
    # torch loads with the network, not with the package.
    if name == "GaussianDiffusion":
        from ._diffusion import GaussianDiffusion

        return GaussianDiffusion
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
