"""backtest against a hand-written loop over the same windows; its scores
against the metrics of probmodels.metrics window by window."""

import numpy as np
import pandas as pd
import pytest

from probmodels import ARRegressor
from probmodels.base import make_generator
from probmodels.datasets import load_sunspots
from probmodels.metrics import (
    backtest,
    backtest_scores,
    crps,
    interval_coverage,
    mase,
    smape,
)


def two_series():
    y = load_sunspots()
    return pd.DataFrame(
        {"a": y.to_numpy(), "b": np.sqrt(y.to_numpy()) + np.arange(len(y)) * 0.01},
        index=y.index,
    )


def test_refit_windows_equal_a_hand_written_loop():
    Y = two_series()
    est = ARRegressor(p=3)
    cv = backtest(est, Y, h=4, n_windows=3, step_size=2, alpha=0.1)
    assert not hasattr(est, "params_")  # a clone was fitted
    n = len(Y)
    cutoffs = [n - 4 - 2 * 2, n - 4 - 2, n - 4]
    assert cv["cutoff"].unique().tolist() == [Y.index[c - 1] for c in cutoffs]
    for c in cutoffs:
        mean, lower, upper = ARRegressor(p=3).fit(Y.iloc[:c]).forecast(4, alpha=0.1)
        for name in ("a", "b"):
            rows = cv[(cv["cutoff"] == Y.index[c - 1]) & (cv["unique_id"] == name)]
            assert rows["ds"].tolist() == Y.index[c : c + 4].tolist()
            np.testing.assert_array_equal(rows["y"], Y[name].iloc[c : c + 4])
            np.testing.assert_allclose(rows["mean"], mean[name], rtol=1e-12)
            np.testing.assert_allclose(rows["lower"], lower[name], rtol=1e-12)
            np.testing.assert_allclose(rows["upper"], upper[name], rtol=1e-12)


def test_without_refit_the_first_fit_is_carried_forward():
    y = load_sunspots()
    cv = backtest(ARRegressor(p=2), y, h=3, n_windows=3, refit=False)
    n = len(y)
    model = ARRegressor(p=2).fit(y.iloc[: n - 9])
    first = model.params_.copy()
    for i, c in enumerate([n - 9, n - 6, n - 3]):
        if i:
            model.append(y.iloc[c - 3 : c], refit=False)
        rows = cv[cv["cutoff"] == y.index[c - 1]]
        np.testing.assert_allclose(rows["mean"], model.forecast(3), rtol=1e-12)
    pd.testing.assert_series_equal(model.params_, first)  # never refitted


def test_regressors_of_each_window_reach_the_forecast():
    rng = np.random.default_rng(0)
    n = 120
    x = rng.normal(size=n)
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = 0.5 * y[t - 1] + 2.0 * x[t] + rng.normal()
    X = pd.DataFrame({"y": y, "x": x})
    cv = backtest(ARRegressor(p=1, exog="x"), X, h=5, n_windows=2)
    assert cv["unique_id"].unique().tolist() == ["y"]
    model = ARRegressor(p=1, exog="x").fit(X.iloc[:115])
    expected = model.forecast(5, exog=X[["x"]].iloc[115:])
    np.testing.assert_allclose(cv["mean"].iloc[5:], expected, rtol=1e-12)


def test_scores_equal_the_metrics_window_by_window():
    Y = two_series()
    cv = backtest(
        ARRegressor(p=2), Y, h=5, n_windows=2, alpha=0.2, n_paths=300, random_state=0
    )
    scores = backtest_scores(cv)
    n = len(Y)
    rng = make_generator(0)
    per_window, crps_sum = {"a": [], "b": []}, {"a": 0.0, "b": 0.0}
    for c in (n - 10, n - 5):
        model = ARRegressor(p=2).fit(Y.iloc[:c])
        paths = model.sample(5, n_paths=300, random_state=rng).to_numpy()
        paths = paths.reshape(5, 2, 300)
        for j, name in enumerate(["a", "b"]):
            rows = cv[(cv["cutoff"] == Y.index[c - 1]) & (cv["unique_id"] == name)]
            per_window[name].append(
                mase(rows["y"], rows["mean"], Y[name].iloc[:c].to_numpy())
            )
            crps_sum[name] += crps(rows["y"].to_numpy(), paths[:, j, :]) / 2
    for name in ("a", "b"):
        rows = cv[cv["unique_id"] == name]
        assert scores.loc[name, "MASE"] == pytest.approx(np.mean(per_window[name]))
        assert scores.loc[name, "sMAPE"] == pytest.approx(smape(rows["y"], rows["mean"]))
        assert scores.loc[name, "coverage"] == pytest.approx(
            interval_coverage(rows["y"], rows["lower"], rows["upper"])
        )
        assert scores.loc[name, "CRPS"] == pytest.approx(crps_sum[name])


def test_bad_input_is_refused_in_one_line():
    y = load_sunspots()
    with pytest.raises(ValueError, match="need more than"):
        backtest(ARRegressor(), y, h=100, n_windows=4)
    with pytest.raises(ValueError, match="Invalid value for 'h'"):
        backtest(ARRegressor(), y, h=0)
    with pytest.raises(ValueError, match="alpha must be"):
        backtest(ARRegressor(), y, h=2, alpha=1.5)
    with pytest.raises(ValueError, match="lacks the columns"):
        backtest_scores(pd.DataFrame({"y": [1.0]}))


def ragged_long():
    from tests.timeseries.test_ar_panel import long_table

    return long_table([70, 110, 90], seed=11)


@pytest.mark.parametrize("refit", [True, False])
def test_long_table_cuts_each_series_at_its_own_end(refit):
    df = ragged_long()
    kwargs = {"h": 5, "n_windows": 3, "step_size": 4, "refit": refit, "alpha": 0.1}
    cv = backtest(ARRegressor(p=2), df, **kwargs)
    assert list(cv.columns[:5]) == ["unique_id", "ds", "cutoff", "y", "mean"]
    for key, group in df.groupby("unique_id"):
        # The same windows as the backtest of that series alone.
        alone = backtest(ARRegressor(p=2), group.set_index("ds")["y"].asfreq("D"), **kwargs)
        mine = cv[cv["unique_id"] == key]
        np.testing.assert_allclose(mine["mean"], alone["mean"], rtol=1e-9)
        np.testing.assert_allclose(mine["upper"], alone["upper"], rtol=1e-9)
        np.testing.assert_allclose(mine["y"], alone["y"])
        np.testing.assert_allclose(mine["naive_mae"], alone["naive_mae"], rtol=1e-12)
        assert list(mine["cutoff"].unique()) == list(alone["cutoff"].unique())
    scores = backtest_scores(cv)
    assert scores.index.name == "unique_id" and len(scores) == 3
    assert scores["coverage"].between(0, 1).all()


def test_long_table_with_too_short_series_is_refused():
    df = ragged_long()
    with pytest.raises(ValueError, match=r"Series \['s0'\] have 70 rows"):
        backtest(ARRegressor(p=2), df, h=35, n_windows=2)


def test_long_table_paths_give_crps():
    df = ragged_long()
    cv = backtest(ARRegressor(p=2), df, h=3, n_paths=200, random_state=0)
    assert cv["crps"].notna().all() and (cv["crps"] >= 0).all()
    assert "CRPS" in backtest_scores(cv).columns
