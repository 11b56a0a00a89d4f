"""AR-X features against statsmodels' AutoReg: exog, seasons, lag sets, inference."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from statsmodels.tsa.ar_model import AutoReg, ar_select_order

from probmodels import ARRegressor
from probmodels.datasets import load_sunspots
from probmodels.exceptions import NonStationaryWarning

TOL = 1e-8


def rel(ours, ref):
    ours, ref = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    return np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-12))


def quiet_fit(est, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonStationaryWarning)
        return est.fit(X)


def macro():
    """Real GDP growth with consumption and investment growth (quarterly, %)."""
    d = sm.datasets.macrodata.load_pandas().data
    index = pd.period_range("1959Q1", periods=len(d), freq="Q")
    levels = d[["realgdp", "realcons", "realinv"]].set_axis(index)
    growth = 100 * np.log(levels).diff().dropna()
    return growth.rename(
        columns={"realgdp": "gdp", "realcons": "cons", "realinv": "inv"}
    )


def co2_monthly():
    """Mauna Loa CO2, monthly means with a DatetimeIndex (freq MS)."""
    weekly = sm.datasets.co2.load_pandas().data["co2"]
    return weekly.resample("MS").mean().ffill().rename("co2")


def assert_matches(est, res):
    """Every number AutoReg reports, to 1e-8 relative."""
    assert list(est.params_.index) == list(res.params.index)
    assert rel(est.params_, res.params) < TOL
    assert rel(est.bse_, res.bse) < TOL
    assert rel(est.tvalues_, res.tvalues) < TOL
    assert rel(est.pvalues_, res.pvalues) < 1e-7
    assert rel(est.conf_int(0.1), res.conf_int(0.1)) < TOL
    assert rel(est.cov_params_, res.cov_params()) < TOL
    for name in ("llf", "aic", "bic", "hqic", "aicc", "fpe", "rsquared", "sigma2"):
        assert rel(getattr(est, f"{name}_"), getattr(res, name)) < TOL, name
    assert est.nobs_ == res.nobs
    assert rel(est.resid_.dropna(), res.resid) < 1e-7
    assert rel(est.fittedvalues_.dropna(), res.fittedvalues) < TOL
    assert est.resid_.dropna().index.equals(res.resid.index)


@pytest.mark.parametrize("trend", ["n", "c", "t", "ct", "ctt"])
@pytest.mark.parametrize("seasonal", [False, True])
def test_sunspots_every_trend_with_and_without_seasons(trend, seasonal):
    y = load_sunspots()
    period = 11 if seasonal else None
    est = quiet_fit(ARRegressor(p=3, trend=trend, seasonal=seasonal, period=period), y)
    res = AutoReg(y, 3, trend=trend, seasonal=seasonal, period=period).fit()
    assert_matches(est, res)
    assert rel(est.forecast(12), res.forecast(12)) < TOL


def test_gdp_growth_with_consumption_and_investment_as_exog():
    data = macro()
    train, future = data.iloc[:180], data.iloc[180:]
    est = ARRegressor(p=2, exog=["cons", "inv"]).fit(train)
    res = AutoReg(train["gdp"], 2, exog=train[["cons", "inv"]]).fit()
    assert_matches(est, res)
    assert est.params_.index[-2:].tolist() == ["cons", "inv"]
    ours = est.forecast(len(future), exog=future[["cons", "inv"]])
    theirs = res.forecast(len(future), exog=future[["cons", "inv"]])
    assert rel(ours, theirs) < TOL
    assert ours.index.equals(theirs.index)
    # An array of future rows in the fitted order works the same.
    assert (
        rel(est.forecast(3, exog=future[["cons", "inv"]].to_numpy()), theirs[:3]) < TOL
    )


def test_monthly_seasonal_dummies_from_the_datetime_index():
    y = co2_monthly()
    est = ARRegressor(p=2, trend="ct", seasonal=True).fit(y)
    res = AutoReg(y, 2, trend="ct", seasonal=True).fit()
    assert est.period_ == 12
    assert_matches(est, res)
    assert rel(est.forecast(24), res.forecast(24)) < TOL


@pytest.mark.parametrize("trend", ["c", "ct"])
def test_lag_set(trend):
    y = co2_monthly()
    # Lag 12 takes a unit root for the seasons: the warning is expected.
    est = quiet_fit(ARRegressor(p=[12, 1, 2], trend=trend), y)
    res = AutoReg(y, [1, 2, 12], trend=trend).fit()
    assert_matches(est, res)
    assert est.coef_.shape == (12,)
    assert np.all(est.coef_[2:11] == 0.0)
    assert rel(est.forecast(30), res.forecast(30)) < TOL


def test_order_selection_with_exog_matches_ar_select_order():
    data = macro()
    for ic in ("aic", "bic", "hqic"):
        sel = ar_select_order(data["gdp"], 8, ic=ic, exog=data[["cons", "inv"]])
        est = ARRegressor(p=8, ic=ic, exog=["cons", "inv"]).fit(data)
        assert est.p_ == max(sel.ar_lags or [0])
        assert_matches(est, sel.model.fit())


def test_many_series_share_the_regressors():
    data = macro()
    rng = np.random.default_rng(0)
    panel = data[["cons", "inv"]].copy()
    for j in range(3):
        panel[f"s{j}"] = data["gdp"] + rng.standard_normal(len(data))
    est = ARRegressor(p=2, trend="ct", exog=["cons", "inv"]).fit(panel)
    assert est.params_.shape == (6, 3)
    assert est.params_.index[-1] == "inv"
    for j in range(3):
        res = AutoReg(
            panel[f"s{j}"].to_numpy(),
            2,
            trend="ct",
            exog=data[["cons", "inv"]].to_numpy(),
        ).fit()
        assert rel(est.params_[f"s{j}"], res.params) < TOL
        assert rel(est.bse_[f"s{j}"], res.bse) < TOL
        assert rel(est.llf_[j], res.llf) < TOL
    # Arrays name regressors by position.
    arr = ARRegressor(p=2, trend="ct", exog=[0, 1]).fit(panel.to_numpy())
    assert np.allclose(arr.coef_, est.coef_, rtol=1e-12)
    assert arr.params_.index[-2:].tolist() == ["x1", "x2"]


def test_scores_and_grid_search_with_exog_columns():
    data = macro()
    est = ARRegressor(p=2, exog=["cons", "inv"]).fit(data)
    res = AutoReg(data["gdp"], 2, exog=data[["cons", "inv"]]).fit()
    pred = est.predict(data)
    assert rel(pred.iloc[2:], res.fittedvalues) < TOL
    logpdf = est.score_samples(data)
    assert isinstance(logpdf, pd.Series)
    search = GridSearchCV(
        ARRegressor(exog=["cons", "inv"]), {"p": [1, 2, 4]}, cv=TimeSeriesSplit(3)
    ).fit(data)
    assert search.best_params_["p"] in (1, 2, 4)


def test_sample_with_exog_follows_the_forecast():
    data = macro()
    train, future = data.iloc[:180], data.iloc[180:190]
    est = ARRegressor(p=2, exog=["cons", "inv"], random_state=0).fit(train)
    paths = est.sample(10, n_paths=4000, exog=future[["cons", "inv"]])
    mean = est.forecast(10, exog=future[["cons", "inv"]])
    se = paths.std(axis=1) / np.sqrt(4000)
    assert np.all(np.abs(paths.mean(axis=1) - mean) < 4.5 * se)
    assert paths.index.equals(mean.index)


# ------------------------------------------------------------------ bad input
def test_future_exog_errors_leave_the_model_as_it_was():
    data = macro()
    est = ARRegressor(p=2, exog=["cons", "inv"], random_state=0).fit(data.iloc[:180])
    state = est._sample_rng.bit_generator.state
    with pytest.raises(ValueError, match="has 3 future rows, but 5 steps need 5"):
        est.forecast(5, exog=data[["cons", "inv"]].iloc[180:183])
    with pytest.raises(ValueError, match="has 3 future rows"):
        est.sample(5, exog=data[["cons", "inv"]].iloc[180:183])
    assert est._sample_rng.bit_generator.state == state
    with pytest.raises(ValueError, match=r"pass exog= with their next 4 rows"):
        est.forecast(4)
    with pytest.raises(ValueError, match="must start at 2004Q2"):
        est.forecast(2, exog=data[["cons", "inv"]].iloc[181:183])
    bad = data[["cons", "inv"]].iloc[180:184].copy()
    bad.iloc[1, 0] = np.nan
    with pytest.raises(ValueError, match="missing or infinite value in future row 1"):
        est.forecast(4, exog=bad)
    renamed = bad.fillna(0.0).set_axis(["c", "i"], axis=1)
    with pytest.raises(ValueError, match=r"lacks the regressor columns \['cons'"):
        est.forecast(4, exog=renamed)
    with pytest.raises(ValueError, match="no exogenous regressors"):
        ARRegressor(p=1).fit(data["gdp"]).forecast(2, exog=bad)


def test_missing_regressor_value_drops_the_window_it_is_in():
    data = macro()
    data.iloc[10, 1] = np.nan
    est = ARRegressor(p=2, exog=["cons", "inv"]).fit(data)
    # AutoReg's regression on the complete data, less the row of step 10.
    full = macro()
    model = AutoReg(full["gdp"].to_numpy(), 2, exog=full[["cons", "inv"]].to_numpy())
    ref = sm.OLS(np.delete(model._y, 8), np.delete(model._x, 8, axis=0)).fit()
    np.testing.assert_allclose(est.params_.iloc[0], ref.params, rtol=1e-8)
    assert est.nobs_.iloc[0] == model._y.shape[0] - 1
    # The fit is then one of many series: results indexed by the series.
    assert list(est.params_.index) == ["gdp"]


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"p": [1, 1, 12]}, r"distinct lags >= 1 .* use p=\[1, 12\]"),
        ({"p": [0, 2]}, r"lag 0 is the series itself\); use p=\[2\]"),
        ({"p": []}, "non-empty list"),
        ({"seasonal": True, "period": 5}, "period=5 disagrees with the index"),
        ({"exog": ["price"]}, r"exog names columns \['price'\]"),
        ({"exog": ["cons", "inv", "gdp"]}, "leaves no series"),
        ({"exog": ["cons", "cons"]}, "names a column twice"),
    ],
)
def test_bad_specification(params, match):
    data = macro().set_axis(pd.date_range("1959-04-01", periods=202, freq="QS"))
    est = ARRegressor(**params)
    with pytest.raises(ValueError, match=match):
        est.fit(data if "exog" in params else data["gdp"])
    assert not hasattr(est, "coef_")


def test_seasonal_needs_a_period_for_annual_or_array_data():
    with pytest.raises(ValueError, match="seasonal=True needs a period"):
        ARRegressor(seasonal=True).fit(load_sunspots())
    with pytest.raises(ValueError, match="seasonal=True needs a period"):
        ARRegressor(seasonal=True).fit(load_sunspots().to_numpy())
    # A multiple of the calendar period is accepted (two-year cycles).
    est = ARRegressor(p=1, trend="ct", seasonal=True, period=24).fit(co2_monthly())
    assert est.period_ == 24


@pytest.mark.parametrize(
    ("driver", "params", "named"),
    [
        ("december", {"seasonal": True}, "december"),
        ("time", {"trend": "ct"}, "time"),
        ("constant", {}, "constant"),
    ],
)
def test_a_driver_in_the_span_of_the_terms_is_refused_by_name(driver, params, named):
    index = pd.period_range("2000-01", periods=120, freq="M")
    drivers = {
        "december": (index.month == 12).astype(float),
        "time": np.arange(1.0, 121.0),
        "constant": np.ones(120),
    }
    y = np.random.default_rng(0).normal(size=120)
    X = pd.DataFrame({"y": y, driver: drivers[driver]}, index=index)
    est = ARRegressor(p=2, exog=[driver], **params)
    with pytest.raises(ValueError, match=rf"The column '{named}' is a combination"):
        est.fit(X)
    assert not hasattr(est, "coef_")
