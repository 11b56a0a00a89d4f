"""Sample-quality metrics for rows of numbers (and C2ST for any table).

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

import numbers

import numpy as np
from scipy import linalg
from sklearn.utils.validation import check_array

from ..base import check_n_samples, make_generator

__all__ = ["c2st", "frechet_distance", "make_sample_scorer", "mmd"]


def _pair(real, fake, min_rows=1, what="this metric", allow_missing=False):
    # The classifier of c2st takes missing values natively: a NaN or inf a
    # generator wrote is then a value no real row has, not an error.
    finite = "allow-nan" if allow_missing else True
    real = check_array(_inf_as_nan(real, allow_missing), dtype=np.float64, ensure_all_finite=finite)
    fake = check_array(_inf_as_nan(fake, allow_missing), dtype=np.float64, ensure_all_finite=finite)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real rows have {real.shape[1]} columns and fake rows "
            f"{fake.shape[1]}; compare sets of the same width."
        )
    if min(len(real), len(fake)) < min_rows:
        raise ValueError(
            f"{what} needs at least {min_rows} rows in each set; got "
            f"{len(real)} real and {len(fake)} fake."
        )
    return real, fake


def _inf_as_nan(X, allowed):
    if not allowed:
        return X
    X = np.array(X, dtype=np.float64)
    X[np.isinf(X)] = np.nan
    return X


def _missing_below(X, categorical):
    """Missing numbers as a value below each column's others.

    The classifier reads NaN natively, but not in a column that a training
    fold holds no value of; a tree splits a value below the rest off just as
    well. Category codes keep their own missing code.
    """
    numeric = np.ones(X.shape[1], bool) if categorical is None else ~categorical
    for j in np.flatnonzero(numeric & np.isnan(X).any(axis=0)):
        column = X[:, j]
        seen = column[~np.isnan(column)]
        low = seen.min() if len(seen) else 0.0
        with np.errstate(over="ignore"):
            below = low - max(1.0, abs(low))
        if not np.isfinite(below):
            below = np.nextafter(low, -np.inf)
        column[np.isnan(column)] = below
    return X


def _is_table(X) -> bool:
    """Whether X is a DataFrame with a column that is not plain numbers."""
    import pandas as pd

    return isinstance(X, pd.DataFrame) and not all(
        pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_bool_dtype(d)
        for d in X.dtypes
    )


def _seed(random_state):
    """An int seed; None draws one from fresh entropy, not numpy's global RNG."""
    if random_state is None:
        return int(make_generator(None).integers(2**31))
    return random_state


def c2st(real, fake, *, cv=5, random_state=0):
    """Classifier two-sample test: accuracy of telling real from fake rows.

    A ``HistGradientBoostingClassifier`` is trained to separate the two sets
    (each row labelled by its set), and its accuracy is averaged over ``cv``
    stratified folds. Missing and infinite values are missing values to the
    classifier (a value below the column's others): a generator that writes
    them is told apart by them. Use sets of equal size, so that 0.5 is chance. Tables
    with categorical columns are compared with the classifier's native
    categorical splits (``categorical_features``), datetimes as times.

    Parameters
    ----------
    real, fake : array-like or DataFrame of shape (n_rows, n_features)
    cv : int, default=5
    random_state : int or None, default=0
        Seeds the fold shuffling and the classifier; None draws a seed from
        fresh entropy (numpy's global generator is never used).

    Returns
    -------
    float
        Mean held-out accuracy in [0, 1]; about 0.5 when the sets cannot be
        told apart, 1 when they are separable.
    """
    from sklearn.model_selection import cross_val_score

    X, y, clf, folds = detector_problem(real, fake, cv, "c2st", random_state)
    return float(cross_val_score(clf, X, y, cv=folds, scoring="accuracy").mean())


