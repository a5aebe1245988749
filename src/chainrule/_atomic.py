"""Atomic file writes: the one place where chainrule writes a file.

A file is written to a temporary name in the same folder, flushed and fsynced, then renamed over the
target with ``os.replace`` (atomic on POSIX and Windows), and the folder itself is fsynced so that the
rename survives a power cut. A reader therefore sees either the old file or the new one, never half of
each, even when the writing process is killed mid-write. On any error the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO

from .errors import ArgumentError, MissingFileError


def _umask() -> int:
    try:  # Linux shows it without changing it
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    # elsewhere os.umask can only be read by setting it; done once, at import
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open a folder; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", encoding: str | None = None, newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file next to ``path`` and move it into place when the block ends without error.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace. Its folder must exist.
    mode : str
        ``'wb'`` (default) or ``'w'`` / ``'wt'`` for text.
    encoding, newline : str, optional
        Passed to ``open`` in text mode (encoding defaults to UTF-8).

    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> with atomic_write(os.path.join(d, "a.txt"), "w") as f:
    ...     _ = f.write("hello")
    >>> open(os.path.join(d, "a.txt")).read(), os.listdir(d)
    ('hello', ['a.txt'])
    """
    if mode not in ("wb", "w", "wt"):
        raise ArgumentError(f"atomic_write: mode must be 'wb', 'w' or 'wt', got {mode!r}")
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    if not os.path.isdir(folder):
        raise MissingFileError(f"cannot write {path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise ArgumentError(f"cannot write {path}: it is a folder, expected a file path")
    if "b" not in mode and encoding is None:
        encoding = "utf-8"
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain open() would
        try:
            os.fchmod(fd, 0o666 & ~_UMASK)
        except (AttributeError, OSError):  # pragma: no cover - Windows has no fchmod
            pass
        try:
            f = os.fdopen(fd, mode, encoding=encoding, newline=newline)
        except BaseException:
            os.close(fd)
            raise
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)
