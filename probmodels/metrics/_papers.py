"""The figures the tabular-generation papers report, on their protocol.

TabDDPM (Kotelnikov et al., ICML 2023), TabSyn (Zhang et al., ICLR 2024),
TabDiff (Shi et al., ICLR 2025) and TabPC report, for synthetic rows
against real ones:

- :func:`detection`: ``2 (1 - AUC)`` of a gradient-boosted classifier
  telling real from synthetic rows, out of fold (1: indistinguishable, 0:
  separable; SDMetrics' ``LogisticDetection`` with boosted trees);
- :func:`shape_error` and :func:`trend_error`: ``100 (1 - score)`` of the
  mean column-shape and column-pair-trend scores (SDMetrics' quality
  report, :func:`~probmodels.metrics.column_shapes` and
  :func:`~probmodels.metrics.column_pair_trends`), in percent;
- :func:`alpha_precision`: alpha-precision and beta-recall (Alaa et al.,
  ICML 2022) as synthcity's ``AlphaPrecision`` computes them without an
  embedding (the "naive" figures TabSyn reports).

See ``docs/user_guide/tables.rst`` ("Adult, on the papers' protocol").
"""

from __future__ import annotations

import numpy as np

from ._encoding import as_tables, table_arrays
from ._samples import _pair, _seed, detector_problem
from ._tables import column_pair_trends, column_shapes

__all__ = ["alpha_precision", "detection", "shape_error", "trend_error"]


