"""What the models over a table's states share: fit's states, sampling, imputation.

:class:`LatentClassMixture` and :class:`HiddenChowLiuTree` both hold one
categorical distribution per column and hidden state over the states of
:class:`~._bins.TableStates`. They differ only in their hidden part: one
class for the row, or a latent per column along a tree. So
:class:`StateModel` is the template (as sklearn's ``BaseMixture`` is for
the Gaussian mixture): it reads the table into states, and turns each
row's distribution over its columns' states into draws, conditional means
and sampled rows. A model supplies the hook
:meth:`StateModel._column_state_probabilities`: given the observed states,
either a draw of its hidden part with each column's state probabilities
under it ("draw"), or each column's marginal state distribution ("mean").
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._conditioning import check_impute_method, complete_rows, in_container, query_rows
from ..base import GenerativeMixin, check_n_samples, fitted_column_types
from ..columns import ColumnTypes
from ..columns._numbers import IntegerColumn
from ..utils.validation import check_rows_observed, validate_features
from ._bins import ColumnBins, TableStates, bins_state

__all__ = ["StateModel"]


class StateModel(GenerativeMixin, BaseEstimator):
    """Template of the models over a table's states (see the module docstring).

    Subclasses set ``_fitted_attribute`` (what ``check_is_fitted`` looks
    for), and define ``_column_state_probabilities`` and ``_n_parameters``.
    """

    _fitted_attribute = "_bin_states"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    # ------------------------------------------------------------- states
    @property
    def _types(self) -> ColumnTypes:
        return fitted_column_types(self)

    @property
    def bins_(self):
        """The states of each number column (see :class:`~._bins.ColumnBins`)."""
        check_is_fitted(self, "_bin_states")
        return [ColumnBins(**state) for state in self._bin_states]

    def _table(self):
        """The columns as states (see :class:`~._bins.TableStates`)."""
        return TableStates(self.bins_, list(self._types.category_sizes))

    def _fit_states(self, X):
        """Fit the column types and the numbers' bins (``n_bins``); the rows as states.

        Refuses a row with no observed entry.

        Parameters
        ----------
        X : array-like or DataFrame

        Returns
        -------
        encoded : EncodedTable
        states : ndarray of shape (n, n_columns)
        observed : list of ndarray
            Each number column's observed values.
        """
        self._columns, encoded = ColumnTypes.fit(
            X, self.categorical_features, allow_nan=True, ensure_min_samples=2
        )
        validate_features(self, X, reset=True)
        observed = [col[~np.isnan(col)] for col in encoded.continuous.T]
        self._bin_states = [
            bins_state(ColumnBins.fit(x, self.n_bins, integer))
            for x, integer in zip(observed, self._integer_columns(), strict=True)
        ]
        states = self._table().encode(encoded)[0]
        check_rows_observed(
            np.where(states < 0, np.nan, 0.0), getattr(X, "index", None)
        )
        return encoded, states, observed

    def _integer_columns(self):
        return [
            isinstance(c, IntegerColumn)
            for c in self._types.columns
            if not c.categorical
        ]

    def _evidence(self, X):
        """Encoded rows, their states and their log base measures."""
        check_is_fitted(self, self._fitted_attribute)
        validate_features(self, X, reset=False)
        encoded = self._types.encode(X, allow_nan=True)
        states, base = self._table().encode(encoded)
        return encoded, states, base

    def _column_state_probabilities(self, states, method, rng):
        """Each column's state probabilities per row, given the observed states.

        Parameters
        ----------
        states : ndarray of shape (n, n_columns)
            -1 where not observed.
        method : {"draw", "mean"}
            "draw": after a draw of the hidden part from its posterior;
            "mean": marginalised over the hidden part's posterior.
        rng : numpy.random.Generator or None

        Returns
        -------
        list of ndarray of shape (n, n_states_j)
        """
        raise NotImplementedError

    # ------------------------------------------------------------ scoring
    def bic(self, X):
        """Bayesian information criterion on X (lower is better).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        float
        """
        scores = self.score_samples(X)
        return -2 * scores.sum() + self._n_parameters() * np.log(len(scores))

    # ------------------------------------------------------------- sampling
    def sample(self, n_samples=1, *, random_state=None, given=None):
        """Draw rows: the hidden part, then each column given it.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState, Generator or None, default=None
            None draws from the generator seeded at fit (consecutive calls
            differ); a value makes this call repeatable.
        given : dict or DataFrame, default=None
            Values some columns take (column -> value, or a DataFrame with
            one row per sample); the others are drawn from the exact
            conditional given them.

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
            In the container the model was fitted on.
        """
        n_samples = check_n_samples(n_samples)
        check_is_fitted(self, self._fitted_attribute)
        rng = self._sampling_generator(random_state)
        if given is not None:
            query = query_rows(self._types, given, n_samples)
            return in_container(self._fill(query, "draw", rng), self._container)
        nothing = np.full((n_samples, len(self._table().n_states)), -1)
        probs = self._column_state_probabilities(nothing, "draw", rng)
        continuous, codes = self._table().draw_rows(probs, rng)
        return self._types.decode(continuous, codes, container=self._container)

    def impute(self, X, *, method="draw", random_state=None):
        """Fill each row's missing entries from p(missing | observed), exactly.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        method : {"draw", "mean"}, default="draw"
            "draw": a draw from the conditional; "mean": for a number column
            the mean of its conditional histogram (the tails left out), for
            a categorical column its most probable category.
        random_state : int, RandomState, Generator or None, default=None

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
        """
        check_impute_method(method)
        rng = self._sampling_generator(random_state) if method == "draw" else None
        return self._fill(X, method, rng)

    def _fill(self, X, method, rng):
        encoded, states, _ = self._evidence(X)
        probs = self._column_state_probabilities(states, method, rng)
        table = self._table()
        if method == "draw":
            continuous, codes = table.draw_rows(probs, rng)
        else:
            continuous, codes = table.conditional_means(probs)
        continuous = np.where(
            np.isnan(encoded.continuous), continuous, encoded.continuous
        )
        if codes is not None:
            codes = np.where(encoded.codes < 0, codes, encoded.codes)
        return complete_rows(self._types, continuous, codes, X)
