"""Device resolution and tensor conversion."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from probmodels.engine import as_tensor, resolve_device

HAS_CUDA = torch.cuda.is_available()


def test_cpu_and_auto():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda:0" if HAS_CUDA else "cpu")


@pytest.mark.skipif(HAS_CUDA, reason="checks the message on a machine without CUDA")
def test_cuda_without_cuda_names_the_fix():
    with pytest.raises(ValueError, match="CUDA is not available.*device='auto'"):
        resolve_device("cuda")


def test_unknown_device_name():
    with pytest.raises(ValueError, match="not a device name"):
        resolve_device("gpu0")


def test_auto_on_a_cpu_machine_does_not_import_torch():
    code = (
        "import sys; from probmodels.engine import resolve_device; "
        "name = resolve_device('auto'); "
        "sys.exit(0 if name == 'cpu' and 'torch' not in sys.modules else 1)"
    )
    if HAS_CUDA:
        pytest.skip("a CUDA machine must import torch to answer")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_as_tensor_shares_writable_and_copies_read_only():
    a = np.arange(4.0)
    t = as_tensor(a, "cpu")
    t[0] = 7.0
    assert a[0] == 7.0
    a.flags.writeable = False
    t = as_tensor(a, "cpu")
    t[1] = 9.0
    assert a[1] == 1.0
