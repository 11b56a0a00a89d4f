"""Utilities every floor uses (after ``sklearn.utils``).

- :mod:`~probmodels.utils.validation`: input checks whose messages name the
  offending value and the fix;
- :mod:`~probmodels.utils.chunks`: row blocks of bounded memory;
- :mod:`~probmodels.utils.plain`: labels and metadata as plain values for
  model files;
- :func:`atomic_write`: files written whole or not at all.
"""

from .chunks import CHUNK_BYTES, iter_row_chunks
from .files import atomic_write
from .plain import (
    PlainValueError,
    from_plain,
    index_from_plain,
    index_to_plain,
    to_plain,
)

__all__ = [
    "CHUNK_BYTES",
    "PlainValueError",
    "atomic_write",
    "from_plain",
    "index_from_plain",
    "index_to_plain",
    "iter_row_chunks",
    "to_plain",
]
