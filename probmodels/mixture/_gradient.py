"""Direct maximum likelihood for Gaussian mixtures, through the torch engine.

Maximise ``sum_n w_n log p(x_n)`` over unconstrained parameters, the
alternative to EM that Bishop (PRML, 2006, section 9.2) notes the explicit
likelihood allows (see ``docs/user_guide/mixture.rst``). Weights are a softmax
of logits; each covariance is ``Sigma = L L^T + reg_covar I`` with L lower
triangular whose diagonal is the exponential of a free parameter, so Sigma is
positive definite by construction and ``reg_covar`` means what it means for
EM; "diag" and "spherical" variances are ``exp(2 s) + reg_covar``.

Training runs in the project's one loop (:class:`~probmodels.engine.Trainer`):
L-BFGS on the full batch (one quasi-Newton step per iteration) or Adam on
mini-batches (one epoch per iteration), stopping when the mean
log-likelihood over all rows improves by less than ``tol``, as EM does. The
network is :class:`MixtureModule`, whose ``loss`` is the weighted negative
log-likelihood of a :class:`~probmodels.engine.Batch`; the functions here
take arrays and a :class:`~probmodels.engine.TrainingConfig`; the estimator
holds the loop over initialisations.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..engine import Batch, Trainer, TrainingConfig, as_tensor
from ..utils.chunks import iter_row_chunks
from ._gaussian import (
    component_logits,
    diagonal_regularisation,
    precision_cholesky,
    statistics_of,
)
from ._missing import MissingStatistics
from ._observed import mean_filled

__all__ = ["GradientData", "MixtureModule", "gradient_config", "train_mixture"]


class MixtureModule(nn.Module):
    """A Gaussian mixture with unconstrained parameters; ``forward`` is log p(x).

    With categorical columns, each component also has one softmax of logits
    per column (the latent class model), and ``forward(x, codes)`` adds each
    row's category log-probabilities.

    Parameters
    ----------
    weights, means, covariances : ndarray
        Starting point (scikit-learn layouts, means uncentred).
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float or ndarray of shape (n_features,)
    log_probs : ndarray of shape (n_components, sum(sizes)), optional
        Starting category log-probabilities, one block per column.
    sizes : sequence of int, default=()
        Categories of each categorical column.
    """

    def __init__(
        self,
        weights,
        means,
        covariances,
        covariance_type,
        reg_covar,
        log_probs=None,
        sizes=(),
    ):
        super().__init__()
        reg_covar = diagonal_regularisation(reg_covar, covariance_type)
        self.covariance_type = covariance_type
        # A buffer, so per-feature values move to the device with the module.
        self.register_buffer(
            "reg", torch.as_tensor(np.asarray(reg_covar, dtype=float))
        )
        self.sizes = tuple(int(s) for s in sizes)
        if self.sizes:
            self.category_logits = nn.Parameter(
                torch.tensor(np.ascontiguousarray(log_probs, dtype=float))
            )
        cov = np.asarray(covariances, dtype=float)
        with np.errstate(divide="ignore"):
            logits = np.maximum(np.log(np.asarray(weights, dtype=float)), -50.0)
        if covariance_type in ("full", "tied"):
            factor = _log_diag_cholesky(cov, reg_covar)
        else:
            var = cov - reg_covar
            factor = 0.5 * np.log(np.where(var > 0, var, cov))
        # C order: L-BFGS flattens parameters and gradients with view().
        self.logits, self.means, self.factor = (
            nn.Parameter(torch.tensor(np.ascontiguousarray(a, dtype=float)))
            for a in (logits, means, factor)
        )

    def covariances(self):
        """Covariances implied by the factors (with ``reg_covar``)."""
        raw = self.factor
        if self.covariance_type in ("full", "tied"):
            diag = torch.exp(torch.diagonal(raw, dim1=-2, dim2=-1))
            L = torch.tril(raw, diagonal=-1) + torch.diag_embed(diag)
            eye = torch.eye(L.shape[-1], dtype=L.dtype, device=L.device)
            return L @ L.transpose(-1, -2) + self.reg * eye
        return torch.exp(2 * raw) + self.reg

    def component_log_prob(self, X, codes=None):
        """``log w_k + log N(x; mu_k, Sigma_k) (+ sum_j log pi_kj)``, (n, K)."""
        n, d = X.shape
        k = len(self.logits)
        log_w = torch.log_softmax(self.logits, dim=0)
        if codes is not None and self.sizes:
            log_w = log_w + self._category_log_prob(codes)
        if d == 0:  # a table of categorical columns only
            return log_w.expand(n, k) if log_w.dim() == 1 else log_w
        cov = self.covariances()
        if X.isnan().any():
            return log_w + _observed_log_density(
                X, self.means, cov, self.covariance_type
            )
        diff = X[:, None, :] - self.means[None]  # (n, K, d)
        if self.covariance_type in ("full", "tied"):
            chol = torch.linalg.cholesky(cov).expand(k, d, d)
            z = torch.linalg.solve_triangular(chol[None], diff[..., None], upper=False)
            maha = (z[..., 0] ** 2).sum(-1)
            half_log_det = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        elif self.covariance_type == "diag":
            maha = (diff**2 / cov).sum(-1)
            half_log_det = 0.5 * torch.log(cov).sum(-1)
        else:
            maha = (diff**2).sum(-1) / cov
            half_log_det = 0.5 * d * torch.log(cov)
        return log_w - half_log_det - 0.5 * (d * math.log(2 * math.pi) + maha)

    def category_log_probs(self):
        """``log pi_kjc``: a log-softmax per column block, (K, sum(sizes))."""
        blocks = torch.split(self.category_logits, self.sizes, dim=1)
        return torch.cat([torch.log_softmax(b, dim=1) for b in blocks], dim=1)

    def _category_log_prob(self, codes):
        """``sum_j log pi_kj(c_nj)`` per row and component, (n, K).

        A missing category (code -1) adds nothing: its probabilities sum to 1.
        """
        offsets = torch.tensor(
            np.cumsum([0, *self.sizes[:-1]]), device=codes.device, dtype=codes.dtype
        )
        seen = codes >= 0
        picked = self.category_log_probs()[:, torch.where(seen, codes + offsets, 0)]
        return torch.where(seen, picked, 0.0).sum(-1).T

    def forward(self, X, codes=None):
        """``log p(x)`` of each row, differentiable."""
        return torch.logsumexp(self.component_log_prob(X, codes), dim=1)

    def loss(self, batch, generator=None):
        """Mean (weighted) negative log-likelihood of a batch: the training loss.

        ``-sum_i w_i log p(x_i) / sum_i w_i`` with the batch's ``weight``,
        the plain mean without.

        Parameters
        ----------
        batch : probmodels.engine.Batch
        generator : torch.Generator, optional
            Unused: the loss draws nothing.

        Returns
        -------
        torch.Tensor
            0-d.
        """
        lp = self(batch.x, batch.codes)
        w = batch.weight
        return -(lp.mean() if w is None else (lp @ w) / w.sum())

    def export(self):
        """(weights, means, covariances, precisions_cholesky, log_probs) as numpy."""
        with torch.no_grad():
            weights = torch.softmax(self.logits, 0).cpu().numpy()
            means = self.means.detach().cpu().numpy().copy()
            cov = self.covariances().cpu().numpy()
            log_probs = (
                self.category_log_probs().cpu().numpy()
                if self.sizes
                else np.empty((len(weights), 0))
            )
        return (
            weights,
            means,
            cov,
            precision_cholesky(cov, self.covariance_type),
            log_probs,
        )


def _observed_log_density(X, means, cov, covariance_type):
    """``log N(x_o; mu_ko, Sigma_koo)`` of rows with NaN, (n, K), differentiable.

    Each row's missing block is swapped for an identity: the matrix
    ``A = D_o Sigma D_o + D_m`` (D the 0/1 diagonals of observed and missing
    coordinates) is block-diagonal ``[Sigma_oo, I]``, so its Cholesky factor
    gives ``log |Sigma_oo|`` and, with the residual set to 0 where missing,
    the quadratic form of the observed entries (see ``_missing.py``).
    """
    observed = ~X.isnan()
    obs = observed.to(X.dtype)
    diff = (torch.nan_to_num(X)[:, None, :] - means[None]) * obs[:, None, :]
    n_obs = obs.sum(-1, keepdim=True)
    if covariance_type in ("full", "tied"):
        k, d = means.shape
        cov = cov.expand(k, d, d)
        both = obs[:, :, None] * obs[:, None, :]
        eye = torch.diag_embed(1.0 - obs)  # (n, d, d)
        A = both[:, None] * cov[None] + eye[:, None]
        chol = torch.linalg.cholesky(A)
        z = torch.linalg.solve_triangular(chol, diff[..., None], upper=False)[..., 0]
        maha = (z**2).sum(-1)
        half_log_det = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    else:
        var = cov if covariance_type == "diag" else cov[:, None]
        maha = (diff**2 / var[None]).sum(-1)
        half_log_det = 0.5 * (obs[:, None, :] * torch.log(var)[None]).sum(-1)
    return -half_log_det - 0.5 * (n_obs * math.log(2 * math.pi) + maha)


def _log_diag_cholesky(cov, reg):
    """Lower Cholesky factor of ``cov - reg I``, with a log-diagonal.

    Falls back to the factor of ``cov`` where ``cov - reg I`` is not positive
    definite; the log of the diagonal replaces the diagonal.
    """
    d = cov.shape[-1]
    try:
        L = np.linalg.cholesky(cov - reg * np.eye(d))
    except np.linalg.LinAlgError:
        L = np.linalg.cholesky(cov)
    out = np.tril(L, k=-1)
    idx = np.arange(d)
    out[..., idx, idx] = np.log(L[..., idx, idx])
    return out


def _full_data_loss(module, data):
    """Negative mean log-likelihood over every row, without a graph."""
    k, d = module.means.shape
    X, w, codes = data.X, data.weight, data.codes
    total = 0.0
    with torch.no_grad():
        # The (rows, K, d) differences are the largest temporary.
        for rows in iter_row_chunks(len(X), 8 * k * max(d, 1) ** 2):
            lp = module(X[rows], None if codes is None else codes[rows])
            total += float(lp.sum() if w is None else lp @ w[rows])
    return -total / (len(X) if w is None else float(w.sum()))


class GradientData:
    """Centred rows and their weights, in numpy and on the training device.

    What :class:`~probmodels.mixture._base.BaseMixture` needs of a solver's
    data: ``statistics(resp)`` to initialise and ``labels(theta)`` after the
    fit, both in the centred coordinates.

    Parameters
    ----------
    Xc : ndarray of shape (n_samples, n_features)
        Rows centred on the fit's centre: continuous columns, then one-hot
        blocks of the categorical ones (``sizes``).
    sample_weight : ndarray of shape (n_samples,) or None
    covariance_type : str
    device : torch.device
    strategy : Strategy
        The call's (one process, or DDP), which training goes through.
    sizes : sequence of int, default=()
        Categories of each categorical column; their codes travel in the
        batch's ``codes`` field.
    """

    def __init__(self, Xc, sample_weight, covariance_type, device, strategy, sizes=()):
        self.Xc, self.covariance_type, self.device = Xc, covariance_type, device
        self.strategy, self.sizes = strategy, list(sizes)
        self.n_onehot = sum(self.sizes)
        d = Xc.shape[1] - self.n_onehot
        self.X = as_tensor(Xc[:, :d], device)
        self.codes = None
        if self.sizes:
            blocks = np.split(Xc[:, d:], np.cumsum(self.sizes)[:-1], axis=1)
            codes = np.column_stack(
                [
                    np.where(np.isnan(b[:, 0]), -1, np.nan_to_num(b).argmax(axis=1))
                    for b in blocks
                ]
            )
            self.codes = torch.as_tensor(codes, dtype=torch.long, device=device)
        self._weight = sample_weight
        self.weight = (
            None if sample_weight is None else as_tensor(sample_weight, device)
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # Free device memory as soon as fitting ends.
        self.X = self.weight = self.codes = None

    def statistics(self, resp: np.ndarray) -> np.ndarray:
        """``S = Phi^T R`` for given responsibilities (to initialise).

        Missing entries count at their column's mean, as EM starts.
        """
        filled = mean_filled(self.Xc, None if self.weight is None else self._weight)
        return statistics_of(filled, resp, self.covariance_type, self.n_onehot)

    def labels(self, theta: np.ndarray) -> np.ndarray:
        """Most likely component of each row, shape (n_samples,)."""
        if np.isnan(self.Xc.sum()):
            missing = MissingStatistics(
                self.Xc, None, self.covariance_type, self.n_onehot
            )
            return missing.labels(theta)
        logits = component_logits(
            self.Xc, theta, self.covariance_type, 0.0, self.n_onehot
        )
        return logits.argmax(axis=1)


def train_mixture(
    start,
    data,
    covariance_type,
    reg_covar,
    config,
    optimizer_state=None,
    max_epochs=None,
):
    """Maximise the likelihood from ``start``; return the parameters and the run.

    Parameters
    ----------
    start : tuple
        (weights, means, covariances, ...) in the coordinates of ``data``.
    data : GradientData
    covariance_type : str
    reg_covar : float or ndarray of shape (n_features,)
    config : TrainingConfig
    optimizer_state : dict, optional
        Adam's state from a previous call (``partial_fit``).
    max_epochs : int, optional
        Overrides ``config.max_epochs``.

    Returns
    -------
    params : tuple
        (weights, means, covariances, precisions_cholesky, category
        log-probabilities) as numpy, in the coordinates of ``data``.
    result : TrainingResult
        ``history[i]["monitor"]`` is the negative mean log-likelihood of all
        rows after iteration i.
    """
    weights, means, cov = start[:3]
    module = MixtureModule(
        weights, means, cov, covariance_type, reg_covar, start[4], data.sizes
    )
    module = module.to(data.device)
    trainer = Trainer(module, config, data.device, strategy=data.strategy)
    result = trainer.fit(
        Batch(data.X, weight=data.weight, codes=data.codes),
        monitor=lambda: _full_data_loss(module, data),
        optimizer_state=optimizer_state,
        max_epochs=max_epochs,
    )
    return module.export(), result


def gradient_config(mixture, seeds, partial: bool = False):
    """The engine's settings for a mixture's gradient solver.

    No weight decay (AdamW without it is Adam) and a constant rate; the first
    change below ``tol`` stops, as for EM. ``partial_fit`` takes one Adam
    epoch per call and never stops early.

    Parameters
    ----------
    mixture : GaussianMixture
        Its ``optimizer``, ``batch_size``, ``lr``, ``max_iter``, ``tol`` and
        ``verbose`` are read.
    seeds : Seeds
        The fit's seeds (the order of the mini-batches).
    partial : bool, default=False

    Returns
    -------
    TrainingConfig
    """
    name = mixture.optimizer
    if partial or name == "auto":
        name = "lbfgs" if mixture.batch_size is None and not partial else "adam"
    default_lr = 1.0 if name == "lbfgs" else 0.01
    return TrainingConfig(
        max_epochs=mixture.max_iter,
        batch_size=mixture.batch_size,
        lr=default_lr if mixture.lr is None else mixture.lr,
        weight_decay=0.0,
        optimizer="lbfgs" if name == "lbfgs" else "adamw",
        lr_schedule="constant",
        tol=None if partial else mixture.tol,
        n_iter_no_change=1,
        verbose=int(mixture.verbose >= 2),
        seeds=seeds,
        description=f"{type(mixture).__name__} ({name})",
    )
