"""Files written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(temporary)`` and rename it to ``path`` on success only.

    The temporary file sits beside ``path`` (the same file system, so the
    rename is atomic): a reader sees the old file or the new one, never half
    of one, and a failed ``write`` leaves ``path`` as it was.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    write : callable
        ``write(name)`` writes the whole content to the file ``name``.

    Raises
    ------
    FileNotFoundError
        ``path``'s directory does not exist.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        # Named here: mkstemp would name its temporary file instead.
        raise FileNotFoundError(f"No directory {directory} to write {path} in.")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
