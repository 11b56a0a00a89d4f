"""The demo's arguments and output pipe (issue 11)."""

import subprocess
import sys

import pytest

from probmodels.cli import main


# --------------------------------------------------------------- the CLI
@pytest.mark.parametrize(
    ("steps", "message"),
    [("abc", "expected a whole number of steps, got 'abc'"), ("10**12", "whole")],
)
def test_demo_steps_are_bounded_with_a_clear_line(steps, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--steps", steps])
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--steps", "1000000000000"])
    assert "at most 1,000" in capsys.readouterr().err


def test_demo_into_a_closed_pipe_exits_quietly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "probmodels.cli", "demo", "--steps", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline().startswith(b"ARRegressor")
    proc.stdout.close()  # what `| head -1` does
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and proc.returncode == 1
