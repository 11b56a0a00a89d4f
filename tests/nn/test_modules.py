"""Network building blocks against their formulas, computed by hand.

The worked two-layer example is the one of ``docs/user_guide/classifiers.rst``.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from probmodels.nn.modules import (
    MLP,
    FeatureTokenizer,
    MultiHeadAttention,
    TransformerEncoder,
    make_norm,
    sinusoidal_positions,
)


def test_worked_example_forward_backward_and_sgd_step():
    """Two-layer network, one sample, MSE loss 1/2 (y_hat - y)^2."""
    net = MLP(2, [2], 1, activation="relu")
    first, second = net.net[0], net.net[3]
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[0.5, -0.5], [0.3, 0.8]]))
        first.bias.copy_(torch.tensor([0.1, -0.2]))
        second.weight.copy_(torch.tensor([[0.2, -0.4]]))
        second.bias.copy_(torch.tensor([0.5]))
    x, y = torch.tensor([[1.0, 2.0]]), 1.0
    z1 = first(x)
    # z1[0] = 0.5 - 1.0 + 0.1 = -0.4, which ReLU zeroes.
    np.testing.assert_allclose(z1.detach().numpy(), [[-0.4, 1.7]], atol=1e-6)
    y_hat = net(x)
    loss = 0.5 * (y_hat - y) ** 2
    assert float(y_hat.detach()) == pytest.approx(-0.18, abs=1e-6)
    assert float(loss.detach()) == pytest.approx(0.6962, abs=1e-6)
    loss.backward()
    np.testing.assert_allclose(second.weight.grad.numpy(), [[0.0, -2.006]], atol=1e-5)
    np.testing.assert_allclose(second.bias.grad.numpy(), [-1.18], atol=1e-6)
    np.testing.assert_allclose(
        first.weight.grad.numpy(), [[0, 0], [0.472, 0.944]], atol=1e-5
    )
    np.testing.assert_allclose(first.bias.grad.numpy(), [0.0, 0.472], atol=1e-5)
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    alpha = 0.1
    torch.optim.SGD(net.parameters(), lr=alpha).step()
    for name, p in net.named_parameters():
        torch.testing.assert_close(p.detach(), before[name] - alpha * p.grad)


def normalize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(
        axis=axes, keepdims=True
    )  # biased, as in Ioffe and Szegedy (2015), Algorithm 1
    return (x - mean) / np.sqrt(var + eps)


@pytest.fixture
def batch():
    return (
        np.random.default_rng(0)
        .normal(loc=2.0, scale=3.0, size=(6, 8))
        .astype(np.float32)
    )


def with_affine(layer, width):
    gamma = np.linspace(0.5, 2.0, width, dtype=np.float32)
    beta = np.linspace(-1.0, 1.0, width, dtype=np.float32)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(gamma))
        layer.bias.copy_(torch.from_numpy(beta))
    return gamma, beta


def test_batch_norm_uses_batch_statistics_then_running_ones(batch):
    layer = make_norm("batch", 8)
    gamma, beta = with_affine(layer, 8)
    out = layer(torch.from_numpy(batch)).detach().numpy()
    np.testing.assert_allclose(
        out, gamma * normalize(batch, 0, 1e-5) + beta, rtol=1e-4, atol=1e-5
    )
    layer.eval()  # prediction: running averages (momentum 0.1 from 0 and 1)
    mean = 0.1 * batch.mean(axis=0)
    var = 0.9 + 0.1 * batch.var(axis=0, ddof=1)
    expected = gamma * (batch - mean) / np.sqrt(var + 1e-5) + beta
    np.testing.assert_allclose(
        layer(torch.from_numpy(batch)).detach().numpy(), expected, rtol=1e-4, atol=1e-5
    )


def test_layer_norm_normalises_each_sample_over_its_features(batch):
    layer = make_norm("layer", 8)
    gamma, beta = with_affine(layer, 8)
    out = layer(torch.from_numpy(batch)).detach().numpy()
    np.testing.assert_allclose(
        out, gamma * normalize(batch, 1, 1e-5) + beta, rtol=1e-4, atol=1e-5
    )


def test_group_norm_normalises_groups_of_features(batch):
    layer = make_norm("group", 8, n_groups=2)
    gamma, beta = with_affine(layer, 8)
    grouped = normalize(batch.reshape(6, 2, 4), 2, 1e-5).reshape(6, 8)
    out = layer(torch.from_numpy(batch)).detach().numpy()
    np.testing.assert_allclose(out, gamma * grouped + beta, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="n_groups=3.*must divide"):
        make_norm("group", 8, n_groups=3)


def numpy_attention(q, k, v, causal=False):
    scores = q @ k.T / np.sqrt(q.shape[-1])
    if causal:
        scores = np.where(
            np.triu(np.ones_like(scores, dtype=bool), k=1), -np.inf, scores
        )
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n_heads", [1, 2])
def test_attention_matches_the_vaswani_formula(causal, n_heads):
    torch.manual_seed(0)
    d, T = 4, 5
    attn = MultiHeadAttention(d, n_heads)
    with torch.no_grad():  # output projection = identity, to see Z itself
        attn.out.weight.copy_(torch.eye(d))
        attn.out.bias.zero_()
    x = torch.randn(1, T, d)
    z = attn(x, causal=causal)[0].detach().numpy()
    X = x[0].numpy()
    Wq, bq = attn.q.weight.detach().numpy(), attn.q.bias.detach().numpy()
    Wkv, bkv = attn.kv.weight.detach().numpy(), attn.kv.bias.detach().numpy()
    Q = X @ Wq.T + bq
    K = X @ Wkv[:d].T + bkv[:d]
    V = X @ Wkv[d:].T + bkv[d:]
    dk = d // n_heads
    expected = np.concatenate(
        [
            numpy_attention(
                Q[:, h * dk : (h + 1) * dk],
                K[:, h * dk : (h + 1) * dk],
                V[:, h * dk : (h + 1) * dk],
                causal,
            )
            for h in range(n_heads)
        ],
        axis=1,
    )
    np.testing.assert_allclose(z, expected, rtol=1e-5, atol=1e-6)


def test_cross_attention_takes_keys_and_values_from_the_context():
    torch.manual_seed(1)
    attn = MultiHeadAttention(4, 1)
    x, context = torch.randn(1, 3, 4), torch.randn(1, 6, 4)
    out = attn(x, context=context)
    assert out.shape == (1, 3, 4)
    q = attn.q(x)
    k, v = attn.kv(context).chunk(2, -1)
    manual = attn.out(F.softmax(q @ k.transpose(1, 2) / 2.0, dim=-1) @ v)
    torch.testing.assert_close(out, manual)


def test_causal_encoder_cannot_see_the_future():
    torch.manual_seed(2)
    from probmodels.nn.modules import EncoderBlock

    block = EncoderBlock(8, 2, 16, dropout=0.0).eval()
    x = torch.randn(1, 6, 8)
    changed = x.clone()
    changed[0, 4:] += 5.0  # only the last two steps differ
    a, b = block(x, causal=True), block(changed, causal=True)
    torch.testing.assert_close(a[0, :4], b[0, :4])
    assert not torch.allclose(a[0, 4:], b[0, 4:])


def test_feature_tokens_and_positions():
    tok = FeatureTokenizer(3, 4)
    x = torch.tensor([[1.0, -2.0, 0.5]])
    torch.testing.assert_close(tok(x)[0], x[0, :, None] * tok.weight + tok.bias)
    pe = sinusoidal_positions(5, 6)
    pos, i = 3, 1
    assert float(pe[pos, 2 * i]) == pytest.approx(
        np.sin(pos / 10000 ** (2 * i / 6)), rel=1e-5
    )
    assert float(pe[pos, 2 * i + 1]) == pytest.approx(
        np.cos(pos / 10000 ** (2 * i / 6)), rel=1e-5
    )


def test_encoder_pools_cls_or_mean():
    torch.manual_seed(3)
    for pooling in ("cls", "mean"):
        model = TransformerEncoder(
            FeatureTokenizer(5, 8), 8, 2, 1, 16, 3, dropout=0.0, pooling=pooling
        )
        assert model(torch.randn(4, 5)).shape == (4, 3)
    with pytest.raises(ValueError, match="multiple of n_heads"):
        MultiHeadAttention(6, 4)


def test_mlp_layout():
    net = MLP(4, [8, 8], 2, activation="tanh", normalization="layer", dropout=0.2)
    kinds = [type(m).__name__ for m in net.net]
    assert kinds == ["Linear", "LayerNorm", "Tanh", "Dropout"] * 2 + ["Linear"]
    assert isinstance(make_norm(None, 3), nn.Identity)
