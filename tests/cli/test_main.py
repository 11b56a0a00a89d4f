"""The command line and the package's import-time promises."""

import contextlib
import io
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris

from probmodels import ARRegressor, GaussianMixture
from probmodels.cli import main
from probmodels.datasets import load_sunspots


@pytest.fixture(scope="module")
def demo_output():
    """What one ``probmodels demo --steps 3`` printed (it fits every model)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["demo", "--steps", "3"]) == 0
    return buffer.getvalue()


def test_demo_prints_ar_fit_and_forecast(demo_output):
    out = demo_output
    chosen = ARRegressor(p=15, ic="bic").fit(load_sunspots()).p_
    assert f"p = {chosen}" in out
    assert "lower 95%" in out and "sampled 97.5%" in out
    for year in ("2009", "2010", "2011"):
        assert year in out
    assert "2012" not in out


def test_demo_prints_mixture_selected_by_bic(demo_output):
    out = demo_output
    X = load_iris(as_frame=True).data
    bics = [
        GaussianMixture(k, n_init=3, random_state=0).fit(X).bic(X) for k in range(1, 7)
    ]
    assert f"n_components = {int(np.argmin(bics)) + 1}" in out
    assert "petal width (cm)" in out  # samples carry iris's column names


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--steps", "0"])
    assert info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_import_does_not_load_torch():
    code = "import sys, probmodels; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_import_loads_no_model_until_one_is_used():
    # `import probmodels` is fast because it imports nothing heavy; a public
    # name loads its module (and scikit-learn) on first use.
    code = (
        "import sys, probmodels\n"
        "heavy = [m for m in ('sklearn', 'pandas', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert probmodels.GaussianMixture.__name__ == 'GaussianMixture'\n"
        "assert 'sklearn' in sys.modules and 'torch' not in sys.modules\n"
        "assert set(probmodels.__all__) <= set(dir(probmodels))\n"
        "assert probmodels.metrics.c2st.__name__ == 'c2st'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_demo_trains_a_classifier_in_a_pipeline(demo_output):
    out = demo_output
    assert "FFNClassifier on breast_cancer (426 training rows, 30 features)" in out
    accuracy = float(out.split("test accuracy ")[1].split(";")[0])
    assert accuracy > 0.9
    assert "['benign', 'malignant']" in out


def test_demo_scores_a_vae_by_bounds_beside_a_mixture(demo_output):
    line = demo_output.split("held-out ELBO ")[1].split("\n")[0]
    elbo = float(line.split(",")[0])
    iwae = float(line.split("IWAE (K=100) ")[1].split()[0])
    mixture = float(
        demo_output.split("GaussianMixture(10, diag) exact: ")[1].split()[0]
    )
    assert iwae > elbo  # the tighter bound
    assert iwae > mixture  # the VAE models the digits better than the mixture
