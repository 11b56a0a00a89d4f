"""Direct maximum likelihood for Gaussian mixtures, through the torch engine.

The seed's MLE view (section 4.2): maximise ``sum_n w_n log p(x_n)`` over
unconstrained parameters. Weights are a softmax of logits; each covariance is
``Sigma = L L^T + reg_covar I`` with L lower triangular whose diagonal is the
exponential of a free parameter, so Sigma is positive definite by
construction and ``reg_covar`` means what it means for EM; "diag" and
"spherical" variances are ``exp(2 s) + reg_covar``.

Training runs in the project's one loop (:class:`~probmodels.nn._engine.
Trainer`): L-BFGS on the full batch (one quasi-Newton step per iteration) or
Adam on mini-batches (one epoch per iteration), stopping when the mean
log-likelihood over all rows improves by less than ``tol``, as EM does.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..nn._device import as_tensor, tensors_to_cpu
from ..nn._engine import Trainer, TrainingConfig
from ._gaussian import features, precision_cholesky

__all__ = [
    "MixtureModule",
    "fit_gradient",
    "initial_parameters",
    "partial_fit_gradient",
]


class MixtureModule(nn.Module):
    """A Gaussian mixture with unconstrained parameters; ``forward`` is log p(x).

    Parameters
    ----------
    weights, means, covariances : ndarray
        Starting point (scikit-learn layouts, means uncentred).
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float
    """

    def __init__(self, weights, means, covariances, covariance_type, reg_covar):
        super().__init__()
        self.covariance_type, self.reg = covariance_type, reg_covar
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

    def component_log_prob(self, X):
        """``log w_k + log N(x; mu_k, Sigma_k)``, shape (n, K), differentiable."""
        n, d = X.shape
        k = len(self.logits)
        cov = self.covariances()
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
        log_w = torch.log_softmax(self.logits, dim=0)
        return log_w - half_log_det - 0.5 * (d * math.log(2 * math.pi) + maha)

    def forward(self, X):
        """``log p(x)`` of each row, differentiable."""
        return torch.logsumexp(self.component_log_prob(X), dim=1)

    def export(self):
        """(weights, means, covariances, precisions_cholesky) as numpy."""
        with torch.no_grad():
            weights = torch.softmax(self.logits, 0).cpu().numpy()
            means = self.means.detach().cpu().numpy().copy()
            cov = self.covariances().cpu().numpy()
        return (
            weights,
            means,
            cov,
            precision_cholesky(cov, self.covariance_type, self.reg),
        )


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


def _negative_log_likelihood(module, X, w=None):
    """Mean (weighted) negative log-likelihood of a batch: the training loss."""
    lp = module(X)
    return -(lp.mean() if w is None else (lp @ w) / w.sum())


def _full_data_loss(module, X, w, batch=65536):
    """Negative mean log-likelihood over every row, without a graph."""
    total = 0.0
    with torch.no_grad():
        for lo in range(0, len(X), batch):
            lp = module(X[lo : lo + batch])
            total += float(lp.sum() if w is None else lp @ w[lo : lo + batch])
    return -total / (len(X) if w is None else float(w.sum()))


def _config(est, seed, **fields):
    """The engine's settings for ``est`` (no weight decay, constant rate)."""
    name = est.optimizer
    if name == "auto":
        name = "lbfgs" if est.batch_size is None else "adam"
    lr = est.lr if est.lr is not None else (1.0 if name == "lbfgs" else 0.01)
    config = TrainingConfig(
        max_epochs=est.max_iter,
        batch_size=est.batch_size,
        lr=lr,
        weight_decay=0.0,  # AdamW without decay is Adam
        optimizer="lbfgs" if name == "lbfgs" else "adamw",
        lr_schedule="constant",
        tol=est.tol,
        n_iter_no_change=1,  # stop at the first change below tol, as EM
        verbose=int(est.verbose >= 2),
        seed=seed,
        description=f"{type(est).__name__} ({name})",
    )
    for key, value in fields.items():
        setattr(config, key, value)
    return config


