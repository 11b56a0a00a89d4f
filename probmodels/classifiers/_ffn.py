"""FFNClassifier: a feed-forward network as a classifier."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

from ..nn import TORCH_PARAMETER_CONSTRAINTS, document_torch_parameters
from ._base import NeuralClassifierMixin

__all__ = ["FFNClassifier"]


@document_torch_parameters
class FFNClassifier(NeuralClassifierMixin, BaseEstimator):
    """Feed-forward neural network classifier trained with torch.

    Each hidden layer is a linear transform followed by an activation,
    optionally with a normalisation layer between them (batch, layer or group
    normalisation: Ioffe and Szegedy, 2015; Ba et al., 2016; Wu and He, 2018)
    and dropout after; the output layer gives one logit per class, trained on
    the cross-entropy of their softmax with AdamW and a cosine-annealed
    learning rate (Loshchilov and Hutter, 2017). The maths, with a two-layer
    example worked by hand, are in ``docs/user_guide/classifiers.rst``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Units of each hidden layer.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
    normalization : {"batch", "layer", "group"} or None, default=None
        Batch normalisation (statistics over the batch, running averages at
        prediction), layer normalisation (over the units of each sample) or
        group normalisation (over groups of units of each sample).
    n_groups : int, default=1
        Groups for ``normalization="group"``; must divide every hidden size.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
    %(torch_parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, in the order of ``predict_proba``'s columns.
    %(torch_attributes)s
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame with string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from probmodels import FFNClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = FFNClassifier((32,), max_epochs=150, lr=1e-2, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    #: Parameters that shape the network: warm_start continues only while
    #: they keep their fitted values.
    _architecture_params = (
        "hidden_layer_sizes",
        "activation",
        "normalization",
        "n_groups",
        "dropout",
    )

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions({"relu", "tanh", "logistic", "gelu", "identity"})],
        "normalization": [StrOptions({"batch", "layer", "group"}), None],
        "n_groups": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0.0, 1.0, closed="left")],
        **TORCH_PARAMETER_CONSTRAINTS,
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        normalization=None,
        n_groups=1,
        dropout=0.0,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.normalization = normalization
        self.n_groups = n_groups
        self.dropout = dropout
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

    def _build_module(self, n_features, n_classes, ndim):
        from ..nn.modules import MLPClassifierNetwork

        hidden = self.hidden_layer_sizes
        hidden = (hidden,) if isinstance(hidden, Integral) else tuple(hidden)
        return MLPClassifierNetwork(
            n_features,
            hidden,
            n_classes,
            activation=self.activation,
            normalization=self.normalization,
            n_groups=self.n_groups,
            dropout=self.dropout,
        )
