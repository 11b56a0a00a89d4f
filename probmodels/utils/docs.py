"""Docstring fragments written once and put into each class that shares them.

statsmodels' ``Appender`` and matplotlib's ``_docstring.interpd`` do the
same: a class's docstring says ``%(name)s`` on a line of its own where the
shared entries go, and :func:`fill_docstring` puts them there, indented as
that line, so ``help()`` on any estimator is complete on its own.
"""

from __future__ import annotations

import textwrap

__all__ = ["fill_docstring", "numpydoc_entries"]


def numpydoc_entries(docs: dict, defaults: dict | None = None) -> str:
    """Numpydoc entries ``name : type, default=...`` with wrapped descriptions.

    Parameters
    ----------
    docs : dict
        name -> (type, description).
    defaults : dict, optional
        name -> default value, shown after the type.

    Returns
    -------
    str
        Unindented entries.
    """
    lines = []
    for name, (kind, text) in docs.items():
        default = "" if defaults is None else f", default={_shown(defaults[name])}"
        lines.append(f"{name} : {kind}{default}")
        lines += textwrap.wrap(
            text, 72, initial_indent="    ", subsequent_indent="    "
        )
    return "\n".join(lines)


def _shown(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def fill_docstring(cls: type, blocks: dict) -> type:
    """Put each block where ``cls``'s docstring has its marker.

    Parameters
    ----------
    cls : type
    blocks : dict
        marker (such as ``"%(table_parameters)s"``) -> unindented text, or a
        callable ``block(cls)`` giving it (called once every marker is found).

    Returns
    -------
    type
        ``cls``, its docstring completed.

    Raises
    ------
    ValueError
        The docstring lacks a marker.
    """
    doc = cls.__doc__ or ""
    for marker in blocks:
        if marker not in doc:
            raise ValueError(f"{cls.__name__}'s docstring has no {marker} marker.")
    for marker, block in blocks.items():
        block = block(cls) if callable(block) else block
        line = next(line for line in doc.splitlines() if marker in line)
        indent = line[: len(line) - len(line.lstrip())]
        doc = doc.replace(line, textwrap.indent(block, indent))
    cls.__doc__ = doc
    return cls
