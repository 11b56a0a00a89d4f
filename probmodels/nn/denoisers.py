"""Noise-prediction networks eps_theta(x_t, t, y) for diffusion models.

Both take flattened rows and return a tensor of the same shape:

- :class:`ResidualMLP` for tabular rows: pre-norm residual blocks, each given
  the time (and class) embedding;
- :class:`UNet` for images of ``image_shape = (C, H, W)``: a small UNet
  (Ronneberger et al., 2015; the DDPM variant of Ho et al., 2020, appendix B)
  with GroupNorm, one downsampling and one upsampling stage (nearest
  interpolation or a transposed convolution), a skip connection, and time and
  class embeddings added in every residual block.

Timesteps enter through the sinusoidal embedding of Vaswani et al. (2017), as
in Ho et al. (2020). A class label ``y`` in 0..n_classes-1 is embedded; the
index ``n_classes`` is the null label of classifier-free guidance (Ho and
Salimans, 2022).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ResidualMLP", "UNet", "timestep_embedding"]


def timestep_embedding(t, dim: int, max_period: float = 10000.0):
    """Sinusoidal embedding of (float) timesteps, shape (len(t), dim).

    Parameters
    ----------
    t : torch.Tensor of shape (n,)
    dim : int
        Even.
    max_period : float, default=10000.0

    Returns
    -------
    torch.Tensor
    """
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period)
        * torch.arange(half, device=t.device, dtype=torch.float32)
        / half
    )
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class _Conditioning(nn.Module):
    """Time embedding MLP plus an optional class embedding (with a null class)."""

    def __init__(self, dim, n_classes):
        super().__init__()
        self.dim = dim
        self.time = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.label = nn.Embedding(n_classes + 1, dim) if n_classes else None

    def forward(self, t, y):
        dtype = self.time[0].weight.dtype  # float64 when a copy scores in double
        emb = self.time(timestep_embedding(t, self.dim).to(dtype))
        if self.label is not None and y is not None:
            emb = emb + self.label(y)
        return emb


class ResidualMLP(nn.Module):
    """eps_theta for rows: ``h <- h + W2 SiLU(W1 LN(h) + E(t, y))`` per block.

    Parameters
    ----------
    n_features : int
    hidden : sequence of int
        One residual block per entry, of that inner width; the residual stream
        has the width of the first.
    n_classes : int, default=0
    """

    def __init__(self, n_features, hidden=(256, 256, 256), n_classes=0):
        super().__init__()
        width = hidden[0]
        self.inp = nn.Linear(n_features, width)
        self.cond = _Conditioning(width, n_classes)
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in hidden)
        self.ins = nn.ModuleList(nn.Linear(width, size) for size in hidden)
        self.embs = nn.ModuleList(nn.Linear(width, size) for size in hidden)
        self.outs = nn.ModuleList(nn.Linear(size, width) for size in hidden)
        self.out = nn.Sequential(
            nn.LayerNorm(width), nn.SiLU(), nn.Linear(width, n_features)
        )

    def forward(self, x, t, y=None):
        """Predicted noise for rows ``x`` at timesteps ``t`` (labels ``y``)."""
        emb = F.silu(self.cond(t, y))
        h = self.inp(x)
        for norm, lin_in, lin_emb, lin_out in zip(
            self.norms, self.ins, self.embs, self.outs, strict=True
        ):
            h = h + lin_out(F.silu(lin_in(norm(h)) + lin_emb(emb)))
        return self.out(h)


def _groups(channels):
    return math.gcd(8, channels)


class _ResBlock(nn.Module):
    def __init__(self, c_in, c_out, emb_dim):
        super().__init__()
        self.norm1, self.conv1 = (
            nn.GroupNorm(_groups(c_in), c_in),
            nn.Conv2d(c_in, c_out, 3, padding=1),
        )
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = (
            nn.GroupNorm(_groups(c_out), c_out),
            nn.Conv2d(c_out, c_out, 3, padding=1),
        )
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class UNet(nn.Module):
    """eps_theta for images given as flattened rows.

    Parameters
    ----------
    image_shape : tuple of int
        (C, H, W); rows have C * H * W values.
    channels : int, default=32
        Channels of the first stage; the second has twice as many.
    n_classes : int, default=0
    upsample : {"nearest", "transposed"}, default="nearest"
        Nearest-neighbour interpolation then a convolution, or a transposed
        convolution (kernel 4, stride 2: each input pixel scatters a learned
        4 x 4 kernel into the output).
    """

    def __init__(self, image_shape, channels=32, n_classes=0, upsample="nearest"):
        super().__init__()
        c, ch = image_shape[0], channels
        self.image_shape = tuple(image_shape)
        emb = 4 * ch
        self.cond = _Conditioning(emb, n_classes)
        self.inp = nn.Conv2d(c, ch, 3, padding=1)
        self.down1 = _ResBlock(ch, ch, emb)
        self.down = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        self.down2 = _ResBlock(ch, 2 * ch, emb)
        self.mid = _ResBlock(2 * ch, 2 * ch, emb)
        self.upsample = upsample
        if upsample == "transposed":
            self.up = nn.ConvTranspose2d(2 * ch, 2 * ch, 4, stride=2, padding=1)
        else:
            self.up = nn.Conv2d(2 * ch, 2 * ch, 3, padding=1)
        self.up1 = _ResBlock(3 * ch, ch, emb)
        self.out = nn.Sequential(
            nn.GroupNorm(_groups(ch), ch), nn.SiLU(), nn.Conv2d(ch, c, 3, padding=1)
        )

    def forward(self, x, t, y=None):
        """Predicted noise for flattened images ``x`` at timesteps ``t``."""
        n = x.shape[0]
        emb = F.silu(self.cond(t, y))
        h0 = self.down1(self.inp(x.reshape(n, *self.image_shape)), emb)
        h = self.mid(self.down2(self.down(h0), emb), emb)
        if self.upsample == "transposed":
            h = self.up(h)[..., : h0.shape[-2], : h0.shape[-1]]
        else:
            h = self.up(F.interpolate(h, size=h0.shape[-2:], mode="nearest"))
        h = self.up1(torch.cat([h, h0], dim=1), emb)
        return self.out(h).reshape(n, -1)
