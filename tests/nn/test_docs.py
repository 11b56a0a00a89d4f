"""The shared parameters' docs: written once, complete in every estimator."""

import inspect

import pytest

from probmodels import FFNClassifier, TransformerClassifier
from probmodels.nn._docs import (
    TORCH_ATTRIBUTE_DOCS,
    TORCH_PARAMETER_DOCS,
    document_torch_parameters,
)

NEURAL = [FFNClassifier, TransformerClassifier]


def assert_each_parameter_documented_once_with_its_default(cls):
    doc = cls.__doc__
    assert "%(" not in doc
    for param in inspect.signature(cls.__init__).parameters.values():
        if param.name == "self":
            continue
        default = param.default
        shown = f'"{default}"' if isinstance(default, str) else repr(default)
        header = [
            line.strip()
            for line in doc.splitlines()
            if line.strip().startswith(f"{param.name} :")
        ]
        assert len(header) == 1, f"{cls.__name__}.{param.name}: {len(header)} entries"
        written = header[0].rpartition("default=")[2]
        if isinstance(default, float):  # 1e-3 and 0.001 are one default
            assert float(written) == default, header[0]
        else:
            assert written == shown, header[0]


@pytest.mark.parametrize("cls", NEURAL, ids=lambda c: c.__name__)
def test_every_parameter_is_documented_with_its_own_default(cls):
    assert_each_parameter_documented_once_with_its_default(cls)
    doc = cls.__doc__
    for name in TORCH_ATTRIBUTE_DOCS:
        assert f"\n    {name} : " in doc


def test_shared_entries_cover_the_shared_constraints():
    from probmodels.nn._base import TORCH_PARAMETER_CONSTRAINTS

    assert set(TORCH_PARAMETER_DOCS) == set(TORCH_PARAMETER_CONSTRAINTS)


def test_a_class_without_the_marker_is_refused():
    class Bare:
        """No markers here."""

    with pytest.raises(ValueError, match="marker"):
        document_torch_parameters(Bare)


@pytest.mark.parametrize("name", ["GaussianMixture", "VAE", "DDPM"])
def test_the_table_parameters_read_the_same_in_the_three_models(name):
    import probmodels
    from probmodels.columns import TABLE_PARAMETER_DOCS

    cls = getattr(probmodels, name)
    assert_each_parameter_documented_once_with_its_default(cls)
    doc = cls.__doc__
    flat = " ".join(doc.split())
    for _, text in TABLE_PARAMETER_DOCS.values():
        assert " ".join(text.split()) in flat
