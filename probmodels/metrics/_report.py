"""The quality report: every figure of a synthetic table in one DataFrame.

It gathers SDMetrics' figures (``_tables.py``), C2ST (``_samples.py``) and
the tabular papers' figures (``_papers.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._encoding import as_tables
from ._papers import alpha_precision, detection
from ._samples import c2st
from ._tables import column_pair_trends, column_shapes, dcr, tstr

__all__ = ["quality_report"]


def quality_report(
    real,
    synthetic,
    *,
    holdout=None,
    target=None,
    fit_time=None,
    sample_time=None,
    random_state=0,
) -> pd.DataFrame:
    """The quality of a synthetic table, metric by metric, as one DataFrame.

    Parameters
    ----------
    real : DataFrame
        The rows the generator was fitted on.
    synthetic : DataFrame
        Rows it generated, as many as ``holdout`` has if there is one.
    holdout : DataFrame, optional
        Real rows the generator never saw: C2ST, detection and
        alpha-precision / beta-recall compare the synthetic rows with them
        (else with ``real``), and DCR and (with ``target``) TSTR are added.
    target : column label, optional
        For TSTR.
    fit_time, sample_time : float, optional
        Seconds the generator took to fit and to draw ``synthetic``, added
        as rows so the report can be set beside the papers' tables.
    random_state : int, default=0

    Returns
    -------
    DataFrame
        One row per figure: ``metric``, ``columns`` (what it is of) and
        ``score``. The first rows are the summaries: "C2ST" (0.5 best),
        "column shapes" and "column pair trends" (means of the per-column
        and per-pair rows below them, 1 best), "quality" (their mean, as
        SDMetrics' quality score), "DCR" (0.5 best), "TSTR synthetic" and
        "TSTR real"; then the tabular papers' figures
        (``docs/user_guide/tables.rst``): "detection" (1 best), "shape
        error (%)" and "trend error (%)" (0 best), "alpha-precision" and
        "beta-recall" (1 best), and the times given; then one row per
        column and per pair.
    """
    real, synthetic = as_tables(real, synthetic)
    shapes = column_shapes(real, synthetic)
    trends = column_pair_trends(real, synthetic)
    shape, trend = float(shapes["score"].mean()), float(trends["score"].mean())
    compare = real if holdout is None else as_tables(real, holdout)[1]
    rows = [
        ("C2ST", "all", c2st(compare, synthetic, random_state=random_state)),
        ("column shapes", "all", shape),
        ("column pair trends", "all", trend if len(trends) else np.nan),
        ("quality", "all", np.nanmean([shape, trend if len(trends) else np.nan])),
    ]
    if holdout is not None:
        rows.append(
            ("DCR", "all", dcr(real, synthetic, holdout, random_state=random_state))
        )
        if target is not None:
            utility = tstr(real, synthetic, holdout, target, random_state=random_state)
            rows.append(
                (f"TSTR synthetic ({utility['metric']})", target, utility["synthetic"])
            )
            rows.append((f"TSTR real ({utility['metric']})", target, utility["real"]))
    rows += _papers_rows(compare, synthetic, shape, trend, len(trends), random_state)
    for name, seconds in (("fit time (s)", fit_time), ("sample time (s)", sample_time)):
        if seconds is not None:
            rows.append((name, "all", float(seconds)))
    rows += [
        (m, c, s)
        for m, c, s in shapes[["metric", "column", "score"]].itertuples(index=False)
    ]
    rows += [
        (m, f"{a} / {b}", s)
        for a, b, m, s in trends[
            ["column_1", "column_2", "metric", "score"]
        ].itertuples(index=False)
    ]
    return pd.DataFrame(rows, columns=["metric", "columns", "score"])


def _papers_rows(compare, synthetic, shape, trend, n_pairs, random_state):
    """The tabular papers' figures, from the shape and trend means computed."""
    close = alpha_precision(compare, synthetic, random_state=random_state)
    return [
        ("detection", "all", detection(compare, synthetic, random_state=random_state)),
        ("shape error (%)", "all", 100.0 * (1.0 - shape)),
        ("trend error (%)", "all", 100.0 * (1.0 - trend) if n_pairs else np.nan),
        ("alpha-precision", "all", close["alpha_precision"]),
        ("beta-recall", "all", close["beta_recall"]),
    ]
