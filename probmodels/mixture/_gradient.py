"""Direct maximum likelihood for Gaussian mixtures with torch.

The seed's MLE view (section 4.2): maximise ``sum_n w_n log p(x_n)`` over
unconstrained parameters. Weights are a softmax of logits; each covariance is
``Sigma = L L^T + reg_covar I`` with L lower triangular whose diagonal is the
exponential of a free parameter, so Sigma is positive definite by
construction and ``reg_covar`` means what it means for EM; "diag" and
"spherical" variances are ``exp(2 s) + reg_covar``.

Full batch uses L-BFGS with a strong-Wolfe line search; mini-batches use Adam.
One iteration is one L-BFGS step or one epoch; ``tol`` applies to the change
of the mean log-likelihood over all rows, as for EM.
"""

from __future__ import annotations

import math

import numpy as np

from ..nn._device import as_tensor
from ._gaussian import features, precision_cholesky

__all__ = ["MixtureParameters", "fit_gradient", "partial_fit_gradient"]


class MixtureParameters:
    """Unconstrained mixture parameters as torch leaf tensors.

    Parameters
    ----------
    weights, means, covariances : ndarray
        Starting point (scikit-learn layouts, means uncentred).
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float
    device : torch.device
    """

    def __init__(self, weights, means, covariances, covariance_type, reg_covar, device):
        import torch

        self.torch, self.covariance_type, self.reg = torch, covariance_type, reg_covar
        cov = np.asarray(covariances, dtype=float)
        with np.errstate(divide="ignore"):
            logits = np.maximum(np.log(np.asarray(weights, dtype=float)), -50.0)
        if covariance_type in ("full", "tied"):
            factor = _log_diag_cholesky(cov, reg_covar)
        else:
            var = cov - reg_covar
            factor = 0.5 * np.log(np.where(var > 0, var, cov))
        # C order: L-BFGS flattens parameters and gradients with view().
        self.leaves = [
            torch.tensor(
                np.ascontiguousarray(a, dtype=float), device=device, requires_grad=True
            )
            for a in (logits, means, factor)
        ]

    def covariances(self):
        """Covariances implied by the factors (with ``reg_covar``)."""
        torch, raw = self.torch, self.leaves[2]
        if self.covariance_type in ("full", "tied"):
            diag = torch.exp(torch.diagonal(raw, dim1=-2, dim2=-1))
            L = torch.tril(raw, diagonal=-1) + torch.diag_embed(diag)
            eye = torch.eye(L.shape[-1], dtype=L.dtype, device=L.device)
            return L @ L.transpose(-1, -2) + self.reg * eye
        return torch.exp(2 * raw) + self.reg

    def component_log_prob(self, X):
        """``log w_k + log N(x; mu_k, Sigma_k)``, shape (n, K), differentiable."""
        torch = self.torch
        logits, means, _ = self.leaves
        n, d = X.shape
        k = len(logits)
        cov = self.covariances()
        diff = X[:, None, :] - means[None]  # (n, K, d)
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
        log_w = torch.log_softmax(logits, dim=0)
        return log_w - half_log_det - 0.5 * (d * math.log(2 * math.pi) + maha)

    def log_prob(self, X):
        """``log p(x)`` of each row, differentiable."""
        return self.torch.logsumexp(self.component_log_prob(X), dim=1)

    def export(self):
        """(weights, means, covariances, precisions_cholesky) as numpy."""
        torch = self.torch
        with torch.no_grad():
            weights = torch.softmax(self.leaves[0], 0).cpu().numpy()
            means = self.leaves[1].detach().cpu().numpy().copy()
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


def _batches(n, batch):
    return [(lo, min(n, lo + batch)) for lo in range(0, n, batch)]


def _mean_log_likelihood(model, X, w, total, batch=65536):
    """Mean (weighted) log-likelihood over all rows, without a graph."""
    with model.torch.no_grad():
        value = 0.0
        for lo, hi in _batches(len(X), batch):
            lp = model.log_prob(X[lo:hi])
            value += float(lp.sum() if w is None else lp @ w[lo:hi])
    return value / total


