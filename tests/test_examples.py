"""Every example script runs and saves its figure."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path, monkeypatch):
    out = tmp_path / (script.stem + ".png")
    monkeypatch.setattr(sys, "argv", [str(script), str(out)])
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    assert out.stat().st_size > 10_000
