"""Diagnostics, dynamic prediction and new data without a refit, against AutoReg."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.tsa.ar_model import AutoReg

from probmodels import ARRegressor
from probmodels.datasets import load_sunspots
from tests.timeseries.test_arx import TOL, co2_monthly, macro, rel


def test_diagnostics_match_statsmodels():
    y = load_sunspots()
    est = ARRegressor(p=3).fit(y)
    res = AutoReg(y, 3).fit()
    jb = est.test_normality()
    assert list(jb.index) == ["Jarque-Bera", "P-value", "Skewness", "Kurtosis"]
    assert rel(jb, res.test_normality()) < TOL
    arch = est.test_heteroskedasticity(lags=6)
    assert rel(arch, res.test_heteroskedasticity(lags=6)) < TOL
    # AutoReg's own test_serial_correlation returns NaN in statsmodels 0.15
    # (it renames acorr_ljungbox's columns by reindexing); compare with the
    # function it calls, with its degrees of freedom (df_model).
    lb = est.test_serial_correlation(lags=8)
    ref = acorr_ljungbox(res.resid, lags=8, model_df=res.df_model)
    assert rel(lb["Ljung-Box"], ref["lb_stat"]) < TOL
    ok = lb["DF"] > 0
    assert rel(lb["LB P-value"][ok], ref["lb_pvalue"][ok]) < TOL
    assert lb["LB P-value"][~ok].isna().all()
    text = str(est.diagnostic_summary())
    assert "Test of Normality" in text and "ARCH-LM" in text


def test_diagnostics_of_many_series_equal_one_at_a_time():
    data = macro()
    panel = pd.DataFrame({"a": data["gdp"], "b": data["cons"]})
    est = ARRegressor(p=2).fit(panel)
    lb = est.test_serial_correlation(lags=5)
    assert lb.index.names == ["series", "Lag"]
    for name in ("a", "b"):
        one = ARRegressor(p=2).fit(panel[name])
        assert (
            rel(lb.loc[name, "Ljung-Box"], one.test_serial_correlation(5)["Ljung-Box"])
            < 1e-10
        )
        assert rel(est.test_normality().loc[name], one.test_normality()) < 1e-10


def test_summary_and_plot_diagnostics():
    y = co2_monthly()
    est = ARRegressor(p=2, trend="ct", seasonal=True).fit(y)
    text = str(est.summary())
    assert "Seas. AutoReg(2)" in text and "s(12,12)" in text and "co2.L2" in text
    assert f"{est.llf_:.3f}" in text
    # Several series: one block each.
    two = ARRegressor(p=1).fit(macro()[["gdp", "cons"]])
    assert str(two.summary()).count("AutoReg Model Results") == 2
    fig = est.plot_diagnostics(lags=12)
    assert len(fig.axes) == 4
    assert (
        two.plot_diagnostics(series="cons").axes[0].get_title()
        == "Standardized residual"
    )


@pytest.mark.parametrize(
    ("start", "end", "dynamic"),
    [
        (None, None, False),
        (0, 300, False),  # starts before hold_back, ends past the sample
        (100, 310, 50),
        (150, None, True),
        ("1900", "1990", "1950"),
        (2, 320, 0),
    ],
)
def test_predict_in_sample_matches_autoreg(start, end, dynamic):
    y = load_sunspots()
    est = ARRegressor(p=[1, 2, 9], trend="ct").fit(y)
    res = AutoReg(y, [1, 2, 9], trend="ct").fit()
    ours = est.predict_in_sample(start, end, dynamic)
    theirs = res.predict(start, end, dynamic)
    assert ours.index.equals(theirs.index)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    assert rel(ours.dropna(), theirs.dropna()) < TOL


def test_predict_in_sample_with_exog_out_of_sample():
    data = macro()
    train, future = data.iloc[:180], data.iloc[180:]
    est = ARRegressor(p=2, exog=["cons", "inv"]).fit(train)
    res = AutoReg(train["gdp"], 2, exog=train[["cons", "inv"]]).fit()
    exog = future[["cons", "inv"]]
    ours = est.predict_in_sample(150, 189, dynamic=10, exog=exog)
    theirs = res.predict(150, 189, dynamic=10, exog_oos=exog)
    assert rel(ours, theirs) < TOL
    with pytest.raises(ValueError, match="next 10 rows"):
        est.predict_in_sample(150, 189)


@pytest.mark.parametrize("refit", [False, True])
def test_append_matches_autoreg(refit):
    y = load_sunspots()
    head, tail = y.iloc[:250], y.iloc[250:]
    est = ARRegressor(p=3, seasonal=True, period=11).fit(head)
    res = AutoReg(head, 3, seasonal=True, period=11).fit()
    new = res.append(tail, refit=refit)
    assert est.append(tail, refit=refit) is est
    assert rel(est.params_, new.params) < TOL
    assert rel(est.bse_, new.bse) < TOL
    for name in ("llf", "aic", "bic", "sigma2", "rsquared"):
        assert rel(getattr(est, f"{name}_"), getattr(new, name)) < TOL, name
    assert rel(est.resid_.dropna(), new.resid) < 1e-7
    # Forecasts start from the new end.
    assert est.forecast(5).index[0] == pd.Period("2009", freq="Y")
    assert rel(est.forecast(5), new.forecast(5)) < TOL


def test_apply_refuses_another_frequency():
    data = macro()  # quarterly
    est = ARRegressor(p=2, exog=["cons", "inv"]).fit(data.iloc[:100])
    yearly = data.iloc[100:120].copy()
    yearly.index = pd.period_range("1990", periods=len(yearly), freq="Y")
    with pytest.raises(ValueError, match="frequency Y.*the fitted one Q"):
        est.apply(yearly)
    assert len(est.resid_.dropna()) == 100 - 2  # the fitted state is kept


@pytest.mark.parametrize("refit", [False, True])
def test_apply_with_exog_matches_autoreg(refit):
    data = macro()
    first, second = data.iloc[:100], data.iloc[100:]
    est = ARRegressor(p=2, exog=["cons", "inv"]).fit(first)
    res = AutoReg(first["gdp"], 2, exog=first[["cons", "inv"]]).fit()
    new = res.apply(second["gdp"], exog=second[["cons", "inv"]], refit=refit)
    est.apply(second, refit=refit)
    assert rel(est.params_, new.params) < TOL
    assert rel(est.bse_, new.bse) < TOL
    assert rel(est.llf_, new.llf) < TOL
    assert rel(est.resid_.dropna(), new.resid) < 1e-7
    future = pd.DataFrame(
        {"cons": [0.5, 0.6], "inv": [1.0, -1.0]},
        index=pd.period_range(second.index[-1] + 1, periods=2, freq="Q"),
    )
    assert rel(est.forecast(2, exog=future), new.forecast(2, exog=future)) < TOL


def test_append_keeps_the_clock_and_failures_change_nothing():
    y = load_sunspots()
    est = ARRegressor(p=2).fit(y.iloc[:200])
    before = est.params_.copy(), est._data.copy(), est.forecast(3)
    with pytest.raises(ValueError, match="does not continue the fitted one"):
        est.append(y.iloc[201:220])  # a gap of one year
    with pytest.raises(ValueError, match="does not continue"):
        est.append(y.iloc[150:160])
    monthly = pd.Series(
        y.to_numpy()[:50], index=pd.period_range("1700-01", periods=50, freq="M")
    )
    with pytest.raises(ValueError, match="frequency M"):
        est.apply(monthly)
    pd.testing.assert_series_equal(est.params_, before[0])
    np.testing.assert_array_equal(est._data, before[1])
    pd.testing.assert_series_equal(est.forecast(3), before[2])
    # Arrays append as the next steps; then forecasts continue from them.
    arr = ARRegressor(p=2).fit(y.to_numpy()[:200])
    arr.append(y.to_numpy()[200:250])
    ref = AutoReg(y.to_numpy()[:200], 2).fit().append(y.to_numpy()[200:250])
    assert rel(arr.forecast(4), ref.forecast(4)) < TOL


def test_append_chains_into_a_forecast():
    y = co2_monthly()
    est = ARRegressor(p=2, trend="ct", seasonal=True).fit(y.iloc[:-12])
    fc = est.append(y.iloc[-12:]).forecast(6)
    assert fc.index[0] == y.index[-1] + y.index.freq


def test_plot_predict_draws_the_forecast_band():
    y = load_sunspots()
    est = ARRegressor(p=3).fit(y)
    fig = est.plot_predict(start=250, end=330)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "observed",
        "prediction",
        "95% forecast interval",
    ]
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    mean, lower, upper = est.forecast(21, alpha=0.05)
    assert np.isclose(band.max(), upper.max()) and np.isclose(band.min(), lower.min())


def test_model_file_round_trip_keeps_exog_and_seasons(tmp_path):
    import probmodels

    data = macro()
    est = ARRegressor(p=2, trend="ct", seasonal=True, exog=["cons", "inv"]).fit(data)
    probmodels.save(est, tmp_path / "arx.skops")
    back = probmodels.load(tmp_path / "arx.skops")
    future = data[["cons", "inv"]].iloc[:3].to_numpy()
    pd.testing.assert_series_equal(
        back.forecast(3, exog=future), est.forecast(3, exog=future)
    )
    pd.testing.assert_series_equal(back.bse_, est.bse_)
    assert str(back.summary()).splitlines()[2:4] == str(est.summary()).splitlines()[2:4]


def test_results_of_many_series_keep_their_order_and_integer_labels():
    data = macro()
    panel = pd.DataFrame({"z": data["gdp"], "a": data["cons"]})
    est = ARRegressor(p=1).fit(panel)
    assert list(est.conf_int().columns) == [("z", 0), ("z", 1), ("a", 0), ("a", 1)]
    assert (
        rel(est.conf_int()[("a", 1)], ARRegressor(p=1).fit(panel["a"]).conf_int()[1])
        < 1e-10
    )
    years = pd.Series(load_sunspots().to_numpy(), index=np.arange(1700, 2009))
    on_years = ARRegressor(p=2).fit(years)
    by_label = on_years.predict_in_sample(1990, 2010)
    assert list(by_label.index) == list(range(1990, 2011))
    by_position = on_years.predict_in_sample(290, 310)
    np.testing.assert_allclose(by_label.to_numpy(), by_position.to_numpy())


# ------------------------------------------- odd corners (issue 34, item 12)
def test_future_rows_must_follow_every_step_not_only_the_first():
    data = macro()
    est = ARRegressor(p=2, exog=["cons", "inv"]).fit(data.iloc[:180])
    future = data[["cons", "inv"]].iloc[180:186]
    skipped = future.drop(future.index[2])  # a quarter left out
    with pytest.raises(ValueError, match="exog's row 2 is at 2005Q1"):
        est.forecast(4, exog=skipped)
    shuffled = future.iloc[[0, 2, 1, 3]]
    with pytest.raises(ValueError, match="row 1 is at"):
        est.forecast(4, exog=shuffled)
    text = future.assign(cons=future["cons"].astype(str))
    with pytest.raises(TypeError, match="exog's column 'cons' holds"):
        est.forecast(4, exog=text)
    np.testing.assert_allclose(
        est.forecast(4, exog=future), est.forecast(4, exog=future.to_numpy())
    )


@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.1, "x"])
def test_summary_refuses_the_alphas_conf_int_refuses(alpha):
    est = ARRegressor(p=2).fit(load_sunspots())
    for call in (est.summary, est.conf_int):
        with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
            call(alpha=alpha)


@pytest.mark.parametrize(
    ("lags", "error"),
    [(0, ValueError), (-3, ValueError), (10_000, ValueError), (2.5, TypeError)],
)
def test_diagnostic_lags_outside_the_residuals_are_refused(lags, error):
    est = ARRegressor(p=2).fit(load_sunspots())
    for test in (est.test_serial_correlation, est.test_heteroskedasticity):
        with pytest.raises(error, match="lags must be"):
            test(lags=lags)


def test_predict_in_sample_refuses_exog_it_would_ignore():
    est = ARRegressor(p=2).fit(load_sunspots())
    with pytest.raises(ValueError, match="drop exog"):
        est.predict_in_sample(exog=np.ones((3, 1)))
