"""Class labels, encoded once for every estimator that takes them.

The classifiers learn them; the conditional VAE and DDPM condition on them.
Either way a label becomes its code, the index of the label in the sorted
``classes_``, and a label never seen in training is refused by name.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, column_or_1d

from ..utils.validation import ndim_of

__all__ = ["check_same_classes", "fit_classes", "label_codes"]


def _labels(y, n_rows: int) -> np.ndarray:
    """``y`` as a 1-D array of ``n_rows`` labels (a column vector is raveled)."""
    y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
    # A column vector (df[["label"]]) is one label per row, as scikit-learn
    # takes it, with its DataConversionWarning.
    y = column_or_1d(y, warn=True)
    if len(y) != n_rows:
        raise ValueError(
            f"y must hold one label per row of X ({n_rows}); got {len(y)} labels."
        )
    return y


def fit_classes(y, n_rows: int, *, classes=None, min_classes: int = 1, hint=""):
    """The classes of training labels, and the code of each label.

    Parameters
    ----------
    y : array-like of shape (n_rows,) or (n_rows, 1)
        Labels of any type (ints, strings).
    n_rows : int
        Rows of X, which y must match.
    classes : array-like, optional
        Every label that may appear (``partial_fit``'s first call); the
        labels of y otherwise.
    min_classes : int, default=1
        A classifier needs two.
    hint : str, default=""
        Appended to the message for labels that are not classes (what to do
        instead).

    Returns
    -------
    classes : ndarray
        Sorted distinct labels.
    codes : ndarray of int
        Index of each row's label in ``classes``.
    """
    y = _labels(y, n_rows)
    kind = type_of_target(y, input_name="y")
    if kind not in ("binary", "multiclass"):
        # scikit-learn's own words first: its checks look for them.
        raise ValueError(
            f"Unknown label type: {kind!r}. y must hold class labels (ints or "
            f"strings), not {kind} values.{(' ' + hint) if hint else ''}"
        )
    known = np.unique(y if classes is None else np.asarray(classes))
    if len(known) < min_classes:
        raise ValueError(
            f"y has only one class ({known.tolist()[0]!r}); a classifier needs at "
            "least two classes to learn from."
        )
    return known, label_codes(y, known, n_rows)


def label_codes(y, classes: np.ndarray, n_rows: int) -> np.ndarray:
    """Codes of labels in ``classes``: one label for every row, or one per row.

    Parameters
    ----------
    y : label or array-like of shape (n_rows,)
    classes : ndarray
        Sorted distinct labels of the fitted model.
    n_rows : int

    Returns
    -------
    ndarray of int
    """
    if ndim_of(y) == 0:
        y = np.array([y] * n_rows)
    y = _labels(y, n_rows)
    known = set(classes.tolist())
    unseen = sorted({v for v in y.tolist() if v not in known}, key=str)
    if unseen:
        raise ValueError(
            f"y contains labels {unseen[:5]} that were not seen in fit; this "
            f"model knows {classes.tolist()}. Refit with every label (for "
            "partial_fit: pass all of them in classes on the first call)."
        )
    return np.searchsorted(classes, y)


def check_same_classes(classes, fitted: np.ndarray) -> None:
    """Refuse ``classes`` that differ from the fitted ones (``partial_fit``).

    Parameters
    ----------
    classes : array-like or None
    fitted : ndarray
    """
    if classes is not None and not np.array_equal(np.unique(classes), fitted):
        # scikit-learn's SGD and MLP refuse this too, in these words.
        raise ValueError(
            f"`classes={np.unique(classes).tolist()!r}` is not the same as "
            f"on last call to partial_fit, was: {fitted.tolist()!r}. Refit "
            "with fit() to change the classes."
        )
