"""Sample-quality metrics: how far generated rows are from real ones.

For rows of numbers (``_samples.py``):

- :func:`c2st`: the classifier two-sample test (Lopez-Paz and Oquab, 2017):
  the cross-validated accuracy of a gradient-boosting classifier telling real
  rows from generated ones; 0.5 means it cannot tell them apart (tables with
  categorical columns too, through the classifier's native categories);
- :func:`mmd`: the unbiased squared maximum mean discrepancy with a Gaussian
  kernel (Gretton et al., 2012, eq. 3); 0 in expectation for equal
  distributions;
- :func:`frechet_distance`: the Fréchet (2-Wasserstein) distance between
  Gaussians fitted to the two sets (the FID formula of Heusel et al., 2017,
  on the rows themselves);
- :func:`make_sample_scorer` turns any of them into a scikit-learn scorer
  for a generative estimator.

For tables of mixed columns (``_tables.py``, SDMetrics' definitions):
:func:`column_shapes`, :func:`column_pair_trends`, :func:`tstr`,
:func:`dcr`, gathered by :func:`quality_report`; :func:`plot_quality` draws
each column's real and synthetic distributions.

The figures of the tabular-generation papers (``_papers.py``):
:func:`detection`, :func:`shape_error`, :func:`trend_error` and
:func:`alpha_precision` (with beta-recall).

How far a completed table is from the truth (``_imputation.py``):
:func:`energy_distance`, the distributional score of imputation.

The scores forecasters report (``_forecast.py``, the M4 competition's
definitions): :func:`mase`, :func:`smape`, :func:`interval_coverage` and
:func:`crps` of sampled paths; :func:`backtest` (rolling-origin forecasts
of a forecaster, ``_backtest.py``) and :func:`backtest_scores` over them.
"""

from ._backtest import backtest, backtest_scores
from ._forecast import crps, interval_coverage, mase, smape
from ._imputation import energy_distance
from ._papers import alpha_precision, detection, shape_error, trend_error
from ._report import quality_report
from ._samples import c2st, frechet_distance, make_sample_scorer, mmd
from ._tables import column_pair_trends, column_shapes, dcr, plot_quality, tstr

__all__ = [
    "alpha_precision",
    "backtest",
    "backtest_scores",
    "c2st",
    "column_pair_trends",
    "column_shapes",
    "crps",
    "dcr",
    "detection",
    "energy_distance",
    "frechet_distance",
    "interval_coverage",
    "make_sample_scorer",
    "mase",
    "mmd",
    "plot_quality",
    "quality_report",
    "shape_error",
    "smape",
    "trend_error",
    "tstr",
]
