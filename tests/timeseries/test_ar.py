"""ARRegressor against statsmodels' AutoReg, on the bundled series."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from statsmodels.tsa.ar_model import AutoReg, ar_select_order

from probmodels import ARRegressor
from probmodels.datasets import load_nile, load_sunspots
from probmodels.exceptions import NonStationaryWarning

TRENDS = ["n", "c", "t", "ct"]
DATASETS = {
    "sunspots": load_sunspots(),
    "nile": load_nile(),
    # A mean large next to the variation: without a constant in the model,
    # centring cannot be a reparametrisation, and the digits must survive.
    "nile+1e6": load_nile() + 1e6,
}


def rel_err(ours, ref):
    ours, ref = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    return np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-300))


def params_of(est, trend):
    """Our parameters in statsmodels' order: const, trend, lags."""
    parts = []
    if "c" in trend:
        parts.append([est.intercept_])
    if "t" in trend:
        parts.append([est.trend_coef_])
    return np.concatenate([*parts, est.coef_])


def fit_quiet(est, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonStationaryWarning)
        return est.fit(y)


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("trend", TRENDS)
def test_matches_autoreg_every_order(name, trend):
    y = DATASETS[name].to_numpy()
    for p in range(1, 13):
        ref = AutoReg(y, p, trend=trend).fit()
        est = fit_quiet(ARRegressor(p=p, trend=trend), y)
        assert rel_err(params_of(est, trend), ref.params) < 1e-8
        for ours, theirs in [
            (est.sigma2_, ref.sigma2),
            (est.llf_, ref.llf),
            (est.aic_, ref.aic),
            (est.bic_, ref.bic),
            (est.hqic_, ref.hqic),
        ]:
            assert rel_err(ours, theirs) < 1e-8
        assert est.nobs_ == ref.nobs and est.p_ == p
        frame = ref.get_prediction(len(y), len(y) + 11).summary_frame(alpha=0.1)
        mean, lower, upper = est.forecast(12, alpha=0.1)
        assert rel_err(mean, frame["mean"]) < 1e-6
        assert rel_err(lower, frame["mean_ci_lower"]) < 1e-6
        assert rel_err(upper, frame["mean_ci_upper"]) < 1e-6


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("ic", ["aic", "bic", "hqic"])
@pytest.mark.parametrize("trend", TRENDS)
def test_order_selection_matches_ar_select_order(name, ic, trend):
    y = DATASETS[name].to_numpy()
    for maxlag in (1, 4, 8, 12):
        sel = ar_select_order(y, maxlag, ic=ic, trend=trend)
        chosen = max(sel.ar_lags) if sel.ar_lags else 0
        est = fit_quiet(ARRegressor(p=maxlag, trend=trend, ic=ic), y)
        assert est.p_ == chosen
        ref = sel.model.fit()
        assert rel_err(params_of(est, trend), ref.params) < 1e-8
        assert rel_err(est.llf_, ref.llf) < 1e-8


@pytest.mark.parametrize("trend", TRENDS)
def test_hold_back_matches_autoreg(trend):
    y = load_sunspots().to_numpy()
    ref = AutoReg(y, 3, trend=trend, hold_back=10).fit()
    est = fit_quiet(ARRegressor(p=3, trend=trend, hold_back=10), y)
    assert est.nobs_ == ref.nobs == len(y) - 10
    assert rel_err(params_of(est, trend), ref.params) < 1e-8
    assert rel_err(est.llf_, ref.llf) < 1e-8


def test_roots_match_statsmodels():
    y = load_sunspots().to_numpy()
    ref = AutoReg(y, 9).fit()
    est = ARRegressor(p=9).fit(y)
    key = lambda z: np.lexsort((np.round(z.imag, 8), np.round(z.real, 8)))  # noqa: E731
    ours, theirs = est.roots_, np.asarray(ref.roots)
    np.testing.assert_allclose(ours[key(ours)], theirs[key(theirs)], rtol=1e-8)


def make_panel(n=300, seed=0):
    """Three series with different dynamics, as a DataFrame with dates."""
    rng = np.random.default_rng(seed)
    phis = [[0.6], [0.5, -0.3], [0.2, 0.1, 0.4]]
    data = np.zeros((n, 3))
    for j, phi in enumerate(phis):
        e = rng.standard_normal(n)
        for t in range(n):
            data[t, j] = (
                5.0 * j
                + e[t]
                + sum(
                    c * (data[t - i - 1, j] - 5.0 * j)
                    for i, c in enumerate(phi)
                    if t > i
                )
            )
    index = pd.date_range("2020-01-01", periods=n, freq="D")
    return pd.DataFrame(data, index=index, columns=["a", "b", "c"])


