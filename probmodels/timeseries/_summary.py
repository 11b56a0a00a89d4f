"""A fitted AR model's results as text, in statsmodels' ``AutoReg`` layout."""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = ["Summary", "label_text", "model_name", "summary_text"]

WIDTH = 78


class Summary:
    """Text tables of fitted results; ``print(summary)`` shows them.

    Parameters
    ----------
    text : str
        The tables.
    """

    def __init__(self, text: str):
        self.text = text

    def as_text(self) -> str:
        """The tables as plain text.

        Returns
        -------
        str
        """
        return self.text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<pre>{self.text}</pre>"


def model_name(max_lag: int, restricted: bool, seasonal: bool, exog: bool) -> str:
    """Name statsmodels gives an AutoReg variant, e.g. ``Seas. AutoReg-X(2)``."""
    name = "AutoReg-X" if exog else "AutoReg"
    if restricted:
        name = "Restr. " + name
    if seasonal:
        name = "Seas. " + name
    return f"{name}({max_lag})"


def _pair(left: tuple[str, str], right: tuple[str, str]) -> str:
    half = WIDTH // 2
    a = f"{left[0]:<20}{left[1]:>{half - 20}}"
    b = f"{right[0]:<22}{right[1]:>{half - 22}}" if right[0] else ""
    return (a + " " + b).rstrip() if b else a.rstrip()


def label_text(label) -> str:
    """A time label as the summary shows it: dates without a midnight time."""
    if hasattr(label, "hour") and not (label.hour or label.minute or label.second):
        return label.strftime("%Y-%m-%d")
    return str(label)


def summary_text(
    *,
    series: str,
    model: str,
    sample: tuple[str, str],
    stats: dict,
    names: list[str],
    params: np.ndarray,
    bse: np.ndarray,
    alpha: float,
    roots: np.ndarray,
    df: int | None = None,
) -> str:
    """One series' results: header, coefficient table and roots.

    Parameters
    ----------
    series : str
        Name of the series.
    model : str
        From :func:`model_name`.
    sample : tuple of str
        First and last fitted labels.
    stats : dict
        ``nobs``, ``llf``, ``sigma2``, ``aic``, ``bic``, ``hqic``.
    names, params, bse : list and ndarrays
        The coefficients in the model.
    alpha : float
        For the ``1 - alpha`` intervals.
    roots : ndarray of complex
        Roots of the AR polynomial.
    df : int or None, default=None
        Degrees of freedom of Student's t for the p-values and intervals
        (``use_t``); None: the normal.

    Returns
    -------
    str
    """
    from scipy.stats import norm
    from scipy.stats import t as student_t

    reference, stat = (norm, "z") if df is None else (student_t(df), "t")

    now = dt.datetime.now()
    header = [
        ("Dep. Variable:", str(series)),
        ("Model:", model),
        ("Method:", "Conditional MLE"),
        ("Date:", now.strftime("%a, %d %b %Y")),
        ("Time:", now.strftime("%H:%M:%S")),
        ("Sample:", sample[0]),
        ("", sample[1]),
    ]
    right = [
        ("No. Observations:", f"{int(stats['nobs'])}"),
        ("Log Likelihood", f"{stats['llf']:.3f}"),
        ("S.D. of innovations", f"{np.sqrt(stats['sigma2']):.3f}"),
        ("AIC", f"{stats['aic']:.3f}"),
        ("BIC", f"{stats['bic']:.3f}"),
        ("HQIC", f"{stats['hqic']:.3f}"),
        ("", ""),
    ]
    lines = ["AutoReg Model Results".center(WIDTH), "=" * WIDTH]
    lines += [_pair(a, b) for a, b in zip(header, right, strict=True)]
    lines.append("=" * WIDTH)
    lo, hi = f"[{alpha / 2:.3f}", f"{1 - alpha / 2:.3f}]"
    lines.append(
        f"{'':<16}{'coef':>10}{'std err':>10}{stat:>10}{f'P>|{stat}|':>10}"
        f"{lo:>11}{hi:>11}"
    )
    lines.append("-" * WIDTH)
    z = reference.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        tvalues = params / bse
    pvalues = 2 * reference.sf(np.abs(tvalues))
    for name, b, s, t, pv in zip(names, params, bse, tvalues, pvalues, strict=True):
        lines.append(
            f"{name[:16]:<16}{b:>10.4f}{s:>10.3f}{t:>10.3f}{pv:>10.3f}"
            f"{b - z * s:>11.3f}{b + z * s:>11.3f}"
        )
    if len(roots):
        lines += ["Roots".center(WIDTH), "=" * WIDTH]
        lines.append(
            f"{'':<10}{'Real':>17}{'Imaginary':>17}{'Modulus':>17}{'Frequency':>17}"
        )
        lines.append("-" * WIDTH)
        for i, root in enumerate(roots, start=1):
            freq = np.arctan2(root.imag, root.real) / (2 * np.pi)
            imag = f"{root.imag:+.4f}j"
            lines.append(
                f"{'AR.' + str(i):<10}{root.real:>17.4f}{imag:>17}"
                f"{abs(root):>17.4f}{freq:>17.4f}"
            )
    lines.append("-" * WIDTH)
    return "\n".join(lines)
