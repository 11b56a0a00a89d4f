"""The benchmark report joins stored results: full sizes first, quick otherwise."""

import importlib.util
import json
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "benchmarks" / "report.py"


def load_report():
    spec = importlib.util.spec_from_file_location("bench_report", REPORT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def store(folder, mode, name, rows, seconds):
    (folder / mode).mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    (folder / mode / f"{name}.jsonl").write_text(lines)
    meta = {"seconds": seconds, "date": "2026-11-29", "machine": {}}
    (folder / mode / f"{name}.meta.json").write_text(json.dumps(meta))


def row(benchmark, case, ours, reference):
    return {
        "benchmark": benchmark,
        "case": case,
        "metric": "time (s)",
        "ours": ours,
        "reference": reference,
        "reference_name": "ref",
        "ratio": reference / ours,
        "quality": None,
        "quality_name": "",
    }


def test_full_results_win_and_each_table_says_its_sizes(tmp_path):
    report = load_report()
    store(tmp_path, "quick", "bench_ar", [row("ar", "small", 0.01, 0.6)], 3)
    store(tmp_path, "full", "bench_ar", [row("ar", "big", 0.04, 3.2)], 40)
    store(tmp_path, "quick", "bench_gmm", [row("gmm", "small", 0.1, 2.0)], 9)
    parts = report.stored_results(["bench_ar", "bench_gmm", "bench_vae"], tmp_path)
    assert [(name, mode) for name, mode, _, _ in parts] == [
        ("bench_ar", "full"),
        ("bench_gmm", "quick"),
    ]  # bench_vae has nothing stored: left out
    info = report.machine()
    text = report.markdown(parts, info)
    assert "full sizes where a full run is stored, quick sizes otherwise" in text
    assert "## ar (`bench_ar.py`, full sizes, run on 2026-11-29 in 40 s)" in text
    assert "| big | time (s) | 0.04 | 3.2 (ref) | 80.00x | - |" in text
    assert "| small |" not in text.split("## gmm")[0]  # the quick ar run is not shown
    assert "## gmm (`bench_gmm.py`, quick sizes" in text
    only_quick = report.markdown(parts[1:], info)
    assert "quick sizes (`make bench QUICK=1`)" in only_quick
