"""How each benchmark hands its figures to the report (``benchmarks/report.py``).

A benchmark run by hand prints its text and nothing else. Run by the report,
it also appends one JSON line per measured case to the file named by
``PROBMODELS_BENCH_RESULTS``, and ``PROBMODELS_BENCH_QUICK=1`` asks it for its
quick sizes (the whole quick report runs in under 3 minutes, so CI runs it).
Every ratio is of two figures measured in the same process.
"""

import json
import os

QUICK = os.environ.get("PROBMODELS_BENCH_QUICK") == "1"


def quick(full, small):
    """``small`` in quick mode, ``full`` otherwise."""
    return small if QUICK else full


def record(
    benchmark,
    case,
    *,
    ours,
    reference=None,
    reference_name="",
    metric="time (s)",
    quality=None,
    quality_name="",
):
    """Append one measured case to the report's results, if a report runs.

    Parameters
    ----------
    benchmark : str
        The benchmark's short name (one table per benchmark).
    case : str
        What was measured (sizes, settings).
    ours, reference : float
        The two figures, in ``metric`` (lower is better); ``reference`` may
        be None when there is nothing to compare with.
    reference_name : str
        What the reference is (sklearn's MLPClassifier, a bare torch loop).
    metric : str
        Unit of ``ours`` and ``reference``.
    quality : float, optional
        The quality figure of the case (a parity error, an accuracy, a C2ST).
    quality_name : str
        What ``quality`` is, with its target.
    """
    path = os.environ.get("PROBMODELS_BENCH_RESULTS")
    if not path:
        return
    row = {
        "benchmark": benchmark,
        "case": case,
        "metric": metric,
        "ours": float(ours),
        "reference": None if reference is None else float(reference),
        "reference_name": reference_name,
        "ratio": None if reference is None else float(reference) / float(ours),
        "quality": None if quality is None else float(quality),
        "quality_name": quality_name,
    }
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")


def add_peer_python(parser):
    """``--peer-python``: the Python of SDV's environment (``make sdv-venv``).

    Its default is ``.venv-sdv``'s Python when that environment exists, else
    None (the SDV side is then not run).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    from pathlib import Path

    sdv = Path(__file__).resolve().parent.parent / ".venv-sdv" / "bin" / "python"
    parser.add_argument(
        "--peer-python",
        default=str(sdv) if sdv.exists() else None,
        help="the Python of an environment with SDV (default: .venv-sdv's, if made)",
    )
