"""Forecasts and simulated paths of many series, each from its own last step.

:func:`forecast_panel` and :func:`sample_panel` continue each series of a
fitted :class:`~probmodels.timeseries._ar_panel.PanelRecord` from its own
last step, with its own dates. Missing final steps are filled by the model
first (their conditional mean given the steps before them, or a draw in a
sample), and the intervals count the uncertainty of those fills: one
recursion (:func:`_run_forward`) does both, run on a basis of unit shocks for
the intervals (each step's coefficients on the innovations).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..utils.validation import and_more
from ._ar_panel import PanelRecord
from ._panel import Panel, future_panel_exog

__all__ = ["forecast_panel", "sample_panel"]


def _chain_starts(panel: Panel, p: int) -> np.ndarray:
    """First step of each series that the end state needs simulated.

    The last p steps make the state a forecast starts from. A missing one
    among them is filled from the p steps before it, which may hold a
    missing step in turn: the chain runs back while missing steps lie
    within p of each other. Series with none end at their length.
    """
    lengths = panel.lengths
    q = lengths.copy()
    if p == 0:
        return q
    steps = np.arange(panel.values.shape[1])[None, :]
    missing = np.isnan(panel.values) & (steps < lengths[:, None])
    tail = missing & (steps >= (lengths - p)[:, None])
    for i in np.flatnonzero(tail.any(axis=1)):
        start = lengths[i]
        for t in np.flatnonzero(missing[i])[::-1]:
            if t < start - p:
                break
            start = t
        q[i] = start
    early = np.flatnonzero(q < p)
    if early.size:
        bad = panel.ids[early].tolist()
        raise ValueError(
            f"Series {bad[:20]}{and_more(bad, 20)} miss steps all the way back to "
            f"their first {p}: no observed lags to forecast from."
        )
    return q


def _run_forward(record, steps, future_exog, shocks, q, errors=False):
    """Fill the missing final steps, then run ``steps`` steps ahead.

    ``shocks`` of shape (m, n_paths, R) are the innovations at the region's
    R columns (None: the conditional mean); ``q`` is each series' first
    simulated step (:func:`_chain_starts`). With ``errors``, observed values
    and the deterministic part are zero, so the result is each step's
    coefficients on the shocks (their variance is what intervals need).

    Returns
    -------
    ndarray of shape (m, n_paths, steps)
    """
    panel, terms, coef = record.panel, record.terms, record.coef
    m, p = coef.shape
    fill = panel.lengths - q
    R = int(fill.max(initial=0)) + steps
    off = R - steps - fill
    width = panel.values.shape[1]
    # Buffer column j of series i holds its step q_i - p - off_i + j: its p
    # observed steps before q_i end at column off_i + p, and every series'
    # forecast steps fill the last ``steps`` columns.
    j = np.arange(p + R)[None, :]
    step = (q - p - off)[:, None] + j
    known = np.take_along_axis(panel.values, np.clip(step, 0, width - 1), axis=1)
    known = np.where(step >= panel.lengths[:, None], np.nan, known)
    known = np.where(j >= off[:, None], known, 0.0)  # before the region: never read
    if errors:
        known = np.where(np.isnan(known), np.nan, 0.0)
    n_paths = 1 if shocks is None else shocks.shape[1]
    B = np.repeat(known[:, None, :], n_paths, axis=1)
    pos = step[:, p:]  # the step of each region column
    if errors:
        shared = np.zeros((m, R))
    else:
        det = terms.deterministic(np.maximum(pos, 0).ravel() + 1.0)
        beta = record.fit.params[:, terms.shared_columns()]
        n_det = terms.n_deterministic
        shared = np.einsum("mrd,md->mr", det.reshape(m, R, -1), beta[:, :n_det])
        if terms.n_exog:
            rows = np.take_along_axis(
                panel.exog, np.clip(pos, 0, width - 1)[:, :, None], axis=1
            )
            future = pos >= panel.lengths[:, None]
            h = np.clip(pos - panel.lengths[:, None], 0, steps - 1)
            ahead = np.take_along_axis(future_exog, h[:, :, None], axis=1)
            rows = np.where(future[:, :, None], ahead, rows)
            shared += np.einsum("mrx,mx->mr", rows, beta[:, n_det:])
    newest_first = coef[:, ::-1]
    for c in range(R):
        col = p + c
        need = (c >= off) & np.isnan(B[:, 0, col])
        if not need.any():
            continue
        value = shared[:, c, None] + np.einsum(
            "ml,mkl->mk", newest_first, B[:, :, col - p : col]
        )
        if shocks is not None:
            value = value + shocks[:, :, c]
        B[need, :, col] = value[need]
    return B[:, :, p + R - steps :]


def _region_width(panel: Panel, q: np.ndarray, steps: int) -> int:
    """Columns the recursion runs over: the longest fill, then the steps."""
    return int((panel.lengths - q).max(initial=0)) + steps


def forecast_panel(record: PanelRecord, steps: int, alpha, X_df) -> pd.DataFrame:
    """Each series' point forecasts (and interval bounds) as a long table.

    Parameters
    ----------
    record : PanelRecord
    steps : int
    alpha : float or None
    X_df : DataFrame or None
        The regressors' future rows.

    Returns
    -------
    DataFrame
        Columns id, time, ``mean`` (and ``lower``, ``upper``).
    """
    panel = record.panel
    future = future_panel_exog(panel, X_df, steps)
    q = _chain_starts(panel, record.coef.shape[1])
    mean = _run_forward(record, steps, future, None, q)[:, 0, :]
    series = np.repeat(np.arange(panel.n_series), steps)
    ahead = (panel.lengths[:, None] + np.arange(steps)[None, :]).ravel()
    data = {"mean": mean.ravel()}
    if alpha is not None:
        R = _region_width(panel, q, steps)
        basis = np.broadcast_to(np.eye(R)[None], (panel.n_series, R, R))
        coefs = _run_forward(record, steps, future, basis, q, errors=True)
        sd = np.sqrt(record.sigma2[:, None] * np.sum(coefs**2, axis=1))
        half = norm.ppf(1.0 - alpha / 2.0) * sd
        data.update(lower=(mean - half).ravel(), upper=(mean + half).ravel())
    return panel.long_frame(series, ahead, data)


def sample_panel(
    record: PanelRecord, steps: int, n_paths: int, X_df, rng
) -> pd.DataFrame:
    """Simulated continuations of each series, a column per path.

    Missing final steps are drawn too, so paths differ from the first
    simulated step on.

    Returns
    -------
    DataFrame
        Columns id, time, then ``path_0``, ``path_1``, ... (the target's
        name alone with one path).
    """
    panel = record.panel
    future = future_panel_exog(panel, X_df, steps)
    q = _chain_starts(panel, record.coef.shape[1])
    R = _region_width(panel, q, steps)
    shocks = rng.standard_normal((panel.n_series, n_paths, R))
    shocks *= np.sqrt(record.sigma2)[:, None, None]
    paths = _run_forward(record, steps, future, shocks, q)
    series = np.repeat(np.arange(panel.n_series), steps)
    ahead = (panel.lengths[:, None] + np.arange(steps)[None, :]).ravel()
    flat = paths.transpose(0, 2, 1).reshape(-1, n_paths)
    if n_paths == 1:
        data = {panel.columns["target"]: flat[:, 0]}
    else:
        data = {f"path_{j}": flat[:, j] for j in range(n_paths)}
    return panel.long_frame(series, ahead, data)
