"""Sample-quality metrics: how far generated rows are from real ones.

- :func:`c2st`: the classifier two-sample test (Lopez-Paz and Oquab, 2017):
  the cross-validated accuracy of a gradient-boosting classifier telling real
  rows from generated ones; 0.5 means it cannot tell them apart.
- :func:`mmd`: the unbiased squared maximum mean discrepancy with a Gaussian
  kernel (Gretton et al., 2012, eq. 3); 0 in expectation for equal
  distributions.
- :func:`frechet_distance`: the Fréchet (2-Wasserstein) distance between
  Gaussians fitted to the two sets (the FID formula of Heusel et al., 2017,
  on the rows themselves).

:func:`make_sample_scorer` turns any of them into a scikit-learn scorer for
a generative estimator: it draws as many rows as the held-out fold has and
returns the negated metric, so that greater is better in ``GridSearchCV``.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from sklearn.utils.validation import check_array

from .base import check_n_samples, make_generator

__all__ = ["c2st", "frechet_distance", "make_sample_scorer", "mmd"]


def _pair(real, fake):
    real = check_array(real, dtype=np.float64)
    fake = check_array(fake, dtype=np.float64)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real rows have {real.shape[1]} columns and fake rows "
            f"{fake.shape[1]}; compare sets of the same width."
        )
    return real, fake


def c2st(real, fake, *, cv=5, random_state=0):
    """Classifier two-sample test: accuracy of telling real from fake rows.

    A ``HistGradientBoostingClassifier`` is trained to separate the two sets
    (each row labelled by its set), and its accuracy is averaged over ``cv``
    stratified folds. Use sets of equal size, so that 0.5 is chance.

    Parameters
    ----------
    real, fake : array-like of shape (n_rows, n_features)
    cv : int, default=5
    random_state : int, default=0
        Seeds the fold shuffling and the classifier.

    Returns
    -------
    float
        Mean held-out accuracy in [0, 1]; about 0.5 when the sets cannot be
        told apart, 1 when they are separable.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    real, fake = _pair(real, fake)
    X = np.vstack([real, fake])
    y = np.r_[np.zeros(len(real)), np.ones(len(fake))]
    folds = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    clf = HistGradientBoostingClassifier(random_state=random_state)
    return float(cross_val_score(clf, X, y, cv=folds, scoring="accuracy").mean())


def mmd(real, fake, *, bandwidth=None):
    """Unbiased squared maximum mean discrepancy with a Gaussian kernel.

    Parameters
    ----------
    real, fake : array-like of shape (n_rows, n_features)
    bandwidth : float, optional
        Kernel width sigma in ``exp(-|x - y|^2 / (2 sigma^2))``; by default the
        median distance between all rows (the median heuristic).

    Returns
    -------
    float
        MMD^2 (can be slightly negative: it is an unbiased estimate).
    """
    from scipy.spatial.distance import cdist

    real, fake = _pair(real, fake)
    both = np.vstack([real, fake])
    d2 = cdist(both, both, "sqeuclidean")
    if bandwidth is None:
        bandwidth = np.sqrt(0.5 * np.median(d2[np.triu_indices(len(both), 1)]))
    k = np.exp(-d2 / (2 * bandwidth**2))
    m, n = len(real), len(fake)
    kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2 * kxy.mean()
    )


def frechet_distance(real, fake):
    """Fréchet distance between Gaussians fitted to the two sets.

    ``|mu_r - mu_f|^2 + tr(S_r + S_f - 2 (S_r S_f)^(1/2))``.

    Parameters
    ----------
    real, fake : array-like of shape (n_rows, n_features)

    Returns
    -------
    float
    """
    real, fake = _pair(real, fake)
    mu_r, mu_f = real.mean(0), fake.mean(0)
    s_r = np.atleast_2d(np.cov(real, rowvar=False))
    s_f = np.atleast_2d(np.cov(fake, rowvar=False))
    root = linalg.sqrtm(s_r @ s_f)
    root = root.real if np.iscomplexobj(root) else root
    return float(((mu_r - mu_f) ** 2).sum() + np.trace(s_r + s_f - 2 * root))


def make_sample_scorer(metric, random_state=0, **kwargs):
    """A scikit-learn scorer comparing a fold's rows with the model's samples.

    Parameters
    ----------
    metric : callable
        ``metric(real, fake, **kwargs)``, lower is better (:func:`c2st`,
        :func:`mmd`, :func:`frechet_distance`).
    random_state : int, default=0
        Seeds the draws, so candidates are compared on equal terms.
    **kwargs
        Passed to ``metric``.

    Returns
    -------
    callable
        ``scorer(estimator, X, y=None)`` returning ``-metric(X,
        estimator.sample(len(X)))``.
    """

    def scorer(estimator, X, y=None):
        n = check_n_samples(len(X))
        seed = int(make_generator(random_state).integers(2**31))
        fake = np.asarray(estimator.sample(n, random_state=seed))
        return -metric(np.asarray(X), fake, **kwargs)

    return scorer
