"""Run every benchmark and write the report: RESULTS.md and results.png.

Each ``benchmarks/bench_*.py`` runs in its own process (so one's threads and
caches do not colour the next) with ``PROBMODELS_BENCH_RESULTS`` pointing at
a file where it appends one JSON line per measured case (see ``_results.py``).
The report holds one table per benchmark: ours, the reference, their ratio
and the quality figure, all measured in the same run, under a description of
the machine. ``results.png`` plots the ratios and the quality figures.

Run: make bench            (full sizes: long on a CPU)
     make bench QUICK=1    (small sizes, a few minutes; CI runs it)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIBRARIES = ["probmodels", "numpy", "scipy", "scikit-learn", "statsmodels", "torch"]


def machine() -> dict:
    """CPU model, cores and library versions of this run."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "absent"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "versions": versions,
    }


def run_benchmarks(paths: list[Path], quick: bool, results: Path) -> dict:
    """Run each benchmark script; return its wall time in seconds by name."""
    env = dict(os.environ, PROBMODELS_BENCH_RESULTS=str(results))
    if quick:
        env["PROBMODELS_BENCH_QUICK"] = "1"
    seconds = {}
    for path in paths:
        print(f"== {path.name}", flush=True)
        tic = time.perf_counter()
        subprocess.run([sys.executable, str(path)], env=env, cwd=HERE, check=True)
        seconds[path.stem] = time.perf_counter() - tic
    return seconds


def _fmt(value, digits=4) -> str:
    if value is None:
        return "-"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.{digits}g}"
    return f"{value:.2e}"


def markdown(rows: list[dict], info: dict, quick: bool, seconds: dict) -> str:
    """The report as Markdown: the machine, then one table per benchmark."""
    mode = "quick sizes (`make bench QUICK=1`)" if quick else "full sizes (`make bench`)"
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    lines = [
        "# Benchmark results",
        "",
        f"Written by `benchmarks/report.py` on "
        f"{datetime.date.today().isoformat()}, {mode}. Every ratio is "
        "reference / ours of two figures measured in the same process "
        "(above 1: ours is faster or smaller); absolute times on a shared "
        "machine are noise, ratios much less so.",
        "",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['system']}, "
        f"Python {info['python']}",
        f"- Libraries: {versions}",
        "",
    ]
    for benchmark in dict.fromkeys(r["benchmark"] for r in rows):
        part = [r for r in rows if r["benchmark"] == benchmark]
        took = seconds.get(f"bench_{benchmark}")
        lines += [
            f"## {benchmark} (`bench_{benchmark}.py`"
            + (f", {took:.0f} s" if took else "")
            + ")",
            "",
            "| case | metric | ours | reference | ratio | quality |",
            "|---|---|---|---|---|---|",
        ]
        for r in part:
            ref = (
                f"{_fmt(r['reference'])} ({r['reference_name']})"
                if r["reference"] is not None
                else "-"
            )
            quality = (
                f"{_fmt(r['quality'])}: {r['quality_name']}"
                if r["quality"] is not None
                else "-"
            )
            ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-"
            lines.append(
                f"| {r['case']} | {r['metric']} | {_fmt(r['ours'])} | {ref} | "
                f"{ratio} | {quality} |"
            )
        lines.append("")
    return "\n".join(lines)


def figure(rows: list[dict], path: Path, quick: bool) -> None:
    """Ratios (log scale) per case, and each case's quality figure beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    compared = [r for r in rows if r["ratio"] is not None]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(compared) + 1.5))
    labels = [f"{r['benchmark']}: {r['case']}"[:70] for r in compared]
    ratios = [r["ratio"] for r in compared]
    colours = ["tab:green" if v >= 1 else "tab:orange" for v in ratios]
    y = range(len(compared))
    ax.barh(y, ratios, color=colours)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_yticks(list(y), labels, fontsize=7)
    ax.invert_yaxis()
    for i, r in enumerate(compared):
        note = f" {r['ratio']:.2f}x"
        if r["quality"] is not None:
            note += f"  (quality {_fmt(r['quality'], 3)})"
        ax.text(r["ratio"], i, note, va="center", fontsize=7)
    ax.set_xlabel("reference / ours, same run (right of 1: ours is ahead)")
    ax.set_title(
        "probmodels benchmarks" + (" (quick sizes)" if quick else ""), fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    """Run the benchmarks and write the report.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument(
        "--only", help="comma-separated benchmark names (e.g. ar,gmm)", default=None
    )
    parser.add_argument("--out", default=str(HERE), help="folder for the report")
    args = parser.parse_args(argv)
    paths = sorted(HERE.glob("bench_*.py"))
    if args.only:
        wanted = {f"bench_{n}" for n in args.only.split(",")}
        paths = [p for p in paths if p.stem in wanted]
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.jsonl"
        results.touch()
        seconds = run_benchmarks(paths, args.quick, results)
        rows = [json.loads(line) for line in results.read_text().splitlines()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "RESULTS.md").write_text(markdown(rows, machine(), args.quick, seconds))
    figure(rows, out / "results.png", args.quick)
    print(f"wrote {out / 'RESULTS.md'} and {out / 'results.png'} ({len(rows)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