def _chunked_statistics(Xc, resp, covariance_type, chunk=8192):
    """``Phi^T R`` without holding Phi for all rows at once."""
    return sum(
        features(Xc[lo : lo + chunk], covariance_type) @ resp[lo : lo + chunk]
        for lo in range(0, len(Xc), chunk)
    )


def initial_parameters(est, X, center, weight, inits, rng):
    """The starting point EM would use, with uncentred means."""
    Xc = X - center
    stats_of = lambda r: _chunked_statistics(Xc, r, est.covariance_type)  # noqa: E731
    weights, means_c, cov, _ = est._initialize(X, stats_of, weight, inits, rng, center)
    return weights, means_c + center, cov


def _train(est, start, X_t, w_t, device, seed, **fields):
    module = MixtureModule(*start, est.covariance_type, est.reg_covar).to(device)
    config = _config(est, seed, **fields)
    train = (X_t,) if w_t is None else (X_t, w_t)
    trainer = Trainer(module, _negative_log_likelihood, config, device)
    monitor = lambda: _full_data_loss(module, X_t, w_t)  # noqa: E731
    return module, trainer, train, monitor


def fit_gradient(est, X, center, weight, inits, rng, device, warm):
    """Fit ``est``'s mixture by gradient MLE; same return as EM's loop.

    Returns
    -------
    params : tuple
        (weights, means, covariances, precisions_cholesky), means centred on
        ``center``.
    converged : bool
    n_iter : int
    bounds : list of float
        Mean log-likelihood after each iteration.
    labels : ndarray of shape (n_samples,)
    """
    X_t = as_tensor(X, device)
    w_t = None if weight is None else as_tensor(weight, device)
    best = None
    for init in range(1 if warm else est.n_init):
        est._report(f"Initialization {init}", 1)
        if warm:
            start = (est.weights_, est.means_, est.covariances_)
        else:
            start = initial_parameters(est, X, center, weight, inits, rng)
        module, trainer, train, monitor = _train(
            est, start, X_t, w_t, device, int(rng.integers(2**62))
        )
        result = trainer.fit(train, monitor=monitor)
        bounds = [-record["monitor"] for record in result.history]
        bound = bounds[-1] if bounds else -np.inf
        if best is None or bound > best[0]:
            best = (bound, module, result.converged, result.n_epochs, bounds)
    _, module, converged, n_iter, bounds = best
    weights, means, cov, prec_chol = module.export()
    with torch.no_grad():
        labels = np.concatenate(
            [
                module.component_log_prob(X_t[lo : lo + 65536])
                .argmax(dim=1)
                .cpu()
                .numpy()
                for lo in range(0, len(X), 65536)
            ]
        )
    return (weights, means - center, cov, prec_chol), converged, n_iter, bounds, labels


def partial_fit_gradient(est, X, weight, start, device, seed, optimizer_state):
    """One Adam epoch over a chunk, continuing from ``start``.

    Returns
    -------
    params : tuple
        (weights, means, covariances, precisions_cholesky), means uncentred.
    bound : float
        Mean log-likelihood of the chunk after the pass.
    optimizer_state : dict
        Adam's state on the CPU, for the next call.
    """
    if est.optimizer == "lbfgs":
        raise ValueError(
            "partial_fit takes Adam steps over each chunk; use optimizer='adam' "
            "or 'auto' (L-BFGS needs the full batch)."
        )
    X_t = as_tensor(X, device)
    w_t = None if weight is None else as_tensor(weight, device)
    lr = est.lr if est.lr is not None else 0.01
    module, trainer, train, monitor = _train(
        est, start, X_t, w_t, device, seed, optimizer="adamw", lr=lr, tol=None
    )
    result = trainer.fit(
        train, monitor=monitor, optimizer_state=optimizer_state, max_epochs=1
    )
    return (
        module.export(),
        -result.history[-1]["monitor"],
        tensors_to_cpu(result.optimizer_state),
    )
