"""The quality of a synthetic table: column shapes, pair trends, utility, privacy.

The definitions are SDMetrics' (the DataCebo library SDV's reports use), so
scores can be set beside SDV's:

- :func:`column_shapes`: per column, ``1 - KS`` (the two-sample
  Kolmogorov-Smirnov statistic; KSComplement) for continuous, integer and
  datetime columns, ``1 - TVD`` (total variation distance of the category
  frequencies; TVComplement) for categorical and boolean ones;
- :func:`column_pair_trends`: per pair of columns, ``1 - |r_real - r_syn| / 2``
  of their Pearson correlations when both are numbers
  (CorrelationSimilarity), else ``1 - TVD`` of their joint frequencies, a
  number cut into 10 equal-width bins over the real column's range
  (ContingencySimilarity);
- :func:`tstr`: train on synthetic, test on real: a model trained on the
  synthetic rows and scored on held-out real rows, beside the same model
  trained on the real training rows;
- :func:`dcr`: distance to the closest record: the share of synthetic rows
  closer to a training row than to a held-out row (the training rows
  subsampled to as many as the held-out ones, so 0.5 means the samples are
  no closer to what the model saw than to what it did not); the distance
  is the mean over columns of ``|a - b| / range`` for numbers and of
  ``[a != b]`` for categories (Gower's).

:func:`~probmodels.metrics.quality_report` (``_report.py``) gathers them (with :func:`~probmodels.metrics.c2st`)
in one DataFrame; :func:`plot_quality` draws each column's real and
synthetic distributions side by side.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from ..base import make_generator
from ..columns._categories import category_key
from ._encoding import _numbers, as_tables, table_arrays, table_columns

__all__ = [
    "column_pair_trends",
    "column_shapes",
    "dcr",
    "plot_quality",
    "tstr",
]

_BINS = 10


def _tvd(a: pd.Series, b: pd.Series) -> float:
    """Total variation distance of two columns' value frequencies."""
    p = a.value_counts(normalize=True)
    q = b.value_counts(normalize=True)
    index = p.index.union(q.index)
    return 0.5 * float(
        (p.reindex(index, fill_value=0) - q.reindex(index, fill_value=0)).abs().sum()
    )


def column_shapes(real, synthetic) -> pd.DataFrame:
    """Per column, how alike its real and synthetic distributions are (1: equal).

    Parameters
    ----------
    real, synthetic : DataFrame or array-like
        Tables with the same columns.

    Returns
    -------
    DataFrame
        Columns ``column``, ``kind``, ``metric`` ("KSComplement" or
        "TVComplement") and ``score`` in [0, 1]. A missing or non-finite
        number counts as a value past every number, so it lowers the score
        by its share (never NaN).
    """
    real, synthetic = as_tables(real, synthetic)
    rows = []
    for name, column in zip(real.columns, table_columns(real), strict=True):
        if column.categorical:
            metric = "TVComplement"
            score = 1 - _tvd(real[name].astype(object), synthetic[name].astype(object))
        else:
            metric = "KSComplement"
            ks = stats.ks_2samp(_ordered(real[name]), _ordered(synthetic[name]))
            score = 1 - float(ks.statistic)
        rows.append({"column": name, "kind": column.kind, "metric": metric, "score": score})
    return pd.DataFrame(rows)


def _ordered(series: pd.Series) -> np.ndarray:
    """A numeric column for KS: a missing or non-finite value past every number.

    So a value no real row has (NaN, inf in a synthetic table) lowers the
    score by its share instead of making it NaN.
    """
    values = _numbers(series)
    return np.where(np.isnan(values), np.inf, values)


def _binned(real: pd.Series, synthetic: pd.Series, numeric: bool):
    """A column as labels for a contingency table (numbers cut into bins).

    Missing and non-finite numbers get a bin of their own (-1).
    """
    if not numeric:
        return real.astype(object), synthetic.astype(object)
    a, b = _numbers(real), _numbers(synthetic)
    finite = a[np.isfinite(a)]
    edges = np.histogram_bin_edges(finite if len(finite) else [0.0], _BINS)

    def cut(v):
        bins = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, _BINS - 1)
        return pd.Series(np.where(np.isfinite(v), bins, -1))

    return cut(a), cut(b)


