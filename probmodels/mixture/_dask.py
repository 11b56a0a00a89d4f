"""Gaussian mixtures on Dask arrays: EM over chunks that never leave the workers.

Each EM iteration is one pass: every chunk of rows computes its share of the
E-step (the sufficient statistics ``S = Phi^T R`` and the log-likelihood, the
product of the in-memory path in :mod:`~probmodels.mixture._em`) where it
lives, and only those small arrays travel to the client, which adds them in
chunk order and runs the M-step. So a fit on the same rows from the same
``*_init`` equals the in-memory fit up to the order of floating-point sums.

dask is imported only when a Dask array is given: ``import probmodels`` and
every in-memory fit stay free of it.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..utils.chunks import iter_row_chunks
from ._em import _softmax_stats
from ._gaussian import features, n_statistics
from ._missing import MissingStatistics
from ._source import FitSource

__all__ = [
    "DaskRows",
    "DaskStatistics",
    "is_dask_array",
    "sample_rows",
    "scan_rows",
    "validate_dask_rows",
]

#: Rows drawn, chunk by chunk, to initialise a mixture on a Dask array.
INIT_SAMPLE_ROWS = 20_000


def is_dask_array(X) -> bool:
    """Whether X is a Dask array (checked without importing dask)."""
    return type(X).__module__.startswith("dask.") and hasattr(X, "chunks")


def validate_dask_rows(estimator, X, *, reset: bool, what: str = "X"):
    """Check a Dask array of rows before any work is spent; return it as float64.

    Parameters
    ----------
    estimator : estimator
        Owner of ``n_features_in_`` (set when ``reset``, checked otherwise).
    X : dask.array.Array of shape (n_samples, n_features)
    reset : bool
        True in ``fit``.
    what : str
        Name of the argument in messages.

    Returns
    -------
    dask.array.Array
    """
    if X.ndim != 2:
        raise ValueError(
            f"{what} must be a 2-D Dask array (rows x features); got {X.ndim}-D."
        )
    if X.dtype.kind not in "biuf":
        raise TypeError(
            f"{what} is a Dask array of dtype {X.dtype}, which is not numeric. "
            "Convert it first, e.g. with X.astype(float)."
        )
    if len(X.chunks[1]) != 1:
        raise ValueError(
            f"{what} is chunked along its features ({len(X.chunks[1])} column "
            "chunks); each chunk must hold whole rows. Rechunk it first: "
            "X.rechunk({1: -1})."
        )
    X = known_chunk_sizes(X)
    n_features = X.shape[1]
    if reset:
        estimator.n_features_in_ = n_features
    elif n_features != estimator.n_features_in_:
        raise ValueError(
            f"{what} has {n_features} features, but {type(estimator).__name__} "
            f"was fitted on {estimator.n_features_in_}."
        )
    return X.astype(np.float64)


def known_chunk_sizes(X):
    """X with the number of rows of each chunk known.

    A boolean filter (``X[~da.isnan(X).any(axis=1)]``, the advice for rows
    with NaN) leaves the chunks' sizes unknown until computed; they are
    computed here, in one pass over the filter, so that rows can be counted
    and named.
    """
    if any(np.isnan(size) for size in X.chunks[0]):
        X = X.compute_chunk_sizes()
    return X


@dataclass
class DaskRows:
    """What one pass over a Dask array learns: size, centre, bad chunks.

    Parameters
    ----------
    n_rows : int
    total : float
        Sum of the sample weights (``n_rows`` without them).
    center : ndarray of shape (n_features,)
        The (weighted) mean row.
    largest : float
        Largest absolute value.
    """

    n_rows: int
    total: float
    center: np.ndarray
    largest: float


def _chunk_summary(block, weight):
    """Per-chunk rows, weighted sums over observed entries, bad values, largest value.

    NaN is a missing entry (counted per column, so the centre is the mean of
    what was observed); an infinite value, a negative weight or a row with
    nothing observed is bad.
    """
    block = np.asarray(block)
    missing = np.isnan(block)
    bad = int(np.isinf(block).sum())
    w = np.ones(len(block)) if weight is None else np.asarray(weight)
    negative = int((~(w >= 0)).sum())  # NaN weights count as bad too
    empty = np.flatnonzero(missing.all(axis=1)) if block.shape[1] else []
    first_empty = int(empty[0]) if len(empty) else -1
    zeros = np.zeros(block.shape[1])
    if bad or negative:
        return len(block), 0.0, zeros, bad, np.inf, negative, zeros, first_empty
    values = np.where(missing, 0.0, block)
    largest = float(np.abs(values).max()) if block.size else 0.0
    seen = w @ ~missing
    return len(block), float(w.sum()), w @ values, 0, largest, 0, seen, first_empty


def scan_rows(X, weight=None) -> DaskRows:
    """One pass: the weighted mean row, and a named error for a bad chunk.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    weight : dask.array.Array of shape (n_samples,), optional

    Returns
    -------
    DaskRows
    """
    import dask

    blocks = X.to_delayed().ravel()
    wblocks = [None] * len(blocks) if weight is None else weight.to_delayed().ravel()
    parts = dask.compute(
        *[
            dask.delayed(_chunk_summary)(b, w)
            for b, w in zip(blocks, wblocks, strict=True)
        ]
    )
    starts = np.cumsum([0, *X.chunks[0]])
    for i, (_, _, _, bad, _, negative, _, empty) in enumerate(parts):
        if negative:
            raise ValueError(
                f"sample_weight holds {negative} negative or NaN value(s) in chunk "
                f"{i} (rows {starts[i]} to {starts[i + 1] - 1}); weights must be "
                "non-negative."
            )
        if bad:
            raise ValueError(
                f"X holds {bad} infinite value(s) in chunk {i} (rows "
                f"{starts[i]} to {starts[i + 1] - 1}). Remove them first, e.g. "
                "X[~da.isinf(X).any(axis=1)] (NaN is fine: a missing entry)."
            )
        if empty >= 0:
            raise ValueError(
                f"Row {starts[i] + empty} of X has no observed entry: nothing is "
                "known of it. Drop rows that are entirely missing, e.g. "
                "X[~da.isnan(X).all(axis=1)]."
            )
    n = int(sum(p[0] for p in parts))
    total = float(sum(p[1] for p in parts))
    if weight is not None and not total > 0:
        raise ValueError("sample_weight sums to 0: at least one row must count.")
    sums = np.sum([p[2] for p in parts], axis=0)
    seen = np.sum([p[6] for p in parts], axis=0)
    if (seen <= 0).any():
        j = int(np.flatnonzero(seen <= 0)[0])
        raise ValueError(
            f"Column {j} has no observed value (every entry is missing): nothing "
            "can be learnt of it. Drop it before fitting."
        )
    return DaskRows(
        n,
        total if weight is not None else float(n),
        sums / seen,
        max(p[4] for p in parts),
    )


def sample_rows(X, n: int, rng: np.random.Generator, weight=None):
    """A uniform sample of ``n`` rows (all of them when there are fewer).

    Drawn chunk by chunk with the fit's generator: how many rows each chunk
    gives is multinomial in its share of the rows, and which ones uniform
    within it; only the chosen rows travel to the client.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    n : int
    rng : numpy.random.Generator
    weight : dask.array.Array, optional
        Sample weights, sampled alongside.

    Returns
    -------
    rows : ndarray of shape (min(n, n_samples), n_features)
    weight : ndarray or None
    """
    import dask

    sizes = np.asarray(X.chunks[0])
    n = min(int(n), int(sizes.sum()))
    counts = _bounded_multinomial(n, sizes, rng)
    picks = [
        np.sort(rng.choice(size, count, replace=False)) if count else None
        for size, count in zip(sizes, counts, strict=True)
    ]
    blocks = X.to_delayed().ravel()
    rows = [
        dask.delayed(_take)(b, p)
        for b, p in zip(blocks, picks, strict=True)
        if p is not None
    ]
    out = np.concatenate(dask.compute(*rows))
    if weight is None:
        return out, None
    wblocks = weight.to_delayed().ravel()
    ws = [
        dask.delayed(_take)(b, p)
        for b, p in zip(wblocks, picks, strict=True)
        if p is not None
    ]
    return out, np.concatenate(dask.compute(*ws))


def _take(block, rows):
    return np.asarray(block)[rows]


def _bounded_multinomial(n, sizes, rng):
    """Multinomial counts in proportion to ``sizes``, none above its size."""
    counts = rng.multinomial(n, sizes / sizes.sum())
    # Rare overflow of a small chunk: move the excess to chunks with room.
    excess = np.maximum(counts - sizes, 0)
    counts -= excess
    spare = int(excess.sum())
    while spare:
        room = sizes - counts
        extra = rng.multinomial(spare, room / room.sum())
        extra = np.minimum(extra, room)
        counts += extra
        spare -= int(extra.sum())
    return counts


def _chunk_statistics(block, weight, center, theta, covariance_type):
    """The E-step statistics of one chunk, in row blocks that stay in cache.

    A chunk with missing entries takes the exact pass of ``_missing.py``.
    """
    block = np.asarray(block)
    if np.isnan(block.sum()):
        w = None if weight is None else np.asarray(weight)
        with MissingStatistics(block - center, w, covariance_type, 0) as data:
            return data(theta)
    k = theta.shape[0]
    d = block.shape[1]
    stats, ll = np.zeros((n_statistics(covariance_type, d), k)), 0.0
    for rows in iter_row_chunks(len(block), 8 * (k + n_statistics(covariance_type, d))):
        phi = features(np.asarray(block[rows]) - center, covariance_type)
        w = None if weight is None else np.asarray(weight[rows])
        s, v = _softmax_stats(theta @ phi, phi, w)
        stats += s
        ll += v
    return stats, ll


def _chunk_labels(block, center, theta, covariance_type):
    block = np.asarray(block)
    if np.isnan(block.sum()):
        return MissingStatistics(block - center, None, covariance_type, 0).labels(theta)
    return (theta @ features(np.asarray(block) - center, covariance_type)).argmax(
        axis=0
    )


class DaskStatistics:
    """The E-step over a Dask array, with the interface of ``NumpyStatistics``.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Uncentred rows; each chunk is centred on ``center`` where it lives.
    center : ndarray of shape (n_features,)
    weight : dask.array.Array of shape (n_samples,) or None
        Chunked like the rows of X.
    covariance_type : str
    """

    def __init__(self, X, center, weight, covariance_type):
        self.X, self.center, self.weight = X, center, weight
        self.covariance_type = covariance_type

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def statistics(self, resp):
        """Not available: a mixture on a Dask array is initialised on a sample."""
        raise NotImplementedError(
            "initial statistics come from a sample of rows (sample_rows)"
        )

    def __call__(self, theta):
        """The E-step (:class:`~probmodels.mixture._source.EStepPass`), chunk by chunk where the chunks live."""
        import dask

        blocks = self.X.to_delayed().ravel()
        wblocks = (
            [None] * len(blocks)
            if self.weight is None
            else self.weight.to_delayed().ravel()
        )
        task = dask.delayed(_chunk_statistics)
        parts = dask.compute(
            *[
                task(b, w, self.center, theta, self.covariance_type)
                for b, w in zip(blocks, wblocks, strict=True)
            ]
        )
        stats = parts[0][0].copy()
        ll = parts[0][1]
        for s, v in parts[1:]:  # in chunk order: results do not depend on timing
            stats += s
            ll += v
        return stats, float(ll)

    def labels(self, theta):
        """Most likely component of each row, as a lazy Dask array."""
        return self.X.map_blocks(
            _chunk_labels,
            self.center,
            theta,
            self.covariance_type,
            drop_axis=1,
            dtype=np.int64,
        )


def check_dask_weight(weight, X):
    """Sample weights as a float Dask array chunked like the rows of X."""
    import dask.array as da

    if isinstance(weight, numbers.Number):
        weight = da.full(X.shape[0], float(weight), chunks=(X.chunks[0],))
    elif not is_dask_array(weight):
        weight = da.from_array(np.asarray(weight, dtype=float), chunks=(X.chunks[0],))
    else:
        weight = known_chunk_sizes(weight)
    if weight.ndim != 1 or weight.shape[0] != X.shape[0]:
        raise ValueError(
            f"sample_weight has shape {weight.shape}; expected ({X.shape[0]},)."
        )
    if weight.chunks[0] != X.chunks[0]:
        weight = weight.rechunk((X.chunks[0],))
    return weight.astype(np.float64)


def dask_fit_source(mixture, X, sample_weight, rng):
    """The :class:`~probmodels.mixture._source.FitSource` of a Dask array.

    Everything that can be refused is refused before the EM passes: the
    array's shape, chunking and dtype, then (in one pass that also gives the
    centre) a chunk with NaN or infinite values, negative weights, and values
    whose squares would overflow. The initialisation runs on
    ``INIT_SAMPLE_ROWS`` rows drawn uniformly, chunk by chunk, with the fit's
    generator (or on the user's ``*_init`` arrays).

    Parameters
    ----------
    mixture : GaussianMixture
    X : dask.array.Array of shape (n_samples, n_features)
    sample_weight : array-like, Dask array or None
    rng : numpy.random.Generator
        The fit's generator.

    Returns
    -------
    FitSource
    """
    if mixture.solver != "em":
        raise ValueError(
            "A Dask array is fitted by EM (solver='em'): the gradient solver "
            "needs the rows in memory."
        )
    X = validate_dask_rows(mixture, X, reset=True)
    if hasattr(mixture, "feature_names_in_"):
        del mixture.feature_names_in_  # an array has no column names
    weight = None if sample_weight is None else check_dask_weight(sample_weight, X)
    rows = scan_rows(X, weight)
    if rows.n_rows < mixture.n_components:
        raise ValueError(
            "Expected n_samples >= n_components but got n_components = "
            f"{mixture.n_components}, n_samples = {rows.n_rows}: each component "
            "needs data."
        )
    if rows.largest > np.sqrt(np.finfo(np.float64).max / max(1, X.size)):
        raise ValueError(
            f"X holds values up to {rows.largest:.3g}, whose squares overflow "
            "float64 in the covariances. Scale the data first."
        )
    inits = mixture._check_init_parameters(X)
    sample, sample_weight = sample_rows(X, INIT_SAMPLE_ROWS, rng, weight)
    center, covariance_type = rows.center, mixture.covariance_type

    def stats_of(resp):
        # Missing entries count at the centre (the column's mean) to start.
        return features(np.nan_to_num(sample - center), covariance_type) @ resp

    data = DaskStatistics(X, center, weight, covariance_type)
    return FitSource(sample, sample_weight, inits, center, rows.total, data, stats_of)


def mixture_dask_source(mixture, X, sample_weight, rng):
    """A GaussianMixture's fit on a Dask array: continuous columns only.

    Refuses what needs all rows in memory (``quantile_transform``) or a
    table's column types (``categorical_features``), then returns
    :func:`dask_fit_source`: the mixture's columns are all continuous.

    Parameters
    ----------
    mixture : GaussianMixture
    X : dask.array.Array of shape (n_samples, n_features)
    sample_weight : array-like, Dask array or None
    rng : numpy.random.Generator

    Returns
    -------
    FitSource
    """
    if mixture.quantile_transform:
        raise ValueError(
            "A Dask array is fitted as it is: quantile_transform=True needs "
            "the quantiles of all rows in memory. Compute the array, or fit "
            "without it."
        )
    features = mixture.categorical_features
    if not (isinstance(features, str) or features is None):
        raise ValueError(
            "A Dask array is fitted as continuous columns: leave "
            "categorical_features at 'from_dtype' (or None)."
        )
    return dask_fit_source(mixture, X, sample_weight, rng)


def map_rows(method, X, n_columns=None):
    """Apply an in-memory row method to each chunk of a Dask array, lazily.

    Each chunk reaches ``method`` as a DataFrame indexed by its rows'
    numbers in X, so that a message about a row (a NaN, say) names the row
    of X, not of the chunk.

    Parameters
    ----------
    method : callable
        ``method(block)`` returns one value per row, or ``n_columns``.
    X : dask.array.Array of shape (n_samples, n_features)
        With known chunk sizes (:func:`known_chunk_sizes`).
    n_columns : int, optional
        Width of a 2-D result (``predict_proba``).

    Returns
    -------
    dask.array.Array
    """
    if len(X.chunks[1]) != 1:
        raise ValueError(
            "X is chunked along its features; each chunk must hold whole rows. "
            "Rechunk it first: X.rechunk({1: -1})."
        )

    def rows(block, block_info=None):
        start = block_info[0]["array-location"][0][0] if block_info else 0
        index = pd.RangeIndex(start, start + len(block))
        return method(pd.DataFrame(block, index=index))

    if n_columns is None:
        return X.map_blocks(rows, drop_axis=1, dtype=np.float64)
    return X.map_blocks(rows, chunks=(X.chunks[0], (n_columns,)), dtype=np.float64)
