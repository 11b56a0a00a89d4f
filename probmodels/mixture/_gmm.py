"""GaussianMixture: EM or direct gradient MLE, scikit-learn's names and meanings."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import atomic_fit, fitted_column_types, restore_new_parameters
from ..columns import ColumnTypes, document_table_parameters, one_hot
from ..engine import Seeds, fitting, resolve_device, torch_device
from ..utils.validation import check_rows_observed, validate_features
from ._base import BaseMixture, MixtureRun, available_with_solver
from ._conditional import ConditionalMixture
from ._em import NumpyStatistics, TorchStatistics
from ._gaussian import (
    category_log_probabilities,
    check_init_parameters,
    covariances_from_precisions,
    features,
    n_statistics,
    natural_parameters,
    parameters_from_statistics,
    precision_cholesky,
    precision_cholesky_from_precisions,
    precisions_from_cholesky,
)
from ._inference import GaussianInference
from ._init import initial_responsibilities
from ._missing import MissingStatistics
from ._observed import mean_filled
from ._self_masking import SelfMaskingStatistics

__all__ = ["GaussianMixture"]


@document_table_parameters
class GaussianMixture(ConditionalMixture, GaussianInference, BaseMixture):
    """Gaussian mixture ``p(x) = sum_k pi_k N(x; mu_k, Sigma_k)``.

    The component index is a latent variable (Bishop, PRML, 2006, section
    9.2). Parameters are fitted by expectation-maximisation (``solver="em"``;
    Dempster, Laird and Rubin, 1977), which follows scikit-learn's
    ``GaussianMixture`` step for step, or by maximising the log-likelihood
    directly with torch (``solver="gradient"``). Every scikit-learn parameter
    and fitted attribute has the same name and meaning, so switching is a
    change of import; ``sample_weight`` in ``fit`` is added.

    On a table with categorical columns (pandas ``category``, object,
    string or bool dtypes, or those named in ``categorical_features``) each
    component is a Gaussian over the continuous columns times an independent
    categorical distribution per categorical column (the latent class model:
    Hunt and Jorgensen, 2003; McParland and Gormley, 2016), still fitted by
    EM in closed form. Integer and datetime columns are modelled as
    continuous; :meth:`sample` gives the table back with its columns'
    kinds and dtypes (``docs/user_guide/tables.rst``).

    Missing entries (NaN, None, NaT, pd.NA) are fitted exactly by EM over
    each row's observed entries (Ghahramani and Jordan, 1994), assuming
    they are missing at random: ``score_samples`` is then the density of
    the observed entries, :meth:`impute` fills them from p(missing |
    observed) and ``sample(given=...)`` draws rows with some columns fixed,
    from the exact conditional (``docs/user_guide/missing.rst``).

    The EM step is written over the sufficient statistics ``[1, x, x x^T]`` of
    the centred data: the E-step is one matrix product and the M-step another,
    computed chunk by chunk on all CPU cores (or on a GPU with ``device``).
    ``fit`` also takes a Dask array chunked by rows, for data larger than
    memory: each EM iteration is one pass over the chunks where they live,
    and ``predict``, ``predict_proba`` and ``score_samples`` return lazy Dask
    arrays (``docs/user_guide/scaling.rst``).

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        Each component's own full covariance, one shared full covariance,
        diagonal covariances, or one variance per component.
    tol : float, default=1e-3
        Convergence threshold on the change of the mean log-likelihood
        (the lower bound) between iterations.
    reg_covar : float, default=1e-6
        Added to the diagonal of the covariances, so they stay positive
        definite. On a table with categorical columns, relative: each
        continuous column gets ``reg_covar`` times its variance over the
        training rows, so columns in large units or with spikes (a value
        most rows share) do not break EM (``docs/user_guide/tables.rst``).
    max_iter : int, default=100
        EM iterations; for ``solver="gradient"``, optimiser passes over the
        data (L-BFGS steps or mini-batch epochs).
    n_init : int, default=1
        Number of initialisations; the best result is kept.
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, default="kmeans"
        How initial responsibilities are chosen.
    weights_init : array-like of shape (n_components,), default=None
    means_init : array-like of shape (n_components, n_features), default=None
    precisions_init : array-like, default=None
        Initial parameters, overriding those from ``init_params``; the shape of
        ``precisions_init`` follows ``covariance_type`` as in scikit-learn.
    random_state : int, RandomState, Generator or None, default=None
        Seeds initialisation and mini-batch order; :meth:`sample` draws from a
        generator seeded from it.
    warm_start : bool, default=False
        Start the next ``fit`` from the current solution (``n_init`` ignored).
    verbose : int, default=0
        1 reports each initialisation, 2 also every ``verbose_interval``
        iterations.
    verbose_interval : int, default=10
    solver : {"em", "gradient"}, default="em"
        Expectation-maximisation, or gradient ascent on the log-likelihood
        over unconstrained parameters (softmax weights, means, Cholesky
        factors with log-diagonal).
    optimizer : {"auto", "lbfgs", "adam"}, default="auto"
        For ``solver="gradient"``: L-BFGS on the full batch, or Adam on
        mini-batches; "auto" picks L-BFGS without ``batch_size``, else Adam.
    batch_size : int or None, default=None
        Mini-batch size for ``solver="gradient"`` (None: the full batch).
    lr : float or None, default=None
        Learning rate for ``solver="gradient"`` (None: 1.0 for L-BFGS, 0.01
        for Adam).
    device : str, default="auto"
        Where fitting runs: "auto" (CUDA when available, else CPU), "cpu",
        "cuda", "cuda:N". Fitted attributes are numpy arrays either way.
    distributed : bool or "auto", default="auto"
        For ``solver="gradient"`` under ``torchrun``: train data-parallel,
        as the neural estimators do (see the "Scaling out" guide). EM, or
        False, fits in each process on its own.
    %(table_parameters)s
    missing : {"mar", "mnar"}, default="mar"
        What the holes are assumed to be. "mar": missing at random (the
        observed entries decide nothing about the missing ones' chance of
        being missing beyond what they show). "mnar": missing because of
        the value itself, modelled: each continuous column j goes missing
        with probability ``sigmoid(a_j + b_j x_j)``, fitted jointly with the
        mixture by Monte Carlo EM (values above a threshold left blank,
        readings below a detection limit). :meth:`impute` then draws from
        p(missing | observed, missing), ``score_samples`` is
        ``log p(observed, holes)`` (``bic`` counts the mask's parameters);
        ``sample`` and ``sample(given=...)`` draw from the full-data
        mixture. EM only, on numeric columns; what it assumes is in
        ``docs/user_guide/missing.rst``.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
        Over the continuous columns (integer and datetime ones included,
        datetimes as seconds since 1970 standardised by the training dates'
        mean and standard deviation), in their order; with no
        categorical column, every column. With ``quantile_transform``, the
        means (and covariances) of the normal scores.
    covariances_ : ndarray
        Shape (n_components, n_features, n_features) for "full",
        (n_features, n_features) for "tied", (n_components, n_features) for
        "diag", (n_components,) for "spherical".
    precisions_ : ndarray
        Inverses of the covariances, same shapes.
    precisions_cholesky_ : ndarray
        Upper Cholesky factors U of the precisions (``U U^T``), or square
        roots for "diag" and "spherical".
    converged_ : bool
    n_iter_ : int
        Iterations of the best initialisation.
    lower_bound_ : float
        Mean log-likelihood per sample at the last iteration of the best
        initialisation (for EM, of the parameters before the last M-step, as
        scikit-learn reports it).
    lower_bounds_ : list of float
        ``lower_bound_`` at each iteration of the best initialisation.
    category_log_prob_ : list of ndarray
        Per categorical column, the log-probability of each category in
        each component, shape (n_components, n_categories) (scikit-learn's
        ``CategoricalNB.feature_log_prob_``); empty without categorical
        columns.
    categories_ : list of list
        The categories of each categorical column, in the order of
        ``category_log_prob_``'s columns.
    is_categorical_ : ndarray of bool of shape (n_features,)
        Which input columns are categorical.
    mask_intercept_, mask_coef_ : ndarray of shape (n_features,)
        With ``missing="mnar"`` and holes in the training rows: the fitted
        mask model, ``P(x_j missing | x_j) = sigmoid(mask_intercept_[j] +
        mask_coef_[j] * x_j)`` in the columns' units. A positive slope means
        large values go missing; ``-mask_intercept_ / mask_coef_`` is where
        half of them do.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When fitted on a DataFrame with string column names.

    See Also
    --------
    sklearn.mixture.GaussianMixture : the reference EM follows.

    Examples
    --------
    >>> import numpy as np
    >>> from probmodels import GaussianMixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-3, 1, (200, 2)), rng.normal(3, 1, (200, 2))]
    >>> gm = GaussianMixture(2, random_state=0).fit(X)
    >>> np.sort(gm.means_[:, 0]).round(0)
    array([-3.,  3.])
    >>> gm.sample(3).shape
    (3, 2)
    """

    _architecture_params = (
        "n_components",
        "covariance_type",
        "categorical_features",
        "quantile_transform",
        "missing",
    )

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [
            StrOptions({"kmeans", "k-means++", "random", "random_from_data"})
        ],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "random_state": ["random_state", np.random.Generator],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"em", "gradient"})],
        "optimizer": [StrOptions({"auto", "lbfgs", "adam"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "lr": [Interval(Real, 0.0, None, closed="neither"), None],
        "device": [str],
        "distributed": ["boolean", StrOptions({"auto"})],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "quantile_transform": ["boolean"],
        "missing": [StrOptions({"mar", "mnar"})],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        solver="em",
        optimizer="auto",
        batch_size=None,
        lr=None,
        device="auto",
        distributed="auto",
        categorical_features="from_dtype",
        quantile_transform=False,
        missing="mar",
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.solver = solver
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.distributed = distributed
        self.categorical_features = categorical_features
        self.quantile_transform = quantile_transform
        self.missing = missing

    # ------------------------------------------------------------------ fit
    @available_with_solver(
        "gradient", "which takes Adam steps over each chunk (EM refits on all rows)"
    )
    @atomic_fit
    def partial_fit(self, X, y=None, sample_weight=None):
        """Take one more pass of Adam steps over a chunk of data.

        For data that do not fit in memory: call it on successive chunks. The
        first call initialises the parameters from its chunk with
        ``init_params`` (or the ``*_init`` arrays); later calls continue from
        the current parameters, keeping Adam's moment estimates. Available with
        ``solver="gradient"``; mini-batches of ``batch_size`` rows (the whole
        chunk when None).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : GaussianMixture
        """
        if self.optimizer == "lbfgs":
            raise ValueError(
                "partial_fit takes Adam steps over each chunk; use optimizer='adam' "
                "or 'auto' (L-BFGS needs the full batch)."
            )
        return self._fit_chunk(X, sample_weight)

    def _fitting_context(self, method: str):
        """The data-parallel context of a fitting call (used by ``atomic_fit``).

        The gradient solver trains through the engine, data-parallel under
        ``torchrun``; EM fits in each process on its own.
        """
        import contextlib

        if self.solver != "gradient":
            return contextlib.nullcontext()
        params = self.get_params(deep=False)
        name = type(self).__name__
        return fitting(name, method, params, self.distributed, self.device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing entries, fitted exactly
        return tags

    def __getstate__(self):
        # The gradient solver's Adam state as arrays: a saved model holds no
        # torch object.
        state = dict(super().__getstate__())
        if state.get("_adam_state") is not None:
            from ..engine import tensors_to_numpy

            state["_adam_state"] = tensors_to_numpy(state["_adam_state"])
        return state

    def __setstate__(self, state):
        # Files written before categories_ was read from the column types
        # kept a copy of them.
        state = {k: v for k, v in state.items() if k != "categories_"}
        super().__setstate__(state)
        restore_new_parameters(self)  # a model from 0.1.0 has no categories
        if self.__dict__.get("_adam_state") is not None:
            from ..engine import numpy_to_tensors

            self._adam_state = numpy_to_tensors(self._adam_state)

    def _dask_source(self, X, sample_weight, rng):
        """A fit on a Dask array (see :mod:`probmodels.mixture._dask`): numbers."""
        if self.missing == "mnar":
            raise ValueError(
                "missing='mnar' is fitted in memory; a Dask array's chunks are "
                "fitted under MAR. Compute the array, or use missing='mar'."
            )
        from ._dask import mixture_dask_source

        source = mixture_dask_source(self, X, sample_weight, rng)
        self._columns = ColumnTypes.continuous(X.shape[1])
        self.is_categorical_ = self._columns.is_categorical
        return source

    # --------------------------------------------------- the table's columns
    def _validate_X(self, X, reset):
        """The model's rows: continuous columns, then one-hot categories.

        A table with categorical columns is read by the column-type layer
        (:class:`~probmodels.columns.ColumnTypes`, fitted when ``reset``);
        a numeric one gives the same array as before (the same fit, bit for
        bit).
        """
        if reset:
            self._columns, encoded = ColumnTypes.fit(
                X,
                self.categorical_features,
                quantile_transform=self.quantile_transform,
                allow_nan=True,
                ensure_min_samples=2,
            )
            validate_features(self, X, reset=True)
            self.is_categorical_ = self._columns.is_categorical
            self._reg_covar_scale = _column_variances(encoded)
        else:
            validate_features(self, X, reset=False)
            encoded = self._types.encode(X, allow_nan=True)
        rows = encoded.continuous
        if encoded.codes.shape[1]:
            onehot = one_hot(encoded.codes, self._types.category_sizes)
            rows = np.hstack([encoded.continuous, onehot])
        if np.isnan(rows.sum()):
            check_rows_observed(rows, getattr(X, "index", None))
        return rows

    @property
    def _types(self) -> ColumnTypes:
        """The fitted column types (all continuous for a model from 0.1.0)."""
        return fitted_column_types(self)

    def _regularisation(self):
        """What EM adds to the covariances' diagonal.

        ``reg_covar`` on a numeric array (scikit-learn's). On a table with
        categorical columns, ``reg_covar`` times each continuous column's
        variance over the training rows: the columns of a table come in
        their own units (a weight in the hundred thousands beside an age),
        and a component that collapses onto a spike (a gain that is 0 in
        92% of rows) must stay positive definite in every one of them.
        """
        scale = getattr(self, "_reg_covar_scale", None)
        return self.reg_covar if scale is None else self.reg_covar * scale

    @property
    def _n_onehot(self) -> int:
        return sum(self._types.category_sizes)

    def _center(self, X, weight):
        """The continuous columns' (observed) mean; one-hot columns are not moved."""
        center = np.average(mean_filled(X, weight), axis=0, weights=weight)
        if self._n_onehot:
            center[-self._n_onehot :] = 0.0
        return center

    def _fitted_width(self):
        return self.means_.shape[1] + sum(self._fitted_category_sizes())

    def _check_init_parameters(self, X):
        """The ``*_init`` arrays, validated against the continuous columns."""
        return check_init_parameters(
            self.weights_init,
            self.means_init,
            self.precisions_init,
            self.covariance_type,
            self.n_components,
            X.shape[1] - self._n_onehot,
        )

    def _fit_data(self, Xc, weight, strategy, partial=False):
        """The solver's view of the centred data (a context manager).

        EM gets the sufficient statistics Phi, streamed over CPU threads or
        held on a GPU; the gradient solver (and ``partial_fit``) gets the
        rows as tensors, on this process's device.
        """
        device = resolve_device(self.device)
        if self.missing == "mnar" and (partial or self.solver == "gradient"):
            raise ValueError(
                "missing='mnar' is fitted by EM over all rows: use fit with "
                "solver='em' (the gradient solver and partial_fit assume MAR)."
            )
        if partial or self.solver == "gradient":
            from ._gradient import GradientData

            device = torch_device(strategy.device(device, self.device))
            sizes = self._types.category_sizes
            return GradientData(
                Xc, weight, self.covariance_type, device, strategy, sizes
            )
        if self.missing == "mnar" and np.isnan(Xc.sum()):
            self._check_self_masking()
            return SelfMaskingStatistics(Xc, weight, self.covariance_type)
        if np.isnan(Xc.sum()):
            return MissingStatistics(Xc, weight, self.covariance_type, self._n_onehot)
        phi = features(Xc, self.covariance_type, self._n_onehot)
        if device == "cpu":
            return NumpyStatistics(phi, weight, n_components=self.n_components)
        return TorchStatistics(phi, weight, torch_device(device))

    def _single_run(self, data, start, lower_bound, total, rng):
        """One initialisation's fit by the chosen solver."""
        if self.solver == "em":
            return self._run_em(data, start, lower_bound, total)
        from ._gradient import gradient_config, train_mixture

        params, result = train_mixture(
            start,
            data,
            self.covariance_type,
            self._regularisation(),
            gradient_config(self, Seeds.draw(rng)),
        )
        bounds = [-record["monitor"] for record in result.history]
        return MixtureRun(params, bounds, result.converged, result.n_epochs)

    def _partial_run(self, data, start, rng):
        """One Adam epoch over the chunk, continuing the kept moments."""
        from ..engine import tensors_to_cpu
        from ._gradient import gradient_config, train_mixture

        params, result = train_mixture(
            start,
            data,
            self.covariance_type,
            self._regularisation(),
            gradient_config(self, Seeds.draw(rng), partial=True),
            optimizer_state=self._adam_state,
            max_epochs=1,
        )
        self._adam_state = tensors_to_cpu(result.optimizer_state)
        return MixtureRun(params, [-result.history[-1]["monitor"]], False, 1)

    def _check_self_masking(self):
        if self._n_onehot:
            raise ValueError(
                "missing='mnar' models the holes of continuous columns; this "
                "table has categorical columns. Fit them with missing='mar', or "
                "encode them as numbers."
            )

    def _pass_arguments(self, params):
        """What the E-step pass takes: theta, and the mask model under MNAR."""
        theta = self._natural_parameters(params)
        return (theta, params[5]) if len(params) > 5 else (theta,)

    def _e_step(self, stats_pass, params, total):
        """Sufficient statistics and mean log-likelihood under ``params``."""
        stats, ll = stats_pass(*self._pass_arguments(params))
        return stats, ll / total

    def _m_step(self, stats):
        """Parameters maximising the expected log-likelihood given ``stats``."""
        if isinstance(stats, tuple):  # MNAR: the mask model's M-step beside
            stats, mask_data = stats
            return (*self._m_step(stats), mask_data.maximise())
        d = self._types.n_continuous
        n_stat = n_statistics(self.covariance_type, d)
        nk, means_c, cov = parameters_from_statistics(
            stats[:n_stat], self.covariance_type, self._regularisation(), d
        )
        prec_chol = precision_cholesky(cov, self.covariance_type, self.reg_covar)
        log_probs = category_log_probabilities(
            stats[n_stat:], nk, self._types.category_sizes
        )
        return nk / nk.sum(), means_c, cov, prec_chol, log_probs

    def _initialize(self, X, stats_of, weight, inits, rng, center):
        """Initial parameters, as scikit-learn's ``_initialize_parameters``.

        Responsibilities from ``init_params`` give weights, means and
        covariances (``stats_of(resp)`` returns ``Phi^T resp``); user-given
        ``*_init`` arrays then replace their part. On a table with
        categorical columns, k-means sees the continuous columns scaled to
        unit variance beside the one-hot ones, so neither swamps the other.
        """
        weights_init, means_init, precisions_init = inits
        d, n_onehot = X.shape[1] - self._n_onehot, self._n_onehot
        n_stat = n_statistics(self.covariance_type, d)
        weights = means_c = cov = None
        resp = None
        if weights_init is None or means_init is None or precisions_init is None:
            seen = X = mean_filled(X, weight)
            if n_onehot and d:
                spread = X[:, :d].std(axis=0)
                seen = np.hstack([X[:, :d] / np.where(spread > 0, spread, 1), X[:, d:]])
            resp = initial_responsibilities(
                seen, self.n_components, self.init_params, weight, rng
            )
            if weight is not None:
                resp = resp * weight[:, None]
            stats = stats_of(resp)
            nk, means_c, cov = parameters_from_statistics(
                stats[:n_stat], self.covariance_type, self._regularisation(), d
            )
            weights = nk / (len(X) if weight is None else weight.sum())
            log_probs = category_log_probabilities(
                stats[n_stat:], nk, self._types.category_sizes
            )
        else:
            # Uniform category probabilities when every Gaussian part is given.
            log_probs = category_log_probabilities(
                np.zeros((n_onehot, self.n_components)),
                np.ones(self.n_components),
                self._types.category_sizes,
            )
        if weights_init is not None:
            weights = weights_init
        if means_init is not None:
            means_c = means_init - center[:d]
        if precisions_init is None:
            prec_chol = precision_cholesky(cov, self.covariance_type, self.reg_covar)
        else:
            prec_chol = precision_cholesky_from_precisions(
                precisions_init, self.covariance_type
            )
            cov = covariances_from_precisions(precisions_init, self.covariance_type)
        return weights, means_c, cov, prec_chol, log_probs

    # ----------------------------------------------------- fitted parameters
    def _set_parameters(
        self, weights, means_c, cov, prec_chol, log_probs, mask=None, *, center
    ):
        if not all(np.isfinite(a).all() for a in (weights, means_c, cov, prec_chol)):
            raise ValueError(
                "The fit ended with non-finite parameters (NaN or inf): the data "
                "or the *_init arrays are too large or degenerate for float64. "
                "Scale X (e.g. with StandardScaler) or raise reg_covar; the model "
                "was left as it was."
            )
        d = means_c.shape[1]
        self.weights_ = np.asarray(weights, dtype=float)
        self.means_ = means_c + center[:d]
        self.covariances_ = cov
        self.precisions_cholesky_ = prec_chol
        self.precisions_ = precisions_from_cholesky(prec_chol, self.covariance_type)
        starts = np.cumsum([0, *self._types.category_sizes])
        self.category_log_prob_ = [
            log_probs[:, a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)
        ]
        if mask is None:
            self.__dict__.pop("mask_intercept_", None)
            self.__dict__.pop("mask_coef_", None)
        else:  # centred units to the columns': a + b (x - c) = (a - b c) + b x
            self.mask_intercept_ = mask[0] - mask[1] * center[:d]
            self.mask_coef_ = mask[1].copy()

    @property
    def categories_(self):
        """The categories of each categorical column (see the class docstring).

        Read from the fitted column types, which store them as plain values
        for model files (a ``datetime.date`` category included).
        """
        return [list(c.categories) for c in self._types.columns if c.categorical]

    def _natural_parameters(self, params):
        """Theta of centred parameters: ``Theta phi(x)`` are the component logits."""
        weights, means_c, _, prec_chol, log_probs = params[:5]
        theta = natural_parameters(weights, means_c, prec_chol, self._covariance_type)
        return np.hstack([theta, log_probs]) if log_probs.shape[1] else theta

    @property
    def _covariance_type(self):
        """The covariance type fitted (``set_params`` may have changed it since)."""
        fitted = getattr(self, "_fitted_architecture", None)
        return self.covariance_type if fitted is None else fitted["covariance_type"]

    def _current_parameters(self, center):
        """Fitted parameters in the coordinates centred on ``center``."""
        log_probs = self._category_log_probs()
        if log_probs is None:
            log_probs = np.empty((len(self.weights_), 0))
        d = self.means_.shape[1]
        params = (
            self.weights_,
            self.means_ - center[:d],
            self.covariances_,
            self.precisions_cholesky_,
            log_probs,
        )
        if "mask_coef_" not in self.__dict__:
            return params
        mask = np.vstack(
            [self.mask_intercept_ + self.mask_coef_ * center[:d], self.mask_coef_]
        )
        return (*params, mask)


def _column_variances(encoded):
    """Each continuous column's variance (1 where it has none), or None.

    None unless the table has categorical and continuous columns (see
    ``GaussianMixture._regularisation``).
    """
    if not encoded.codes.shape[1] or not encoded.continuous.shape[1]:
        return None
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column all missing
        var = np.nanvar(encoded.continuous, axis=0)
    return np.where(np.isfinite(var) & (var > 0), var, 1.0)
