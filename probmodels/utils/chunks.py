"""Row chunks of bounded memory: the one place that decides how many rows.

Passes over many rows (an E-step, inference, a full-data likelihood) work one
block of rows at a time, so that the temporary arrays of a block stay small.
The size of a block is set by memory, not by a row count: a caller says how
many bytes its temporaries take per row, and gets blocks of about
:data:`CHUNK_BYTES`.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["CHUNK_BYTES", "iter_row_chunks"]

#: Bytes of temporaries per block: 1 MiB stays in a core's L2 cache, where the
#: E-step's per-row max / exp / sum passes run several times faster than from
#: main memory, and it is large enough that per-block overhead (a Python
#: iteration, a few kernel launches) is small next to the arithmetic.
CHUNK_BYTES = 2**20


def iter_row_chunks(
    n_rows: int, bytes_per_row: int, budget: int = CHUNK_BYTES
) -> Iterator[slice]:
    """Slices that cut ``n_rows`` rows into blocks of about ``budget`` bytes.

    Parameters
    ----------
    n_rows : int
        Rows to cover.
    bytes_per_row : int
        Bytes of temporaries the caller allocates per row of a block.
    budget : int, default=CHUNK_BYTES
        Bytes per block; every block has at least one row.

    Yields
    ------
    slice
        Consecutive, non-overlapping, covering ``range(n_rows)`` in order.

    Examples
    --------
    >>> [s.stop for s in iter_row_chunks(10, bytes_per_row=4, budget=16)]
    [4, 8, 10]
    """
    rows = max(1, int(budget) // max(1, int(bytes_per_row)))
    for lo in range(0, n_rows, rows):
        yield slice(lo, min(n_rows, lo + rows))