@pytest.mark.parametrize("ic", [None, "bic"])
def test_many_series_equal_one_at_a_time(ic):
    df = make_panel()
    batched = ARRegressor(p=4, trend="ct", ic=ic).fit(df)
    for j, col in enumerate(df.columns):
        single = ARRegressor(p=4, trend="ct", ic=ic).fit(df[col])
        order = single.p_
        assert batched.p_[j] == order
        np.testing.assert_allclose(batched.coef_[j, :order], single.coef_, rtol=1e-10)
        assert np.all(batched.coef_[j, order:] == 0)
        for attr in ("intercept_", "trend_coef_", "sigma2_", "llf_", "aic_"):
            np.testing.assert_allclose(getattr(batched, attr)[j], getattr(single, attr))
        mean_b = batched.forecast(5)[col]
        np.testing.assert_allclose(mean_b, single.forecast(5), rtol=1e-10)
    if ic:  # the panel was built with orders 1, 2, 3: BIC should find them
        np.testing.assert_array_equal(batched.p_, [1, 2, 3])


def test_predict_and_score_samples_on_fitted_series():
    y = load_sunspots()
    ref = AutoReg(y.to_numpy(), 3).fit()
    est = ARRegressor(p=3).fit(y)
    pred = est.predict(y)
    assert isinstance(pred, pd.Series) and pred.index.equals(y.index)
    assert pred.iloc[:3].isna().all()
    np.testing.assert_allclose(pred.iloc[3:], ref.fittedvalues, rtol=1e-9)
    expected = norm.logpdf(ref.resid, scale=np.sqrt(ref.sigma2))
    # By default the steps score leaves out (floor(10 log10 n) = 24) are NaN.
    logpdf = est.score_samples(y)
    assert logpdf.iloc[:24].isna().all()
    np.testing.assert_allclose(logpdf.iloc[24:], expected[21:], rtol=1e-9)
    assert est.score(y) == pytest.approx(np.nanmean(logpdf), rel=1e-12)
    # With hold_back=p every fitted step counts, and the log densities add up
    # to the log-likelihood.
    logpdf = ARRegressor(p=3, hold_back=3).fit(y).score_samples(y)
    np.testing.assert_allclose(logpdf.iloc[3:], expected, rtol=1e-9)
    assert logpdf.iloc[3:].sum() == pytest.approx(ref.llf, rel=1e-10)


def test_held_out_stretch_continues_the_trend_clock():
    y = load_nile()
    train, test = y.iloc[:70], y.iloc[70:]
    est = ARRegressor(p=2, trend="ct").fit(train)
    ref = AutoReg(train.to_numpy(), 2, trend="ct").fit().append(test.to_numpy())
    pred = est.predict(test)
    np.testing.assert_allclose(pred.iloc[2:], ref.predict(72, 99), rtol=1e-9)
    # An ndarray has no clock: time restarts at 1, as AutoRegResults.apply.
    applied = AutoReg(train.to_numpy(), 2, trend="ct").fit().apply(test.to_numpy())
    np.testing.assert_allclose(
        est.predict(test.to_numpy())[2:], applied.fittedvalues, rtol=1e-9
    )


def test_score_compares_orders_on_the_same_steps():
    y = load_sunspots().to_numpy()
    n_test = 51
    start = int(np.floor(10 * np.log10(n_test)))
    train, test = y[:-n_test], y[-n_test:]
    for p in (1, 5, start):
        est = ARRegressor(p=p).fit(train)
        logpdf = est.score_samples(test)
        assert np.isnan(logpdf[:start]).all() and np.isfinite(logpdf[start:]).all()
        assert est.score(test) == pytest.approx(np.nanmean(logpdf), rel=1e-12)
    # Explicit hold_back fixes the window; past it, score is the plain mean.
    est = ARRegressor(p=2, hold_back=2).fit(train)
    assert est.score(test) == pytest.approx(np.nanmean(est.score_samples(test)))
    with pytest.raises(ValueError, match="longer stretch"):
        ARRegressor(p=2, hold_back=20).fit(train).score(test[:15])


