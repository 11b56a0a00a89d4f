"""The quality report for tables, against SDMetrics' definitions worked by hand."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from probmodels.metrics import (
    c2st,
    column_pair_trends,
    column_shapes,
    dcr,
    detection,
    plot_quality,
    quality_report,
    tstr,
)

matplotlib.use("Agg")
RNG = np.random.default_rng(0)


def test_column_shapes_are_ks_and_tv_complements():
    real = pd.DataFrame({"x": [1.0, 2, 3, 4], "c": ["a", "a", "b", "c"]})
    fake = pd.DataFrame({"x": [2.0, 3, 4, 5], "c": ["a", "b", "b", "b"]})
    shapes = column_shapes(real, fake).set_index("column")
    # KS: the largest gap of the two ECDFs is 1/4 (at 1, 2, 3 and 4).
    assert shapes.loc["x", "metric"] == "KSComplement"
    assert shapes.loc["x", "score"] == pytest.approx(0.75)
    # TVD: 0.5 * (|.5 - .25| + |.25 - .75| + |.25 - 0|) = 0.5.
    assert shapes.loc["c", "metric"] == "TVComplement"
    assert shapes.loc["c", "score"] == pytest.approx(0.5)


def test_pair_trends_are_correlation_and_contingency_similarities():
    x = np.arange(10.0)
    real = pd.DataFrame({"x": x, "y": 2 * x, "c": ["p", "q"] * 5})
    fake = pd.DataFrame({"x": x, "y": -x, "c": ["p"] * 5 + ["q"] * 5})
    trends = column_pair_trends(real, fake).set_index(["column_1", "column_2"])
    # Correlations 1 and -1: 1 - |1 - (-1)| / 2 = 0.
    assert trends.loc[("x", "y"), "metric"] == "CorrelationSimilarity"
    assert trends.loc[("x", "y"), "score"] == pytest.approx(0.0)
    # x cut into 10 bins of one value each; real pairs (i, p for even i),
    # fake pairs (i, p for i < 5): they differ at i = 1, 3, 6, 8, so the
    # TVD is 0.5 * (4 * 0.1 + 4 * 0.1) = 0.4.
    assert trends.loc[("x", "c"), "metric"] == "ContingencySimilarity"
    assert trends.loc[("x", "c"), "score"] == pytest.approx(0.6)


def test_tstr_equals_trstr_for_a_copy_and_dcr_sees_memorisation():
    n = 300
    frame = pd.DataFrame(
        {
            "a": RNG.normal(size=n),
            "b": RNG.normal(size=n),
            "k": RNG.choice(["u", "v"], n),
        }
    )
    frame["label"] = np.where(frame["a"] + (frame["k"] == "u") > 0.5, "yes", "no")
    train, test = frame.iloc[:150], frame.iloc[150:]
    same = tstr(train, train.copy(), test, "label")
    assert same["metric"] == "accuracy" and same["synthetic"] == same["real"] > 0.8
    noise = frame.assign(label=RNG.permutation(frame["label"].to_numpy())).iloc[:150]
    assert tstr(train, noise, test, "label")["synthetic"] < 0.7
    regression = tstr(train, train, test, "a")
    assert regression["metric"] == "r2"
    # Copies of training rows are closer to them than to held-out rows (as
    # many of each: no subsample).
    assert dcr(train, train.iloc[:100], test) == 1.0
    assert dcr(train, test.iloc[:100], test) == 0.0
    fresh = frame.assign(a=RNG.normal(size=n), b=RNG.normal(size=n)).iloc[:100]
    assert 0.3 < dcr(train, fresh, test) < 0.7


def test_c2st_reads_categories_natively():
    n = 600
    real = pd.DataFrame({"x": RNG.normal(size=n), "k": RNG.choice(list("abc"), n)})
    same = pd.DataFrame({"x": RNG.normal(size=n), "k": RNG.choice(list("abc"), n)})
    other = same.assign(k=RNG.choice(list("abc"), n, p=[0.8, 0.1, 0.1]))
    assert abs(c2st(real, same) - 0.5) < 0.07
    assert c2st(real, other) > 0.6
    with pytest.raises(ValueError, match="columns"):
        c2st(real, same[["k", "x"]].rename(columns={"k": "z"}))


def test_the_report_gathers_the_metrics_and_the_figure_draws_each_column():
    n = 120
    real = pd.DataFrame(
        {
            "x": RNG.normal(size=n),
            "when": pd.date_range("2020-01-01", periods=n, freq="D"),
            "k": pd.Categorical(RNG.choice(["a", "b"], n)),
        }
    )
    fake = real.sample(frac=1, random_state=0).reset_index(drop=True)
    report = quality_report(
        real.iloc[:80], fake.iloc[:40], holdout=real.iloc[80:], target="k"
    )
    summary = report.set_index("metric")["score"]
    assert list(report["metric"][:5]) == [
        "C2ST",
        "column shapes",
        "column pair trends",
        "quality",
        "DCR",
    ]
    assert summary["quality"] == pytest.approx(
        (summary["column shapes"] + summary["column pair trends"]) / 2
    )
    assert {"TSTR synthetic (accuracy)", "TSTR real (accuracy)"} <= set(summary.index)
    percent = ["shape error (%)", "trend error (%)"]
    assert summary[percent].tolist() == pytest.approx(
        [100 * (1 - summary["column shapes"]), 100 * (1 - summary["column pair trends"])]
    )
    assert summary["detection"] == pytest.approx(
        detection(real.iloc[80:], fake.iloc[:40])
    )
    assert (summary.drop(percent).between(0, 1)).all()
    timed = quality_report(real, fake, fit_time=2.5, sample_time=0.25)
    timed = timed.set_index("metric")["score"]
    assert (timed["fit time (s)"], timed["sample time (s)"]) == (2.5, 0.25)
    assert "fit time (s)" not in summary.index
    fig = plot_quality(real, fake)
    assert sum(ax.get_visible() for ax in fig.axes) == 3


# ----------------------------------------------- what used to give NaN or lie
def _real_and_holdout():
    rng = np.random.default_rng(0)

    def rows(n):
        return pd.DataFrame(
            {
                "x": rng.normal(size=n),
                "y": rng.normal(size=n),
                "c": rng.choice(["a", "b"], n),
                "flag": rng.random(n) > 0.5,
            }
        )

    return rows(300), rows(100)


def test_non_finite_synthetic_values_lower_the_scores_by_their_share():
    from probmodels.metrics import column_pair_trends, column_shapes, quality_report

    real, _ = _real_and_holdout()
    synthetic = real.copy()
    synthetic.loc[:29, "x"] = np.nan  # 10% of the rows
    synthetic.loc[:2, "y"] = np.inf
    shapes = column_shapes(real, synthetic).set_index("column")["score"]
    # A value past every number: KS is exactly the share it takes.
    assert shapes["x"] == pytest.approx(0.9) and shapes["y"] == pytest.approx(0.99)
    trends = column_pair_trends(real, synthetic)
    assert np.isfinite(trends["score"]).all()
    assert np.isfinite(quality_report(real, synthetic)["score"]).all()


def test_dcr_of_verbatim_training_rows_is_one():
    from probmodels.metrics import dcr

    real, holdout = _real_and_holdout()
    assert dcr(real, real, holdout) == 1.0  # 300 training rows, 100 held out
    assert dcr(real, holdout, holdout) == 0.0
    with pytest.raises(ValueError, match="held-out"):
        dcr(real, real, holdout.head(0))


def test_tstr_on_a_boolean_target():
    from probmodels.metrics import tstr

    real, holdout = _real_and_holdout()
    out = tstr(real, real, holdout, "flag")
    assert out["metric"] == "accuracy" and out["synthetic"] == out["real"]


@pytest.mark.parametrize("ncols", [0, -1, 2.5])
def test_plot_quality_refuses_a_grid_it_cannot_draw(ncols):
    from probmodels.metrics import plot_quality

    real, _ = _real_and_holdout()
    with pytest.raises(ValueError, match="ncols must be"):
        plot_quality(real, real, ncols=ncols)
    with pytest.raises(ValueError, match="at least one column"):
        plot_quality(real, real, columns=[])


def test_tstr_scores_with_a_chosen_scorer_as_the_papers_mle():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    from probmodels.metrics import tstr

    real, holdout = _real_and_holdout()
    real = real.assign(c=np.where(real["x"] + real["y"] > 0, "a", "b"))
    holdout = holdout.assign(c=np.where(holdout["x"] + holdout["y"] > 0, "a", "b"))
    out = tstr(real, real, holdout, "c", scoring="roc_auc")
    assert out["metric"] == "roc_auc" and out["synthetic"] == out["real"]
    # The same AUC written out: the classifier's probability of code 1 ("b").
    features = ["x", "y", "flag"]
    model = HistGradientBoostingClassifier(random_state=0).fit(
        real[features].astype(float), real["c"] == "b"
    )
    p = model.predict_proba(holdout[features].astype(float))[:, 1]
    assert out["real"] == pytest.approx(roc_auc_score(holdout["c"] == "b", p))
    assert out["real"] > 0.9
