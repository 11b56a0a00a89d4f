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

    def _beta(self):
        """The KL weight of training: ``beta``, with "auto" resolved."""
        if self.beta != "auto":
            return float(self.beta)
        return 0.5 if self.prior == "mixture" and self.train_importance == 1 else 1.0

    def _fit_prior(self, fitted):
        """The second stage: a mixture fitted by EM to the aggregate posterior.

        Ten draws of ``q(z | x)`` per training row, at least 2,000 and at
        most 10,000 (``PRIOR_DRAWS``), made from the fit's ``prior`` seed:
        from random rows, each drawn about equally often. The mixture's
        parameters are copied into the network's prior.
        """
        # scikit-learn's EM: the model families do not import each other.
        from sklearn.mixture import GaussianMixture

        n = len(fitted.rows)
        rng = np.random.default_rng(fitted.seeds.prior)
        low, high = PRIOR_DRAWS
        total = min(max(10 * n, low), high)
        which = rng.permutation(np.tile(np.arange(n), -(-total // n)))[:total]
        rows = Encoded(fitted.rows.continuous[which], fitted.rows.codes[which])
        eps = rng.standard_normal((len(which), self.latent_dim), dtype=np.float32)
        labels = None if fitted.codes is None else self._one_hot(fitted.codes[which])
        u, mask = zero_filled(rows)
        arrays = [u, labels, eps, self._codes_or_none(rows), mask]
        draws = self._map_rows(_posterior_draws, arrays, self._row_bytes())
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
        self.module_.prior.set_parameters(weights, means, chol)
        return mixture


def _posterior_draws(module, u, c, eps, codes, mask=None):
    """``z = mu + sigma eps``: one draw of ``q(z | x)`` per row."""
    q = module.encode(u, c, codes, mask)
    return q.mean + q.std * eps
