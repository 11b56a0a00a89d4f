"""The VAE's second stage: a Gaussian mixture prior fitted to its codes.

After training, scikit-learn's ``GaussianMixture`` is fitted by EM to draws
of the aggregate posterior ``q(z) = mean_x q(z | x)`` and becomes ``p(z)``
(a two-stage VAE: Dai and Wipf, ICLR 2019; Ghosh et al., ICLR 2020). See
``docs/user_guide/vae.rst``.
"""

from __future__ import annotations

import numpy as np

from ..columns import Encoded
from ..nn import zero_filled

__all__ = ["PRIOR_DRAWS", "VAEPrior"]

#: Posterior draws the mixture prior is fitted to: ten per training row,
#: within these bounds (enough for 20 full-covariance components in a few
#: dimensions, few enough that the EM fit stays a small part of a fit).
PRIOR_DRAWS = (2_000, 10_000)


class VAEPrior:
    """The mixture prior of :class:`~probmodels.VAE` and the KL weight it trains with."""

    #: The KL weights ``beta="auto"`` chooses between, by held-out bound.
    AUTO_BETAS = (0.5, 1.0)

    def _objective_settings(self, continuing, partial, n_rows):
        """The KL weights this fit trains: the candidates of ``beta="auto"``.

        "auto" with the mixture prior and ``train_importance=1`` trains at
        0.5 (sharp posteriors, samples that keep thin structure) and at 1
        (the standard VAE, the better bound where sharp posteriors
        overfit), and keeps the better on held-out rows; otherwise, and on
        fewer than two rows (none to hold out), "auto" is 1. A warm-started
        fit continues at the weight it chose.
        """
        if self.beta != "auto":
            return (float(self.beta),)
        if continuing:
            return (self.beta_,)
        if self.missing == "mnar":  # the importance-weighted bound, as below
            return (1.0,)
        if self.prior == "mixture" and self.train_importance == 1 and n_rows >= 2:
            return self.AUTO_BETAS
        return (1.0,)

    def _configure_objective(self, module, setting=None):
        """The KL weight (``setting``) and the importance samples of training."""
        if self.missing == "mnar" and setting != 1:
            raise ValueError(
                "missing='mnar' trains not-MIWAE's importance-weighted bound, "
                f"which has no KL weight: leave beta='auto' or 1 (got {self.beta})."
            )
        if self.train_importance > 1 and setting != 1:
            raise ValueError(
                f"train_importance={self.train_importance} trains the "
                "importance-weighted bound, which has no KL weight: leave "
                f"beta='auto' or 1 (got {self.beta}), or train_importance=1 "
                "for a beta-VAE."
            )
        module.beta = setting
        module.train_importance = int(self.train_importance)

    def _held_out_score(self, module, rows, codes, parts, seeds):
        """Mean bound (``n_importance`` draws) of the held-out rows.

        Under the prior the model would have: for ``prior="mixture"``, a
        mixture fitted to the codes of the training part, as ``fit`` fits
        one to all rows after. On the scaled rows: the scaling's
        log-Jacobian is the same for every candidate.
        """
        fit_rows, held_out = parts
        if self.prior == "mixture":
            self._fit_prior(
                _take(rows, fit_rows),
                None if codes is None else codes[fit_rows],
                seeds.prior,
                module,
            )
        self._score_seed = seeds.score  # keys the bound's draws, as after fit
        c = None if codes is None else self._one_hot(codes[held_out])
        return float(np.mean(self._bound(_take(rows, held_out), c, module)))

    def _commit_objective(self, setting, scores):
        self.beta_ = float(setting)
        self.beta_scores_ = scores if len(scores) > 1 else None

    def _held_out_purpose(self):
        """beta="auto" holds rows out when it chooses (see the base class)."""
        if len(self._objective_settings(False, False, 2)) > 1:
            return "beta='auto' (chosen on held-out rows)", "a beta of your choice (0.5 or 1)"
        return super()._held_out_purpose()

    def _fit_prior(self, rows, codes, seed, module=None):
        """The second stage: a mixture fitted by EM to the aggregate posterior.

        Ten draws of ``q(z | x)`` per row of ``rows``, at least 2,000 and
        at most 10,000 (``PRIOR_DRAWS``), made from ``seed``: from random
        rows, each drawn about equally often. The mixture's parameters are
        copied into the network's prior (``module``, by default the fitted
        one).
        """
        # scikit-learn's EM: the model families do not import each other.
        from sklearn.mixture import GaussianMixture

        module = self.module_ if module is None else module
        n = len(rows)
        rng = np.random.default_rng(seed)
        low, high = PRIOR_DRAWS
        total = min(max(10 * n, low), high)
        which = rng.permutation(np.tile(np.arange(n), -(-total // n)))[:total]
        rows = _take(rows, which)
        eps = rng.standard_normal((len(which), self.latent_dim), dtype=np.float32)
        labels = None if codes is None else self._one_hot(codes[which])
        u, mask = zero_filled(rows)
        arrays = [u, labels, eps, self._codes_or_none(rows), mask]
        draws = self._map_rows(_posterior_draws, arrays, self._row_bytes(), module=module)
        mixture = GaussianMixture(
            n_components=min(self.n_prior_components, len(draws)),
            covariance_type="full",
            random_state=int(rng.integers(2**31)),
        ).fit(draws)
        # The buffers' shape is n_prior_components: a smaller fit is padded
        # with weightless copies of its first component.
        pad = self.n_prior_components - len(mixture.weights_)
        weights = np.r_[mixture.weights_, np.zeros(pad)]
        means = np.concatenate([mixture.means_, np.repeat(mixture.means_[:1], pad, 0)])
        chol = mixture.precisions_cholesky_
        chol = np.concatenate([chol, np.repeat(chol[:1], pad, 0)])
        module.prior.set_parameters(weights, means, chol)
        return mixture


def _take(rows, which):
    """Encoded rows at the indices ``which``."""
    return Encoded(rows.continuous[which], rows.codes[which])


def _posterior_draws(module, u, c, eps, codes, mask=None):
    """``z = mu + sigma eps``: one draw of ``q(z | x)`` per row."""
    q = module.encode(u, c, codes, mask)
    return q.mean + q.std * eps
