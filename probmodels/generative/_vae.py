"""VAE: a variational autoencoder with ELBO and IWAE scores, as an sklearn estimator."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..base import atomic_fit, check_n_samples, validate_params
from ..columns import Encoded, document_table_parameters
from ..nn import (
    TORCH_PARAMETER_CONSTRAINTS,
    NeuralGenerativeMixin,
    Standardizer,
    document_torch_parameters,
    zero_filled,
)
from ._imputation import VAEImputation
from ._latent import VAELatent
from ._prior import VAEPrior

__all__ = ["VAE"]


@document_table_parameters
@document_torch_parameters
class VAE(
    VAEPrior,
    VAELatent,
    VAEImputation,
    NeuralGenerativeMixin,
    BaseEstimator,
):
    """Variational autoencoder (Kingma and Welling, 2014).

    A latent ``z ~ N(0, I)`` of ``latent_dim`` dimensions is decoded into
    ``p(x | z)``; an encoder gives the approximate posterior
    ``q(z | x) = N(mu(x), diag sigma^2(x))``. Training maximises the evidence
    lower bound

    ``ELBO(x) = E_q[log p(x | z)] - beta KL(q(z | x) || p(z))``

    with one reparameterised draw ``z = mu + sigma * eps`` per row and the KL
    to ``N(0, I)`` in closed form, through the project's one training loop.

    With ``prior="mixture"`` (the default) the model is a two-stage VAE
    (Dai and Wipf, ICLR 2019; Ghosh et al., ICLR 2020, "ex-post density
    estimation"): after training, a Gaussian mixture of
    ``n_prior_components`` full-covariance components is fitted by EM to
    draws of the aggregate posterior ``q(z) = mean_x q(z | x)`` of the
    training rows, and becomes ``p(z)`` for sampling and scoring. That is the
    prior maximising the ELBO's ``E[log p(z)]`` term over the training rows
    among such mixtures. Trained with ``beta < 1``, the posteriors are
    sharp enough for the decoder to draw thin structure, and the mixture
    fills ``q(z)``'s shape so samples do not fall in the holes ``N(0, I)``
    leaves (Rosca, Lakshminarayanan and Mohamed, 2018); where sharp
    posteriors overfit (images), ``beta = 1`` bounds held-out rows better.
    ``beta="auto"`` trains both and keeps the one with the better held-out
    bound; ``docs/user_guide/vae.rst`` has the measurements. With labels,
    ``fit(X, y)`` trains a conditional VAE: the one-hot label is given to the
    encoder and the decoder, ``sample(n, y=...)`` generates chosen classes and
    ``score_samples(X, y)`` scores rows under their labels.

    Scores are lower bounds on ``log p(x)`` in nats, on the original scale of
    the data, under the model's prior: the ELBO (with ``beta = 1`` whatever
    ``beta`` was trained with, and its KL by Monte Carlo,
    ``E_q[log q(z | x) - log p(z)]`` with the mixture's exact log-density),
    or with ``n_importance = K > 1`` the importance-weighted bound of Burda,
    Grosse and Salakhutdinov (2016), ``log (1/K) sum_k p(x, z_k) / q(z_k | x)``,
    which is at least the ELBO on average and grows towards ``log p(x)`` with
    K. The maths are in ``docs/user_guide/vae.rst``.

    Rows with missing entries (NaN) are fitted by the MIWAE bound (Mattei
    and Frellsen, ICML 2019): the likelihood of the observed entries, with
    the encoder fed the zero-filled row and its mask of observed entries.
    ``score_samples`` is then the bound on the density of the observed
    entries, and :meth:`impute` and ``sample(given=...)`` fill the rest by
    importance resampling (``docs/user_guide/missing.rst``).

    Parameters
    ----------
    latent_dim : int, default=8
        Dimensions of z.
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Encoder layer sizes; the decoder mirrors them. ``()`` makes both maps
        linear (with ``decoder_variance="shared"``: probabilistic PCA).
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        ``p(x | z)``. "gaussian" learns a mean and a variance for each
        feature, so the ELBO bounds a continuous density; inputs are
        standardised inside and scores carry the log-Jacobian of that
        scaling, so they are densities of the data as given. "bernoulli" is
        for data in [0, 1] (used as they are): for binary data the scores
        bound a probability.
    beta : float or "auto", default="auto"
        Weight of the KL term in training (beta-VAE; Higgins et al., 2017).
        "auto" with ``prior="mixture"`` and ``train_importance=1`` chooses
        between 0.5 (sharp posteriors: samples that keep thin structure)
        and 1 (the standard VAE: the better bound where sharp posteriors
        overfit, as on images) by the bound on held-out rows: both are
        trained from the same initial weights on the same
        ``1 - validation_fraction`` of the rows, and the one whose held-out
        bound is higher (``beta_``, ``beta_scores_``) is trained again on
        every row, as ``GridSearchCV`` refits (with ``early_stopping`` the
        network that stopped on the held-out rows is kept). That costs
        about three trainings (two with early stopping); a float trains
        once. Otherwise "auto" is 1. Scores always use 1.
    n_importance : int, default=1
        K samples per row in :meth:`score_samples`: 1 gives the ELBO, more the
        tighter IWAE bound.
    train_importance : int, default=1
        K samples per row in the training objective: 1 trains the ELBO, more
        the importance-weighted bound (IWAE; on rows with missing entries
        MIWAE, which imputes better, at K times the cost per step). Needs
        ``beta=1`` (which "auto" then is).
    decoder_variance : {"row", "feature", "shared"}, default="row"
        For the Gaussian likelihood: variances output by the decoder for each
        row and feature, one learned variance per feature, or one shared.
    prior : {"mixture", "normal"}, default="mixture"
        ``p(z)`` of sampling and scoring: a Gaussian mixture fitted after
        training to the aggregate posterior of the training rows (a new one
        on every fit, warm-started ones included), or ``N(0, I)``. Training
        regularises towards ``N(0, I)`` either way.
    n_prior_components : int, default=20
        Components of the mixture prior (at most the number of posterior
        draws it is fitted to: ten per training row, from 2,000 to 10,000).
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
    conditional : bool, default=True
        Whether labels given to ``fit`` make a conditional VAE. Set it to
        False to ignore them: a ``Pipeline`` passes ``y`` to every step, so a
        VAE used there as an unsupervised feature extractor needs it (see
        ``examples/plot_pipeline_gridsearch.py``).
    %(table_parameters)s
    missing : {"mar", "mnar"}, default="mar"
        What the holes are assumed to be. "mar": missing at random (MIWAE's
        bound on the observed entries). "mnar": missing because of the value
        itself, modelled as not-MIWAE does (Ipsen, Mattei and Frellsen, ICLR
        2021): each continuous column j goes missing with probability
        ``sigmoid(a_j + b_j x_j)``, learned jointly with the networks through
        the importance-weighted bound (``train_importance`` draws, with
        ``beta=1``). :meth:`impute` then fills from p(missing | observed,
        missing); scores and ``sample(given=...)`` use the full-data model.
        Gaussian likelihood only; categorical columns' holes stay MAR. Use
        it with ``activation="tanh"`` and ``decoder_variance="feature"``
        (not-MIWAE's networks): nothing observed bounds the values that went
        missing, and a ReLU decoder lets them drift without limit
        (``docs/user_guide/missing.rst``).
    %(torch_parameters)s

    Attributes
    ----------
    %(torch_attributes)s
    classes_ : ndarray of shape (n_classes,) or None
        Labels of a conditional VAE (fitted with y); None otherwise.
    class_prior_ : ndarray of shape (n_classes,) or None
        Share of each label in the training data.
    prior_ : sklearn.mixture.GaussianMixture or None
        The fitted latent prior of ``prior="mixture"`` (its parameters are
        also in ``module_``); None for ``N(0, I)``.
    beta_ : float
        The KL weight the network was trained with (``beta``, or the one
        "auto" chose; a warm-started fit keeps it).
    beta_scores_ : dict or None
        With ``beta="auto"`` choosing: each candidate's mean held-out bound
        (``n_importance`` draws, on the scaled rows), keyed by beta. None
        when one network was trained.
    mask_intercept_, mask_coef_ : ndarray of shape (n_continuous,)
        With ``missing="mnar"`` and holes in the training rows: the learned
        mask model, ``P(x_j missing | x_j) = sigmoid(mask_intercept_[j] +
        mask_coef_[j] * x_j)`` in the columns' units.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame with string column names.

    See Also
    --------
    sklearn.decomposition.PCA : the linear-Gaussian special case's maximum
        likelihood solution.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from probmodels import VAE
    >>> X, y = load_digits(return_X_y=True)
    >>> vae = VAE(latent_dim=4, hidden_layer_sizes=(64,), max_epochs=5,
    ...           random_state=0).fit(X)
    >>> vae.transform(X[:3]).shape
    (3, 4)
    >>> vae.sample(2).shape
    (2, 64)
    >>> bool(vae.score(X[:100]) < 0)  # a lower bound on log p(x), in nats
    True
    """

    #: Parameters that shape the network: warm_start continues only while
    #: they keep their fitted values.
    _architecture_params = (
        "latent_dim",
        "hidden_layer_sizes",
        "likelihood",
        "decoder_variance",
        "prior",
        "n_prior_components",
        "activation",
        "conditional",
        "categorical_features",
        "quantile_transform",
        "missing",
    )

    _takes_missing = True

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "likelihood": [StrOptions({"gaussian", "bernoulli"})],
        "beta": [StrOptions({"auto"}), Interval(Real, 0.0, None, closed="left")],
        "n_importance": [Interval(Integral, 1, None, closed="left")],
        "train_importance": [Interval(Integral, 1, None, closed="left")],
        "decoder_variance": [StrOptions({"row", "feature", "shared"})],
        "prior": [StrOptions({"mixture", "normal"})],
        "n_prior_components": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"relu", "tanh", "logistic", "gelu", "identity"})],
        "conditional": ["boolean"],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "quantile_transform": ["boolean"],
        "missing": [StrOptions({"mar", "mnar"})],
        **TORCH_PARAMETER_CONSTRAINTS,
    }

    def __init__(
        self,
        latent_dim=8,
        hidden_layer_sizes=(256, 256),
        likelihood="gaussian",
        beta="auto",
        n_importance=1,
        train_importance=1,
        decoder_variance="row",
        prior="mixture",
        n_prior_components=20,
        activation="relu",
        conditional=True,
        categorical_features="from_dtype",
        quantile_transform=False,
        missing="mar",
        *,
        device="auto",
        max_epochs=100,
        batch_size="auto",
        lr=1e-3,
        weight_decay=0.0,
        lr_schedule="cosine",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=None,
        verbose=0,
        random_state=None,
        warm_start=False,
        distributed="auto",
    ):
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.likelihood = likelihood
        self.beta = beta
        self.n_importance = n_importance
        self.train_importance = train_importance
        self.decoder_variance = decoder_variance
        self.prior = prior
        self.n_prior_components = n_prior_components
        self.activation = activation
        self.conditional = conditional
        self.categorical_features = categorical_features
        self.quantile_transform = quantile_transform
        self.missing = missing
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

    # ------------------------------------------------------------------ fit
    @atomic_fit
    def fit(self, X, y=None):
        """Train the encoder and the decoder by maximising the ELBO.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows, NaN where an entry is missing; in [0, 1] for the Bernoulli
            likelihood.
        y : array-like of shape (n_samples,), default=None
            Class labels: train a conditional VAE (ignored with
            ``conditional=False``).

        Returns
        -------
        self : VAE
        """
        if self.missing == "mnar" and self.activation not in ("tanh", "logistic"):
            warnings.warn(
                f"missing='mnar' with activation={self.activation!r}: nothing "
                "observed bounds the values that went missing, and an unbounded "
                "decoder lets the mask model push them without limit. Use "
                "activation='tanh' (and decoder_variance='feature'), as not-MIWAE "
                "does (docs/user_guide/missing.rst).",
                UserWarning,
                stacklevel=3,
            )
        continuing = self._continuing(partial=False)
        fitted = self._fit_generative(X, y if self.conditional else None)
        codes = fitted.codes
        if not continuing:
            self.class_prior_ = (
                None if codes is None else np.bincount(codes) / len(codes)
            )
        self.prior_ = (
            self._fit_prior(fitted.rows, fitted.codes, fitted.seeds.prior)
            if self.prior == "mixture"
            else None
        )
        return self

    def __setstate__(self, state):
        """Restore a model; files from before ``prior`` had ``N(0, I)``."""
        state = dict(state)
        state.setdefault("prior", "normal")
        state.setdefault("prior_", None)
        # Before beta_ was chosen, "auto" was 0.5 for a mixture prior
        # trained on the ELBO and 1 otherwise.
        if "beta_" not in state and "module_" in state:
            beta = state.get("beta", "auto")
            auto = state["prior"] == "mixture" and state.get("train_importance") == 1
            state["beta_"] = float(beta) if beta != "auto" else 0.5 if auto else 1.0
        state.setdefault("beta_scores_", None)
        super().__setstate__(state)

    def _build_module(
        self,
        n_features,
        n_classes,
        category_sizes=(),
        missing_inputs=False,
        self_masking=None,
    ):
        from ._network import VAENetwork

        components = self.n_prior_components if self.prior == "mixture" else 0
        return VAENetwork(
            n_features,
            self.latent_dim,
            tuple(self.hidden_layer_sizes),
            n_classes=n_classes,
            likelihood=self.likelihood,
            decoder_variance=self.decoder_variance,
            activation=self.activation,
            category_sizes=category_sizes,
            missing_inputs=missing_inputs,
            prior_components=components,
            self_masking=self_masking,
        )

    def _network_shapes(self, X, codes):
        """The parent's shapes; under ``missing="mnar"`` with holes, the mask model."""
        shapes = super()._network_shapes(X, codes)
        if self.missing == "mnar" and shapes.get("missing_inputs"):
            if self.likelihood != "gaussian":
                raise ValueError(
                    "missing='mnar' draws the missing values from a Gaussian "
                    "decoder; use likelihood='gaussian'."
                )
            rates = np.isnan(X.continuous).mean(axis=0)
            shapes = {**shapes, "self_masking": tuple(float(r) for r in rates)}
        return shapes

    def _mask_parameters(self):
        """The fitted mask model in the columns' units, or AttributeError."""
        check_is_fitted(self, "module_")
        module = self.module_
        if not getattr(module, "self_masking", False):
            raise AttributeError(
                "The mask model is fitted with missing='mnar' on rows with holes."
            )
        active = module.mask_active.cpu().numpy()
        a = np.where(active, module.mask_intercept.detach().cpu().double().numpy(), -np.inf)
        b = np.where(active, module.mask_coef.detach().cpu().double().numpy(), 0.0)
        # a + b (x - mean) / scale = (a - b mean / scale) + (b / scale) x
        mean, scale = self._scaler.mean, self._scaler.scale
        return a - b * mean / scale, b / scale

    @property
    def mask_intercept_(self):
        """Intercepts of the fitted mask model (see the class docstring)."""
        return self._mask_parameters()[0]

    @property
    def mask_coef_(self):
        """Slopes of the fitted mask model (see the class docstring)."""
        return self._mask_parameters()[1]

    def _label_tensor(self, codes, device):
        return self._to_tensor(self._one_hot(codes), device)

    def _make_scaler(self, X):
        gaussian = self.likelihood == "gaussian"
        return Standardizer.fit(X, center=gaussian, scale=gaussian)

    # ---------------------------------------------------------- validation
    def _check_values(self, X):
        X = X.continuous
        if self.likelihood == "bernoulli" and X.size and (X.min() < 0 or X.max() > 1):
            raise ValueError(
                f"likelihood='bernoulli' needs data in [0, 1]; X ranges over "
                f"[{X.min():.4g}, {X.max():.4g}]. Scale it first (MinMaxScaler, or "
                "divide by the largest value) or use likelihood='gaussian'."
            )

    def _labels(self, y, n_rows):
        """One-hot labels for n rows, or None (unconditional, or none given)."""
        codes = self._label_codes(y, n_rows)
        return None if codes is None else self._one_hot(codes)

    def _one_hot(self, codes):
        return np.eye(len(self.classes_), dtype=np.float32)[codes]

    # ----------------------------------------------------------- inference
    def _row_bytes(self, draws=1):
        """Bytes of float32 activations one row costs in a forward pass."""
        width = self.n_features_in_ + sum(self._types.category_sizes)
        widths = [width * 3, self.latent_dim * 4]
        return 4 * draws * (sum(widths) + 2 * sum(self.hidden_layer_sizes))

    def _per_class(self, fn, X):
        """``fn(x, c)`` under every label, stacked: shape (n_rows, n_classes, ...)."""
        codes = np.arange(len(self.classes_))
        return np.stack(
            [fn(X, self._one_hot(np.full(len(X), k))) for k in codes], axis=1
        )

    def _scaled(self, X):
        """Rows as the network reads them: scaled continuous columns, codes."""
        X = self._validate_X(X, reset=False)
        return Encoded(self._scaler.transform(X.continuous), X.codes)

    def _bound(self, rows, c, module=None):
        """Per-row bound on log p(u | c) of scaled rows (no log-Jacobian).

        By the fitted network, or by ``module`` (a candidate in training).
        """
        from ..nn.distributions import iwae_bound

        validate_params(self, ["n_importance"])  # set_params may change it
        K = self.n_importance

        def block(module, u, c, eps, codes, mask=None):
            return iwae_bound(module.log_weights(u, c, eps, codes, mask))

        codes = self._codes_or_none(rows)
        eps = self._row_noise(rows.continuous, c, codes, shape=(K, self.latent_dim))
        u, mask = zero_filled(rows)
        arrays = [u, c, eps, codes, mask]
        return self._map_rows(block, arrays, self._row_bytes(K), module=module)

    def score_samples(self, X, y=None):
        """Lower bound on the log-density of each row, in nats.

        The ELBO (``n_importance=1``) or the IWAE bound with
        ``K = n_importance`` draws, both ``<= log p(x)``, on the original scale
        of the data. Each row's draws are keyed on the row and on a seed
        drawn at fit, so a row always gets the same score, whatever else is
        scored with it. For a conditional VAE, ``y``
        gives each row's label; without it the rows are scored under the
        mixture over labels, ``log sum_y p(y) p(x | y)`` (each bound in place
        of ``log p(x | y)``, so still a lower bound).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or label, default=None

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        rows = self._scaled(X)
        c = self._labels(y, len(rows))
        if self.classes_ is not None and c is None:
            bounds = self._per_class(self._bound, rows)
            scores = logsumexp(bounds + np.log(self.class_prior_), axis=1)
        else:
            scores = self._bound(rows, c)
        # The network's scaling, then the column types' (standardised dates),
        # each over the row's observed columns.
        jacobian = self._scaler.row_log_jacobian(rows.continuous)
        return scores + jacobian + self._types.log_jacobian(rows.continuous)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`: a lower bound on the mean log-density.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Labels of a conditional VAE.

        Returns
        -------
        float
        """
        return float(np.mean(self.score_samples(X, y)))

    def sample(self, n_samples=1, *, y=None, mean=False, random_state=None, given=None):
        """Draw new rows: ``z ~ p(z)``, then ``x ~ p(x | z)``.

        Parameters
        ----------
        n_samples : int, default=1
        y : label or array-like of shape (n_samples,), default=None
            For a conditional VAE, the class of every row or of each row;
            without it, labels are drawn from ``class_prior_``.
        mean : bool, default=False
            Return the decoder's means ``E[x | z]`` instead of draws from
            ``p(x | z)`` (sharper images, no observation noise).
        random_state : int, RandomState, Generator or None, default=None
            None draws from the generator seeded at fit (consecutive calls
            differ); a value makes this call repeatable.
        given : dict or DataFrame, default=None
            Values some columns take (column -> value, or a DataFrame with one
            row per sample); the others are drawn from p(rest | given),
            approximately, by importance resampling as :meth:`impute` draws.

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
            In the container the model was fitted on.
        """
        import torch

        n_samples = check_n_samples(n_samples)
        if given is not None:
            return self._sample_given(n_samples, given, y, random_state)
        c = self._labels(y, n_samples)
        device = self._module_device()
        generator = self._torch_generator(random_state, device)
        if self.classes_ is not None and c is None:
            draws = torch.multinomial(
                torch.as_tensor(self.class_prior_, device=device),
                n_samples,
                replacement=True,
                generator=generator,
            )
            c = self._one_hot(draws.cpu().numpy())
        noise = self.module_.sample_prior(n_samples, generator, device)

        def draw(module, z, c):
            loc, logvar, logits = module.decode(z, c)
            if mean:
                values = torch.sigmoid(loc) if self.likelihood == "bernoulli" else loc
            elif self.likelihood == "bernoulli":
                values = torch.bernoulli(torch.sigmoid(loc), generator=generator)
            else:
                eps = torch.randn(loc.shape, generator=generator, device=device)
                values = loc + torch.exp(0.5 * logvar) * eps
            codes = [
                block.argmax(-1)
                if mean
                else torch.multinomial(
                    torch.softmax(block, -1), 1, generator=generator
                )[:, 0]
                for block in logits
            ]
            return torch.cat(
                [values, *(k[:, None].to(values.dtype) for k in codes)], -1
            )

        out = self._map_rows(draw, [noise, c], self._row_bytes(), float64=False)
        d = self._types.n_continuous
        U = self._scaler.inverse_transform(out[:, :d])
        codes = out[:, d:].astype(np.int64) if out.shape[1] > d else None
        return self._types.decode(U, codes, container=self._container)
