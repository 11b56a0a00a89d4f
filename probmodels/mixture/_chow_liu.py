"""The Chow-Liu tree of a table's columns (Chow & Liu, 1968).

The tree over the columns that maximises the sum of the pairwise mutual
information along its edges: the best tree-shaped approximation of the
joint distribution in Kullback-Leibler divergence, and the structure of the
hidden Chow-Liu tree (:class:`~._latent_tree.HiddenChowLiuTree`).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import minimum_spanning_tree

__all__ = ["chow_liu_parents", "pairwise_mutual_information"]


def pairwise_mutual_information(states):
    """Mutual information (nats) of every pair of columns of integer states.

    Each pair is measured on the rows where both are observed (state >= 0),
    from the empirical joint distribution.

    Parameters
    ----------
    states : ndarray of shape (n, d)
        Non-negative states, -1 where missing.

    Returns
    -------
    ndarray of shape (d, d)
        Symmetric, zero on the diagonal.
    """
    d = states.shape[1]
    sizes = states.max(axis=0) + 1
    mi = np.zeros((d, d))
    for a in range(d):
        for b in range(a + 1, d):
            seen = (states[:, a] >= 0) & (states[:, b] >= 0)
            if not seen.any():
                continue
            joint = (
                np.bincount(
                    states[seen, a] * sizes[b] + states[seen, b],
                    minlength=sizes[a] * sizes[b],
                ).reshape(sizes[a], sizes[b])
                / seen.sum()
            )
            outer = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True)
            nz = joint > 0
            mi[a, b] = mi[b, a] = float(
                (joint[nz] * np.log(joint[nz] / outer[nz])).sum()
            )
    return mi


def chow_liu_parents(mi):
    """The maximum spanning tree of ``mi``, rooted at its centre, as parents.

    Parameters
    ----------
    mi : ndarray of shape (d, d)
        Symmetric edge weights (mutual information).

    Returns
    -------
    ndarray of shape (d,)
        Each node's parent, -1 for the root: the node whose farthest node is
        nearest, so that messages pass through as few levels as possible.
    """
    d = len(mi)
    if d == 1:
        return np.array([-1])
    # A minimum spanning tree of (max + 1 - mi): every pair stays an edge
    # (zero weights would mean "no edge" to scipy) and the order is reversed.
    weights = mi.max() + 1.0 - mi
    np.fill_diagonal(weights, 0.0)
    tree = minimum_spanning_tree(weights).toarray()
    adjacent = (tree + tree.T) > 0
    depth = [_bfs_parents(adjacent, r)[1].max() for r in range(d)]
    return _bfs_parents(adjacent, int(np.argmin(depth)))[0]


def _bfs_parents(adjacent, root):
    """Parents and depths of a tree's nodes from ``root`` (breadth first)."""
    d = len(adjacent)
    parents, depth = np.full(d, -1), np.zeros(d, dtype=int)
    seen, queue = {root}, [root]
    while queue:
        node = queue.pop(0)
        for nb in np.flatnonzero(adjacent[node]):
            if nb not in seen:
                seen.add(nb)
                parents[nb], depth[nb] = node, depth[node] + 1
                queue.append(nb)
    return parents, depth
