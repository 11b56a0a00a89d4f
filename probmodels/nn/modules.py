"""Plain torch modules the neural estimators are built from.

Imported only when a neural estimator builds its network, never by
``import probmodels``.

- :func:`make_norm`: normalisation layers for feature vectors, BN (Ioffe and
  Szegedy, 2015), LN (Ba et al., 2016) and GN (Wu and He, 2018), through
  torch's own implementations.
- :class:`MLP`: a feed-forward network, linear transform then activation per
  layer (``docs/user_guide/classifiers.rst`` works one through by hand);
  :class:`MLPClassifierNetwork` adds its training loss.
- :class:`ClassificationLoss`: the cross-entropy of a logits network, as the
  network's ``loss(batch, generator)``, which the training engine minimises.
- :class:`MultiHeadAttention`: ``softmax(Q K^T / sqrt(d_k)) V`` through
  ``scaled_dot_product_attention``, self or cross, with an optional causal mask.
- :class:`EncoderBlock`, :class:`FeatureTokenizer`,
  :class:`SequenceTokenizer`, :class:`TransformerEncoder`: an encoder-only
  classifier backbone.
- :func:`quantile_bin_edges`, :func:`piecewise_linear_encoding`,
  :class:`PiecewiseLinearTokenizer`: numeric features embedded through
  piecewise-linear encoding on quantile bins (Gorishniy et al., 2022).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "ClassificationLoss",
    "MLPClassifierNetwork",
    "EncoderBlock",
    "FeatureTokenizer",
    "MultiHeadAttention",
    "PiecewiseLinearTokenizer",
    "SequenceTokenizer",
    "TransformerEncoder",
    "make_norm",
    "piecewise_linear_encoding",
    "quantile_bin_edges",
    "sinusoidal_positions",
]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}


def make_norm(kind: str | None, num_features: int, n_groups: int = 1) -> nn.Module:
    """Normalisation layer for (batch, features) activations.

    Every kind computes ``(x - mean) / sqrt(var + eps)`` then the learnable
    ``gamma * x_hat + beta`` per feature; they differ in what the statistics
    run over (Ioffe and Szegedy, 2015; Ba et al., 2016; Wu and He, 2018):

    - ``"batch"``: each feature over the batch; running averages are used at
      prediction time (``eval()``);
    - ``"layer"``: each sample over its features;
    - ``"group"``: each sample over each group of ``num_features / n_groups``
      consecutive features;
    - ``None``: no normalisation.

    Parameters
    ----------
    kind : {"batch", "layer", "group"} or None
    num_features : int
    n_groups : int, default=1
        For ``"group"``; must divide ``num_features``.

    Returns
    -------
    torch.nn.Module
    """
    if kind is None:
        return nn.Identity()
    if kind == "batch":
        return nn.BatchNorm1d(num_features)
    if kind == "layer":
        return nn.LayerNorm(num_features)
    if kind == "group":
        if num_features % n_groups:
            raise ValueError(
                f"normalization='group' splits each layer's {num_features} units "
                f"into n_groups={n_groups} groups, which must divide it. Choose "
                "n_groups dividing every hidden layer size."
            )
        return nn.GroupNorm(n_groups, num_features)
    raise ValueError(
        f"Unknown normalization {kind!r}; use None, 'batch', 'layer' or 'group'."
    )


class MLP(nn.Module):
    """Feed-forward network: per hidden layer Linear -> norm -> activation -> dropout.

    Parameters
    ----------
    n_in : int
    hidden : sequence of int
        Hidden layer sizes.
    n_out : int
    activation : str, default="relu"
        A key of :data:`ACTIVATIONS`.
    normalization : {"batch", "layer", "group"} or None, default=None
    n_groups : int, default=1
    dropout : float, default=0.0
    """

    def __init__(
        self,
        n_in,
        hidden,
        n_out,
        activation="relu",
        normalization=None,
        n_groups=1,
        dropout=0.0,
    ):
        super().__init__()
        layers, width = [], n_in
        for size in hidden:
            layers += [
                nn.Linear(width, size),
                make_norm(normalization, size, n_groups),
                ACTIVATIONS[activation](),
            ]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_out))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        """Logits (or outputs) for a batch of rows."""
        return self.net(x)


class ClassificationLoss:
    """The loss of a network whose forward gives one logit per class.

    Mixed into a classifier's network, it makes the cross-entropy of the
    softmax the network's own loss, so the training engine needs no more.
    """

    def loss(self, batch, generator=None):
        """Mean cross-entropy of the batch's labels ``batch.y`` (class codes).

        Parameters
        ----------
        batch : probmodels.engine.Batch
        generator : torch.Generator, optional
            Unused: the loss draws nothing (dropout draws from torch's
            generator, which the engine seeds).

        Returns
        -------
        torch.Tensor
            0-d.
        """
        return F.cross_entropy(self(batch.x), batch.y)


class MLPClassifierNetwork(ClassificationLoss, MLP):
    """:class:`MLP` whose outputs are class logits, with their loss."""


class MultiHeadAttention(nn.Module):
    """Multi-head attention ``softmax(Q K^T / sqrt(d_k)) V``.

    Vaswani et al. (2017), section 3.2.2.

    Queries come from ``x``; keys and values from ``context`` (cross
    attention) or from ``x`` itself (self attention). With ``causal=True``
    scores above the diagonal are -inf before the softmax, so position t
    attends only to positions <= t.

    Parameters
    ----------
    d_model : int
    n_heads : int
        Must divide ``d_model``; each head has ``d_k = d_model / n_heads``.
    dropout : float, default=0.0
        On the attention weights, while training.
    """

    def __init__(self, d_model, n_heads, dropout=0.0):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(
                f"d_model={d_model} must be a multiple of n_heads={n_heads}."
            )
        self.n_heads, self.dropout = n_heads, dropout
        self.q = nn.Linear(d_model, d_model)
        self.kv = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def _heads(self, t):
        b, n, d = t.shape
        return t.view(b, n, self.n_heads, d // self.n_heads).transpose(1, 2)

    def forward(self, x, context=None, causal=False):
        """Attend from ``x`` (B, T, d) to ``context`` (B, S, d) or to ``x``."""
        source = x if context is None else context
        q = self._heads(self.q(x))
        k, v = (self._heads(t) for t in self.kv(source).chunk(2, dim=-1))
        z = F.scaled_dot_product_attention(
            q,
            k,
            v,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=causal,
        )
        b, h, n, dk = z.shape
        return self.out(z.transpose(1, 2).reshape(b, n, h * dk))


class EncoderBlock(nn.Module):
    """Pre-norm encoder block: ``x + Attn(LN(x))``, then ``x + FFN(LN(x))``.

    Parameters
    ----------
    d_model, n_heads, dim_feedforward : int
    dropout : float
    """

    def __init__(self, d_model, n_heads, dim_feedforward, dropout):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, dim_feedforward),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(dim_feedforward, d_model),
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x, causal=False):
        """Transform a batch of token sequences (B, T, d)."""
        x = x + self.drop(self.attn(self.norm1(x), causal=causal))
        return x + self.drop(self.ffn(self.norm2(x)))


class FeatureTokenizer(nn.Module):
    """Each feature of a row becomes a token: value x embedding_j + bias_j.

    Parameters
    ----------
    n_features, d_model : int
    """

    def __init__(self, n_features, d_model):
        super().__init__()
        self.weight = nn.Parameter(
            torch.randn(n_features, d_model) / math.sqrt(d_model)
        )
        self.bias = nn.Parameter(torch.zeros(n_features, d_model))

    def forward(self, x):
        """(B, n_features) -> (B, n_features, d_model)."""
        return x[..., None] * self.weight + self.bias


def quantile_bin_edges(X, n_bins: int):
    """Each feature's bin edges at its training quantiles (Gorishniy et al., 2022).

    The edges are the quantiles at ``0, 1/n_bins, ..., 1`` with repeats
    dropped, so a feature with few distinct values gets fewer bins; the rest
    of its row is padding (edges one apart past the last, never read). A
    constant feature gets one bin of width 1 from its value.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_bins : int

    Returns
    -------
    edges : ndarray of shape (n_features, n_bins + 1)
    counts : ndarray of shape (n_features,)
        Bins each feature uses (1 to ``n_bins``).
    """
    import numpy as np

    X = np.asarray(X, dtype=np.float64)
    levels = np.linspace(0.0, 1.0, n_bins + 1)
    edges = np.empty((X.shape[1], n_bins + 1))
    counts = np.empty(X.shape[1], dtype=np.int64)
    for j, column in enumerate(X.T):
        own = np.unique(np.quantile(column, levels))
        if len(own) == 1:
            own = np.array([own[0], own[0] + 1.0])
        counts[j] = len(own) - 1
        padding = own[-1] + np.arange(1, n_bins + 2 - len(own))
        edges[j] = np.concatenate([own, padding])
    return edges, counts


def piecewise_linear_encoding(x, edges, counts):
    """PLE of Gorishniy et al. (2022, eq. 1): one number per bin of a feature.

    For bin ``t`` of ``[b_{t-1}, b_t)``: 0 below it, 1 above it, and
    ``(x - b_{t-1}) / (b_t - b_{t-1})`` inside; the first bin extends below
    the training range and the last above it (no clipping there), so values
    outside the fitted range stay distinct. Padding bins read 0.

    Parameters
    ----------
    x : torch.Tensor of shape (..., n_features)
    edges : torch.Tensor of shape (n_features, n_bins + 1)
    counts : torch.Tensor of shape (n_features,)
        Bins each feature uses.

    Returns
    -------
    torch.Tensor of shape (..., n_features, n_bins)
    """
    low, width = edges[:, :-1], edges[:, 1:] - edges[:, :-1]
    position = (x[..., None] - low) / width
    t = torch.arange(low.shape[1], device=x.device)
    last = (counts - 1)[:, None]
    inf = torch.tensor(float("inf"), dtype=position.dtype, device=x.device)
    lower = torch.where(t == 0, -inf, torch.zeros_like(inf))
    upper = torch.where(t == last, inf, torch.ones_like(inf))
    encoded = torch.maximum(torch.minimum(position, upper), lower)
    return torch.where(t < counts[:, None], encoded, torch.zeros_like(encoded))


class PiecewiseLinearTokenizer(nn.Module):
    """Each feature a token from its piecewise-linear encoding (Q-L).

    The encoding of :func:`piecewise_linear_encoding` on quantile bins,
    then a linear map per feature to ``d_model`` (Gorishniy et al., 2022,
    section 3.2). Bins at the training quantiles make the tokens invariant
    to any increasing transform of a feature fixed at fit time, a
    ``StandardScaler`` or a ``MinMaxScaler`` alike.

    Parameters
    ----------
    edges : ndarray of shape (n_features, n_bins + 1)
    counts : ndarray of shape (n_features,)
        From :func:`quantile_bin_edges`; kept as buffers, so they travel
        with the weights.
    d_model : int
    """

    def __init__(self, edges, counts, d_model):
        super().__init__()
        n_features, n_bins = edges.shape[0], edges.shape[1] - 1
        # torch.tensor copies: as_tensor would share the memory of the
        # arrays, which may be read-only (a memory-mapped model file), and
        # load_state_dict writes into the buffers.
        self.register_buffer("edges", torch.tensor(edges, dtype=torch.float32))
        self.register_buffer("counts", torch.tensor(counts, dtype=torch.long))
        bound = 1.0 / math.sqrt(n_bins)  # nn.Linear's default for n_bins inputs
        self.weight = nn.Parameter(
            torch.empty(n_features, n_bins, d_model).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.zeros(n_features, d_model))

    def forward(self, x):
        """(B, n_features) -> (B, n_features, d_model)."""
        encoded = piecewise_linear_encoding(x, self.edges, self.counts)
        return torch.einsum("bft,ftd->bfd", encoded, self.weight) + self.bias


def sinusoidal_positions(length: int, d_model: int, device=None) -> torch.Tensor:
    """Sinusoidal position encodings of Vaswani et al., shape (length, d_model).

    Parameters
    ----------
    length, d_model : int
    device : torch.device, optional

    Returns
    -------
    torch.Tensor
    """
    position = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(
        torch.arange(0, d_model, 2, device=device, dtype=torch.float32)
        * (-math.log(10000.0) / d_model)
    )
    pe = torch.zeros(length, d_model, device=device)
    pe[:, 0::2] = torch.sin(position * freq)
    pe[:, 1::2] = torch.cos(position * freq[: d_model // 2])
    return pe


class SequenceTokenizer(nn.Module):
    """One token per step of a sequence: a linear map plus its position code.

    Parameters
    ----------
    n_features, d_model : int
    """

    def __init__(self, n_features, d_model):
        super().__init__()
        self.proj = nn.Linear(n_features, d_model)

    def forward(self, x):
        """(B, T, n_features) -> (B, T, d_model)."""
        tokens = self.proj(x)
        return tokens + sinusoidal_positions(x.shape[1], tokens.shape[-1], x.device)


class TransformerEncoder(ClassificationLoss, nn.Module):
    """Encoder-only classifier: tokens, a CLS token, blocks, pooling, head.

    The CLS token is appended after the data tokens, so under a causal mask
    it still sees every step.

    Parameters
    ----------
    tokenizer : torch.nn.Module
        Maps a batch to tokens (B, T, d_model).
    d_model, n_heads, n_layers, dim_feedforward, n_out : int
    dropout : float
    pooling : {"cls", "mean"}
    causal : bool
    """

    def __init__(
        self,
        tokenizer,
        d_model,
        n_heads,
        n_layers,
        dim_feedforward,
        n_out,
        dropout=0.1,
        pooling="cls",
        causal=False,
    ):
        super().__init__()
        self.tokenizer, self.pooling, self.causal = tokenizer, pooling, causal
        self.cls = nn.Parameter(torch.zeros(1, 1, d_model))
        self.blocks = nn.ModuleList(
            EncoderBlock(d_model, n_heads, dim_feedforward, dropout)
            for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_out)

    def forward(self, x):
        """Logits for a batch."""
        tokens = self.tokenizer(x)
        tokens = torch.cat([tokens, self.cls.expand(len(tokens), -1, -1)], dim=1)
        for block in self.blocks:
            tokens = block(tokens, causal=self.causal)
        tokens = self.norm(tokens)
        pooled = tokens[:, -1] if self.pooling == "cls" else tokens[:, :-1].mean(dim=1)
        return self.head(pooled)