def test_grid_search_picks_order_by_held_out_likelihood():
    y = load_sunspots()
    search = GridSearchCV(
        ARRegressor(), {"p": range(1, 16)}, cv=TimeSeriesSplit(5)
    ).fit(y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_["p"] == int(np.argmax(scores)) + 1
    # Sunspots need the ~11-year cycle: AR(1) must lose to longer orders.
    assert search.best_params_["p"] >= 3
    assert scores[search.best_index_] > scores[0] + 0.1


def test_sample_quantiles_match_forecast_intervals():
    y = load_sunspots()
    est = ARRegressor(p=3, random_state=0).fit(y)
    paths = est.sample(6, n_paths=20000)
    assert isinstance(paths, pd.DataFrame) and paths.shape == (6, 20000)
    mean, lower, upper = est.forecast(6, alpha=0.2)
    assert paths.index.equals(mean.index)
    q_lo, q_hi = paths.quantile(0.1, axis=1), paths.quantile(0.9, axis=1)
    width = upper - lower
    # Monte Carlo error of a 10% quantile with 20,000 draws is ~1% of the width.
    assert np.all(np.abs(q_lo - lower) < 0.03 * width)
    assert np.all(np.abs(q_hi - upper) < 0.03 * width)
    assert np.all(np.abs(paths.mean(axis=1) - mean) < 0.02 * width)


def test_sample_containers_and_shapes():
    df = make_panel(100)
    est = ARRegressor(p=2, random_state=0).fit(df)
    one = est.sample(4)
    assert isinstance(one, pd.DataFrame) and list(one.columns) == ["a", "b", "c"]
    assert one.index.equals(pd.date_range("2020-04-10", periods=4, freq="D"))
    many = est.sample(4, n_paths=5)
    assert many.shape == (4, 15) and many.columns.names == ["series", "path"]
    assert list(many["b"].columns) == list(range(5))
    arr = ARRegressor(p=2).fit(df.to_numpy())
    assert arr.sample(4).shape == (4, 3)
    assert arr.sample(4, n_paths=5).shape == (4, 3, 5)
    vec = ARRegressor(p=2).fit(df["a"].to_numpy())
    assert vec.sample(4).shape == (4,) and vec.sample(4, n_paths=5).shape == (4, 5)
    assert vec.forecast(4).shape == (4,)


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (
            pd.period_range("2000-01", periods=30, freq="M"),
            pd.period_range("2002-07", periods=3, freq="M"),
        ),
        (
            pd.date_range("2000-01-03", periods=30, freq="B"),
            pd.bdate_range("2000-02-14", periods=3),
        ),
        (pd.RangeIndex(10, 70, 2), pd.RangeIndex(70, 76, 2)),
        (pd.Index(np.arange(1950, 1980)), pd.RangeIndex(1980, 1983)),
        (pd.Index([f"s{i}" for i in range(30)]), pd.RangeIndex(30, 33)),
    ],
)
def test_forecast_index_continues_the_fitted_one(index, expected):
    y = pd.Series(np.random.default_rng(0).standard_normal(30), index=index)
    result = ARRegressor(p=1).fit(y).forecast(3).index
    assert result.equals(expected)
    assert type(result) is type(expected)


def test_datetime_index_without_freq():
    rng = np.random.default_rng(0)
    dates = pd.DatetimeIndex(
        pd.date_range("2021-01-01", periods=40, freq="W").to_list()
    )
    assert dates.freq is None
    est = ARRegressor(p=1).fit(pd.Series(rng.standard_normal(40), index=dates))
    assert est.forecast(2).index.equals(
        pd.date_range("2021-10-10", periods=2, freq="W")
    )
    irregular = dates.delete([3, 17])
    with pytest.warns(UserWarning, match="no frequency") as record:
        est = ARRegressor(p=1).fit(pd.Series(rng.standard_normal(38), index=irregular))
    assert record[0].filename == __file__
    assert est.forecast(2).index.equals(pd.RangeIndex(38, 40))


def test_warns_when_not_stationary():
    rng = np.random.default_rng(0)
    explosive = np.ones(200)
    for t in range(1, 200):  # y_t = 1.05 y_{t-1} + e_t
        explosive[t] = 1.05 * explosive[t - 1] + rng.standard_normal()
    with pytest.warns(NonStationaryWarning, match="not stationary") as record:
        ARRegressor(p=1, trend="n").fit(explosive)
    assert record[0].filename == __file__


