"""What a fitted mixture says of a row's missing entries: imputation, conditioning.

Given the observed entries ``x_o`` of a row, the mixture's conditional of
the rest is again a mixture, exactly:

    p(x_m | x_o) = sum_k r_k(x_o) N(x_m; mu_km|o, Sigma_km|o) prod_j pi_kj(x_j),

with ``r_k(x_o)`` the posterior of component k given the observed entries
(``predict_proba``) and the Gaussian conditionals of
:mod:`probmodels.mixture._missing`. ``impute(method="mean")`` returns its
mean (for a categorical column, the most probable category under the
mixed probabilities ``sum_k r_k pi_kj``); ``method="draw"`` and
``sample(given=...)`` draw a component from ``r(x_o)``, then the missing
entries from that component's conditional. Nothing is rejected or
approximated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from sklearn.utils.validation import check_is_fitted

from ._inference import _draw_categories
from ._missing import MissingLayout, fill_rows, gaussian_conditionals

__all__ = ["ConditionalMixture", "given_frame"]

IMPUTE_METHODS = ("mean", "draw")


class ConditionalMixture:
    """``impute`` and the conditional draws behind ``sample(given=...)``."""

    def impute(self, X, *, method="draw", random_state=None):
        """Fill each row's missing entries (NaN) from p(missing | observed).

        Exact for the mixture (the conditional of a Gaussian mixture is a
        Gaussian mixture): see ``docs/user_guide/missing.rst``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows of the fitted columns, NaN (None, NaT, pd.NA) where missing.
            A row with nothing observed is refused.
        method : {"draw", "mean"}, default="draw"
            "draw": a draw from the conditional (for multiple imputation);
            "mean": its mean (for a categorical column its most probable
            category).
        random_state : int, RandomState, Generator or None, default=None
            For ``method="draw"``: None draws from the generator seeded at
            fit, as ``sample`` does; a value makes the call repeatable.

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
            X with the missing entries filled and the observed ones as they
            were, in X's container (a DataFrame in the fitted dtypes).
        """
        check_is_fitted(self)
        if method not in IMPUTE_METHODS:
            raise ValueError(f"method must be one of {IMPUTE_METHODS}, got {method!r}.")
        rows = self._validate_X(X, reset=False)
        rng = self._sampling_generator(random_state) if method == "draw" else None
        continuous, codes, _ = self._conditional_fill(rows, method, rng)
        return _overlay(X, self._decoded(continuous, codes, X))

    # ------------------------------------------------------------ internals
    def _conditional_fill(self, rows, method, rng):
        """Filled continuous block, filled codes and the components drawn."""
        log_w, means, prec = self._moments()
        k, d = means.shape
        layout = MissingLayout(np.isnan(rows[:, :d]))
        X0 = np.nan_to_num(rows[:, :d])
        log_det_cov = -np.linalg.slogdet(prec)[1]
        logits = np.empty((len(rows), k))
        fills, covs = [], []
        for j, (dens, fill, cov) in enumerate(
            gaussian_conditionals(X0, layout, means, prec, log_det_cov)
        ):
            logits[:, j] = dens
            fills.append(fill)
            covs.append(cov)
        logits += log_w
        log_probs = self._category_log_probs()
        onehot = rows[:, d:]
        if log_probs is not None:
            logits += np.nan_to_num(onehot) @ log_probs.T
        resp = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
        labels = None
        if method == "mean":
            filled = sum(
                resp[:, j, None] * fill_rows(X0, layout, fills[j]) for j in range(k)
            )
            filled = np.where(np.isnan(rows[:, :d]), filled, rows[:, :d])
        else:
            labels = _draw_rows(resp, rng)
            filled = _draw_gaussian(X0, layout, labels, fills, covs, rng)
        codes = self._fill_codes(onehot, resp, labels, rng)
        return filled, codes, labels

    def _fill_codes(self, onehot, resp, labels, rng):
        """Category codes with missing ones filled (mode, or a draw)."""
        sizes = self._types.category_sizes
        if not sizes:
            return None
        starts = np.cumsum([0, *sizes])
        codes = []
        for j, log_prob in enumerate(self.category_log_prob_):
            block = onehot[:, starts[j] : starts[j + 1]]
            code = np.nan_to_num(block).argmax(axis=1)
            missing = np.isnan(block[:, 0])
            if missing.any():
                if labels is None:
                    mixed = resp[missing] @ np.exp(log_prob)
                    code[missing] = mixed.argmax(axis=1)
                else:
                    probs = np.exp(log_prob[labels[missing]])
                    code[missing] = _draw_categories(probs, rng)
            codes.append(code)
        return np.column_stack(codes)

    def _decoded(self, continuous, codes, X):
        """Model rows back in the fitted columns (a DataFrame or an array)."""
        index = X.index if isinstance(X, pd.DataFrame) else None
        types = self._types
        if types.is_plain and types.quantiles is None:
            return continuous
        return types.decode(continuous, codes, index=index)

    def _sample_given(self, n_samples, given, rng):
        """``sample(given=...)``: the query rows filled by conditional draws."""
        frame = given_frame(self, given, n_samples)
        rows = self._validate_X(frame, reset=False)
        continuous, codes, labels = self._conditional_fill(rows, "draw", rng)
        if self.__dict__.get("feature_names_in_") is None:
            frame = frame.to_numpy(dtype=float)
        out = _overlay(frame, self._decoded(continuous, codes, frame))
        if isinstance(out, pd.DataFrame) and self._container.kind == "ndarray":
            out = out.to_numpy()
        return out, labels


def given_frame(model, given, n_samples) -> pd.DataFrame:
    """The query rows of ``sample(given=...)``: given values, NaN elsewhere.

    Parameters
    ----------
    model : fitted estimator
        Its ``feature_names_in_`` (or column positions for an array fit) and
        column types.
    given : dict or DataFrame
        Column -> value, or a DataFrame of the given columns with one row
        per sample.
    n_samples : int

    Returns
    -------
    DataFrame of shape (n_samples, n_features)
    """
    names = model.__dict__.get("feature_names_in_")
    columns = list(names) if names is not None else list(range(model.n_features_in_))
    if isinstance(given, pd.DataFrame):
        if len(given) != n_samples:
            raise ValueError(
                f"given is a DataFrame of {len(given)} rows (one per sample), but "
                f"n_samples={n_samples}: pass n_samples=len(given)."
            )
        values = {c: given[c].to_numpy() for c in given.columns}
    elif isinstance(given, dict):
        values = {c: [v] * n_samples for c, v in given.items()}
    else:
        raise TypeError(
            "given must be a dict of column -> value or a DataFrame of the given "
            f"columns, got {type(given).__name__}."
        )
    unknown = [c for c in values if c not in columns]
    if unknown:
        shown = columns if len(columns) <= 20 else [*columns[:20], "..."]
        raise ValueError(
            f"given names {unknown[0]!r}, which is not a fitted column; the columns "
            f"are {shown}."
        )
    if len(values) == len(columns):
        raise ValueError(
            "given fixes every column: nothing is left to draw. Leave at least "
            "one column out."
        )
    frame = {}
    for c, column in zip(columns, model._types.columns, strict=True):
        dtype = "datetime64[ns]" if column.kind == "datetime" else None
        if column.kind == "datetime" and column.tz is not None:
            dtype = pd.DatetimeTZDtype(tz=column.tz)
        if c in values:
            series = pd.Series(values[c])
            if column.kind == "datetime":
                series = pd.to_datetime(series)
            elif column.kind in ("categorical", "boolean"):
                series = series.astype(object)
            elif not pd.api.types.is_numeric_dtype(series.dtype):
                raise ValueError(
                    f"given[{c!r}] is {series.iloc[0]!r}, but column {c!r} holds "
                    "numbers."
                )
        elif column.kind in ("categorical", "boolean"):
            series = pd.Series([None] * n_samples, dtype=object)
        else:
            series = pd.Series(np.full(n_samples, np.nan), dtype=dtype or float)
        frame[c] = series.reset_index(drop=True)
    if names is None:
        return pd.DataFrame({i: frame[i] for i in columns})
    return pd.DataFrame(frame, columns=names)


def _overlay(X, filled):
    """``filled`` where X is missing, X elsewhere, in X's container."""
    if isinstance(X, pd.DataFrame):
        if not isinstance(filled, pd.DataFrame):  # a frame of plain numbers
            filled = pd.DataFrame(filled, index=X.index, columns=X.columns)
        out = filled.copy()
        for j, name in enumerate(X.columns):
            observed = X.iloc[:, j].notna().to_numpy()
            if observed.all():
                out[name] = X.iloc[:, j].astype(out[name].dtype)
            elif observed.any():
                column = out[name].copy()
                column[observed] = X.iloc[:, j][observed].astype(column.dtype)
                out[name] = column
        return out
    values = np.array(X, dtype=float)
    filled = np.asarray(filled, dtype=float)
    missing = np.isnan(values)
    values[missing] = filled[missing]
    return values


def _draw_rows(resp, rng):
    """One component per row from its posterior probabilities."""
    return _draw_categories(resp, rng)


def _draw_gaussian(X0, layout, labels, fills, covs, rng):
    """Each row's missing entries drawn from its component's conditional."""
    out = X0.copy()
    flat = out.ravel()
    for g, group in enumerate(layout.groups):
        means = np.stack([fill[g] for fill in fills])  # (K, n_g, m)
        cov = np.stack([c[g] for c in covs])  # (K, P, m, m)
        chol = np.linalg.cholesky(cov)
        own = labels[group.rows]
        z = rng.standard_normal(means.shape[1:])
        noise = np.einsum("nij,nj->ni", chol[own, group.pattern], z)
        flat[group.flat] = means[own, np.arange(len(own))] + noise
    return out