def _diverged(what, iteration, lr):
    return FloatingPointError(
        f"The {what} at iteration {iteration}: the optimiser diverged. Use a "
        f"lower lr (now {lr}), a larger reg_covar, or scale the data."
    )


def _check_finite(value, iteration, lr):
    if not math.isfinite(value):
        raise _diverged(f"log-likelihood became {value}", iteration, lr)


def _optimizer_choice(est):
    name = est.optimizer
    if name == "auto":
        name = "lbfgs" if est.batch_size is None else "adam"
    if name == "lbfgs" and est.batch_size is not None:
        raise ValueError(
            "optimizer='lbfgs' works on the full batch; drop batch_size or use "
            "optimizer='adam' for mini-batches."
        )
    lr = est.lr if est.lr is not None else (1.0 if name == "lbfgs" else 0.01)
    return name, lr


def _adam_epoch(model, opt, X, w, batch, generator):
    """One shuffled pass of Adam steps over the rows of X."""
    torch = model.torch
    order = torch.randperm(len(X), generator=generator).to(X.device)
    for lo, hi in _batches(len(X), batch):
        idx = order[lo:hi]
        opt.zero_grad()
        lp = model.log_prob(X[idx])
        loss = -(lp.mean() if w is None else (lp @ w[idx]) / w[idx].sum())
        loss.backward()
        opt.step()


def _optimise(model, X, w, total, est, generator, report):
    """Run the optimiser until ``tol`` or ``max_iter``; (converged, n_iter, bounds)."""
    torch = model.torch
    name, lr = _optimizer_choice(est)
    if name == "lbfgs":
        # One quasi-Newton update per iteration; max_eval must be explicit, as
        # torch derives it from max_iter (1 here), which starves the line search.
        opt = torch.optim.LBFGS(
            model.leaves,
            lr=lr,
            max_iter=1,
            max_eval=25,
            history_size=20,
            line_search_fn="strong_wolfe",
        )

        def closure():
            opt.zero_grad()
            lp = model.log_prob(X)
            loss = -(lp.sum() if w is None else lp @ w) / total
            loss.backward()
            return loss

        step = lambda: opt.step(closure)  # noqa: E731
    else:
        opt = torch.optim.Adam(model.leaves, lr=lr)
        batch = est.batch_size or len(X)
        step = lambda: _adam_epoch(model, opt, X, w, batch, generator)  # noqa: E731
    bounds, previous, converged, n_iter = [], -np.inf, False, 0
    for n_iter in range(1, est.max_iter + 1):
        try:
            step()
            bound = _mean_log_likelihood(model, X, w, total)
        except torch.linalg.LinAlgError:
            raise _diverged(
                "covariances stopped being positive definite", n_iter, lr
            ) from None
        _check_finite(bound, n_iter, lr)
        bounds.append(bound)
        report(n_iter, bound - previous)
        if abs(bound - previous) < est.tol:
            converged = True
            break
        previous = bound
    return converged, n_iter, bounds


def _chunked_statistics(Xc, resp, covariance_type, chunk=8192):
    """``Phi^T R`` without holding Phi for all rows at once."""
    return sum(
        features(Xc[lo:hi], covariance_type) @ resp[lo:hi]
        for lo, hi in _batches(len(Xc), chunk)
    )


def _torch_generator(rng):
    import torch

    return torch.Generator(device="cpu").manual_seed(int(rng.integers(2**63 - 1)))


def initial_parameters(est, X, center, weight, inits, rng):
    """The starting point EM would use, with uncentred means."""
    Xc = X - center
    stats_of = lambda r: _chunked_statistics(Xc, r, est.covariance_type)  # noqa: E731
    weights, means_c, cov, _ = est._initialize(X, stats_of, weight, inits, rng, center)
    return weights, means_c + center, cov