def test_pickle_round_trip_keeps_sampling_stream():
    est = ARRegressor(p=2, random_state=3).fit(load_nile())
    clone = pickle.loads(pickle.dumps(est))
    pd.testing.assert_series_equal(est.sample(5), clone.sample(5))
    pd.testing.assert_series_equal(est.forecast(5), clone.forecast(5))


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (
            # Missing steps are taken (many series' path), but every window
            # of this one touches one.
            np.r_[1.0, np.nan, 3.0, np.nan, 5, np.nan, 7, 8],
            ValueError,
            r"Series \[0\] have fewer complete windows \(e.g. 1\)",
        ),
        (np.r_[1.0, np.inf, 3.0, 4, 5, 6, 7], ValueError, "1 inf value"),
        (np.arange(3.0), ValueError, r"at least 4 observations.*has 3 sample"),
        (
            pd.DataFrame({"x": [1.0, 2, 3, 4, 5], "when": list("abcde")}),
            TypeError,
            "non-numeric columns: 'when'",
        ),
        (pd.Series(list("abcdef")), TypeError, "not numeric"),
        (np.zeros((4, 3, 2)), ValueError, "3 dimensions"),
    ],
)
def test_bad_input_errors(X, error, match):
    with pytest.raises(error, match=match):
        ARRegressor(p=1).fit(X)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"p": 0}, "'p' parameter of ARRegressor must be an int in the range"),
        ({"trend": "linear"}, "'trend' parameter of ARRegressor must be a str among"),
        ({"ic": "mse"}, "'ic' parameter"),
        ({"p": 5, "hold_back": 2}, "hold_back=2 is smaller than the largest lag 5"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        ARRegressor(**params).fit(np.random.default_rng(0).standard_normal(50))


def test_constant_series_is_named():
    df = pd.DataFrame({"ok": np.random.default_rng(0).standard_normal(50), "flat": 3.0})
    with pytest.raises(ValueError, match="Series \\['flat'\\] are constant"):
        ARRegressor(p=2).fit(df)
    with pytest.raises(ValueError, match="are constant"):
        ARRegressor(p=1, trend="n").fit(np.full(20, 2.0))
    # Deterministic but not constant: an exact fit, named as such.
    with pytest.raises(ValueError, match="fitted exactly"):
        # cos(wt) = 2 cos(w) cos(w(t-1)) - cos(w(t-2)) exactly.
        ARRegressor(p=2, trend="n").fit(np.cos(0.5 * np.arange(40)))
    # Lags that are collinear (y_{t-2} = -y_{t-1}): named as singular.
    with pytest.raises(ValueError, match="lags and regressors are collinear"):
        ARRegressor(p=2, trend="n").fit(np.tile([1.0, -1.0], 10))


def test_failed_refit_leaves_model_as_it_was():
    y = load_nile()
    est = ARRegressor(p=2).fit(y)
    before = est.coef_.copy()
    with pytest.raises(ValueError):
        est.fit(np.r_[1.0, np.nan, 3.0, 4.0, 5.0, 6.0])
    np.testing.assert_array_equal(est.coef_, before)
    assert est.n_features_in_ == 1 and est._container.kind == "series"


def test_forecast_and_sample_arguments():
    est = ARRegressor(p=1).fit(load_nile())
    with pytest.raises(ValueError, match="alpha must be a float in \\(0, 1\\)"):
        est.forecast(3, alpha=5)
    with pytest.raises(ValueError, match="Invalid value for 'steps': 0"):
        est.forecast(0)
    with pytest.raises(TypeError, match="'n_paths': 2.5. It must be a positive int"):
        est.sample(3, n_paths=2.5)
    with pytest.raises(
        ValueError, match="X has 2 features, but ARRegressor is expecting 1"
    ):
        est.predict(np.zeros((10, 2)))


@pytest.mark.parametrize("trend", TRENDS)
def test_large_mean_matches_a_60_digit_least_squares(trend):
    # The residual variance of a series with mean 1e6 used to lose four
    # digits to y'y - beta'X'y without a constant (1.89902 for 1.89878).
    mpmath = pytest.importorskip("mpmath")
    y = 1e6 + np.random.default_rng(0).standard_normal(300)
    est = fit_quiet(ARRegressor(p=2, trend=trend), y)
    n, p = len(y), 2
    time = np.arange(p + 1.0, n + 1.0)
    cols = [time**k for k in {"n": (), "c": (0,), "t": (1,), "ct": (0, 1)}[trend]]
    X = np.column_stack(cols + [y[p - k : n - k] for k in (1, 2)])
    with mpmath.workdps(60):
        Xm = mpmath.matrix(X.tolist())
        Ym = mpmath.matrix(y[p:].tolist())
        beta = mpmath.lu_solve(Xm.T * Xm, Xm.T * Ym)
        resid = Ym - Xm * beta
        sigma2 = float(sum(r**2 for r in resid) / (n - p))
        exact = np.array([float(b) for b in beta])
    assert rel_err(est.sigma2_, sigma2) < 1e-9
    # Coefficients as precise as the problem's conditioning allows.
    assert np.max(np.abs(params_of(est, trend) - exact) / np.abs(exact)) < 1e-6
