"""The command line and the package's import-time promises."""

import subprocess
import sys

import pytest

from probmodels import ARRegressor
from probmodels.cli import main
from probmodels.datasets import load_sunspots


def test_demo_prints_ar_fit_and_forecast(capsys):
    assert main(["demo", "--steps", "3"]) == 0
    out = capsys.readouterr().out
    chosen = ARRegressor(p=15, ic="bic").fit(load_sunspots()).p_
    assert f"p = {chosen}" in out
    assert "lower 95%" in out and "sampled 97.5%" in out
    for year in ("2009", "2010", "2011"):
        assert year in out
    assert "2012" not in out


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--steps", "0"])
    assert info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_import_does_not_load_torch():
    code = "import sys, probmodels; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
