"""Initial responsibilities for a mixture, as scikit-learn chooses them."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from ..base import child_seed

__all__ = ["initial_responsibilities"]


def initial_responsibilities(X, n_components, init_params, weight, rng):
    """Responsibilities to start EM (or the gradient solver) from.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_components : int
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}
        k-means labels (one run), k-means++ seeds, uniform random rows, or
        randomly chosen data points (one per component; with
        ``sample_weight``, chosen in proportion to their weight).
    weight : ndarray of shape (n_samples,) or None
        Sample weights, passed on to k-means.
    rng : numpy.random.Generator
        Source of all randomness (k-means gets a seed drawn from it).

    Returns
    -------
    ndarray of shape (n_samples, n_components)
    """
    n, k = len(X), n_components
    seed = child_seed(rng, high=np.iinfo(np.int32).max)
    resp = np.zeros((n, k))
    if init_params == "kmeans":
        km = KMeans(n_clusters=k, n_init=1, random_state=seed)
        resp[np.arange(n), km.fit(X, sample_weight=weight).labels_] = 1.0
    elif init_params == "k-means++":
        _, idx = kmeans_plusplus(X, k, random_state=seed, sample_weight=weight)
        resp[idx, np.arange(k)] = 1.0
    elif init_params == "random":
        resp = rng.uniform(size=(n, k))
        resp /= resp.sum(axis=1, keepdims=True)
    else:
        p = None if weight is None else weight / weight.sum()
        if p is not None and np.count_nonzero(p) < k:
            raise ValueError(
                f"init_params='random_from_data' needs {k} rows with positive "
                "sample_weight."
            )
        resp[rng.choice(n, size=k, replace=False, p=p), np.arange(k)] = 1.0
    return resp
