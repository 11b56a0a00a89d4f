"""Model files that cannot run code: ``save`` and ``load`` with skops.io.

A pickle (or joblib) file runs code when it is loaded, so a model file from
someone else is a way into the user's machine; scikit-learn's documentation
("Model persistence") points to skops.io for this. A ``.skops`` file is a zip
of JSON and arrays: loading it constructs only the types it names, and
:func:`load` accepts a file only when every type it names is one of
probmodels' own or one that skops already trusts (numpy, scipy, sklearn).
It reads that list from the file's schema before anything is constructed or
imported.

The fitted state of every estimator is arrays and plain values (a torch
module is stored as its weights and rebuilt from the parameters on load), so
the same files load on any device. Pickle files (``.pkl``, ``.joblib``) are
written on request and read only with ``trust_pickle=True``.

A file names each class by where it is imported from (``probmodels.DDPM``),
not by the module that defines it (:data:`TRUSTED_TYPES`), so that moving a
class inside the package never breaks a saved model; files written by 0.1.0,
which named the defining modules, are read through :data:`NAMES_0_1_0`.
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .utils.files import atomic_write
from .utils.plain import PlainValueError, from_plain, to_plain

__all__ = [
    "ModelFile",
    "ModelFileError",
    "ModelVersionWarning",
    "NAMES_0_1_0",
    "TRUSTED_TYPES",
    "load",
    "read_model_file",
    "save",
]

#: Marks a file as a probmodels model (the dict skops stores).
FORMAT = "probmodels-model"
#: 2: classes named by their public paths (:data:`TRUSTED_TYPES`).
FORMAT_VERSION = 2

#: The estimators a model file may hold.
ESTIMATORS = (
    "probmodels.ARRegressor",
    "probmodels.DDPM",
    "probmodels.FFNClassifier",
    "probmodels.GaussianMixture",
    "probmodels.LatentClassMixture",
    "probmodels.HiddenChowLiuTree",
    "probmodels.TransformerClassifier",
    "probmodels.VAE",
)

#: probmodels' classes a model file may construct, by the public path each
#: is imported from (so the file outlives moves of the defining module).
#: Each restores itself from arrays and plain values; none runs code on load.
TRUSTED_TYPES = (
    *ESTIMATORS,
    "probmodels.base.Container",
    "probmodels.columns.ColumnTypes",
    "probmodels.nn.Standardizer",
    "probmodels.timeseries.Panel",
    "probmodels.timeseries.TimeClock",
)

#: What probmodels 0.1.0 named those classes in its files (their defining
#: modules then), and the name each reads as now.
NAMES_0_1_0 = {
    "probmodels.classifiers._ffn.FFNClassifier": "probmodels.FFNClassifier",
    "probmodels.classifiers._transformer.TransformerClassifier": (
        "probmodels.TransformerClassifier"
    ),
    "probmodels.diffusion._ddpm.DDPM": "probmodels.DDPM",
    "probmodels.generative._vae.VAE": "probmodels.VAE",
    "probmodels.mixture._gmm.GaussianMixture": "probmodels.GaussianMixture",
    "probmodels.nn._generative.Standardizer": "probmodels.nn.Standardizer",
    "probmodels.timeseries._ar.ARRegressor": "probmodels.ARRegressor",
    "probmodels.timeseries._index.TimeClock": "probmodels.timeseries.TimeClock",
    # The DDPM's network holds its schedule now; the DDPM drops the old one.
    "probmodels.diffusion.schedule.NoiseSchedule": "probmodels._persistence.Superseded",
}


class Superseded:
    """An object of a 0.1.0 file that has no place today; its owner drops it."""

    def __setstate__(self, state):
        """Keep nothing of the old state."""


PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


class ModelFileError(ValueError):
    """A file is not a probmodels model, or names types it may not construct."""


class ModelVersionWarning(UserWarning):
    """A model file was saved with other library versions than these."""


@dataclass
class ModelFile:
    """What a model file holds.

    Parameters
    ----------
    estimator : estimator
        The fitted model.
    versions : dict
        Versions of probmodels, scikit-learn, numpy and torch it was saved with.
    metadata : dict
        What it was fitted on, when the saver said (the command line records
        the data file, its rows, columns and index).
    """

    estimator: Any
    versions: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)


def library_versions() -> dict:
    """Versions of the libraries a model file depends on.

    Returns
    -------
    dict
        ``{"probmodels": ..., "sklearn": ..., "numpy": ..., "torch": ...}``;
        torch is read from package metadata, so it is not imported.
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name, dist in [
        ("probmodels", "probmodels"),
        ("sklearn", "scikit-learn"),
        ("numpy", "numpy"),
        ("torch", "torch"),
    ]:
        try:
            out[name] = version(dist)
        except PackageNotFoundError:
            out[name] = None
    return out


