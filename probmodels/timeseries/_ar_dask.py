"""ARRegressor on a Dask DataFrame of a long table: one fit per partition.

A long table larger than one machine is a Dask DataFrame whose partitions
each hold whole series. :func:`fit_partitions` fits every partition with
the in-memory code (:mod:`._ar_panel`) where it lives, keeps those fits on
the cluster (``persist``), and brings back only the per-series results
(parameters, standard errors, statistics), a few numbers per series. A
table whose series straddle partitions is shuffled by series first.
Forecasts, samples and in-sample predictions run on the partitions' fits
and come back as Dask DataFrames. Each series' fit is the one the in-memory
fit gives it: series never mix in a regression.

dask is imported only when a Dask DataFrame is given: ``import probmodels``
and every in-memory fit stay free of it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = [
    "DaskFit",
    "GatheredResults",
    "fit_partitions",
    "is_dask_dataframe",
    "forecast_partitions",
    "on_partitions",
    "refuse_on_cluster",
    "refuse_pickling",
    "sample_partitions",
]

#: The per-series attributes brought back from each partition's fit.
GATHERED = ("params_", "bse_", "tvalues_", "pvalues_")


def is_dask_dataframe(X) -> bool:
    """Whether X is a Dask DataFrame (checked without importing dask)."""
    return type(X).__module__.startswith("dask") and hasattr(X, "map_partitions")


@dataclass
class DaskFit:
    """The fits of a Dask DataFrame's partitions, and what they gathered.

    Parameters
    ----------
    models : list of dask.delayed.Delayed
        Each non-empty partition's fitted ``ARRegressor``, persisted.
    results : dict of str to DataFrame
        ``params_``, ``bse_``, ``tvalues_`` and ``pvalues_`` of every series.
    columns : dict
        The long table's ``id``, ``time`` and ``target`` column names.
    time_dtype : object
        The time column's dtype.
    period : int or None, default=None
        The seasonal period the partitions used.
    """

    models: list
    results: dict
    columns: dict
    time_dtype: Any
    period: int | None = None


def _by_series(ddf, id_col: str, time_col: str):
    """The table with each series in one partition, in time order there."""
    spread = ddf[id_col].map_partitions(lambda s: s.drop_duplicates()).compute()
    if not spread.duplicated().any():
        return ddf
    # A series across partitions: shuffle by series; rows then come in any
    # order within a partition, so each is sorted by (id, time).
    shuffled = ddf.shuffle(on=id_col)
    return shuffled.map_partitions(
        lambda part: part.sort_values([id_col, time_col], kind="stable")
    )


def _fit_one(part: pd.DataFrame, cls: type, params: dict):
    """The in-memory fit of one partition (None when it is empty)."""
    if not len(part):
        return None
    with warnings.catch_warnings():
        # The client warns once for every series (see fit_partitions).
        warnings.simplefilter("ignore")
        return cls(**params).fit(part)


def _gather_one(model, per_series: tuple) -> dict | None:
    if model is None:
        return None
    out = {name: getattr(model, name) for name in (*GATHERED, *per_series)}
    out["freq"] = model._panel.clock.freq
    out["period"] = model.period_
    out["columns"] = model._panel.columns
    out["time_dtype"] = model._panel.time_dtype
    return out


def fit_partitions(est, ddf, per_series: tuple):
    """Fit each partition of a long table where it lives.

    Parameters
    ----------
    est : ARRegressor
        Its parameters are each partition's model's.
    ddf : dask.dataframe.DataFrame
        The long table (``est``'s id and time columns).
    per_series : tuple of str
        The per-series attributes to bring back (``sigma2_``, ``p_``, ...).

    Returns
    -------
    fit : DaskFit
    values : dict of str to Series or DataFrame
        Each per-series attribute over every series.
    """
    import dask

    for name in (est.id_col, est.time_col, est.target_col):
        if name not in ddf.columns:
            raise ValueError(
                f"The Dask DataFrame has no column {name!r} (columns: "
                f"{list(ddf.columns)}): it must be a long table with the id, time "
                "and target columns."
            )
    # The ids' dtype as given: a shuffle may turn strings into Arrow's.
    id_dtype = ddf[est.id_col].dtype
    ddf = _by_series(ddf, est.id_col, est.time_col)
    params = est.get_params()
    fits = [
        dask.delayed(_fit_one)(part, type(est), params) for part in ddf.to_delayed()
    ]
    fits = list(dask.persist(*fits))
    gathered = dask.compute(*[dask.delayed(_gather_one)(m, per_series) for m in fits])
    kept = [i for i, g in enumerate(gathered) if g is not None]
    if not kept:
        raise ValueError("The Dask DataFrame has no rows.")
    parts = [gathered[i] for i in kept]
    freqs = {str(getattr(g["freq"], "freqstr", g["freq"])) for g in parts}
    if len(freqs) > 1:
        raise ValueError(
            f"The partitions' times have different frequencies {sorted(freqs)}: "
            "pass freq= so that every partition reads the same one."
        )
    values = {}
    for name in (*GATHERED, *per_series):
        value = pd.concat([g[name] for g in parts])
        value.index = value.index.astype(id_dtype)
        values[name] = value
    fit = DaskFit(
        models=[fits[i] for i in kept],
        results={name: values.pop(name) for name in GATHERED},
        columns=parts[0]["columns"],
        time_dtype=parts[0]["time_dtype"],
        period=parts[0]["period"],
    )
    return fit, values


def _meta(fit: DaskFit, names: list) -> pd.DataFrame:
    """An empty frame of a long output: id, time, then float columns."""
    columns = {
        fit.columns["id"]: pd.Series(dtype=object),
        fit.columns["time"]: pd.Series(dtype=fit.time_dtype or "int64"),
    }
    columns.update({name: pd.Series(dtype=float) for name in names})
    return pd.DataFrame(columns)


def _call(model, method: str, args: tuple, kwargs: dict) -> pd.DataFrame:
    frame = getattr(model, method)(*args, **kwargs)
    # The ids' dtype may differ by partition (strings, categories): object.
    id_col = model._panel.columns["id"]
    return frame.astype({id_col: object})


def on_partitions(fit: DaskFit, method: str, names: list, *args, seeds=None, **kwargs):
    """A long output of every partition's fit, as a Dask DataFrame.

    Parameters
    ----------
    fit : DaskFit
    method : str
        ``forecast``, ``sample`` or ``predict_in_sample``.
    names : list of str
        The output's value columns (after id and time), for its meta.
    *args, **kwargs
        The method's arguments.
    seeds : list of int, optional
        A ``random_state`` per partition (``sample``).

    Returns
    -------
    dask.dataframe.DataFrame
    """
    import dask
    import dask.dataframe as dd

    exog = kwargs.get("exog")
    if exog is not None and is_dask_dataframe(exog):
        # The future drivers are h rows per series: small enough to share.
        kwargs["exog"] = exog.compute()
    parts = []
    for i, model in enumerate(fit.models):
        extra = {} if seeds is None else {"random_state": int(seeds[i])}
        parts.append(dask.delayed(_call)(model, method, args, {**kwargs, **extra}))
    return dd.from_delayed(parts, meta=_meta(fit, names), verify_meta=False)


class GatheredResults:
    """The results of a Dask fit that were brought back to the client.

    ``params_``, ``bse_``, ``tvalues_`` and ``pvalues_`` of every series;
    the rest of the inference (``cov_params_``, ``conf_int``, residuals,
    tests) stays with the partitions' fits.

    Parameters
    ----------
    fit : DaskFit
    """

    def __init__(self, fit: DaskFit):
        self.__dict__.update(fit.results)
        self._fit = fit

    def predict_in_sample(self, start=None, end=None, dynamic=False, exog=None):
        """One-step predictions on every complete window, as a Dask DataFrame.

        Parameters
        ----------
        start, end, dynamic, exog
            Only the defaults, as for an in-memory long table.

        Returns
        -------
        dask.dataframe.DataFrame
            Columns id, time, the target and ``mean``.
        """
        names = [self._fit.columns["target"], "mean"]
        return on_partitions(
            self._fit, "predict_in_sample", names, start, end, dynamic, exog
        )

    def __getattr__(self, name):
        raise ValueError(
            f"{name} is not gathered from a fit on a Dask DataFrame (params_, bse_, "
            "tvalues_ and pvalues_ are). Use predict_in_sample() for the fitted "
            "values, or fit the series in memory (a pandas long table) for the rest."
        )


def forecast_partitions(fit: DaskFit, steps: int, alpha, exog):
    """Every partition's forecasts, a Dask DataFrame (id, time, mean, bounds).

    Parameters
    ----------
    fit : DaskFit
    steps : int
    alpha : float or None
    exog : DataFrame or None
        The future drivers, a long table.

    Returns
    -------
    dask.dataframe.DataFrame
    """
    bounds = [] if alpha is None else ["lower", "upper"]
    return on_partitions(fit, "forecast", ["mean", *bounds], steps, alpha, exog=exog)


def sample_partitions(fit: DaskFit, steps: int, n_paths: int, exog, rng):
    """Every partition's paths, a Dask DataFrame (id, time, a column per path).

    Each partition draws from its own seed, drawn from ``rng``.

    Returns
    -------
    dask.dataframe.DataFrame
    """
    one = [fit.columns["target"]]
    names = one if n_paths == 1 else [f"path_{j}" for j in range(n_paths)]
    seeds = rng.integers(0, 2**63 - 1, size=len(fit.models))
    return on_partitions(
        fit, "sample", names, steps, n_paths=n_paths, exog=exog, seeds=seeds
    )


def refuse_on_cluster(fit: DaskFit | None, what: str) -> None:
    """Refuse, by name, what a fit on a Dask DataFrame does not do.

    Parameters
    ----------
    fit : DaskFit or None
        None: the model was fitted in memory, and nothing is refused.
    what : str
    """
    if fit is not None:
        raise ValueError(
            f"{what} is not available for a model fitted on a Dask DataFrame: "
            "forecast, sample, predict_in_sample and the gathered results "
            "(params_, bse_, per-series statistics) are. Fit the series in "
            "memory (a pandas long table) for the rest."
        )


def refuse_pickling() -> None:
    """A Dask fit lives on the cluster: it is not written to a model file."""
    raise TypeError(
        "This ARRegressor was fitted on a Dask DataFrame: its partitions' fits "
        "live on the cluster and cannot be written to a file. Fit the series in "
        "memory (a pandas long table) to save the model."
    )