def detection(real, synthetic, *, cv=5, random_state=0):
    """Detection score: ``2 (1 - AUC)`` of a classifier telling the sets apart.

    As many rows are drawn from the larger set as the smaller one has, each
    row is labelled by its set, and a ``HistGradientBoostingClassifier``
    (native categorical splits; missing values as a value below the
    column's others, as in :func:`~probmodels.metrics.c2st`) gives every
    row a probability of being synthetic from the ``cv`` - 1 folds that
    did not hold it. The ROC AUC of those out-of-fold probabilities is
    turned into the papers' score, at most 1.

    A boosted classifier, not SDMetrics' default logistic regression: a
    linear detector cannot see interactions, so on Adult it gives rows drawn
    column by column, independently, a perfect 1.000, while the boosted one
    gives 0.017 (``docs/user_guide/tables.rst``).

    Parameters
    ----------
    real, synthetic : DataFrame or array-like of shape (n_rows, n_columns)
        Of the same columns.
    cv : int, default=5
        Folds; each set needs at least ``cv`` rows.
    random_state : int or None, default=0
        Seeds the subsample, the folds and the classifier.

    Returns
    -------
    float
        In [0, 1]: 1 when the classifier does no better than chance (an AUC
        of 0.5 or less), 0 when it separates the sets perfectly.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import cross_val_predict

    X, y, clf, folds = detector_problem(
        real, synthetic, cv, "detection", random_state, balance=True
    )
    p = cross_val_predict(clf, X, y, cv=folds, method="predict_proba")[:, 1]
    return detection_from_auc(roc_auc_score(y, p))


def detection_from_auc(auc: float) -> float:
    """``min(1, 2 (1 - AUC))``: the papers' detection score of a detector's AUC.

    Parameters
    ----------
    auc : float
        ROC AUC of telling synthetic (positive) from real rows.

    Returns
    -------
    float
    """
    return float(min(1.0, 2.0 * (1.0 - auc)))


def shape_error(real, synthetic) -> float:
    """``100 (1 - mean column-shape score)``: the papers' shape error in percent.

    Each column's score is SDMetrics' (the Kolmogorov-Smirnov complement for
    numbers and dates, the total-variation complement for categories; see
    :func:`~probmodels.metrics.column_shapes`).

    Parameters
    ----------
    real, synthetic : DataFrame or array-like
        Of the same columns.

    Returns
    -------
    float
        0 when every column's distribution is matched exactly.
    """
    real, synthetic = as_tables(real, synthetic)
    return 100.0 * (1.0 - float(column_shapes(real, synthetic)["score"].mean()))


def trend_error(real, synthetic) -> float:
    """``100 (1 - mean column-pair-trend score)``: the papers' trend error in percent.

    Each pair's score is SDMetrics' (correlation similarity for two number
    columns, contingency similarity otherwise; see
    :func:`~probmodels.metrics.column_pair_trends`).

    Parameters
    ----------
    real, synthetic : DataFrame or array-like
        Of the same columns (at least two).

    Returns
    -------
    float
        0 when every pair's association is matched exactly.
    """
    real, synthetic = as_tables(real, synthetic)
    trends = column_pair_trends(real, synthetic)
    if not len(trends):
        raise ValueError("trend_error needs at least two columns.")
    return 100.0 * (1.0 - float(trends["score"].mean()))


def alpha_precision(real, synthetic, *, n_alphas=30, random_state=0) -> dict:
    """Alpha-precision and beta-recall (Alaa et al., ICML 2022), without embedding.

    As synthcity's ``AlphaPrecision`` computes its "naive" figures, which
    TabSyn and TabDiff report: rows become numbers (numbers scaled to
    [0, 1] by the real rows' range, categories one-hot), and both sets are
    cut to the same number of rows. For each ``alpha`` on a grid of
    ``n_alphas`` in [0, 1]:

    - alpha-precision curve: the share of synthetic rows within the
      ``alpha``-quantile ball of the real rows around the real mean;
    - beta-recall curve: the share of real rows whose nearest synthetic row
      is closer than their nearest other real row, and lies within the
      ``alpha``-quantile of those nearest synthetic rows' distances to the
      synthetic mean.

    Each figure is ``1 - 2 x`` the area between its curve and the diagonal.

    Parameters
    ----------
    real, synthetic : DataFrame or array-like
        Of the same columns.
    n_alphas : int, default=30
    random_state : int or None, default=0
        Seeds the subsample of the larger set.

    Returns
    -------
    dict
        ``{"alpha_precision": float, "beta_recall": float}``, each at most 1
        (1: the curves follow the diagonal).
    """
    from sklearn.neighbors import NearestNeighbors

    A, B = _unit_scaled(real, synthetic)
    rng = np.random.default_rng(_seed(random_state))
    n = min(len(A), len(B))
    if n < 3:
        raise ValueError(
            f"alpha_precision needs at least 3 rows in each set; got {len(A)} "
            f"real and {len(B)} synthetic."
        )
    A = A[np.sort(rng.choice(len(A), n, replace=False))]
    B = B[np.sort(rng.choice(len(B), n, replace=False))]
    alphas = np.linspace(0.0, 1.0, n_alphas)
    center = A.mean(axis=0)
    radii = np.quantile(np.linalg.norm(A - center, axis=1), alphas)
    synth_to_center = np.linalg.norm(B - center, axis=1)
    precision = (synth_to_center[None, :] <= radii[:, None]).mean(axis=1)

    real_to_real = NearestNeighbors(n_neighbors=2).fit(A).kneighbors(A)[0][:, 1]
    real_to_synth, nearest = NearestNeighbors(n_neighbors=1).fit(B).kneighbors(A)
    real_to_synth, nearest = real_to_synth[:, 0], nearest[:, 0]
    closest = np.linalg.norm(B[nearest] - B.mean(axis=0), axis=1)
    closest_radii = np.quantile(closest, alphas)
    covered = real_to_synth <= real_to_real
    recall = (covered[None, :] & (closest[None, :] <= closest_radii[:, None])).mean(
        axis=1
    )
    step = alphas[1] - alphas[0]
    return {
        "alpha_precision": float(1 - 2 * np.abs(alphas - precision).sum() * step),
        "beta_recall": float(1 - 2 * np.abs(alphas - recall).sum() * step),
    }


def _unit_scaled(real, synthetic):
    """Both sets as numbers: numbers on the real range, categories one-hot."""
    real_codes, synth_codes, categorical = table_arrays(real, synthetic)
    real_codes, synth_codes = _pair(real_codes, synth_codes, allow_missing=True)
    a, b = [], []
    for j in range(real_codes.shape[1]):
        x, y = real_codes[:, j], synth_codes[:, j]
        if categorical[j]:
            levels = np.unique(np.r_[x, y])
            a.append(x[:, None] == levels)
            b.append(y[:, None] == levels)
        else:
            low, high = np.nanmin(x), np.nanmax(x)
            span = high - low if high > low else 1.0
            # A missing number: below the range, as the detector reads it.
            a.append(np.nan_to_num((x - low) / span, nan=-1.0)[:, None])
            b.append(np.nan_to_num((y - low) / span, nan=-1.0)[:, None])
    return np.hstack(a).astype(float), np.hstack(b).astype(float)