def save(estimator: Any, path: str | os.PathLike, *, metadata: dict | None = None):
    """Write a model file: skops (``.skops``, the default) or a pickle.

    The file is written under a temporary name and renamed when complete, so
    a failure never leaves a partial file or replaces a good one.

    Parameters
    ----------
    estimator : estimator
        A probmodels estimator, fitted or not.
    path : str or path-like
        ``.skops`` (safe to share) or ``.pkl`` / ``.joblib`` (runs code when
        loaded: for your own files only).
    metadata : dict, optional
        Values to keep beside the model (what it was fitted on): strings,
        numbers, bools, None, dates and times (pandas' too), tuples, and
        lists and dicts of them; they come back as they were.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    if path.suffix not in (".skops", *PICKLE_SUFFIXES):
        raise ModelFileError(
            f"{path}: a model file ends in .skops (safe to share), or in "
            f"{', '.join(PICKLE_SUFFIXES)} for a pickle."
        )
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict; got a {type(metadata).__name__}.")
    try:
        # Plain values, so the file loads without trusting pandas' types.
        plain = to_plain(dict(metadata or {}), "metadata")
    except PlainValueError as err:
        raise ModelFileError(f"{path} was not written: {err}") from None
    record = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": library_versions(),
        "metadata": plain,
        "estimator": estimator,
    }
    if path.suffix in PICKLE_SUFFIXES:
        import joblib

        def write(target):
            joblib.dump(record, target)
    else:
        import skops.io as sio

        try:
            data = _renamed(sio.dumps(record), _PublicNames())[0]
        except PlainValueError as err:  # a label the model keeps (a column's)
            raise ModelFileError(f"{path} was not written: {err}") from None
        # Refused here rather than by load: a file load refuses is a lost model.
        foreign = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
        if foreign:
            raise ModelFileError(
                f"{path} was not written: the model holds values of "
                f"{', '.join(foreign)}, which load would refuse to construct. "
                "Convert such values to strings or numbers before fitting."
            )

        def write(target):
            Path(target).write_bytes(data)

    atomic_write(path, write)
    return path


def _public_name(name: str) -> str | None:
    """The public path of a probmodels class named by its defining module.

    ``probmodels.diffusion._ddpm.DDPM`` -> ``probmodels.DDPM``: the trusted
    name with the same class whose module contains the defining one. Read
    from the names alone, so this module imports none of the estimators.
    """
    module, _, cls = name.rpartition(".")
    for public in TRUSTED_TYPES:
        where, _, same = public.rpartition(".")
        if same == cls and (module == where or module.startswith(where + ".")):
            return public
    return None


class _PublicNames(dict):
    """Defining path -> public path, for the classes a file holds.

    On load, the names of 0.1.0 files (:data:`NAMES_0_1_0`) come first; a
    file that names a trusted class by its defining module (written by
    skops directly rather than by :func:`save`) reads as the public class.
    """

    def __init__(self, legacy=None):
        super().__init__()
        self.legacy = legacy or {}

    def __contains__(self, name):
        return name in self.legacy or (
            name.startswith("probmodels.") and _public_name(name) is not None
        )

    def __getitem__(self, name):
        return self.legacy[name] if name in self.legacy else _public_name(name)


def _renamed(data: bytes, names: dict) -> tuple[bytes, set]:
    """A skops file with the classes in ``names`` renamed, and those renamed.

    The schema (``schema.json`` in the zip) names each object's class by
    ``__module__`` and ``__class__``; only those entries change.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = json.loads(source.read("schema.json"))
        renamed = _rename(schema, names)
        if not renamed:
            return data, renamed
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for item in source.infolist():
                content = source.read(item)
                if item.filename == "schema.json":
                    content = json.dumps(schema, indent=2).encode()
                target.writestr(item, content)
    return out.getvalue(), renamed


def _rename(node, names: dict) -> set:
    """Rename, in place, the classes of the schema's nodes found in ``names``."""
    renamed = set()
    if isinstance(node, dict):
        if isinstance(node.get("__module__"), str) and "__class__" in node:
            old = f"{node['__module__']}.{node['__class__']}"
            if old in names:
                module, _, cls = names[old].rpartition(".")
                node["__module__"], node["__class__"] = module, cls
                renamed.add(names[old])
        for value in node.values():
            renamed |= _rename(value, names)
    elif isinstance(node, list):
        for value in node:
            renamed |= _rename(value, names)
    return renamed


def load(path: str | os.PathLike, *, trust_pickle: bool = False) -> Any:
    """Read a model file written by :func:`save`; return the estimator.

    Parameters
    ----------
    path : str or path-like
        A ``.skops`` file, or with ``trust_pickle=True`` a pickle.
    trust_pickle : bool, default=False
        Allow ``.pkl`` / ``.joblib`` files, which run whatever code they hold
        when loaded. Only for files from a source you trust.

    Returns
    -------
    estimator

    Raises
    ------
    ModelFileError
        The file is not a probmodels model, names a type outside probmodels
        and what skops trusts, or is a pickle without ``trust_pickle``.

    Warns
    -----
    ModelVersionWarning
        When the file was saved with other versions of the libraries.
    """
    return _read(path, trust_pickle).estimator


