"""Many series in a long table: ragged, with holes, each against its own AutoReg."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import norm
from statsmodels.tsa.ar_model import AutoReg, ar_select_order

from probmodels import ARRegressor

PHI = np.array([0.5, -0.25, 0.1])


def simulate(n, rng, level=10.0, x=None, beta=0.0):
    """An AR(3) series of n steps after a burn-in, optionally with a driver."""
    burn = 60
    e = rng.standard_normal(n + burn)
    y = np.zeros(n + burn)
    drive = np.zeros(n + burn) if x is None else np.r_[np.zeros(burn), x]
    for t in range(3, n + burn):
        y[t] = level + y[t - 3 : t][::-1] @ PHI + beta * drive[t] + e[t]
    return y[burn:]


def long_table(lengths, seed=0, freq="D", with_x=False):
    rng = np.random.default_rng(seed)
    frames = []
    for i, n in enumerate(lengths):
        x = rng.standard_normal(n) if with_x else None
        y = simulate(n, rng, level=5.0 + i, x=x, beta=0.8)
        start = pd.Timestamp("2021-01-01") + pd.Timedelta(days=int(rng.integers(0, 40)))
        frame = {
            "unique_id": f"s{i}",
            "ds": pd.date_range(start, periods=n, freq=freq),
            "y": y,
        }
        if with_x:
            frame["x"] = x
        frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True)


def rows_of(df, key):
    return df[df["unique_id"] == key]


@pytest.fixture(scope="module")
def ragged():
    return long_table([45, 80, 130, 61, 200], seed=1)


@pytest.mark.filterwarnings("ignore::probmodels.exceptions.NonStationaryWarning")
@pytest.mark.parametrize("trend", ["n", "c", "ct"])
def test_each_ragged_series_equals_its_own_autoreg(ragged, trend):
    est = ARRegressor(p=3, trend=trend).fit(ragged)
    fc = est.forecast(7, alpha=0.1)
    for key in est.params_.index:
        y = rows_of(ragged, key)["y"].to_numpy()
        ref = AutoReg(y, 3, trend=trend).fit()
        np.testing.assert_allclose(
            est.params_.loc[key], ref.params, rtol=1e-8, atol=1e-10
        )
        np.testing.assert_allclose(est.bse_.loc[key], ref.bse, rtol=1e-8)
        for name in ("llf", "aic", "bic", "hqic", "sigma2"):
            assert getattr(est, f"{name}_")[key] == pytest.approx(
                getattr(ref, name), rel=1e-9
            )
        assert est.nobs_[key] == ref.nobs
        pred = ref.get_prediction(len(y), len(y) + 6)
        mine = rows_of(fc, key)
        np.testing.assert_allclose(mine["mean"], pred.predicted_mean, rtol=1e-8)
        np.testing.assert_allclose(
            mine["lower"], pred.conf_int(alpha=0.1)[:, 0], rtol=1e-8
        )
        # Each series continues from its own last date.
        last = rows_of(ragged, key)["ds"].iloc[-1]
        assert list(mine["ds"]) == list(pd.date_range(last, periods=8, freq="D")[1:])


def test_seasonal_terms_count_from_each_series_own_start(ragged):
    est = ARRegressor(p=2, seasonal=True).fit(ragged)
    assert est.period_ == 7
    for key in ("s0", "s3"):
        y = rows_of(ragged, key)["y"].to_numpy()
        ref = AutoReg(y, 2, seasonal=True, period=7).fit()
        np.testing.assert_allclose(est.params_.loc[key], ref.params, rtol=1e-8)
        mine = rows_of(est.forecast(9), key)["mean"]
        np.testing.assert_allclose(mine, ref.forecast(9), rtol=1e-8)


@pytest.mark.parametrize(
    ("cov_type", "cov_kwds", "use_t"),
    [
        ("HC1", None, False),
        ("HC3", None, True),
        ("HAC", {"maxlags": 3, "use_correction": True}, False),
    ],
)
def test_robust_covariances_on_ragged_series(ragged, cov_type, cov_kwds, use_t):
    est = ARRegressor(p=2, cov_type=cov_type, cov_kwds=cov_kwds, use_t=use_t).fit(
        ragged
    )
    for key in ("s0", "s4"):
        y = rows_of(ragged, key)["y"].to_numpy()
        ref = AutoReg(y, 2).fit(cov_type=cov_type, cov_kwds=cov_kwds or {}, use_t=use_t)
        np.testing.assert_allclose(est.bse_.loc[key], ref.bse, rtol=1e-8)
        np.testing.assert_allclose(est.pvalues_.loc[key], ref.pvalues, rtol=1e-7)
        ci = est.conf_int(0.1).loc[key].to_numpy()
        np.testing.assert_allclose(ci, ref.conf_int(0.1), rtol=1e-8)


def test_order_chosen_per_series_as_ar_select_order(ragged):
    est = ARRegressor(p=5, ic="bic").fit(ragged)
    for key in est.params_.index:
        y = rows_of(ragged, key)["y"].to_numpy()
        sel = ar_select_order(y, 5, ic="bic")
        ref = sel.model.fit()
        assert est.p_[key] == max(sel.ar_lags or [0])
        np.testing.assert_allclose(est.params_.loc[key].dropna(), ref.params, rtol=1e-8)


def test_wide_table_with_leading_and_trailing_nan_equals_long(ragged):
    wide = ragged.pivot(index="ds", columns="unique_id", values="y").asfreq("D")
    a = ARRegressor(p=3).fit(wide)
    b = ARRegressor(p=3).fit(ragged)
    pd.testing.assert_frame_equal(a.params_, b.params_, check_names=False)
    fa, fb = a.forecast(4, alpha=0.05), b.forecast(4, alpha=0.05)
    np.testing.assert_allclose(
        fa[["mean", "lower", "upper"]], fb[["mean", "lower", "upper"]]
    )
    assert list(fa["ds"]) == list(fb["ds"])


def test_holes_drop_the_windows_they_touch():
    df = long_table([150, 90], seed=4)
    y = df["y"].to_numpy().copy()
    holes = [20, 21, 70, 160]  # two inside s0, one inside s1 (row 160 is its 11th)
    y[holes] = np.nan
    df = df.assign(y=y)
    est = ARRegressor(p=3, trend="ct").fit(df)
    for key in ("s0", "s1"):
        s = rows_of(df, key)["y"].to_numpy()
        n = len(s)
        # By hand: every window t = 3..n-1 whose target and lags are observed.
        t = np.arange(3, n)
        X = np.column_stack(
            [np.ones(n - 3), t + 1.0] + [s[t - lag] for lag in (1, 2, 3)]
        )
        keep = np.isfinite(s[t]) & np.isfinite(X).all(axis=1)
        ref = sm.OLS(s[t][keep], X[keep]).fit()
        np.testing.assert_allclose(est.params_.loc[key], ref.params, rtol=1e-8)
        nobs = keep.sum()
        sigma2 = ref.ssr / nobs  # AutoReg's convention
        np.testing.assert_allclose(
            est.bse_.loc[key],
            np.sqrt(np.diag(ref.normalized_cov_params) * sigma2),
            rtol=1e-8,
        )
        assert est.nobs_[key] == nobs
    # Residuals exist on the kept windows only.
    assert len(est.resid_.loc["s0"]) == est.nobs_["s0"]


def test_missing_final_steps_are_filled_before_forecasting():
    df = long_table([120], seed=5)
    y = df["y"].to_numpy()
    df = df.assign(y=np.r_[y[:-2], np.nan, np.nan])
    est = ARRegressor(p=3).fit(df)
    ref = AutoReg(y[:-2], 3).fit()  # the windows of the last two steps are dropped
    np.testing.assert_allclose(est.params_.iloc[0], ref.params, rtol=1e-8)
    # The forecasts start after the table's last date, as the 3rd..8th steps
    # after the last observed one, with their widths.
    fc = est.forecast(6, alpha=0.05)
    pred = ref.get_prediction(len(y) - 2, len(y) + 5)
    np.testing.assert_allclose(fc["mean"], pred.predicted_mean[2:], rtol=1e-8)
    np.testing.assert_allclose(fc["upper"], pred.conf_int(alpha=0.05)[2:, 1], rtol=1e-8)
    assert fc["ds"].iloc[0] == df["ds"].iloc[-1] + pd.Timedelta(days=1)
    # A sample draws the missing steps too: its spread is the 3-step one.
    paths = est.sample(1, n_paths=20000, random_state=0)
    values = paths.filter(like="path_").to_numpy()[0]
    sd = np.sqrt(pred.var_pred_mean[2])
    assert values.mean() == pytest.approx(
        fc["mean"].iloc[0], abs=4 * sd / np.sqrt(20000)
    )
    assert values.std() == pytest.approx(sd, rel=0.03)


def test_missing_step_between_observed_ones_at_the_end():
    df = long_table([100], seed=6)
    y = df["y"].to_numpy().copy()
    y[-2] = np.nan  # the last step is observed, the one before it is not
    est = ARRegressor(p=2, trend="n").fit(df.assign(y=y))
    phi = est.coef_.iloc[0].to_numpy()
    filled = phi[0] * y[-3] + phi[1] * y[-4]
    mean1 = phi[0] * y[-1] + phi[1] * filled
    fc = est.forecast(1, alpha=0.05)
    assert fc["mean"].iloc[0] == pytest.approx(mean1, rel=1e-12)
    # The error of the fill reaches the forecast through phi_2.
    sd = np.sqrt(est.sigma2_.iloc[0] * (1 + phi[1] ** 2))
    assert fc["upper"].iloc[0] - mean1 == pytest.approx(norm.ppf(0.975) * sd, rel=1e-10)


def test_per_series_drivers_and_their_future_rows():
    df = long_table([90, 140, 70], seed=7, with_x=True)
    est = ARRegressor(p=2, exog="x").fit(df)
    rng = np.random.default_rng(0)
    future = []
    for key, group in df.groupby("unique_id"):
        dates = pd.date_range(group["ds"].iloc[-1], periods=6, freq="D")[1:]
        future.append(
            pd.DataFrame({"unique_id": key, "ds": dates, "x": rng.standard_normal(5)})
        )
    X_df = pd.concat(future, ignore_index=True)
    fc = est.forecast(5, exog=X_df)
    for key in ("s0", "s2"):
        g = rows_of(df, key)
        ref = AutoReg(g["y"].to_numpy(), 2, exog=g[["x"]].to_numpy()).fit()
        np.testing.assert_allclose(est.params_.loc[key], ref.params, rtol=1e-8)
        xf = rows_of(X_df, key)[["x"]].to_numpy()
        np.testing.assert_allclose(
            rows_of(fc, key)["mean"], ref.forecast(5, exog=xf), rtol=1e-8
        )
    with pytest.raises(ValueError, match=r"lack series \['s1'\]"):
        est.forecast(5, exog=X_df[X_df["unique_id"] != "s1"])
    with pytest.raises(ValueError, match="pass their future values as a long table"):
        est.forecast(5)


def test_in_sample_predictions_are_autoreg_fitted_values(ragged):
    est = ARRegressor(p=3).fit(ragged)
    fitted = est.predict_in_sample()
    for key in ("s1", "s3"):
        ref = AutoReg(rows_of(ragged, key)["y"].to_numpy(), 3).fit()
        np.testing.assert_allclose(
            rows_of(fitted, key)["mean"], ref.fittedvalues, rtol=1e-9
        )
        np.testing.assert_allclose(
            est.resid_.loc[key], ref.resid, rtol=1e-7, atol=1e-10
        )
    assert list(fitted.columns) == ["unique_id", "ds", "y", "mean"]


def test_sample_mean_and_shape(ragged):
    est = ARRegressor(p=3, random_state=0).fit(ragged)
    paths = est.sample(4, n_paths=3000)
    assert list(paths.columns[:2]) == ["unique_id", "ds"] and paths.shape == (
        5 * 4,
        2 + 3000,
    )
    mean = paths.filter(like="path_").mean(axis=1).to_numpy()
    np.testing.assert_allclose(mean, est.forecast(4)["mean"], atol=0.12)
    one = est.sample(4)
    assert list(one.columns) == ["unique_id", "ds", "y"]


def test_integer_time_and_custom_columns():
    df = long_table([50, 70], seed=8).rename(
        columns={"unique_id": "store", "y": "sales"}
    )
    df["week"] = df.groupby("store").cumcount() * 2 + 10
    df = df.drop(columns="ds")
    est = ARRegressor(p=2, id_col="store", time_col="week", target_col="sales").fit(df)
    fc = est.forecast(3)
    assert list(fc.columns) == ["store", "week", "mean"]
    last = df.groupby("store")["week"].max()
    assert list(fc[fc["store"] == "s1"]["week"]) == [
        last["s1"] + 2,
        last["s1"] + 4,
        last["s1"] + 6,
    ]
    ref = AutoReg(df[df["store"] == "s1"]["sales"].to_numpy(), 2).fit()
    np.testing.assert_allclose(est.params_.loc["s1"], ref.params, rtol=1e-8)


def test_pickle_keeps_the_panel(ragged):
    est = ARRegressor(p=2, random_state=1).fit(ragged)
    clone = pickle.loads(pickle.dumps(est))
    pd.testing.assert_frame_equal(
        clone.forecast(3, alpha=0.1), est.forecast(3, alpha=0.1)
    )


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: pd.concat([d, d.iloc[[3]]]), r"Series 's0' has two rows at"),
        (
            lambda d: d.iloc[np.r_[1, 0, 2 : len(d)]],
            r"rows of series 's0' are not in time order",
        ),
        (
            lambda d: d.assign(
                ds=d["ds"].where(d.index != 5, d["ds"][5] + pd.Timedelta(hours=5))
            ),
            r"Series 's0' has the time .* off the table's regular grid",
        ),
        (lambda d: d.assign(y=d["y"].astype(str)), "target column 'y' has dtype"),
        (lambda d: d.assign(extra=1.0), r"columns \['extra'\] are neither"),
        (lambda d: d.assign(ds=d["ds"].astype(str)), "must hold datetimes or integers"),
    ],
)
def test_bad_long_tables_get_one_line_naming_the_series(edit, match):
    df = long_table([40, 50], seed=9)
    with pytest.raises((ValueError, TypeError), match=match) as info:
        ARRegressor(p=2).fit(edit(df))
    assert "\n" not in str(info.value)


def test_frequency_that_cannot_be_inferred():
    df = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.to_datetime(
                ["2020-01-01", "2020-01-04", "2020-01-06", "2020-02-01"]
            ),
            "y": [1.0, 2.0, 3.0, 4.0],
        }
    )
    with pytest.raises(ValueError, match="cannot be inferred.*Pass freq="):
        ARRegressor(p=1).fit(df)


def test_short_series_and_too_few_windows_are_named():
    df = long_table([40, 3, 50], seed=10)
    with pytest.raises(
        ValueError, match=r"Series \['s1'\] are shorter than their lags"
    ):
        ARRegressor(p=3).fit(df)
    df = long_table([40, 12], seed=10)
    y = df["y"].to_numpy().copy()
    y[40 + np.arange(2, 12, 2)] = np.nan  # every other step of s1: no complete window
    with pytest.raises(
        ValueError, match=r"Series \['s1'\] have fewer complete windows"
    ):
        ARRegressor(p=2).fit(df.assign(y=y))


def test_wide_only_methods_say_what_to_use(ragged):
    est = ARRegressor(p=2).fit(ragged)
    with pytest.raises(ValueError, match=r"Pass the longer table to apply\(X\)"):
        est.append(ragged)
    with pytest.raises(ValueError, match="summary is for one series"):
        est.summary()


def test_refitting_a_panel_model_on_wide_data_forgets_the_panel(ragged):
    est = ARRegressor(p=2).fit(ragged)
    y = rows_of(ragged, "s4")["y"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.fit(y)
    np.testing.assert_allclose(est.params_, AutoReg(y, 2).fit().params, rtol=1e-8)
    assert est.forecast(2).shape == (2,)


def test_model_file_keeps_the_panel(ragged, tmp_path):
    import probmodels

    est = ARRegressor(p=2, ic="aic").fit(ragged)
    probmodels.save(est, tmp_path / "panel.skops")
    back = probmodels.load(tmp_path / "panel.skops")
    pd.testing.assert_frame_equal(
        back.forecast(3, alpha=0.1), est.forecast(3, alpha=0.1)
    )
    pd.testing.assert_series_equal(back.p_, est.p_)
    pd.testing.assert_frame_equal(back.params_, est.params_)


def test_rows_before_a_series_first_value_are_dropped(ragged):
    # A long table padded to one start date (as a pivot and melt leaves it).
    wide = ragged.pivot(index="ds", columns="unique_id", values="y").asfreq("D")
    padded = wide.melt(ignore_index=False, value_name="y").reset_index()
    padded = padded[padded["ds"] <= padded.groupby("unique_id")["ds"].transform("max")]
    ends = ragged.groupby("unique_id")["ds"].max()
    padded = padded[padded["ds"] <= padded["unique_id"].map(ends)]
    a = ARRegressor(p=2).fit(padded[["unique_id", "ds", "y"]])
    b = ARRegressor(p=2).fit(ragged)
    pd.testing.assert_frame_equal(a.params_, b.params_)
    with pytest.raises(ValueError, match="Series 'z' has no values"):
        ARRegressor(p=2).fit(
            pd.concat([ragged, ragged.tail(3).assign(unique_id="z", y=np.nan)])
        )


def test_apply_keeps_the_parameters_on_new_data(ragged):
    short = ragged.groupby("unique_id").head(40)
    est = ARRegressor(p=2).fit(short)
    params = est.params_.copy()
    est.apply(ragged)
    pd.testing.assert_frame_equal(est.params_, params)
    # As statsmodels' apply(refit=False): the variance of the new residuals.
    for key in ("s0", "s2"):
        y = rows_of(ragged, key)["y"].to_numpy()
        ref = AutoReg(rows_of(short, key)["y"].to_numpy(), 2).fit().apply(y)
        assert est.sigma2_[key] == pytest.approx(ref.sigma2, rel=1e-9)
        assert est.llf_[key] == pytest.approx(ref.llf, rel=1e-9)
        np.testing.assert_allclose(rows_of(est.forecast(3), key)["mean"], ref.forecast(3))
    refit = ARRegressor(p=2).fit(short).apply(ragged, refit=True)
    pd.testing.assert_frame_equal(refit.params_, ARRegressor(p=2).fit(ragged).params_)
    with pytest.raises(ValueError, match="other series"):
        est.apply(ragged[ragged["unique_id"] != "s1"])


def test_predict_and_score_of_new_data_continue_each_series(ragged):
    est = ARRegressor(p=2, trend="ct").fit(ragged)
    # On the fitted table: the fitted values, and the mean log-likelihood.
    pred = est.predict(ragged)
    assert list(pred.columns) == ["unique_id", "ds", "y", "mean"]
    fitted = est.predict_in_sample()
    both = pred.merge(fitted, on=["unique_id", "ds"], suffixes=("", "_in"))
    np.testing.assert_allclose(both["mean"], both["mean_in"], rtol=1e-10)
    # A later stretch keeps counting the trend from each series' start.
    key = "s4"
    y = rows_of(ragged, key)["y"].to_numpy()
    ref = AutoReg(y, 2, trend="ct").fit()
    tail = ragged[ragged["unique_id"] == key].iloc[150:]
    got = est.predict(tail)["mean"].to_numpy()
    np.testing.assert_allclose(got[2:], ref.fittedvalues[150:], rtol=1e-9)
    # Scored from step floor(10 log10 50) = 16 of the stretch on, as for one series.
    scores = est.score_samples(tail)["log_likelihood"].to_numpy()
    assert np.isnan(scores[:16]).all()
    logpdf = norm.logpdf(y[166:], ref.fittedvalues[164:], np.sqrt(ref.sigma2))
    np.testing.assert_allclose(scores[16:], logpdf, rtol=1e-9)
    assert np.isfinite(est.score(ragged))


def test_wide_table_with_nan_predicts_on_its_rows(ragged):
    wide = ragged.pivot(index="ds", columns="unique_id", values="y").asfreq("D")
    est = ARRegressor(p=2).fit(wide)
    pred = est.predict(wide)
    assert pred.shape == wide.shape and list(pred.columns) == list(wide.columns)
    ref = AutoReg(wide["s1"].dropna().to_numpy(), 2).fit()
    np.testing.assert_allclose(pred["s1"].dropna(), ref.fittedvalues, rtol=1e-9)
    assert pred["s1"].notna().sum() == len(ref.fittedvalues)


def test_hold_back_puts_every_series_on_its_own_later_start(ragged):
    est = ARRegressor(p=2, hold_back=5).fit(ragged)
    y = rows_of(ragged, "s3")["y"].to_numpy()
    ref = AutoReg(y, 2, hold_back=5).fit()
    np.testing.assert_allclose(est.params_.loc["s3"], ref.params, rtol=1e-8)
    assert est.nobs_["s3"] == ref.nobs
    with pytest.raises(ValueError, match="hold_back=1 is smaller than the largest lag"):
        ARRegressor(p=2, hold_back=1).fit(ragged)
