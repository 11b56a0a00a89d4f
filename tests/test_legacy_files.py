"""Model files written by probmodels 0.1.0 load and give the same outputs.

The files in ``tests/fixtures/v0_1_0`` were written by
``tests/fixtures/v0_1_0/make_files.py`` at the last commit of 0.1.0's layout,
with the outputs each model gave then (``outputs.npz``). Classes have moved
since (the engine to ``probmodels/engine/``, the diffusion's schedule into
its network), so these files name paths that no longer exist: the map in
``probmodels/_persistence.py`` must still read them.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest

import probmodels
from probmodels._persistence import ModelVersionWarning
from tests.fixtures.v0_1_0.make_files import OUTPUTS, data

FILES = Path(__file__).parent / "fixtures" / "v0_1_0"
EXPECTED = np.load(FILES / "outputs.npz")


@pytest.fixture(scope="module")
def inputs():
    return data()


def test_a_0_1_0_file_says_which_version_wrote_it():
    with pytest.warns(ModelVersionWarning, match=r"probmodels 0\.1\.0 \(now "):
        probmodels.load(FILES / "gmm.skops")


@pytest.mark.parametrize("name", list(OUTPUTS))
def test_a_0_1_0_file_loads_and_gives_the_same_outputs(name, inputs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelVersionWarning)
        model = probmodels.load(FILES / f"{name}.skops")
    for key, fn in OUTPUTS[name].items():
        got = np.asarray(fn(model, inputs), dtype=np.float64)
        np.testing.assert_allclose(
            got, EXPECTED[f"{name}/{key}"], rtol=1e-5, atol=1e-6, err_msg=key
        )


# ---------------------------------------------------------------------------
# Files written before the column layer became a package (3e59d72): mixed
# tables with holes and an AR-X, compared as text (categories and dates
# exactly, numbers to 12 digits) or as numbers.
from tests.fixtures.v0_2_0 import make_files as before_columns  # noqa: E402

FILES_0_2_0 = Path(__file__).parent / "fixtures" / "v0_2_0"
EXPECTED_0_2_0 = np.load(FILES_0_2_0 / "outputs.npz")


@pytest.fixture(scope="module")
def tables():
    return before_columns.data()


@pytest.mark.parametrize("name", list(before_columns.OUTPUTS))
def test_a_file_from_before_the_column_package_gives_the_same_outputs(name, tables):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelVersionWarning)
        model = probmodels.load(FILES_0_2_0 / f"{name}.skops")
    for key, fn in before_columns.OUTPUTS[name].items():
        got, expected = np.asarray(fn(model, tables)), EXPECTED_0_2_0[f"{name}/{key}"]
        if expected.dtype.kind == "U":
            np.testing.assert_array_equal(got, expected, err_msg=key)
        else:
            np.testing.assert_allclose(
                got.astype(np.float64), expected, rtol=1e-5, atol=1e-6, err_msg=key
            )
