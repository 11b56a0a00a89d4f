"""TransformerClassifier: an encoder-only transformer (Vaswani et al., 2017)."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

from ..nn import TORCH_PARAMETER_CONSTRAINTS, document_torch_parameters
from ._base import NeuralClassifierMixin

__all__ = ["TransformerClassifier"]


@document_torch_parameters
class TransformerClassifier(NeuralClassifierMixin, BaseEstimator):
    """Encoder-only transformer classifier (Vaswani et al., 2017, section 3).

    Rows become sequences of tokens; pre-norm encoder blocks of multi-head
    attention ``softmax(Q K^T / sqrt(d_k)) V`` (through torch's
    ``scaled_dot_product_attention``) and feed-forward layers transform them;
    a CLS token (or the mean of the tokens) feeds a linear head that gives one
    logit per class.

    - 2-D input ``(n_samples, n_features)``: each feature is a token. With
      ``numeric_embedding="piecewise_linear"`` (the default) its value is
      encoded on ``n_bins`` bins at the feature's training quantiles and
      mapped linearly to the token (Gorishniy et al., NeurIPS 2022, "On
      Embeddings for Numerical Features in Tabular Deep Learning", section
      3.2), so the tokens do not depend on how the features were scaled;
      with ``"linear"``, the value times a learned per-feature embedding plus
      a per-feature bias.
    - 3-D input ``(n_samples, seq_len, n_features)``: one token per step, a
      linear map of its features plus a sinusoidal position code;
      ``causal=True`` applies the decoder's mask (scores of future steps set to
      -inf before the softmax). The CLS token comes after the data tokens, so
      it sees every step even under the mask.

    Parameters
    ----------
    d_model : int, default=64
        Token width.
    n_heads : int, default=4
        Attention heads; must divide ``d_model``.
    n_layers : int, default=2
        Encoder blocks.
    dim_feedforward : int, default=128
        Width of each block's feed-forward layer.
    dropout : float, default=0.1
        On attention weights and block outputs.
    pooling : {"cls", "mean"}, default="cls"
        What the head reads: the CLS token or the mean of the data tokens.
    causal : bool, default=False
        Mask attention to future tokens.
    numeric_embedding : {"piecewise_linear", "linear"}, default="piecewise_linear"
        How a feature of 2-D input becomes a token (3-D input is always
        mapped linearly). Chosen by measurement on digits
        (``benchmarks/bench_classifiers.py``, 60 epochs): the two score
        alike on the pixels as they are (0.962 and 0.966 on average over
        three seeds, after either scaler), but on skewed features, as
        incomes and counts come (``exp(pixel / 3)`` standardised, values up
        to 42), the linear embedding fell to 0.942 and this one scored
        0.973. Bins are set on the first fit; ``warm_start`` and
        ``partial_fit`` keep them.
    n_bins : int, default=16
        Most bins per feature for ``"piecewise_linear"``; a feature with
        fewer distinct training values gets fewer.
    %(torch_parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, in the order of ``predict_proba``'s columns.
    %(torch_attributes)s
    n_features_in_ : int
        Features per row (2-D input) or per step (3-D input).
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from probmodels import TransformerClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> clf = TransformerClassifier(d_model=16, n_heads=2, n_layers=1,
    ...                             max_epochs=40, lr=3e-3, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    _allow_3d = True

    #: Parameters that shape the network: warm_start continues only while
    #: they keep their fitted values.
    _architecture_params = (
        "d_model",
        "n_heads",
        "n_layers",
        "dim_feedforward",
        "dropout",
        "pooling",
        "causal",
        "numeric_embedding",
        "n_bins",
    )

    _parameter_constraints: dict = {
        "d_model": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "dim_feedforward": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0.0, 1.0, closed="left")],
        "pooling": [StrOptions({"cls", "mean"})],
        "causal": ["boolean"],
        "numeric_embedding": [StrOptions({"piecewise_linear", "linear"})],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        **TORCH_PARAMETER_CONSTRAINTS,
    }

    def __init__(
        self,
        d_model=64,
        n_heads=4,
        n_layers=2,
        dim_feedforward=128,
        dropout=0.1,
        pooling="cls",
        causal=False,
        numeric_embedding="piecewise_linear",
        n_bins=16,
        *,
        device="auto",
        max_epochs=100,
        batch_size="auto",
        lr=1e-3,
        weight_decay=1e-4,
        lr_schedule="cosine",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        verbose=0,
        random_state=None,
        warm_start=False,
        distributed="auto",
    ):
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.dim_feedforward = dim_feedforward
        self.dropout = dropout
        self.pooling = pooling
        self.causal = causal
        self.numeric_embedding = numeric_embedding
        self.n_bins = n_bins
        self.device = device
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start
        self.distributed = distributed

    def __setstate__(self, state):
        """Restore a model; files from before ``numeric_embedding`` were linear."""
        state = dict(state)
        state.setdefault("numeric_embedding", "linear")
        state.setdefault("n_bins", 16)
        super().__setstate__(state)

    def _network_shapes(self, X, codes):
        """The shapes, and the quantile bins when features are encoded on them."""
        shapes = super()._network_shapes(X, codes)
        if X.ndim == 2 and self.numeric_embedding == "piecewise_linear":
            from ..nn.modules import quantile_bin_edges

            shapes["bin_edges"], shapes["bin_counts"] = quantile_bin_edges(
                X, self.n_bins
            )
        return shapes

    def _build_module(
        self, n_features, n_classes, ndim, bin_edges=None, bin_counts=None
    ):
        from ..nn.modules import (
            FeatureTokenizer,
            PiecewiseLinearTokenizer,
            SequenceTokenizer,
            TransformerEncoder,
        )

        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model={self.d_model} must be a multiple of n_heads="
                f"{self.n_heads} (each head gets d_model / n_heads dimensions)."
            )
        if bin_edges is not None:
            tokenizer = PiecewiseLinearTokenizer(bin_edges, bin_counts, self.d_model)
        else:
            tokenizer = (FeatureTokenizer if ndim == 2 else SequenceTokenizer)(
                n_features, self.d_model
            )
        return TransformerEncoder(
            tokenizer,
            self.d_model,
            self.n_heads,
            self.n_layers,
            self.dim_feedforward,
            n_classes,
            dropout=self.dropout,
            pooling=self.pooling,
            causal=self.causal,
        )