def fit_gradient(est, X, center, weight, inits, rng, device, warm):
    """Fit ``est``'s mixture by gradient MLE.

    Returns
    -------
    params : tuple
        (weights, means, covariances, precisions_cholesky), means centred on
        ``center`` as EM's loop returns them.
    converged : bool
    n_iter : int
    bounds : list of float
    labels : ndarray of shape (n_samples,)
    """
    import torch

    X_t = as_tensor(X, device)
    w_t = None if weight is None else as_tensor(weight, device)
    total = float(len(X) if weight is None else weight.sum())
    generator = _torch_generator(rng)

    def report(n_iter, change):
        if n_iter % est.verbose_interval == 0:
            est._report(f"  Iteration {n_iter}\t ll change {change:.5f}", 2)

    best = None
    for init in range(1 if warm else est.n_init):
        est._report(f"Initialization {init}", 1)
        if warm:
            start = (est.weights_, est.means_, est.covariances_)
        else:
            start = initial_parameters(est, X, center, weight, inits, rng)
        model = MixtureParameters(*start, est.covariance_type, est.reg_covar, device)
        converged, n_iter, bounds = _optimise(
            model, X_t, w_t, total, est, generator, report
        )
        bound = bounds[-1] if bounds else -np.inf
        if best is None or bound > best[0]:
            best = (bound, model, converged, n_iter, bounds)
    _, model, converged, n_iter, bounds = best
    weights, means, cov, prec_chol = model.export()
    with torch.no_grad():
        labels = np.concatenate(
            [
                model.component_log_prob(X_t[lo:hi]).argmax(dim=1).cpu().numpy()
                for lo, hi in _batches(len(X), 65536)
            ]
        )
    return (weights, means - center, cov, prec_chol), converged, n_iter, bounds, labels


def partial_fit_gradient(est, X, weight, start, device, generator, adam_state):
    """One Adam epoch over a chunk from ``start``.

    Parameters
    ----------
    est : GaussianMixture
    X : ndarray of shape (n_samples, n_features)
    weight : ndarray or None
    start : tuple
        (weights, means, covariances) to continue from.
    device : torch.device
    generator : torch.Generator
        Shuffles the chunk.
    adam_state : dict or None
        Adam's moments from the previous call, as numpy arrays.

    Returns
    -------
    params : tuple
        (weights, means, covariances, precisions_cholesky), means uncentred.
    bound : float
        Mean log-likelihood of the chunk after the pass.
    adam_state : dict
        Moments to pass to the next call.
    """
    import torch

    if est.optimizer == "lbfgs":
        raise ValueError(
            "partial_fit takes Adam steps over each chunk; use optimizer='adam' "
            "or 'auto' (L-BFGS needs the full batch)."
        )
    lr = est.lr if est.lr is not None else 0.01
    model = MixtureParameters(*start, est.covariance_type, est.reg_covar, device)
    opt = torch.optim.Adam(model.leaves, lr=lr)
    if adam_state is not None:
        opt.load_state_dict(_state_to_torch(adam_state, device))
    X_t = as_tensor(X, device)
    w_t = None if weight is None else as_tensor(weight, device)
    total = float(len(X) if weight is None else weight.sum())
    try:
        _adam_epoch(model, opt, X_t, w_t, est.batch_size or len(X), generator)
        bound = _mean_log_likelihood(model, X_t, w_t, total)
    except torch.linalg.LinAlgError:
        raise _diverged("covariances stopped being positive definite", 1, lr) from None
    _check_finite(bound, 1, lr)
    return model.export(), bound, _state_to_numpy(opt.state_dict())


def _state_to_numpy(state):
    """Adam's state dict with numpy arrays: pickles without torch devices."""
    return {
        "state": {
            i: {k: v.detach().cpu().numpy() for k, v in s.items()}
            for i, s in state["state"].items()
        },
        "param_groups": state["param_groups"],
    }


def _state_to_torch(state, device):
    import torch

    return {
        "state": {
            i: {
                k: torch.as_tensor(v, device="cpu" if k == "step" else device)
                for k, v in s.items()
            }
            for i, s in state["state"].items()
        },
        "param_groups": state["param_groups"],
    }