def column_pair_trends(real, synthetic) -> pd.DataFrame:
    """Per pair of columns, how alike their real and synthetic relation is (1: equal).

    Parameters
    ----------
    real, synthetic : DataFrame or array-like
        Tables with the same columns.

    Returns
    -------
    DataFrame
        Columns ``column_1``, ``column_2``, ``metric``
        ("CorrelationSimilarity" or "ContingencySimilarity") and ``score``.
    """
    real, synthetic = as_tables(real, synthetic)
    numeric = {
        name: not column.categorical
        for name, column in zip(real.columns, table_columns(real), strict=True)
    }
    rows = []
    for one, two in itertools.combinations(real.columns, 2):
        if numeric[one] and numeric[two]:
            metric = "CorrelationSimilarity"
            r = [
                _pearson(_numbers(t[one]), _numbers(t[two])) for t in (real, synthetic)
            ]
            score = 1 - abs(r[0] - r[1]) / 2
        else:
            metric = "ContingencySimilarity"
            a1, b1 = _binned(real[one], synthetic[one], numeric[one])
            a2, b2 = _binned(real[two], synthetic[two], numeric[two])
            pairs_real = pd.Series(list(zip(a1, a2, strict=True)))
            pairs_syn = pd.Series(list(zip(b1, b2, strict=True)))
            score = 1 - _tvd(pairs_real, pairs_syn)
        rows.append(
            {"column_1": one, "column_2": two, "metric": metric, "score": score}
        )
    return pd.DataFrame(rows, columns=["column_1", "column_2", "metric", "score"])


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's correlation of the rows where both are finite; 0 when constant."""
    both = np.isfinite(a) & np.isfinite(b)
    a, b = a[both], b[both]
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def tstr(
    train, synthetic, test, target, *, estimator=None, scoring=None, random_state=0
) -> dict:
    """Train on synthetic, test on real; beside train on real, test on real.

    Parameters
    ----------
    train : DataFrame
        The real rows the generator was fitted on.
    synthetic : DataFrame
        Rows it generated (the same columns).
    test : DataFrame
        Held-out real rows.
    target : column label
        The column to predict from the others.
    estimator : estimator, optional
        Classifier (for a categorical or boolean target) or regressor (else);
        by default scikit-learn's ``HistGradientBoosting``, reading the
        categorical columns natively.
    scoring : str, optional
        A scikit-learn scorer name; by default "accuracy" for a categorical
        target and "r2" otherwise. The tabular papers' machine-learning
        efficacy ("MLE") on a binary target is ``scoring="roc_auc"``.
    random_state : int, default=0

    Returns
    -------
    dict
        ``{"synthetic": score, "real": score, "metric": scoring}``: the
        held-out score of the model trained on each.
    """
    from sklearn.base import clone
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.metrics import get_scorer

    train, synthetic = as_tables(train, synthetic)
    _, test = as_tables(train, test)
    if target not in train.columns:
        raise ValueError(f"target {target!r} is not a column: {list(train.columns)}.")
    columns = dict(zip(train.columns, table_columns(train), strict=True))
    classify = columns[target].categorical
    features = [c for c in train.columns if c != target]
    if estimator is None:
        cls = (
            HistGradientBoostingClassifier
            if classify
            else HistGradientBoostingRegressor
        )
        estimator = cls(random_state=random_state)
    if scoring is None:
        scoring = "accuracy" if classify else "r2"
    scorer = get_scorer(scoring)
    out = {"metric": scoring}
    for name, rows in (("synthetic", synthetic), ("real", train)):
        X, X_test, categorical = table_arrays(rows[features], test[features])
        model = clone(estimator)
        if "categorical_features" in model.get_params():
            model.set_params(categorical_features=categorical)
        if classify:
            # Codes over both tables: scikit-learn takes no object labels of
            # flags ("Unknown label type") or of mixed types.
            both = pd.concat([rows[target], test[target]], ignore_index=True)
            codes = pd.factorize(both.astype(object).map(category_key))[0]
            y, y_test = codes[: len(rows)], codes[len(rows) :]
        else:
            y, y_test = _numbers(rows[target]), _numbers(test[target])
        out[name] = float(scorer(model.fit(X, y), X_test, y_test))
    return out