def detector_problem(real, fake, cv, what, random_state, balance=False):
    """Both sets' rows labelled by set, the boosted detector and its folds.

    The one setup of :func:`c2st` and :func:`~probmodels.metrics.detection`:
    tables become numbers and category codes (categories read natively by
    the classifier when they are fewer than 255), missing values a value
    below each column's others, and the classifier and the stratified folds
    share one seed.

    Parameters
    ----------
    real, fake : array-like or DataFrame
    cv : int
        Folds; each set needs at least this many rows.
    what : str
        The metric's name, for the message on too few rows.
    random_state : int or None
    balance : bool, default=False
        Draw as many rows from the larger set as the smaller one has.

    Returns
    -------
    X : ndarray of shape (n_rows, n_columns)
    y : ndarray of shape (n_rows,)
        1 for the rows of ``fake``.
    classifier : HistGradientBoostingClassifier
    folds : StratifiedKFold
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    categorical = None
    if _is_table(real) or _is_table(fake):
        from ._encoding import table_arrays

        real, fake, categorical = table_arrays(real, fake)
    real, fake = _pair(real, fake, cv, f"{what} with cv folds", allow_missing=True)
    random_state = _seed(random_state)
    if balance:
        rng = np.random.default_rng(random_state)
        n = min(len(real), len(fake))
        real = real[np.sort(rng.choice(len(real), n, replace=False))]
        fake = fake[np.sort(rng.choice(len(fake), n, replace=False))]
    X = _missing_below(np.vstack([real, fake]), categorical)
    y = np.r_[np.zeros(len(real)), np.ones(len(fake))]
    if categorical is not None:
        # Native categories need fewer than 255 of them per column.
        few = [len(np.unique(X[:, j])) < 250 for j in range(X.shape[1])]
        categorical = categorical & np.array(few)
    clf = HistGradientBoostingClassifier(
        random_state=random_state, categorical_features=categorical
    )
    folds = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    return X, y, clf, folds


def mmd(real, fake, *, bandwidth=None):
    """Unbiased squared maximum mean discrepancy with a Gaussian kernel.

    Parameters
    ----------
    real, fake : array-like of shape (n_rows, n_features)
        At least 2 rows each (the unbiased estimate leaves out each row's
        kernel with itself).
    bandwidth : float, optional
        Kernel width sigma in ``exp(-|x - y|^2 / (2 sigma^2))``, positive; by
        default the median distance between all rows (the median heuristic;
        the mean distance when more than half of them are 0).

    Returns
    -------
    float
        MMD^2 (can be slightly negative: it is an unbiased estimate); 0 for
        two sets of one repeated row.
    """
    from scipy.spatial.distance import cdist

    real, fake = _pair(real, fake, 2, "mmd")
    if bandwidth is not None and not (
        isinstance(bandwidth, numbers.Real)
        and not isinstance(bandwidth, (bool, np.bool_))
        and 0 < bandwidth < np.inf
    ):
        raise ValueError(
            f"bandwidth must be a positive finite number (or None for the "
            f"median heuristic); got {bandwidth!r}."
        )
    both = np.vstack([real, fake])
    # The kernel depends on distances over the bandwidth only: rescaled by
    # the largest value, distances near 1e200 neither overflow nor vanish.
    scale = float(np.abs(both).max())
    if scale == 0:
        return 0.0  # every row is the origin: the two sets are equal
    both = both / scale
    d2 = cdist(both, both, "sqeuclidean")
    if bandwidth is None:
        pairs = d2[np.triu_indices(len(both), 1)]
        if not pairs.any():
            return 0.0  # one repeated row in both sets: they are equal
        median = np.median(pairs)
        sigma = np.sqrt(0.5 * (median if median > 0 else pairs.mean()))
    else:
        sigma = bandwidth / scale
        if sigma == 0:  # a bandwidth far below the data's scale
            return float(_mmd_of(np.where(d2 == 0, 1.0, 0.0), len(real)))
    return float(_mmd_of(np.exp(-d2 / (2 * sigma**2)), len(real)))


def _mmd_of(k, m):
    """The unbiased MMD^2 of a joint kernel matrix whose first m rows are real."""
    n = len(k) - m
    kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
    return (
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2 * kxy.mean()
    )


def frechet_distance(real, fake):
    """Fréchet distance between Gaussians fitted to the two sets.

    ``|mu_r - mu_f|^2 + tr(S_r + S_f - 2 (S_r S_f)^(1/2))``. The trace of the
    square root is the sum of the square roots of the eigenvalues of the
    symmetric ``S_r^(1/2) S_f S_r^(1/2)`` (the same eigenvalues as
    ``S_r S_f``), so no complex matrix square root is needed; rows are
    rescaled by their largest value first, and the distance by its square
    after, so values near 1e200 or 1e-200 neither overflow nor vanish.

    Parameters
    ----------
    real, fake : array-like of shape (n_rows, n_features)
        At least 2 rows each (a covariance needs two).

    Returns
    -------
    float
        At least 0; inf only when the distance itself exceeds float64.
    """
    real, fake = _pair(real, fake, 2, "frechet_distance")
    scale = max(float(np.abs(real).max()), float(np.abs(fake).max()))
    if scale == 0:
        return 0.0
    real, fake = real / scale, fake / scale
    mu_r, mu_f = real.mean(0), fake.mean(0)
    s_r = np.atleast_2d(np.cov(real, rowvar=False))
    s_f = np.atleast_2d(np.cov(fake, rowvar=False))
    w, v = linalg.eigh(s_r)
    root_r = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = linalg.eigvalsh(root_r @ s_f @ root_r)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    terms = ((mu_r - mu_f) ** 2).sum() + np.trace(s_r) + np.trace(s_f)
    distance = float(terms - 2 * trace_root)
    # A difference of terms of order one: below their rounding it is 0 (two
    # equal sets), which no rescaling may blow up.
    if distance <= 64 * np.finfo(np.float64).eps * terms:
        return 0.0
    with np.errstate(over="ignore"):  # a distance past float64 is inf
        return float(np.float64(distance) * scale * scale)


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
