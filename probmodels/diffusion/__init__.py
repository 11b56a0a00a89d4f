"""Denoising diffusion: the DDPM estimator.

The noise schedule, :class:`~probmodels.diffusion.schedule.NoiseSchedule`,
imports torch and lives in :mod:`probmodels.diffusion.schedule`.
"""

from ._ddpm import DDPM

__all__ = ["DDPM"]
