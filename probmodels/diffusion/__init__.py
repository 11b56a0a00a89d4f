"""Denoising diffusion: the noise schedule and the DDPM estimator."""
