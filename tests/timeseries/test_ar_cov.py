"""cov_type and use_t against statsmodels' AutoReg.fit on the same data."""

import pickle

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.ar_model import AutoReg

import probmodels
from probmodels import ARRegressor
from probmodels.datasets import load_sunspots
from probmodels.timeseries._ar_cov import hac_meat, kernel_weights

COVS = [
    ("nonrobust", None),
    ("HC0", None),
    ("HC1", None),
    ("HC2", None),
    ("HC3", None),
    ("HAC", {"maxlags": 4}),
    ("HAC", {"maxlags": 2, "kernel": "uniform", "use_correction": True}),
]


def rel(ours, ref):
    ours, ref = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    return np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-12))


@pytest.mark.parametrize("use_t", [False, True])
@pytest.mark.parametrize(("cov_type", "kwds"), COVS)
def test_one_series_equals_autoreg(cov_type, kwds, use_t):
    y = load_sunspots().to_numpy()
    ref = AutoReg(y, 3, trend="ct").fit(cov_type=cov_type, cov_kwds=kwds, use_t=use_t)
    est = ARRegressor(p=3, trend="ct", cov_type=cov_type, cov_kwds=kwds, use_t=use_t)
    est.fit(y)
    assert rel(est.cov_params_, ref.cov_params()) < 1e-8
    assert rel(est.bse_, ref.bse) < 1e-8
    assert rel(est.pvalues_, ref.pvalues) < 1e-8
    assert rel(est.conf_int(0.1), ref.conf_int(0.1)) < 1e-8
    stat = "P>|t|" if use_t else "P>|z|"
    assert stat in str(est.summary())


@pytest.mark.parametrize(("cov_type", "kwds"), COVS[2:6])
def test_many_series_with_regressors_and_chosen_lags_equal_their_own_autoreg(
    cov_type, kwds
):
    rng = np.random.default_rng(0)
    n = 240
    x = rng.normal(size=n)
    cols = {}
    for j, phi in enumerate([0.7, -0.3, 0.2]):
        y = np.zeros(n)
        for t in range(2, n):
            y[t] = phi * y[t - 1] + 0.1 * y[t - 2] + x[t] + rng.normal() * (1 + (t % 7 == 0))
        cols[f"s{j}"] = y
    X = pd.DataFrame({**cols, "x": x})
    est = ARRegressor(p=4, exog="x", ic="bic", cov_type=cov_type, cov_kwds=kwds)
    est.fit(X)
    for j, name in enumerate(cols):
        lags = int(est.p_[j])
        # The chosen lags are refitted on their own steps, as ic does.
        ref = AutoReg(X[name].to_numpy(), lags, exog=x[:, None]).fit(
            cov_type=cov_type, cov_kwds=kwds
        )
        keep = est.cov_params_.loc[name].dropna(how="all").dropna(axis=1, how="all")
        assert rel(keep, ref.cov_params()) < 1e-8
        assert rel(est.pvalues_[name].dropna(), ref.pvalues) < 1e-8


def test_hac_meat_against_a_plain_double_loop():
    rng = np.random.default_rng(1)
    u = rng.normal(size=(1, 30, 2))
    w = kernel_weights(3, "bartlett")
    np.testing.assert_allclose(w, [1.0, 0.75, 0.5, 0.25])
    S = np.zeros((2, 2))
    for t in range(30):
        for s in range(30):
            if abs(t - s) <= 3:
                S += w[abs(t - s)] * np.outer(u[0, t], u[0, s])
    np.testing.assert_allclose(hac_meat(u, 3, "bartlett")[0], S, rtol=1e-12)


def test_refit_keeps_the_covariance_and_set_params_waits_for_a_refit():
    y = load_sunspots().to_numpy()
    est = ARRegressor(p=2, cov_type="HC1", use_t=True).fit(y[:200])
    est.append(y[200:], refit=True)
    ref = AutoReg(y, 2).fit(cov_type="HC1", use_t=True)
    assert rel(est.cov_params_, ref.cov_params()) < 1e-8
    before = est.pvalues_.copy()
    est.set_params(use_t=False, cov_type="nonrobust")
    pd.testing.assert_series_equal(est.pvalues_, before)  # as fitted
    est.fit(y)
    assert rel(est.pvalues_, AutoReg(y, 2).fit().pvalues) < 1e-8


def test_model_files_keep_the_choice_and_older_files_load(tmp_path):
    y = load_sunspots().to_numpy()
    est = ARRegressor(p=2, cov_type="HAC", cov_kwds={"maxlags": 3}, use_t=True).fit(y)
    probmodels.save(est, tmp_path / "hac.skops")
    again = probmodels.load(tmp_path / "hac.skops")
    pd.testing.assert_series_equal(again.pvalues_, est.pvalues_)
    assert again.get_params()["cov_kwds"] == {"maxlags": 3}
    # A file from before cov_type and use_t: the classical covariance.
    state = pickle.loads(pickle.dumps(ARRegressor(p=2).fit(y))).__getstate__()
    for key in ("cov_type", "cov_kwds", "use_t", "_use_t"):
        state.pop(key)
    old = ARRegressor.__new__(ARRegressor)
    old.__setstate__(state)
    assert old.get_params()["cov_type"] == "nonrobust"
    assert rel(old.pvalues_, AutoReg(y, 2).fit().pvalues) < 1e-8


def test_bad_covariance_options_are_refused_in_one_line():
    y = load_sunspots().to_numpy()
    with pytest.raises(ValueError, match="needs cov_kwds=\\{'maxlags'"):
        ARRegressor(cov_type="HAC").fit(y)
    with pytest.raises(ValueError, match="takes no cov_kwds"):
        ARRegressor(cov_type="HC0", cov_kwds={"maxlags": 2}).fit(y)
    with pytest.raises(ValueError, match="kernel must be one of"):
        ARRegressor(cov_type="HAC", cov_kwds={"maxlags": 2, "kernel": "parzen"}).fit(y)
    with pytest.raises(ValueError, match="cov_type"):
        ARRegressor(cov_type="HC4").fit(y)
    # A refused refit leaves the fitted model as it was.
    est = ARRegressor(p=1).fit(y)
    before = est.bse_.copy()
    est.set_params(cov_type="HAC", cov_kwds={"lags": 2})
    with pytest.raises(ValueError, match="takes maxlags, kernel and use_correction"):
        est.fit(y)
    pd.testing.assert_series_equal(est.bse_, before)
