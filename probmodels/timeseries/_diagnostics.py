"""Residual diagnostics of a fitted AR model, batched over many series.

Each test takes residuals as rows of a (n_series, n_steps) array and returns
statsmodels' statistic and p-value for every series at once:

- :func:`jarque_bera`: normality (Jarque and Bera, 1987), as
  ``statsmodels.stats.stattools.jarque_bera``;
- :func:`ljung_box`: serial correlation (Ljung and Box, 1978), as
  ``statsmodels.stats.diagnostic.acorr_ljungbox``;
- :func:`arch_lm`: conditional heteroskedasticity, Engle's (1982) ARCH-LM
  test, as ``statsmodels.stats.diagnostic.het_arch``.

:func:`plot_diagnostics` draws the four panels of statsmodels'
``plot_diagnostics`` with matplotlib (imported only there).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = [
    "arch_lm",
    "autocorrelations",
    "jarque_bera",
    "ljung_box",
    "plot_diagnostics",
]


def jarque_bera(resid: np.ndarray) -> dict[str, np.ndarray]:
    """Jarque-Bera statistic ``n/6 (S^2 + (K - 3)^2 / 4)`` and its chi2(2) p-value.

    Parameters
    ----------
    resid : ndarray of shape (n_series, n_steps)

    Returns
    -------
    dict with "Jarque-Bera", "P-value", "Skewness", "Kurtosis", each (n_series,)
        Skewness and (non-excess) kurtosis are the biased moment ratios.
    """
    n = resid.shape[1]
    skew = stats.skew(resid, axis=1)
    kurt = 3.0 + stats.kurtosis(resid, axis=1)
    jb = n / 6.0 * (skew**2 + 0.25 * (kurt - 3.0) ** 2)
    return {
        "Jarque-Bera": jb,
        "P-value": stats.chi2.sf(jb, 2),
        "Skewness": skew,
        "Kurtosis": kurt,
    }


def autocorrelations(x: np.ndarray, nlags: int) -> np.ndarray:
    """Sample autocorrelations ``r_1..r_nlags`` of each row (denominator n).

    Parameters
    ----------
    x : ndarray of shape (n_series, n_steps)
    nlags : int

    Returns
    -------
    ndarray of shape (n_series, nlags)
    """
    d = x - x.mean(axis=1, keepdims=True)
    n = d.shape[1]
    denom = np.einsum("jt,jt->j", d, d)
    out = np.empty((d.shape[0], nlags))
    for k in range(1, nlags + 1):
        out[:, k - 1] = np.einsum("jt,jt->j", d[:, : n - k], d[:, k:]) / denom
    return out


def ljung_box(resid: np.ndarray, lags: int, model_df: int) -> dict[str, np.ndarray]:
    """Ljung-Box ``Q_h = n (n + 2) sum_{k<=h} r_k^2 / (n - k)`` for h = 1..lags.

    Parameters
    ----------
    resid : ndarray of shape (n_series, n_steps)
    lags : int
        Largest h.
    model_df : int or ndarray of shape (n_series,)
        Degrees of freedom the fit used; the p-value of ``Q_h`` is from
        chi2(h - model_df), NaN where that is not positive.

    Returns
    -------
    dict with "Ljung-Box", "LB P-value", "DF", each (n_series, lags)
    """
    n = resid.shape[1]
    r = autocorrelations(resid, lags)
    q = n * (n + 2.0) * np.cumsum(r**2 / (n - np.arange(1, lags + 1)), axis=1)
    df = np.arange(1, lags + 1)[None, :] - np.reshape(model_df, (-1, 1))
    df = np.broadcast_to(df, q.shape)
    pvalue = np.full(q.shape, np.nan)
    ok = df > 0
    pvalue[ok] = stats.chi2.sf(q[ok], df[ok])
    return {"Ljung-Box": q, "LB P-value": pvalue, "DF": np.clip(df, 0, None)}


def arch_lm(resid: np.ndarray, nlags: int) -> dict[str, np.ndarray]:
    """Engle's ARCH-LM statistic ``(n - nlags) R^2`` and its chi2(nlags) p-value.

    ``R^2`` is that of the regression of ``e_t^2`` on a constant and
    ``e_{t-1}^2, ..., e_{t-nlags}^2`` over the steps that have every lag.

    Parameters
    ----------
    resid : ndarray of shape (n_series, n_steps)
    nlags : int

    Returns
    -------
    dict with "ARCH-LM", "P-value", each (n_series,)
    """
    e2 = resid**2
    n = e2.shape[1]
    rows = n - nlags
    y = e2[:, nlags:]
    X = np.empty((e2.shape[0], rows, nlags + 1))
    X[:, :, 0] = 1.0
    for k in range(1, nlags + 1):
        X[:, :, k] = e2[:, nlags - k : n - k]
    q, r = np.linalg.qr(X)
    beta = np.linalg.solve(r, np.einsum("jtk,jt->jk", q, y)[..., None])[..., 0]
    ssr = np.sum((y - np.einsum("jtk,jk->jt", X, beta)) ** 2, axis=1)
    tss = np.sum((y - y.mean(axis=1, keepdims=True)) ** 2, axis=1)
    lm = rows * (1.0 - ssr / tss)
    return {"ARCH-LM": lm, "P-value": stats.chi2.sf(lm, nlags)}


def plot_diagnostics(resid, sigma2, lags=10, fig=None, figsize=None, title=None):
    """Four panels of residual checks, as statsmodels' ``plot_diagnostics``.

    Standardised residuals over time; their histogram with a kernel density
    and the N(0, 1) density; a normal Q-Q plot; the correlogram with 95%
    bands ``+-1.96 / sqrt(n)``.

    Parameters
    ----------
    resid : Series or ndarray of shape (n_steps,)
        One series' residuals.
    sigma2 : float
        Its noise variance.
    lags : int, default=10
        Lags in the correlogram.
    fig : matplotlib Figure or SubFigure, optional
        Drawn on when given.
    figsize : tuple, optional
        Size of a new figure.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - matplotlib is optional
        raise ImportError(
            "plot_diagnostics needs matplotlib: pip install matplotlib"
        ) from err
    values = np.asarray(resid, dtype=float)
    std = values / np.sqrt(sigma2)
    x = getattr(resid, "index", np.arange(len(values)))
    if hasattr(x, "to_timestamp"):  # matplotlib draws timestamps, not periods
        x = x.to_timestamp()
    if fig is None:
        fig = plt.figure(figsize=figsize or (10, 7))
    axes = fig.subplots(2, 2)
    ax = axes[0, 0]
    ax.plot(x, std, lw=0.8)
    ax.axhline(0.0, color="black", lw=0.5)
    ax.set_title("Standardized residual")
    ax = axes[0, 1]
    ax.hist(std, bins="auto", density=True, alpha=0.5, label="Hist")
    grid = np.linspace(min(std.min(), -3.0), max(std.max(), 3.0), 200)
    if len(std) > 1 and np.std(std) > 0:
        ax.plot(grid, stats.gaussian_kde(std)(grid), label="KDE")
    ax.plot(grid, stats.norm.pdf(grid), label="N(0,1)")
    ax.legend()
    ax.set_title("Histogram plus estimated density")
    ax = axes[1, 0]
    (osm, osr), (slope, intercept, _) = stats.probplot(std, dist="norm")
    ax.plot(osm, osr, "o", ms=3)
    ax.plot(osm, slope * osm + intercept, color="C3")
    ax.set_title("Normal Q-Q")
    ax.set_xlabel("Theoretical quantiles")
    ax.set_ylabel("Sample quantiles")
    ax = axes[1, 1]
    r = autocorrelations(values[None, :], lags)[0]
    ax.vlines(np.arange(1, lags + 1), 0.0, r)
    ax.plot(np.arange(1, lags + 1), r, "o", ms=4)
    band = 1.96 / np.sqrt(len(values))
    ax.axhspan(-band, band, alpha=0.2)
    ax.axhline(0.0, color="black", lw=0.5)
    ax.set_title("Correlogram")
    if title:
        fig.suptitle(title)
    # A SubFigure, or a figure with a layout engine, keeps the layout it has.
    if hasattr(fig, "tight_layout") and fig.get_layout_engine() is None:
        fig.tight_layout()
    return fig
