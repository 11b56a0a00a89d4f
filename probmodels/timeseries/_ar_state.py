"""The fitted state of an ARRegressor: what a fit stores, and how it is read back.

A fit's estimates are stored as the estimator's attributes, each an array or
a plain value, so that model files hold nothing else: ``_params``,
``_included``, ``_cov``, ``_lag_mask``, ``_start`` and ``_use_t``, and the
per-series attributes users read (``coef_``, ``sigma2_``, ...): scalars for
one series, arrays for a wide table, Series and DataFrames indexed by id for
many series. :func:`publish` writes them from an
:class:`~probmodels.timeseries._ar_fit.ARFit`; :func:`fitted_record` is the
one place that reads them back, into the record the results and the
forecasts receive (never the estimator). :func:`plain_state` and
:func:`upgraded_state` are the estimator's ``__getstate__`` and
``__setstate__``: files of every earlier layout load.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._ar_fit import ARFit, ARRecord, upgrade_0_1_0
from ._ar_panel import PanelRecord
from ._design import Terms

__all__ = [
    "ARFIT_STATISTICS",
    "PER_SERIES",
    "fitted_record",
    "plain_state",
    "publish",
    "publish_per_series",
    "upgraded_state",
]

#: The per-series statistics of a fit, each stored as the attribute ``<name>_``.
ARFIT_STATISTICS = (
    "sigma2",
    "llf",
    "aic",
    "bic",
    "hqic",
    "aicc",
    "fpe",
    "rsquared",
    "nobs",
)

#: The fitted attributes with a value per series.
PER_SERIES = tuple(
    f"{key}_" for key in ("coef", "intercept", "trend_coef", "p", *ARFIT_STATISTICS)
)


def fitted_terms(est) -> Terms:
    """The fitted regression's columns.

    Parameters
    ----------
    est : ARRegressor
        Fitted.

    Returns
    -------
    Terms
    """
    return Terms(est._trend, est.period_ or 0, tuple(est._lags), tuple(est._exog_names))


def publish(est, fit: ARFit) -> None:
    """Store a fit's estimates as the estimator's attributes.

    Parameters
    ----------
    est : ARRegressor
    fit : ARFit
    """
    est._params, est._included, est._cov = fit.params, fit.included, fit.cov
    # The results read the fitted choice, not the parameter, which
    # set_params may change after fitting.
    est._use_t = bool(est.use_t)
    est._lag_mask, est._start = fit.lag_mask, fit.start
    record = fitted_record(est, fit)
    coef = record.coef
    names = record.terms.names()
    const = fit.params[:, 0] if "const" in names else np.zeros(len(coef))
    slope = fit.params[:, names.index("trend")] if "trend" in names else 0 * const
    values = {f"{key}_": fit.stats[key] for key in ARFIT_STATISTICS}
    values.update(coef_=coef, intercept_=const, trend_coef_=slope, p_=record.orders)
    publish_per_series(est, values)


def publish_per_series(est, values: dict) -> None:
    """Set each per-series attribute: a scalar for one series, labelled for many.

    Parameters
    ----------
    est : ARRegressor
    values : dict of str to ndarray
        Attribute name to its value per series, (n_series,) or (n_series, p).
    """
    if est._panel is not None:
        # Many series of a long table: indexed by their ids.
        ids = est._panel.ids
        for key, v in values.items():
            if v.ndim > 1:
                lags = [f"L{i + 1}" for i in range(v.shape[1])]
                setattr(est, key, pd.DataFrame(v, index=ids, columns=lags))
            else:
                setattr(est, key, pd.Series(v, index=ids, name=key[:-1]))
        return
    one = est._container.ndim == 1
    for key, v in values.items():
        setattr(est, key, (v[0] if v.ndim > 1 else v[0].item()) if one else v)


def fitted_record(est, fit: ARFit | None = None) -> ARRecord | PanelRecord:
    """The fitted model whole, for the results and the forecasts.

    Parameters
    ----------
    est : ARRegressor
        Fitted.
    fit : ARFit, optional
        The estimates; by default the stored ones.

    Returns
    -------
    ARRecord, or PanelRecord for many series
    """
    if fit is None:
        stats = {key: np.atleast_1d(getattr(est, f"{key}_")) for key in ARFIT_STATISTICS}
        fit = ARFit(est._params, est._included, est._cov, est._lag_mask, est._start, stats)
    if est._panel is not None:
        return PanelRecord(fit, fitted_terms(est), est._panel, est._use_t)
    return ARRecord(
        fit=fit,
        terms=fitted_terms(est),
        data=est._data,
        series=est._fitted_series,
        regressors=est._fitted_exog,
        clock=est._clock,
        container=est._container,
        use_t=est._use_t,
    )


def plain_state(state: dict) -> dict:
    """The state to write: a panel's per-series results as plain arrays (skops).

    Parameters
    ----------
    state : dict
        A copy of the estimator's ``__dict__``.

    Returns
    -------
    dict
    """
    if state.get("_panel") is not None:
        for key in PER_SERIES:
            if key in state:
                state[key] = np.asarray(state[key])
    return state


def upgraded_state(state: dict) -> dict:
    """A state of any earlier layout, with what it lacked filled in.

    0.1.0's files kept only the last p steps; files from before subsets of
    lags kept a count of leading lags; files from before ``cov_type`` and
    ``use_t`` were fitted with the classical covariance; files from before
    long tables held one table of series.

    Parameters
    ----------
    state : dict

    Returns
    -------
    dict
    """
    if "_history" in state and "_params" not in state:
        state = upgrade_0_1_0(state)
    if "_n_lags" in state:
        state = dict(state)
        n_lags = np.asarray(state.pop("_n_lags"))
        state["_lag_mask"] = np.arange(len(state["_lags"]))[None, :] < n_lags[:, None]
    defaults = {
        "cov_type": "nonrobust",
        "cov_kwds": None,
        "use_t": False,
        "glob": False,
        "id_col": "unique_id",
        "time_col": "ds",
        "target_col": "y",
        "freq": None,
        "_panel": None,
        "_dask": None,
    }
    if "_params" in state:
        defaults.update(_use_t=False)
    return {**defaults, **state}
