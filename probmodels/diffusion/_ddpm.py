"""DDPM: denoising diffusion as an sklearn estimator, with guidance and DDIM."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import ndtr
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import atomic_fit, check_n_samples, validate_params
from ..columns import Encoded, document_table_parameters
from ..nn import (
    TORCH_PARAMETER_CONSTRAINTS,
    NeuralGenerativeMixin,
    document_torch_parameters,
    zero_filled,
)
from ._imputation import DDPMImputation

__all__ = ["DDPM"]


@document_table_parameters
@document_torch_parameters
class DDPM(DDPMImputation, NeuralGenerativeMixin, BaseEstimator):
    """Denoising diffusion probabilistic model (Ho, Jain and Abbeel, 2020).

    The forward process adds Gaussian noise over ``n_timesteps`` steps,
    ``q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)``; a network
    ``eps_theta(x_t, t)`` learns to predict the noise, trained as in
    Algorithm 1: draw t uniformly and eps ~ N(0, I), and regress
    ``eps_theta(x_t, t)`` on eps with squared error (eq. 14). Sampling runs
    the reverse process from pure noise, ancestrally over all steps
    (Algorithm 2) or with DDIM over fewer (Song, Meng and Ermon, 2021). An
    exponential moving average of the weights is used for sampling and
    scoring. The network, ``module_``, is a
    :class:`~probmodels.diffusion.GaussianDiffusion`: the noise predictor
    with its :class:`~probmodels.diffusion.schedule.NoiseSchedule`, whose
    coefficients are buffers; the loss, the samplers and the bound are its
    methods.

    With labels, ``fit(X, y)`` trains class-conditionally, replacing the label
    by a null label with probability ``cond_drop_prob``; ``sample(n, y=...,
    guidance_scale=w)`` then uses classifier-free guidance
    ``eps = (1 + w) eps(x, y) - w eps(x, null)`` (Ho and Salimans, 2022).

    Inputs are standardised per column inside; samples come back on the
    original scale, and scores carry the log-Jacobian of the scaling. The
    maths are in ``docs/user_guide/ddpm.rst``.

    Rows with missing entries (NaN) train on the denoising error of their
    observed entries (MissDiff); :meth:`impute` and ``sample(given=...)``
    fill the rest by RePaint inpainting (Lugmayr et al., 2022), an
    approximation whose cost is ``n_timesteps * n_resample`` network
    evaluations per draw (``docs/user_guide/missing.rst``).

    Parameters
    ----------
    n_timesteps : int, default=1000
        T, the number of noising steps.
    beta_schedule : {"linear", "cosine"}, default="linear"
        Betas from 1e-4 to 0.02 (for T = 1000; scaled by 1000 / T otherwise),
        or the cosine schedule of Nichol and Dhariwal (2021).
    prediction_type : {"epsilon", "sample", "v_prediction"}, default="epsilon"
        What the network predicts (diffusers' names): the noise, x_0, or
        ``v = sqrt(abar_t) eps - sqrt(1 - abar_t) x_0`` (Salimans and Ho,
        2022, section 4). Samplers and the bound use the noise it implies.
    snr_gamma : float or None, default=None
        Min-SNR-gamma weighting of the loss (Hang et al., 2023; 5 in the
        paper): each timestep's error is weighted so that x_0's counts
        ``min(SNR_t, gamma)``. None: the plain loss of the prediction. The
        defaults of these three were chosen by measurement
        (``docs/user_guide/ddpm.rst``).
    denoiser : {"auto", "mlp", "unet"}, default="auto"
        "mlp": a residual MLP with a sinusoidal time embedding, for rows;
        "unet": a small UNet for images of ``image_shape``; "auto" picks the
        UNet when ``image_shape`` is given (on images it samples far better:
        ``docs/user_guide/ddpm.rst``).
    hidden_layer_sizes : tuple of int, default=(256, 256, 256)
        Residual blocks of the MLP denoiser (one per entry).
    image_shape : tuple of int (C, H, W) or None, default=None
        Shape of each image for the UNet; rows are flattened images of
        ``C * H * W`` values.
    unet_channels : int, default=32
        Channels of the UNet's first stage.
    upsample : {"nearest", "transposed"}, default="nearest"
        The UNet's upsampling: nearest interpolation then a convolution, or a
        transposed convolution.
    ema_decay : float, default=0.999
        Decay of the moving average of the weights (0 keeps the last weights).
    cond_drop_prob : float, default=0.1
        Probability of training on the null label instead of the row's label.
    variance_type : {"fixed_large", "fixed_small"}, default="fixed_large"
        Variance of each reverse step: beta_t, or beta_tilde_t (Ho et al.,
        2020, section 3.2, where both sample alike). "fixed_large" suits data
        standardised to unit variance and gives a much tighter bound in
        :meth:`score_samples`; DDIM with ``eta=1`` over all steps samples as
        "fixed_small" does. Training does not depend on it, so it may be
        changed on a fitted model.
    clip_denoised : bool, default=True
        In each sampling step, clip the estimate of x_0 to the range of the
        training data (per feature, widened by a tenth of it), as diffusers'
        ``clip_sample`` does with a fixed range: a sample that strays where
        the network never trained is pulled back instead of compounding.
    ddim_spacing : {"quadratic", "linear"}, default="quadratic"
        Which k timesteps DDIM visits: ``T (i/k)^2`` or ``T i/k`` for i = 1..k
        (Song et al., 2021, appendix D.2). Quadratic spacing takes more of
        its steps where the noise is small and the data's fine structure is
        resolved.
    n_score_timesteps : int or None, default=100
        Timesteps per row in :meth:`score_samples`: the T - 1 KL terms are
        estimated without bias from one random timestep in each of this many
        equal strata (None: all T - 1 terms, exact).
    %(table_parameters)s
    %(torch_parameters)s

    Attributes
    ----------
    %(torch_attributes)s
    schedule_ : NoiseSchedule
        The fitted schedule (``module_.schedule``).
    classes_ : ndarray of shape (n_classes,) or None
        Labels of a class-conditional model; None otherwise.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame with string column names.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from probmodels import DDPM
    >>> X, _ = make_moons(500, noise=0.05, random_state=0)
    >>> ddpm = DDPM(n_timesteps=100, hidden_layer_sizes=(64, 64), max_epochs=20,
    ...             random_state=0).fit(X)
    >>> ddpm.sample(3).shape
    (3, 2)
    >>> ddpm.sample(3, n_steps=10).shape  # DDIM with 10 steps
    (3, 2)
    """

    #: Parameters that shape the network: warm_start continues only while
    #: they keep their fitted values.
    _architecture_params = (
        "n_timesteps",
        "beta_schedule",
        "prediction_type",
        "denoiser",
        "hidden_layer_sizes",
        "image_shape",
        "unet_channels",
        "upsample",
        "categorical_features",
        "quantile_transform",
    )

    _takes_missing = True

    _parameter_constraints: dict = {
        "n_timesteps": [Interval(Integral, 2, None, closed="left")],
        "beta_schedule": [StrOptions({"linear", "cosine"})],
        "prediction_type": [StrOptions({"epsilon", "sample", "v_prediction"})],
        "snr_gamma": [Interval(Real, 0.0, None, closed="neither"), None],
        "denoiser": [StrOptions({"auto", "mlp", "unet"})],
        "hidden_layer_sizes": ["array-like"],
        "image_shape": ["array-like", None],
        "unet_channels": [Interval(Integral, 1, None, closed="left")],
        "upsample": [StrOptions({"nearest", "transposed"})],
        "ema_decay": [Interval(Real, 0.0, 1.0, closed="left")],
        "cond_drop_prob": [Interval(Real, 0.0, 1.0, closed="left")],
        "variance_type": [StrOptions({"fixed_large", "fixed_small"})],
        "clip_denoised": ["boolean"],
        "ddim_spacing": [StrOptions({"quadratic", "linear"})],
        "n_score_timesteps": [Interval(Integral, 1, None, closed="left"), None],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "quantile_transform": ["boolean"],
        **TORCH_PARAMETER_CONSTRAINTS,
    }

    def __init__(
        self,
        n_timesteps=1000,
        beta_schedule="linear",
        prediction_type="epsilon",
        snr_gamma=None,
        denoiser="auto",
        hidden_layer_sizes=(256, 256, 256),
        image_shape=None,
        unet_channels=32,
        upsample="nearest",
        ema_decay=0.999,
        cond_drop_prob=0.1,
        variance_type="fixed_large",
        clip_denoised=True,
        ddim_spacing="quadratic",
        n_score_timesteps=100,
        categorical_features="from_dtype",
        quantile_transform=False,
        *,
        device="auto",
        max_epochs=300,
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
        self.n_timesteps = n_timesteps
        self.beta_schedule = beta_schedule
        self.prediction_type = prediction_type
        self.snr_gamma = snr_gamma
        self.denoiser = denoiser
        self.hidden_layer_sizes = hidden_layer_sizes
        self.image_shape = image_shape
        self.unet_channels = unet_channels
        self.upsample = upsample
        self.ema_decay = ema_decay
        self.cond_drop_prob = cond_drop_prob
        self.variance_type = variance_type
        self.clip_denoised = clip_denoised
        self.ddim_spacing = ddim_spacing
        self.n_score_timesteps = n_score_timesteps
        self.categorical_features = categorical_features
        self.quantile_transform = quantile_transform
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
        """Train the noise predictor on X (class-conditionally with y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows (flattened images with ``image_shape``); NaN marks a missing
            entry.
        y : array-like of shape (n_samples,), default=None
            Class labels: train for classifier-free guidance.

        Returns
        -------
        self : DDPM
        """
        U = self._fit_generative(X, y).rows.continuous
        low, high = np.nanmin(U, axis=0), np.nanmax(U, axis=0)
        self._data_range = (low - 0.1 * (high - low), high + 0.1 * (high - low))
        return self

    @property
    def schedule_(self):
        """The fitted noise schedule (held by the network, ``module_``)."""
        return self.module_.schedule

    def __setstate__(self, state):
        """Restore a model, reading the layout of 0.1.0 too.

        0.1.0 kept the schedule beside the network (``schedule_``) and the
        network was the denoiser alone; the network now holds both, and the
        schedule follows from the parameters.
        """
        state = dict(state)
        state.pop("schedule_", None)
        # Files from before these parameters: an eps network, unweighted.
        state.setdefault("prediction_type", "epsilon")
        state.setdefault("snr_gamma", None)
        weights = state.get("module_")
        if isinstance(weights, dict) and not any(
            key.startswith("denoiser.") for key in weights
        ):
            state["module_"] = {f"denoiser.{k}": v for k, v in weights.items()}
        super().__setstate__(state)

    def _build_module(
        self, n_features, n_classes, category_sizes=(), missing_inputs=False
    ):
        # missing_inputs: the denoiser reads zero-filled noisy rows as they
        # are (MissDiff); the loss and the bound mask the missing entries.
        from ..nn.denoisers import ResidualMLP, UNet
        from ._diffusion import GaussianDiffusion
        from .schedule import NoiseSchedule

        width = n_features + sum(category_sizes)  # categories one-hot
        if self._uses_unet():
            denoiser = UNet(
                tuple(self.image_shape),
                self.unet_channels,
                n_classes=n_classes,
                upsample=self.upsample,
            )
        else:
            denoiser = ResidualMLP(width, tuple(self.hidden_layer_sizes), n_classes)
        schedule = NoiseSchedule.from_name(self.n_timesteps, self.beta_schedule)
        return GaussianDiffusion(
            denoiser, schedule, n_classes, category_sizes, self.prediction_type
        )

    def _configure_objective(self, module, setting=None):
        """The label dropout and loss weighting the network's loss trains with."""
        module.cond_drop_prob = float(self.cond_drop_prob)
        module.snr_gamma = None if self.snr_gamma is None else float(self.snr_gamma)

    def _training_callbacks(self):
        from ..engine import ExponentialMovingAverage

        return [ExponentialMovingAverage(self.ema_decay)] if self.ema_decay else []

    # ---------------------------------------------------------- validation
    def _check_parameter_values(self):
        """The layers and the image shape, checked before torch sees them.

        The residual MLP needs at least one block (``()`` is the VAE's linear
        map, not a denoiser); ``image_shape`` is three positive ints.
        """
        from sklearn.utils._param_validation import InvalidParameterError

        super()._check_parameter_values()
        if not self._uses_unet() and np.size(self.hidden_layer_sizes) == 0:
            raise InvalidParameterError(
                "hidden_layer_sizes=() leaves the denoiser without a residual "
                "block; give at least one width, e.g. (256, 256, 256)."
            )
        shape = self.image_shape
        if shape is None:
            return
        entries = list(np.asarray(shape, dtype=object).ravel())
        if len(entries) != 3 or any(
            isinstance(v, (bool, np.bool_)) or not isinstance(v, Integral) or v < 1
            for v in entries
        ):
            raise InvalidParameterError(
                f"image_shape must be three positive ints (C, H, W), e.g. (1, 8, "
                f"8) for 8 x 8 grey images; got {shape!r}."
            )

    def _uses_unet(self):
        return self.denoiser == "unet" or (
            self.denoiser == "auto" and self.image_shape is not None
        )

    def _check_values(self, X):
        if self._uses_unet() and X.codes.shape[1]:
            raise ValueError(
                "The UNet denoiser takes images of numbers; this table has "
                "categorical columns. Use denoiser='mlp', or encode them first."
            )
        self._check_image_shape(X.continuous.shape[1])

    def _check_image_shape(self, n_features):
        if self._uses_unet():
            if self.image_shape is None:
                raise ValueError(
                    "denoiser='unet' needs image_shape=(C, H, W), the shape each "
                    "row is an image of."
                )
            shape = tuple(int(s) for s in self.image_shape)
            if len(shape) != 3 or int(np.prod(shape)) != n_features:
                raise ValueError(
                    f"image_shape={shape} does not match the {n_features} features "
                    f"of X: rows must be flattened images of C * H * W values. Pass "
                    "the (C, H, W) of your images, e.g. (1, 8, 8) for 64 pixels."
                )

    # -------------------------------------------------------------- sample
    def sample(
        self,
        n_samples=1,
        *,
        y=None,
        guidance_scale=0.0,
        n_steps=None,
        eta=None,
        random_state=None,
        return_trajectory=False,
        given=None,
        n_resample=10,
        sampler=None,
    ):
        """Generate rows by running the reverse process from pure noise.

        Parameters
        ----------
        n_samples : int, default=1
        y : label or array-like of shape (n_samples,), default=None
            For a class-conditional model, the class of every row or of each
            row; without it, the unconditional (null-label) model.
        guidance_scale : float, default=0.0
            w of classifier-free guidance, ``(1 + w) eps(x, y) - w eps(x,
            null)``; 0 samples the conditional model as it is.
        n_steps : int or None, default=None
            None: ancestral sampling over all T steps. An int k <= T: DDIM over
            k evenly spaced timesteps.
        eta : float or None, default=None
            The sampler's noise. DDIM: 0.5 by default; 0 is deterministic
            given the start, 1 with k = T matches ancestral sampling in
            distribution. 50 steps at 0.5 came within 0.01 of 1,000
            ancestral steps in C2ST on moons, pinwheel and checkerboard,
            where 0 fell 0.03 to 0.06 behind. DPM-Solver++: the share of
            noise its SDE form re-injects, 1 by default (0 is the ODE
            solver; see the DDPM page).
        random_state : int, RandomState, Generator or None, default=None
            None draws from the generator seeded at fit (consecutive calls
            differ); a value makes this call repeatable.
        return_trajectory : bool, default=False
            Also return every intermediate x_t on the original scale.
        given : dict or DataFrame, default=None
            Values some columns take (column -> value, or a DataFrame with one
            row per sample); the others are inpainted by RePaint as
            :meth:`impute` fills them (ancestral steps, approximate).
        n_resample : int, default=10
            RePaint's resampling passes per timestep, with ``given``.
        sampler : {"ancestral", "ddim", "dpmpp_2m"} or None, default=None
            None: ancestral without ``n_steps``, DDIM with it. "dpmpp_2m":
            DPM-Solver++(2M) (Lu et al., 2022, Algorithm 2), a second-order
            multistep solver of the diffusion's ODE (``eta=0``) or SDE, over
            ``n_steps`` timesteps (default 20) evenly spaced in log-SNR; it
            takes guidance like the others.

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, n_features)
            In the container the model was fitted on.
        trajectory : ndarray of shape (n_recorded, n_samples, n_features)
            Only with ``return_trajectory``: x_T first, the sample last.
        """
        import torch
        from tqdm.auto import tqdm

        from .schedule import resolve_sampler

        # Parameters sampling reads, which set_params may have changed.
        validate_params(self, ["clip_denoised", "ddim_spacing", "variance_type"])
        n_samples = check_n_samples(n_samples)
        if given is not None:
            return self._sample_given(n_samples, given, y, n_resample, random_state)
        codes = self._label_codes(y, n_samples, missing=self._null_label)
        sampler, eta = resolve_sampler(sampler, n_steps, eta)
        steps = self._timesteps(n_steps, sampler)
        for name, value in (("eta", eta), ("guidance_scale", guidance_scale)):
            if not isinstance(value, Real) or not 0 <= value < np.inf:
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
        if guidance_scale and self.classes_ is None:
            raise ValueError(
                "guidance_scale needs a model fitted with labels (fit(X, y)); "
                "leave it at 0 for this one."
            )
        device = self._module_device()
        generator = self._torch_generator(random_state, device)
        clip = None
        if self.clip_denoised:
            clip = [self._to_tensor(b, device) for b in self._data_range]
        trajectory = [] if return_trajectory else None
        x, categories = self.module_.sample(
            (n_samples, self._types.n_continuous),
            generator,
            timesteps=steps,
            sampler=sampler,
            labels=None if codes is None else torch.as_tensor(codes, device=device),
            guidance_scale=guidance_scale,
            eta=eta,
            clip=clip,
            variance_type=self.variance_type,
            trajectory=trajectory,
            progress=lambda r: tqdm(r, disable=self.verbose < 1),
        )
        values = self._scaler.inverse_transform(x.double().cpu().numpy())
        codes = None if categories is None else categories.cpu().numpy()
        out = self._types.decode(values, codes, container=self._container)
        if not return_trajectory:
            return out
        return out, self._scaler.inverse_transform(
            torch.stack(trajectory).double().numpy()
        )

    def _null_label(self, n_rows):
        """The null label of guidance, for rows given no label."""
        return np.full(n_rows, len(self.classes_))

    def _timesteps(self, n_steps, sampler="ddim"):
        """T, ..., 1, 0 for ancestral sampling; k spaced ones and 0 for DDIM.

        For DPM-Solver++ k (20 when None) spaced evenly in log-SNR.
        """
        from .schedule import check_n_steps, ddim_timesteps

        T = self.n_timesteps
        if sampler == "dpmpp_2m" and n_steps is None:
            n_steps = min(20, T)
        n_steps = check_n_steps(n_steps, T)
        if sampler == "dpmpp_2m":
            return self.module_.schedule.logsnr_timesteps(n_steps)
        return ddim_timesteps(T, n_steps, self.ddim_spacing)

    # --------------------------------------------------------------- score
    def score_samples(self, X, y=None):
        """The variational lower bound on log p(x) of each row, in nats.

        ``-L_T - sum_{t=2..T} L_{t-1} - L_0`` of Ho et al. (2020, eq. 5): the
        prior term, the KL terms between the forward posterior and the
        model's reverse step, and the decoder term, with the network's EMA
        weights; plus the log-Jacobian of the internal scaling, so it is a
        bound on the density of the data as given. With
        ``n_score_timesteps=m`` the T - 1 KL terms are estimated without bias:
        the timesteps 2..T are cut into m equal strata, one timestep is drawn
        in each, and its term is weighted by the stratum's size. Every draw is
        keyed on the row, so a row always gets the same score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or label, default=None
            Labels of a class-conditional model; without them the null-label
            (unconditional) model is scored.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        # Parameters scoring reads, which set_params may have changed.
        validate_params(self, ["n_score_timesteps", "variance_type"])
        X = self._validate_X(X, reset=False)
        codes = self._label_codes(y, len(X), missing=self._null_label)
        U = self._scaler.transform(X.continuous)
        categories = self._codes_or_none(X)
        T, d = self.n_timesteps, U.shape[1]
        k = 0 if categories is None else categories.shape[1]
        m = (
            T - 1
            if self.n_score_timesteps is None
            else min(T - 1, self.n_score_timesteps)
        )
        strata = np.array_split(np.arange(2, T + 1), m)  # contiguous runs of t
        sizes = np.array([len(s) for s in strata])
        starts = np.array([s[0] for s in strata])
        # Per row: a uniform per stratum (through the normal CDF), then the
        # noise of each KL term and of the decoder term, then a uniform per
        # categorical column and term for its noisy category.
        z = self._row_noise(U, codes, categories, shape=(m + (m + 1) * (d + k),))
        t = starts + np.minimum((ndtr(z[:, :m]) * sizes).astype(int), sizes - 1)
        noise = z[:, m : m + (m + 1) * d].reshape(len(U), m + 1, d)
        uniform = None
        if k:
            uniform = ndtr(z[:, m + (m + 1) * d :]).reshape(len(U), m + 1, k)
        weights = sizes.astype(np.float64)

        def negative_bound(module, u, c, steps, eps, cats, unif, mask=None):
            return module.negative_bound(
                u, c, steps, eps, weights, self.variance_type, cats, unif, mask
            )

        per_step = (
            d + sum(self._types.category_sizes) + 4 * max(self.hidden_layer_sizes)
        )
        if self._uses_unet():
            per_step = 6 * self.unet_channels * d
        U, mask = zero_filled(Encoded(U, X.codes))
        bound = self._map_rows(
            negative_bound,
            [U, codes, t, noise, categories, uniform, mask],
            bytes_per_row=8 * (m + 1) * per_step,
        )
        # The network's scaling, then the column types' (standardised dates),
        # each over the row's observed columns.
        jacobian = self._scaler.row_log_jacobian(X.continuous)
        return -bound + jacobian + self._types.log_jacobian(X.continuous)
