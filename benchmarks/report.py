"""Run the benchmarks and write the report: RESULTS.md and results.png.

Each ``benchmarks/bench_*.py`` runs in its own process (so one's threads and
caches do not colour the next) with ``PROBMODELS_BENCH_RESULTS`` pointing at
a file where it appends one JSON line per measured case (see ``_results.py``).
When a benchmark ends, its lines are stored in
``benchmarks/results/<full|quick>/<name>.jsonl`` with the run's time, date
and machine beside them (``<name>.meta.json``), so a full run, which is long
on a CPU, can be done a benchmark at a time (``--only``) and resumed; a
benchmark that fails leaves the stored results of the others.

The report joins what is stored: for each benchmark its full-size results
when there are any, its quick ones otherwise, and each table says which. It
holds one table per benchmark: ours, the reference, their ratio and the
quality figure, all measured in the same run, under a description of the
machine. ``results.png`` plots the ratios and the quality figures.

Run: make bench                 (full sizes, every benchmark: long on a CPU)
     make bench ONLY=ar,gmm     (full sizes, these benchmarks; the rest kept)
     make bench QUICK=1         (small sizes, a few minutes; CI runs it)
     python benchmarks/report.py --report-only   (join what is stored)
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
STORE = HERE / "results"
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


def run_benchmarks(paths: list[Path], quick: bool, store: Path) -> None:
    """Run each benchmark script and store its results as soon as it ends.

    Parameters
    ----------
    paths : list of Path
        The ``bench_*.py`` scripts.
    quick : bool
        Small sizes (stored under ``quick/``) or full ones (``full/``).
    store : Path
        The results folder.
    """
    mode = store / ("quick" if quick else "full")
    mode.mkdir(parents=True, exist_ok=True)
    for path in paths:
        print(f"== {path.name}", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            results = Path(tmp) / "results.jsonl"
            results.touch()
            env = dict(os.environ, PROBMODELS_BENCH_RESULTS=str(results))
            env.pop("PROBMODELS_BENCH_QUICK", None)
            if quick:
                env["PROBMODELS_BENCH_QUICK"] = "1"
            tic = time.perf_counter()
            subprocess.run([sys.executable, str(path)], env=env, cwd=HERE, check=True)
            seconds = time.perf_counter() - tic
            lines = results.read_text()
        (mode / f"{path.stem}.jsonl").write_text(lines)
        meta = {
            "seconds": seconds,
            "date": datetime.date.today().isoformat(),
            "machine": machine(),
        }
        (mode / f"{path.stem}.meta.json").write_text(json.dumps(meta, indent=1) + "\n")


def stored_results(names: list[str], store: Path) -> list[tuple[str, str, dict, list]]:
    """For each benchmark: its full results if stored, else its quick ones.

    Parameters
    ----------
    names : list of str
        Script stems (``bench_ar``), in report order.
    store : Path

    Returns
    -------
    list of (name, mode, meta, rows)
        Benchmarks with nothing stored are left out.
    """
    out = []
    for name in names:
        for mode in ("full", "quick"):
            lines = store / mode / f"{name}.jsonl"
            if lines.exists():
                meta = json.loads((store / mode / f"{name}.meta.json").read_text())
                rows = [json.loads(x) for x in lines.read_text().splitlines() if x]
                out.append((name, mode, meta, rows))
                break
    return out


def _fmt(value, digits=4) -> str:
    if value is None:
        return "-"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.{digits}g}"
    return f"{value:.2e}"


def markdown(parts: list[tuple[str, str, dict, list]], info: dict) -> str:
    """The report as Markdown: the machine, then one table per benchmark.

    Parameters
    ----------
    parts : list of (name, mode, meta, rows)
        From :func:`stored_results`.
    info : dict
        The machine of this report (:func:`machine`).
    """
    modes = {mode for _, mode, _, _ in parts}
    if modes == {"full"}:
        sizes = "full sizes (`make bench`)"
    elif modes == {"quick"}:
        sizes = "quick sizes (`make bench QUICK=1`)"
    else:
        sizes = (
            "full sizes where a full run is stored, quick sizes otherwise "
            "(each table says which)"
        )
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    lines = [
        "# Benchmark results",
        "",
        f"Joined by `benchmarks/report.py` on "
        f"{datetime.date.today().isoformat()} from the results stored in "
        f"`benchmarks/results/`: {sizes}. Every ratio is "
        "reference / ours of two figures measured in the same process "
        "(above 1: ours is faster or smaller); absolute times on a shared "
        "machine are noise, ratios much less so.",
        "",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['system']}, "
        f"Python {info['python']}",
        f"- Libraries: {versions}",
        "",
    ]
    for name, mode, meta, rows in parts:
        for benchmark in dict.fromkeys(r["benchmark"] for r in rows):
            part = [r for r in rows if r["benchmark"] == benchmark]
            lines += [
                f"## {benchmark} (`{name}.py`, {mode} sizes, run on "
                f"{meta['date']} in {meta['seconds']:.0f} s)",
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


def figure(rows: list[dict], path: Path, title: str) -> None:
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
    ax.set_title(f"probmodels benchmarks ({title})", fontsize=10)
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
    parser.add_argument(
        "--store", default=str(STORE), help="folder of the stored results"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: join the stored results into the report",
    )
    args = parser.parse_args(argv)
    paths = sorted(HERE.glob("bench_*.py"))
    store = Path(args.store)
    if not args.report_only:
        chosen = paths
        if args.only:
            wanted = {f"bench_{n}" for n in args.only.split(",")}
            chosen = [p for p in paths if p.stem in wanted]
        run_benchmarks(chosen, args.quick, store)
    parts = stored_results([p.stem for p in paths], store)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "RESULTS.md").write_text(markdown(parts, machine()))
    modes = sorted({mode for _, mode, _, _ in parts})
    rows = [r for *_, part in parts for r in part]
    figure(rows, out / "results.png", " and ".join(modes) + " sizes")
    print(f"wrote {out / 'RESULTS.md'} and {out / 'results.png'} ({len(rows)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