def read_model_file(path: str | os.PathLike, *, trust_pickle: bool = False):
    """Read a model file with its versions and metadata.

    Parameters
    ----------
    path : str or path-like
    trust_pickle : bool, default=False
        See :func:`load`.

    Returns
    -------
    ModelFile
    """
    return _read(path, trust_pickle)


def _read(path, trust_pickle) -> ModelFile:
    """:func:`read_model_file`; called directly by the public functions only.

    The version warning points at their caller: this function, then
    ``load`` or ``read_model_file``, then the user's line.
    """
    if not isinstance(trust_pickle, (bool, np.bool_)):
        raise TypeError(
            f"trust_pickle must be True or False; got {trust_pickle!r}. Only "
            "True loads a pickle (which runs the code it holds)."
        )
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {path}.")
    if path.suffix in PICKLE_SUFFIXES:
        if not trust_pickle:
            raise ModelFileError(
                f"{path} is a pickle: loading it runs whatever code it holds. "
                "Load it only if you trust where it came from, with "
                "trust_pickle=True (on the command line, --trust-pickle); "
                "share models as .skops files instead."
            )
        import joblib

        record = joblib.load(path)
    else:
        record = _load_skops(path)
    if not (isinstance(record, dict) and record.get("format") == FORMAT):
        raise ModelFileError(
            f"{path} is not a probmodels model file (write one with "
            "probmodels.save or `probmodels fit`)."
        )
    versions, metadata = record.get("versions", {}), record.get("metadata", {})
    estimator = record.get("estimator")
    if not (isinstance(versions, dict) and isinstance(metadata, dict)):
        raise ModelFileError(
            f"{path} is a damaged model file: its versions and metadata are not "
            "dicts. Write it again with probmodels.save."
        )
    if not _is_our_estimator(estimator):
        raise ModelFileError(
            f"{path} is a damaged model file: it holds "
            f"{'no estimator' if estimator is None else 'a ' + type(estimator).__name__} "
            "where a probmodels estimator should be. Write it again with "
            "probmodels.save."
        )
    _warn_on_version_mismatch(path, versions, stacklevel=4)
    try:
        metadata = from_plain(metadata)
    except (KeyError, TypeError, ValueError):
        raise ModelFileError(f"{path} holds damaged metadata.") from None
    return ModelFile(estimator, versions, metadata)


def _is_our_estimator(obj) -> bool:
    """Whether ``obj`` is one of probmodels' estimators."""
    cls = type(obj)
    return (
        cls.__module__.startswith("probmodels.")
        and f"probmodels.{cls.__name__}" in ESTIMATORS
    )


def _load_skops(path: Path) -> Any:
    import skops.io as sio

    try:
        # Read from the schema only: nothing is constructed or imported yet.
        data, renamed = _renamed(path.read_bytes(), _PublicNames(NAMES_0_1_0))
        named = sio.get_untrusted_types(data=data)
    except Exception as err:  # a crafted schema fails in any of skops' ways
        raise ModelFileError(
            f"{path} is not a skops model file ({type(err).__name__}: {err})."
        ) from None
    # The stand-in for what a 0.1.0 file holds and today's model does not.
    superseded = {name for name in renamed if name not in TRUSTED_TYPES}
    foreign = sorted(set(named) - set(TRUSTED_TYPES) - superseded)
    if foreign:
        raise ModelFileError(
            f"{path} names types that probmodels does not trust, so nothing in "
            f"it was loaded or run: {', '.join(foreign)}. A probmodels model "
            f"holds only these: {', '.join(TRUSTED_TYPES)}, and what skops "
            "trusts itself (numpy, scipy, scikit-learn)."
        )
    try:
        return sio.loads(data, trusted=list(named))
    except Exception as err:  # trusted types only, given a crafted state
        raise ModelFileError(
            f"{path} is a damaged model file ({type(err).__name__}: {err})."
        ) from None


def _warn_on_version_mismatch(path: Path, saved: dict, stacklevel: int) -> None:
    here = library_versions()
    differ = {
        name: (saved.get(name), here[name])
        for name in here
        if saved.get(name) is not None and saved.get(name) != here[name]
    }
    if differ:
        listed = ", ".join(f"{k} {old} (now {new})" for k, (old, new) in differ.items())
        warnings.warn(
            f"{path} was saved with {listed}; it may load or behave differently. "
            "Refit it with these versions to be sure.",
            ModelVersionWarning,
            stacklevel=stacklevel,
        )
