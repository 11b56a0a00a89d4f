"""Rolling-origin backtests of a forecaster, and the scores forecasters use.

``backtest`` is statsforecast's ``cross_validation`` (darts'
``historical_forecasts``) for :class:`~probmodels.ARRegressor` on the forms
it fits (one series, series as columns of one index, or a long table of
many series): forecasts from ``n_windows`` cutoffs, ``step_size`` apart,
the last window ending at each series' last step, each ``h`` steps long,
returned as one long table of forecasts and actuals per (series, step,
cutoff). ``backtest_scores`` turns
that table into MASE, sMAPE, interval coverage and CRPS per series
(``_forecast.py``'s definitions). It sits with the metrics, above the
model families, as scikit-learn's ``cross_validate`` sits above its
estimators.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..base import check_n_samples, make_generator
from ..timeseries._inputs import exog_names, split_columns
from ..timeseries._panel import is_long_table
from ._forecast import crps_ensemble, naive_scale

__all__ = ["backtest", "backtest_scores"]


def _rows(X, start: int, stop: int):
    """Rows ``start:stop`` of an array, Series or DataFrame, by position."""
    if isinstance(X, (pd.Series, pd.DataFrame)):
        return X.iloc[start:stop]
    return X[start:stop]


def _as_steps(values, h: int) -> np.ndarray:
    """A forecast's or a stretch's values as an (h, n_series) float array."""
    if isinstance(values, (pd.Series, pd.DataFrame)):
        values = values.to_numpy()
    return np.asarray(values, dtype=float).reshape(h, -1)


def backtest(
    estimator,
    X,
    *,
    h,
    n_windows=1,
    step_size=None,
    refit=True,
    alpha=None,
    n_paths=0,
    seasonality=1,
    random_state=None,
):
    """Forecasts from rolling origins against what happened, in one long table.

    Window ``i`` (of ``n_windows``) trains on the steps before its cutoff
    ``n - h - (n_windows - 1 - i) * step_size`` and forecasts the next
    ``h``, so the last window ends at the last step (statsforecast's
    ``cross_validation``). With ``refit=True`` every window fits a clone of
    ``estimator`` on its training steps; with ``refit=False`` the first
    window's fit is carried forward with ``append(..., refit=False)``: the
    parameters stay and each forecast starts from the window's own cutoff.

    Parameters
    ----------
    estimator : ARRegressor
        Unfitted or fitted; a clone is fitted, the estimator is left as it is.
    X : array-like of shape (n_steps,) or (n_steps, n_columns), Series or DataFrame
        What ``estimator.fit`` takes: series (and the regressors named by its
        ``exog``, whose values in each window are passed to ``forecast``),
        or a long table (the estimator's ``id_col`` and ``time_col``), whose
        series are cut at their own ends: window ``i`` of a series of n rows
        trains on its rows before ``n - h - (n_windows - 1 - i) *
        step_size``, as statsforecast cuts series of different lengths.
    h : int
        Steps per window.
    n_windows : int, default=1
    step_size : int or None, default=None
        Steps between cutoffs; None: ``h`` (windows that tile the end).
    refit : bool, default=True
    alpha : float in (0, 1) or None, default=None
        With a value, the ``1 - alpha`` intervals go in columns ``lower`` and
        ``upper``.
    n_paths : int, default=0
        With paths, each row's CRPS of ``n_paths`` sampled paths goes in the
        column ``crps``.
    seasonality : int, default=1
        ``m`` of the scale ``naive_mae`` (MASE's denominator): the mean
        absolute error of the seasonal naive forecast in each window's
        training steps, per series.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the paths.

    Returns
    -------
    DataFrame
        One row per (cutoff, series, step): ``unique_id`` (the series' name
        or position), ``ds`` (the step's index label, or position),
        ``cutoff`` (the last training step's label), ``y``, ``mean``, then
        ``lower`` and ``upper``, ``crps`` as asked, and ``naive_mae``. For a
        long table, its id and time columns' names replace ``unique_id`` and
        ``ds``, and ``cutoff`` is each series' own last training time.
    """
    h = check_n_samples(h, "h")
    n_windows = check_n_samples(n_windows, "n_windows")
    step_size = h if step_size is None else check_n_samples(step_size, "step_size")
    # 0 paths: no CRPS column; otherwise as many as sample draws.
    n_paths = 0 if n_paths == 0 else check_n_samples(n_paths, "n_paths")
    if alpha is not None and (not isinstance(alpha, Real) or not 0.0 < alpha < 1.0):
        raise ValueError(f"alpha must be a float in (0, 1) or None; got {alpha!r}.")
    rng = make_generator(random_state)
    if is_long_table(X, estimator.id_col, estimator.time_col):
        windows = (h, n_windows, step_size, refit, alpha, n_paths, seasonality, rng)
        return _backtest_long(estimator, X, *windows)
    n = len(X)
    cutoffs = [n - h - (n_windows - 1 - i) * step_size for i in range(n_windows)]
    if cutoffs[0] < 1:
        raise ValueError(
            f"{n_windows} windows of h={h} steps, {step_size} apart, need more "
            f"than {n - cutoffs[0]} steps; X has {n}."
        )
    n_columns = 1 if np.ndim(X) == 1 else np.shape(X)[1]
    series, regressors, _ = split_columns(X, estimator.exog, n_columns)
    index = X.index if isinstance(X, (pd.Series, pd.DataFrame)) else pd.RangeIndex(n)
    if isinstance(X, pd.DataFrame):
        names = list(X.columns[series])
    elif isinstance(X, pd.Series):
        names = [X.name if X.name is not None else 0]
    else:
        names = list(series) if np.ndim(X) == 2 else [0]
    tables, model = [], None
    for i, cutoff in enumerate(cutoffs):
        if refit or model is None:
            model = clone(estimator).fit(_rows(X, 0, cutoff))
        else:
            model.append(_rows(X, cutoffs[i - 1], cutoff), refit=False)
        test = _rows(X, cutoff, cutoff + h)
        future = None
        if len(regressors):
            future = (
                test.iloc[:, regressors]
                if isinstance(test, pd.DataFrame)
                else np.asarray(test)[:, regressors]
            )
        values = np.asarray(test, dtype=float).reshape(h, -1)[:, series]
        columns = {"y": values}
        if alpha is None:
            columns["mean"] = _as_steps(model.forecast(h, exog=future), h)
        else:
            mean, lower, upper = model.forecast(h, alpha=alpha, exog=future)
            columns["mean"] = _as_steps(mean, h)
            columns["lower"] = _as_steps(lower, h)
            columns["upper"] = _as_steps(upper, h)
        if n_paths:
            paths = model.sample(h, n_paths=n_paths, exog=future, random_state=rng)
            if isinstance(paths, (pd.Series, pd.DataFrame)):
                paths = paths.to_numpy()
            paths = np.asarray(paths, dtype=float).reshape(h, len(series), n_paths)
            columns["crps"] = crps_ensemble(values, paths)
        train = np.asarray(_rows(X, 0, cutoff), dtype=float).reshape(cutoff, -1)
        scale = naive_scale(train[:, series], seasonality)
        columns["naive_mae"] = np.broadcast_to(scale, (h, len(series)))
        # Series-major rows: each series' h steps together.
        tables.append(
            pd.DataFrame(
                {
                    "unique_id": np.repeat(np.asarray(names, dtype=object), h),
                    "ds": np.tile(index[cutoff : cutoff + h], len(series)),
                    "cutoff": index[cutoff - 1],
                    **{k: v.T.reshape(-1) for k, v in columns.items()},
                }
            )
        )
    return pd.concat(tables, ignore_index=True)


def _backtest_long(estimator, X, h, n_windows, step_size, refit, alpha, n_paths, m, rng):
    """:func:`backtest` of a long table: each series cut at its own end."""
    id_col, time_col = estimator.id_col, estimator.time_col
    target = estimator.target_col
    exog = exog_names(estimator.exog)
    groups = X.groupby(id_col, sort=False)
    from_end = (groups[id_col].transform("size") - groups.cumcount()).to_numpy()
    reach = h + (n_windows - 1) * step_size
    sizes = groups.size()
    short = sizes[sizes <= reach + m]
    if len(short):
        raise ValueError(
            f"Series {list(short.index[:10])} have {int(short.iloc[0])} rows; "
            f"{n_windows} windows of h={h} steps, {step_size} apart, need more than "
            f"{reach} (and {m} for the naive scale). Drop them or use fewer windows."
        )
    tables, model = [], None
    for i in range(n_windows):
        offset = reach - i * step_size  # rows of each series after the cutoff
        train = X[from_end > offset]
        test = X[(from_end <= offset) & (from_end > offset - h)]
        if refit or model is None:
            model = clone(estimator).fit(train)
        else:
            model.apply(train, refit=False)
        future = test[[id_col, time_col, *exog]] if exog else None
        forecast = model.forecast(h, alpha=alpha, exog=future)
        keys = [id_col, time_col]
        table = forecast.merge(
            test[[*keys, target]].rename(columns={target: "y"}), on=keys, how="left"
        )
        if n_paths:
            paths = model.sample(h, n_paths=n_paths, exog=future, random_state=rng)
            values = paths.filter(like="path_").to_numpy()
            table["crps"] = crps_ensemble(table["y"].to_numpy(), values)
        train_groups = train.groupby(id_col, sort=False)[target]
        scale = train_groups.diff(m).abs().groupby(train[id_col], sort=False).mean()
        cutoff = train.groupby(id_col, sort=False)[time_col].max()
        table["cutoff"] = table[id_col].map(cutoff)
        table["naive_mae"] = table[id_col].map(scale)
        columns = [*keys, "cutoff", "y", "mean"]
        columns += [c for c in ("lower", "upper", "crps") if c in table]
        tables.append(table[[*columns, "naive_mae"]])
    return pd.concat(tables, ignore_index=True)


def backtest_scores(table):
    """MASE, sMAPE, interval coverage and CRPS per series of a backtest.

    MASE is each window's mean absolute error over its ``naive_mae``,
    averaged over windows; sMAPE (in percent, M4's), coverage and CRPS are
    means over every (window, step) of the series.

    Parameters
    ----------
    table : DataFrame
        What :func:`backtest` returns.

    Returns
    -------
    DataFrame
        Indexed by ``unique_id``; columns ``MASE``, ``sMAPE``, and
        ``coverage`` and ``CRPS`` where the table has intervals and paths.
        ``.mean()`` gives the figures over all series.
    """
    id_name = "unique_id"
    if "unique_id" not in table.columns and len(table.columns):
        # A long table's backtest: its id column comes first.
        id_name = table.columns[0]
        table = table.rename(columns={id_name: "unique_id"})
    missing = {"unique_id", "cutoff", "y", "mean", "naive_mae"} - set(table.columns)
    if missing:
        raise ValueError(
            f"table lacks the columns {sorted(missing)}: pass what backtest returns."
        )
    error = (table["y"] - table["mean"]).abs()
    total = table["y"].abs() + table["mean"].abs()
    frame = pd.DataFrame(
        {
            "unique_id": table["unique_id"],
            "cutoff": table["cutoff"],
            "scaled": error / table["naive_mae"],
            "smape": 200.0 * np.divide(
                error, total, out=np.zeros(len(table)), where=total.to_numpy() > 0
            ),
        }
    )
    if {"lower", "upper"} <= set(table.columns):
        frame["covered"] = (
            (table["y"] >= table["lower"]) & (table["y"] <= table["upper"])
        ).astype(float)
    if "crps" in table.columns:
        frame["crps"] = table["crps"]
    by_window = frame.groupby(["unique_id", "cutoff"], sort=False)["scaled"].mean()
    per_series = frame.groupby("unique_id", sort=False)
    out = pd.DataFrame({"MASE": by_window.groupby(level=0, sort=False).mean()})
    out["sMAPE"] = per_series["smape"].mean()
    if "covered" in frame:
        out["coverage"] = per_series["covered"].mean()
    if "crps" in frame:
        out["CRPS"] = per_series["crps"].mean()
    return out.rename_axis(id_name)
