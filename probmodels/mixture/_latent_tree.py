"""HiddenChowLiuTree: a deep mixture whose latent variables form a tree.

Every column ``j`` gets a latent variable ``z_j`` with ``H`` states and a
one-dimensional distribution per state, over the same states as the latent
class model (:class:`~._bins.TableStates`: categories, and the atoms and
quantile bins of numbers). The latent variables form a tree, the Chow-Liu
tree of the columns (the maximum spanning tree of their pairwise mutual
information; Chow & Liu, 1968):

    p(x) = sum_z p(z_root) prod_{j != root} p(z_j | z_parent(j)) prod_j p(x_j | z_j).

This is the hidden Chow-Liu tree of Liu & Van den Broeck (NeurIPS 2021,
"Tractable regularization of probabilistic circuits"), the structure TabPC
(arXiv 2603.23016) trains on tables: as a probabilistic circuit, a sum unit
per latent state and edge and a product per column, so likelihoods,
marginals and conditionals are exact. The latent class model is the tree of
depth one whose root has one column.

Inference is belief propagation on the tree, batched over rows. The upward
pass gives each column the likelihood of its subtree's evidence,

    u_j(z) = p(x_j | z) prod_{c child of j} lambda_c(z),
    lambda_c(z_p) = sum_z T_c[z_p, z] u_c(z),

and ``p(x) = lambda_root`` (the root's prior is its transition from a
parent with one state). The downward pass gives each latent's posterior,
``q_c(z) = u_c(z) sum_{z_p} q_p(z_p) T_c[z_p, z] / lambda_c(z_p)``, and the
pair posteriors that EM counts, ``xi_c = T_c * ((q_p / lambda_c)^T u_c)``
(summed over rows). Every pass is one dense product per column, which two
cores afford for hundreds of latent states. Messages are scaled per row,
the scales kept in logs.

Missing entries and values outside the training range leave their column's
leaf out (its likelihood is 1 for every latent state), so missing values are
marginalised exactly and the tails contribute a factor shared by all states.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..base import (
    atomic_fit,
    validate_params,
)
from ..exceptions import ConvergenceWarning
from ._bins import ColumnBins, TableStates
from ._chow_liu import chow_liu_parents, pairwise_mutual_information
from ._inference import _draw_categories
from ._state_model import StateModel

__all__ = ["HiddenChowLiuTree"]

# Bins per number column when measuring mutual information for the tree:
# coarse enough that the estimate is not all noise (TabPC uses 15).
_MI_BINS = 16


class HiddenChowLiuTree(StateModel):
    """Hidden Chow-Liu tree: a probabilistic circuit for mixed tables.

    Each column has a latent variable of ``n_latent`` states and, given it,
    a one-dimensional distribution of its own kind (a categorical
    distribution, or for numbers a histogram with exact atoms, as in
    :class:`LatentClassMixture`). The latent variables form a tree along the
    Chow-Liu tree of the columns, so that each column depends on its
    neighbours' latents and not on one class shared by all: a deep mixture
    whose likelihood, marginals and conditionals stay exact. Fitted by EM
    with belief propagation; ``docs/user_guide/tables.rst`` has the maths
    and the measurements on Adult.

    Parameters
    ----------
    n_latent : int, default=128
        States of each column's latent variable. The cost of an EM step
        grows as ``n_latent ** 2``.
    n_bins : int, default=256
        Bins per number column at most; values shared by at least
        ``1 / n_bins`` of the rows are atoms besides.
    smoothing : float, default=0.01
        Dirichlet pseudo-count added to every state of every leaf and every
        entry of every transition in the M-step (a MAP estimate).
    max_iter : int, default=300
    tol : float, default=1e-3
        Without early stopping, EM stops when the mean log-likelihood gains
        less than this; with it, a held-out gain smaller than this counts as
        none.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (at random, not trained
        on), score them after every EM step, stop when their mean
        log-likelihood has not improved for ``n_iter_no_change`` steps and
        keep the parameters of the best step. This gives the best held-out
        likelihood, but not the best samples: on Adult the held-out
        likelihood peaks near step 50 while samples keep getting harder to
        tell from real rows for 200 steps more (``docs/user_guide/tables.rst``
        has the measurements), so it is off by default.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    batch_size : int, default=4096
        Rows per pass of belief propagation: bounds the memory (about
        ``3 * n_columns * batch_size * n_latent`` floats), not the result;
        every EM step uses all rows.
    init_params : {"random", "values"}, default="random"
        Where EM starts. "random": transitions and leaves drawn from
        Dirichlet(1) distributions. "values": each latent set to its
        column's state (states grouped by frequency where there are more
        than ``n_latent``, latents to spare repeating them), blurred with
        noise: the Chow-Liu tree of the observed values, from which EM needs
        fewer steps on small tables but which overfits more on large ones
        (``docs/user_guide/tables.rst`` has the measurements).
    categorical_features : "from_dtype", array-like or None, default="from_dtype"
        Which columns are categorical, as for the other models.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the initialisation; :meth:`sample` draws from a generator
        seeded from it.
    verbose : int, default=0

    Attributes
    ----------
    parents_ : ndarray of shape (n_features,)
        Each column's parent in the tree (a column index), -1 for the root.
    transitions_ : list of ndarray
        Per column in the encoded order (number columns first), the
        transition ``p(z_j | z_parent)`` of shape ``(n_latent, n_latent)``,
        rows indexed by the parent's state; the root's is its prior, of shape
        ``(1, n_latent)``.
    state_log_prob_ : list of ndarray of shape (n_latent, n_states_j)
        Per column in the encoded order, each latent state's log-probability
        of each of the column's states.
    bins_ : list of ColumnBins
        The states of each number column.
    mutual_information_ : ndarray of shape (n_features, n_features)
        The pairwise mutual information (nats) the tree was chosen from.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood of the training rows' states (without the bins'
        base measures) before the M-step of the parameters kept.
    validation_scores_ : list of float
        With early stopping, the held-out rows' mean log-likelihood (of their
        states) after each EM step; empty without it.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    LatentClassMixture : one latent class for all columns.

    Examples
    --------
    >>> from probmodels import HiddenChowLiuTree
    >>> from probmodels.datasets import load_adult
    >>> adult = load_adult().head(2000)
    >>> model = HiddenChowLiuTree(8, random_state=0).fit(adult)
    >>> model.sample(3, random_state=0).shape
    (3, 15)
    """

    _fitted_attribute = "transitions_"

    _parameter_constraints = {
        "n_latent": [Interval(Integral, 1, None, closed="left")],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "smoothing": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions({"random", "values"})],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "categorical_features": "no_validation",
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_latent=128,
        n_bins=256,
        *,
        smoothing=0.01,
        max_iter=300,
        tol=1e-3,
        batch_size=4096,
        init_params="random",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        categorical_features="from_dtype",
        random_state=None,
        verbose=0,
    ):
        self.n_latent = n_latent
        self.n_bins = n_bins
        self.smoothing = smoothing
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.init_params = init_params
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.categorical_features = categorical_features
        self.random_state = random_state
        self.verbose = verbose

    # ----------------------------------------------------------------- fit
    @atomic_fit
    def fit(self, X, y=None):
        """Choose the tree from the columns' mutual information, then fit by EM.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            NaN (None, NaT, pd.NA) where an entry is missing.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        validate_params(self)
        fit_rng, generative = self._generative_state(X, self.random_state)
        encoded, states, observed = self._fit_states(X)
        table, integer = self._table(), self._integer_columns()
        coarse = TableStates(
            [
                ColumnBins.fit(x, _MI_BINS, i)
                for x, i in zip(observed, integer, strict=True)
            ],
            table.category_sizes,
        ).encode(encoded)[0]
        mi = pairwise_mutual_information(coarse)
        self._parent = chow_liu_parents(mi)
        order = self._encoded_order()
        self.mutual_information_ = mi[np.ix_(np.argsort(order), np.argsort(order))]

        train, held = self._split(len(states), fit_rng)
        start = (
            self._random_start if self.init_params == "random" else self._values_start
        )
        transitions, leaves = start(states[train], table.n_states, fit_rng)
        run = self._em(states[train], states[held], transitions, leaves)
        transitions, leaves, bound, converged, n_iter, held_scores = run
        if not converged and self.max_iter > 0:
            warnings.warn(
                "EM did not converge. Increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.validation_scores_ = held_scores
        self.transitions_ = transitions
        self.state_log_prob_ = [np.log(p) for p in leaves]
        self.lower_bound_, self.converged_, self.n_iter_ = bound, converged, n_iter
        self._commit_generative_state(generative)
        return self

    def _split(self, n, rng):
        """Training and held-out rows.

        ``validation_fraction`` of the rows are held out with early
        stopping; none without it, or when that would be no row.
        """
        rows = np.arange(n)
        n_held = int(round(self.validation_fraction * n)) if self.early_stopping else 0
        if n_held < 1 or n_held >= n:
            return rows, rows[:0]
        rows = rng.permutation(n)
        return np.sort(rows[n_held:]), np.sort(rows[:n_held])

    def _em(self, states, held, transitions, leaves):
        """EM from the given parameters; with held-out rows, the best on them.

        Without held-out rows EM stops when the training log-likelihood
        gains less than ``tol``; with them, when the held-out one has not
        gained ``tol`` over its best for ``n_iter_no_change`` steps, and the
        parameters of its best step are kept.
        """
        bound, converged, n_iter, scores = -np.inf, False, 0, []
        best, since = None, 0
        for n_iter in range(1, self.max_iter + 1):
            stats, new = self._expected_counts(states, transitions, leaves, np.float32)
            transitions, leaves = self._m_step(*stats)
            message = f"  iteration {n_iter}: mean log-likelihood {new:.5f}"
            if len(held):
                score = float(self._log_likelihood(held, transitions, leaves).mean())
                scores.append(score)
                message += f", held out {score:.5f}"
                if best is None or score > best[0] + self.tol:
                    best, since = (score, transitions, leaves, new, n_iter), 0
                else:
                    since += 1
            if self.verbose >= 2:
                print(message)
            if len(held) and since >= self.n_iter_no_change:
                converged = True
                break
            if not len(held) and new - bound < self.tol:
                bound, converged = new, True
                break
            bound = new
        if best is not None:
            _, transitions, leaves, bound, _ = best
        return transitions, leaves, bound, converged, n_iter, scores

    def _log_likelihood(self, states, transitions, leaves):
        """Log p of each row's states, in chunks of ``batch_size``."""
        chunks = range(0, len(states), self.batch_size)
        return np.concatenate(
            [np.empty(0)]
            + [
                self._upward(
                    states[s : s + self.batch_size], transitions, leaves
                ).log_likelihood
                for s in chunks
            ]
        )

    def _random_start(self, states, n_states, rng):
        """Transitions and leaves drawn from Dirichlet(1) distributions."""
        H = self.n_latent
        transitions = [
            rng.dirichlet(np.ones(H), size=1 if p < 0 else H) for p in self._parent
        ]
        leaves = [rng.dirichlet(np.ones(s), size=H) for s in n_states]
        return transitions, leaves

    def _values_start(self, states, n_states, rng):
        """One M-step from each latent set to (a group of) its column's value.

        Every column's latent starts as its observed state, states grouped
        into ``n_latent`` groups of about equal frequency where there are
        more, latents to spare repeating the states; the posteriors are that
        assignment blended with Dirichlet(1) noise (a fifth of the mass),
        which separates repeated latents and covers missing entries. The
        pair counts are the products of the two columns' posteriors. This
        starts EM at the Chow-Liu tree of the (grouped) observed values.
        """
        H = self.n_latent
        posts = []
        for j, size in enumerate(n_states):
            seen = states[:, j] >= 0
            freq = np.bincount(states[seen, j], minlength=size) + 1e-9
            code = states[seen, j]
            if size > H:
                # Groups of about equal mass, in the states' order.
                cum = np.cumsum(freq) / freq.sum()
                latent = np.minimum((cum * H - 1e-9).astype(int), H - 1)[code]
            else:
                # Latents to spare repeat the states (s, s + size, ...): each
                # row of a state takes one of its latents at random.
                shares = (H - 1 - np.arange(size)) // size + 1
                latent = code + size * (rng.random(len(code)) * shares[code]).astype(
                    int
                )
            onehot = np.zeros((len(states), H))
            onehot[np.flatnonzero(seen), latent] = 1.0
            noise = rng.dirichlet(np.ones(H), size=len(states))
            posts.append(np.where(seen[:, None], 0.8 * onehot + 0.2 * noise, noise))
        pair = [
            posts[j].sum(0, keepdims=True) if p < 0 else posts[p].T @ posts[j]
            for j, p in enumerate(self._parent)
        ]
        leaf = [
            (_indicator(states[:, j], size) @ posts[j]).T
            for j, size in enumerate(n_states)
        ]
        return self._m_step(pair, leaf)

    def _m_step(self, pair_counts, leaf_counts):
        """Transitions and leaves from expected counts, Dirichlet-smoothed."""
        a = self.smoothing
        transitions = [_normalise(c + a) for c in pair_counts]
        leaves = [_normalise(c + a) for c in leaf_counts]
        return transitions, leaves

    def _expected_counts(self, states, transitions, leaves, dtype=np.float64):
        """E-step: expected pair and leaf counts over all rows, and the mean log-likelihood.

        The passes run in ``dtype`` (fit uses float32: half the time of
        float64, the counts still summed in float64); a chunk whose
        likelihood underflows there is passed again in float64.
        """
        pair = [np.zeros_like(t) for t in transitions]
        leaf = [np.zeros_like(p) for p in leaves]
        low = [t.astype(dtype) for t in transitions], [p.astype(dtype) for p in leaves]
        total = 0.0
        for start in range(0, len(states), self.batch_size):
            chunk = states[start : start + self.batch_size]
            with np.errstate(divide="ignore", invalid="ignore"):
                up = self._upward(chunk, *low)
            passing = low[0]
            if not np.isfinite(up.log_likelihood).all():
                up, passing = self._upward(chunk, transitions, leaves), transitions
            total += up.log_likelihood.sum()
            for j, (q, xi) in enumerate(self._downward(up, passing)):
                pair[j] += xi
                leaf[j] += (_indicator(chunk[:, j], leaf[j].shape[1]) @ q).T
        return (pair, leaf), total / len(states)

    # ------------------------------------------------------- belief passing
    def _children(self):
        children = [[] for _ in self._parent]
        for j, p in enumerate(self._parent):
            if p >= 0:
                children[p].append(j)
        return children

    def _topological(self):
        """The columns, each after its parent."""
        root = int(np.flatnonzero(self._parent < 0)[0])
        order, children, head = [root], self._children(), 0
        while head < len(order):
            order.extend(children[order[head]])
            head += 1
        return order

    def _upward(self, states, transitions, leaves):
        """Upward messages of a chunk of rows (see the module docstring)."""
        n = len(states)
        children = self._children()
        order = self._topological()
        u, lam = [None] * len(order), [None] * len(order)
        log_scale = np.zeros(n)
        for j in reversed(order):
            m = _leaf_likelihood(leaves[j], states[:, j])
            for c in children[j]:
                m = m * (lam[c] / lam[c].max(axis=1, keepdims=True))
                log_scale += np.log(lam[c].max(axis=1))
            top = m.max(axis=1, keepdims=True)
            u[j] = m / top
            log_scale += np.log(top[:, 0])
            lam[j] = u[j] @ transitions[j].T
        root = order[0]
        return _Upward(u, lam, np.log(lam[root][:, 0]) + log_scale, order)

    def _downward(self, up, transitions):
        """Each column's latent posterior ``q_j`` and its pair counts ``xi_j``.

        Returns
        -------
        list of (ndarray of shape (n, n_latent), ndarray like transitions[j])
            Per column in the encoded order; the root's pair counts are those
            of its prior.
        """
        q, xi = [None] * len(transitions), [None] * len(transitions)
        for j in up.order:
            p = self._parent[j]
            above = np.ones((len(up.u[j]), 1), up.u[j].dtype) if p < 0 else q[p]
            w = above / up.lam[j]
            q[j] = up.u[j] * (w @ transitions[j])
            xi[j] = transitions[j] * (w.T @ up.u[j])
        return list(zip(q, xi, strict=True))

    # ------------------------------------------------------------- states
    def _encoded_order(self):
        """The feature index of each column in the encoded order (numbers first)."""
        columns = self._types.columns
        numbers = [i for i, c in enumerate(columns) if not c.categorical]
        return np.array(numbers + [i for i, c in enumerate(columns) if c.categorical])

    @property
    def parents_(self):
        """Each column's parent in the tree (a feature index), -1 for the root."""
        check_is_fitted(self, "_parent")
        order = self._encoded_order()
        parents = np.full(len(order), -1)
        has = self._parent >= 0
        parents[order[has]] = order[self._parent[has]]
        return parents

    def _leaves(self):
        return [np.exp(lp) for lp in self.state_log_prob_]

    # ------------------------------------------------------------ inference
    def score_samples(self, X):
        """Log-density of each row's observed entries, in nats.

        Missing entries are marginalised out exactly. With respect to the
        counting measure on categories, atoms and the values of integer
        columns, and Lebesgue measure on the bins of continuous columns.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        encoded, states, base = self._evidence(X)
        log_lik = self._log_likelihood(states, self.transitions_, self._leaves())
        return log_lik + base + self._types.log_jacobian(encoded.continuous)

    def _n_parameters(self):
        H = self.n_latent
        leaves = sum(H * (lp.shape[1] - 1) for lp in self.state_log_prob_)
        return leaves + sum(t.shape[0] * (H - 1) for t in self.transitions_)

    # ------------------------------------------------------------- sampling
    def _column_state_probabilities(self, states, method, rng):
        """Each column's states under drawn latents, or averaged over their posteriors.

        "draw": latents drawn down the tree given the observed states;
        "mean": each column's latent marginal posterior from the downward pass.
        """
        leaves = self._leaves()
        if method == "draw":
            latents = self._draw_latents(states, rng)
            return [leaf[latents[:, j]] for j, leaf in enumerate(leaves)]
        q = [[] for _ in leaves]
        for s in range(0, len(states), self.batch_size):
            up = self._upward(
                states[s : s + self.batch_size], self.transitions_, leaves
            )
            for j, (qj, _) in enumerate(self._downward(up, self.transitions_)):
                q[j].append(qj)
        return [np.concatenate(qj) @ leaf for qj, leaf in zip(q, leaves, strict=True)]

    def _draw_latents(self, states, rng):
        """Each row's latent states drawn down the tree given its observed states.

        The root from ``p(z_root | x)``, each child from
        ``p(z_c | z_parent, x) = T_c[z_parent, z_c] u_c(z_c) / lambda_c(z_parent)``.
        """
        latents = np.empty(states.shape, dtype=np.int64)
        for s in range(0, len(states), self.batch_size):
            chunk = states[s : s + self.batch_size]
            up = self._upward(chunk, self.transitions_, self._leaves())
            for j in up.order:
                p = self._parent[j]
                rows = self.transitions_[j][
                    0 if p < 0 else latents[s : s + len(chunk), p]
                ]
                probs = np.atleast_2d(rows) * up.u[j]
                latents[s : s + len(chunk), j] = _draw_categories(probs, rng)
        return latents


@dataclass
class _Upward:
    """Upward messages of a chunk: ``u_j`` (scaled), ``lambda_j``, log p(x), the order."""

    u: list
    lam: list
    log_likelihood: np.ndarray
    order: list


def _leaf_likelihood(leaf, state):
    """``p(x_j | z)`` of each row (n, n_latent); 1 where the state is -1 (left out)."""
    out = leaf.T[np.maximum(state, 0)]
    out[state < 0] = 1.0
    return out


def _indicator(state, n_states):
    """Sparse (n_states, n) indicator of each row's state; none where -1."""
    rows = np.flatnonzero(state >= 0)
    return sparse.csr_matrix(
        (np.ones(len(rows)), (state[rows], rows)), shape=(n_states, len(state))
    )


def _normalise(counts):
    """Rows of ``counts`` divided by their sums."""
    return counts / counts.sum(axis=1, keepdims=True)