def dcr(train, synthetic, holdout, *, random_state=0) -> float:
    """Share of synthetic rows closer to a training row than to a held-out one.

    The training rows are subsampled to as many as the held-out ones, so a
    generator that does not copy what it saw scores about 0.5, and one that
    memorised it 1: a synthetic row equal to any training row (subsampled or
    not) counts as closer to the training rows, unless it equals a held-out
    row too. A row's distance to another is the mean over columns of
    ``|a - b| / range`` (numbers, the range of the real rows) and of
    ``[a != b]`` (categories). Ties count half.

    Parameters
    ----------
    train, synthetic, holdout : DataFrame
        The same columns.
    random_state : int, default=0
        Seeds the subsample.

    Returns
    -------
    float
    """
    train, synthetic = as_tables(train, synthetic)
    _, holdout = as_tables(train, holdout)
    if not len(holdout) or not len(synthetic):
        raise ValueError(
            f"dcr needs held-out and synthetic rows; got {len(holdout)} held-out "
            f"and {len(synthetic)} synthetic."
        )
    rng = make_generator(random_state)
    kept = np.arange(len(train))
    if len(train) > len(holdout):
        kept = np.sort(rng.choice(len(train), len(holdout), replace=False))
    real = pd.concat([train, holdout], ignore_index=True)
    A, S, categorical = table_arrays(real, synthetic)
    spread = A.max(axis=0) - A.min(axis=0)
    spread = np.where((spread > 0) & ~categorical, spread, 1.0)
    trained, held = A[: len(train)], A[len(train) :]
    to_train = _closest_distance(S, trained[kept], spread, categorical)
    to_held = _closest_distance(S, held, spread, categorical)
    closer = (to_train < to_held) + 0.5 * (to_train == to_held)
    # A copy of a training row left out of the subsample is still a copy.
    copied = (to_train > 0) & (to_held > 0)
    if len(kept) < len(train) and copied.any():
        # Distance 0 is equality in every column: a lookup, not a search.
        # (+ 0.0 makes -0.0 the 0.0 it equals.)
        seen = {(row + 0.0).tobytes() for row in trained if not np.isnan(row).any()}
        exact = np.array([(row + 0.0).tobytes() in seen for row in S[copied]], bool)
        closer[np.flatnonzero(copied)[exact]] = 1.0
    return float(closer.mean())


def _closest_distance(rows, reference, spread, categorical, block=256):
    """Each row's Gower distance to its closest reference row."""
    out = np.empty(len(rows))
    for lo in range(0, len(rows), block):
        part = rows[lo : lo + block, None, :]
        diff = np.abs(part - reference[None]) / spread
        diff[..., categorical] = diff[..., categorical] > 0
        out[lo : lo + block] = diff.mean(axis=2).min(axis=1)
    return out


def plot_quality(real, synthetic, columns=None, *, ncols=4, figsize_per=(3.2, 2.4)):
    """Each column's real and synthetic distributions, side by side.

    Numbers and dates as overlaid histograms on the same bins; categories as
    paired bars of their frequencies.

    Parameters
    ----------
    real, synthetic : DataFrame
    columns : list, optional
        Which columns (all by default).
    ncols : int, default=4
    figsize_per : (float, float)
        Size of one panel, in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    real, synthetic = as_tables(real, synthetic)
    read = dict(zip(real.columns, table_columns(real), strict=True))
    columns = list(real.columns) if columns is None else list(columns)
    if isinstance(ncols, (bool, np.bool_)) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive whole number of panels, got {ncols!r}.")
    if not columns:
        raise ValueError("plot_quality needs at least one column to plot.")
    nrows = -(-len(columns) // ncols)
    width = min(ncols, len(columns))
    fig, axes = plt.subplots(
        nrows,
        width,
        figsize=(figsize_per[0] * width, figsize_per[1] * nrows),
        squeeze=False,
    )
    for ax, name in zip(axes.ravel(), columns, strict=False):
        if read[name].categorical:
            p = real[name].astype(object).value_counts(normalize=True)
            q = synthetic[name].astype(object).value_counts(normalize=True)
            index = p.index.union(q.index)
            where = np.arange(len(index))
            ax.bar(where - 0.2, p.reindex(index, fill_value=0), 0.4, label="real")
            ax.bar(where + 0.2, q.reindex(index, fill_value=0), 0.4, label="synthetic")
            ax.set_xticks(where, [str(i) for i in index], rotation=45, ha="right")
        else:
            a, b = _numbers(real[name]), _numbers(synthetic[name])
            edges = np.histogram_bin_edges(np.r_[a, b], 30)
            ax.hist(a, edges, density=True, alpha=0.5, label="real")
            ax.hist(b, edges, density=True, alpha=0.5, label="synthetic")
        ax.set_title(str(name), fontsize=9)
    for ax in axes.ravel()[len(columns) :]:
        ax.set_visible(False)
    axes.ravel()[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
