"""Order selection over every subset of lags against ar_select_order(glob=True)."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.ar_model import AutoReg, ar_select_order

from probmodels import ARRegressor
from probmodels.datasets import load_nile, load_sunspots
from probmodels.timeseries._ar_fit import candidate_lag_masks


def fit_quiet(est, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(y)


def test_candidates_are_statsmodels_enumeration():
    np.testing.assert_array_equal(
        candidate_lag_masks(2, glob=True),
        [[False, False], [True, False], [False, True], [True, True]],
    )
    np.testing.assert_array_equal(
        candidate_lag_masks(2, glob=False),
        [[False, False], [True, False], [True, True]],
    )


@pytest.mark.parametrize("ic", ["aic", "bic", "hqic"])
@pytest.mark.parametrize("trend", ["n", "c", "ct"])
@pytest.mark.parametrize("name", ["sunspots", "nile"])
def test_chosen_subset_and_refit_equal_ar_select_order(name, trend, ic):
    y = {"sunspots": load_sunspots, "nile": load_nile}[name]().to_numpy()
    sel = ar_select_order(y, 8, ic=ic, trend=trend, glob=True)
    est = fit_quiet(ARRegressor(p=8, ic=ic, glob=True, trend=trend), y)
    ref = sel.model.fit()
    lags = [int(n.split(".L")[1]) for n in est.params_.index if ".L" in n]
    assert lags == list(sel.ar_lags or [])
    assert est.p_ == max(lags, default=0)
    np.testing.assert_allclose(est.params_, ref.params, rtol=1e-8)
    assert est.llf_ == pytest.approx(ref.llf, rel=1e-10)
    np.testing.assert_allclose(est.forecast(6), ref.forecast(6), rtol=1e-8)


def test_many_series_each_get_their_own_subset():
    y = load_sunspots().to_numpy()
    X = np.column_stack([y, y[::-1]])
    est = fit_quiet(ARRegressor(p=6, ic="bic", glob=True), X)
    for j in range(2):
        sel = ar_select_order(X[:, j], 6, ic="bic", glob=True)
        ref = AutoReg(X[:, j], sel.ar_lags).fit()
        got = est.params_.iloc[:, j].dropna()
        np.testing.assert_allclose(got, ref.params, rtol=1e-8)
        assert est.p_[j] == max(sel.ar_lags)
    # A subset with gaps is a restricted model, as statsmodels names it.
    for j, block in enumerate(str(est.summary()).split("\n\n")):
        lags = [int(n.split(".L")[1]) for n in est.params_.iloc[:, j].dropna().index if ".L" in n]
        restricted = len(lags) < max(lags)
        assert f"{'Restr. ' if restricted else ''}AutoReg({max(lags)})" in block


def test_subset_models_save_forecast_and_older_files_load():
    y = pd.Series(load_sunspots().to_numpy())
    est = fit_quiet(ARRegressor(p=8, ic="aic", glob=True, random_state=0), y)
    again = pickle.loads(pickle.dumps(est))
    pd.testing.assert_series_equal(again.forecast(4), est.forecast(4))
    # Files from before subsets kept a count of leading lags.
    state = ARRegressor(p=3).fit(y).__getstate__()
    state["_n_lags"] = np.array([2])
    del state["_lag_mask"]
    old = ARRegressor.__new__(ARRegressor)
    old.__setstate__(state)
    np.testing.assert_array_equal(old._lag_mask, [[True, True, False]])


def test_glob_needs_ic_and_few_lags():
    y = load_sunspots().to_numpy()
    with pytest.raises(ValueError, match="set ic="):
        ARRegressor(p=3, glob=True).fit(y)
    with pytest.raises(ValueError, match="at most 16 lags"):
        ARRegressor(p=20, ic="aic", glob=True).fit(y)
