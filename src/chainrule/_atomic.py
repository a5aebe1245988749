"""Atomic file writes: the one place where chainrule writes a file.

A file is written to a temporary name in the same folder, flushed and fsynced, then renamed over the
target with ``os.replace`` (atomic on POSIX and Windows), and the folder itself is fsynced so that the
rename survives a power cut. A reader therefore sees either the old file or the new one, never half of
each, even when the writing process is killed mid-write. On any error the temporary file is removed; an
``OSError`` of the write itself (a full disk, a file-size limit) is raised naming ``path``. A process
killed outright (kill -9) cannot remove its temporary file; the next write of the same file removes such
leftovers once they are an hour old. A path that is a device or a pipe (``/dev/null``) is written
straight into, as ``open`` would: there is no file to replace, and renaming over it would destroy it.

Folders (a run folder) are written under a hidden temporary name and published by :func:`publish_folder`,
which claims the final name exclusively; :func:`held_signals` keeps Ctrl-C, SIGTERM and SIGHUP from
cutting such a save short.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import IO

from .errors import ArgumentError, ArgumentTypeError, MissingFileError


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


def user_path(path, what: str = "path") -> str:
    """A path argument as a str: str, bytes or os.PathLike, else an ArgumentTypeError naming ``what``
    (an ArgumentError if it holds a NUL character, which no file name can)."""
    try:
        path = os.fsdecode(path)
    except TypeError:
        raise ArgumentTypeError(f"{what} must be a str, bytes or os.PathLike path, got {type(path).__name__}") from None
    if "\0" in path:  # the OS cannot take it; os.stat and open would raise a bare ValueError
        raise ArgumentError(f"{what} {path!r} contains a NUL character")
    return path


def _is_special(path: str) -> bool:
    """The path exists and is neither a regular file nor a folder: a device, a FIFO or a socket."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


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
    path = user_path(path, "the file to write")
    if path.endswith(os.sep) or (os.altsep and path.endswith(os.altsep)):  # open() would refuse it too
        raise ArgumentError(f"cannot write {path}: the path ends with a separator, so it names a folder")
    if "b" not in mode and encoding is None:
        encoding = "utf-8"
    if _is_special(path):  # /dev/null, a pipe: nothing to replace atomically, and a rename would destroy it
        with open(path, mode, encoding=encoding, newline=newline) as f:
            yield f
        return
    # a symbolic link is written through, as open() would: the new file replaces the link's target
    path = os.path.realpath(path)
    folder, name = os.path.split(path)
    if not os.path.isdir(folder):
        raise MissingFileError(f"cannot write {path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise ArgumentError(f"cannot write {path}: it is a folder, expected a file path")
    try:  # a replaced file keeps its permissions; a new one gets those a plain open() would give
        perms = os.stat(path).st_mode & 0o7777
    except OSError:
        perms = 0o666 & ~_UMASK
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(name), suffix=".tmp", dir=folder)
    except OSError as e:  # a read-only or full folder: name the file the caller asked for, not the temporary one
        raise type(e)(e.errno, e.strerror, path) from None
    try:
        try:  # mkstemp makes the file private (0600)
            os.fchmod(fd, perms)
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
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if type(e) is OSError and e.errno and e.filename in (None, tmp):  # disk full, a name too long: say which
            # file the caller asked for, not the temporary one
            raise OSError(e.errno, e.strerror, path) from None
        raise
    _fsync_dir(folder)
    _remove_stale_temporaries(folder, name)


STALE_AFTER_S = 3600.0


def _temporary_prefix(name: str) -> str:
    """``.NAME.``, with NAME cut to 100 bytes: the temporary name (prefix, 8 random characters, ``.tmp``) must
    fit where a name of up to 255 bytes does."""
    short = os.fsencode(name)[:100].decode(errors="ignore") if len(os.fsencode(name)) > 100 else name
    return f".{short}."


def _remove_stale_temporaries(folder: str, name: str) -> None:
    """Remove what earlier writes of ``name`` left behind when their process was killed outright (kill -9,
    the out-of-memory killer: no ``except`` runs). Only our own naming, ``.{name}.*.tmp``, untouched for an
    hour: a write in progress (another process saving the same file) changes its temporary file all along.
    """
    prefix, now = _temporary_prefix(name), time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for e in entries:
        if e.name.startswith(prefix) and e.name.endswith(".tmp") and e.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                if now - e.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S:
                    os.unlink(e.path)


# ------------------------------------------------------------------------------------------ folders
STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C's KeyboardInterrupt so that a run is saved the same way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)
        self.exit_status = 128 + self.signum


def exit_status(exc: BaseException) -> int:
    """128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return getattr(exc, "exit_status", 128 + signal.SIGINT)


@contextlib.contextmanager
def stop_signals_interrupt():
    """While the block runs, SIGTERM and SIGHUP raise :class:`Interrupted` (the train command's handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


class _Held:
    signum: int | None = None


@contextlib.contextmanager
def held_signals() -> Iterator[_Held]:
    """Hold Ctrl-C, SIGTERM and SIGHUP back during the block; ``.signum`` is the first that came (or None).

    Outside the main thread (where Python cannot set handlers) the block runs as it is.
    """
    box = _Held()
    if threading.current_thread() is not threading.main_thread():
        yield box
        return

    def handler(signum, frame):
        if box.signum is None:
            box.signum = signum

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, *STOP_SIGNALS)}
    try:
        yield box
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def numbered(base: str, n: int) -> str:
    """``base`` for n = 1, else ``base-n``."""
    return base if n == 1 else f"{base}-{n}"


_TAKEN = (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR)


def publish_folder(tmp: str, base: str, number: int = 1, reuse_empty: bool = False) -> str:
    """Rename the finished folder ``tmp`` to ``numbered(base, number)``, or the next free number; return the path.

    The name is claimed with ``os.mkdir`` (exclusive), and ``tmp`` renamed onto that empty folder, so two
    processes never publish under one name. ``reuse_empty``: ``base`` is an empty folder the caller was
    given; it is replaced only while it is still empty.
    """
    os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp made it private; give it a plain mkdir's permissions
    for n in range(number, number + 1000):
        path = numbered(base, n)
        if n == 1 and reuse_empty:
            try:
                os.rename(tmp, path)
                return path
            except OSError as e:
                if e.errno not in _TAKEN:
                    raise
                continue
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        try:
            os.rename(tmp, path)
        except BaseException as e:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            if isinstance(e, OSError) and e.errno in _TAKEN:  # filled by someone who did not claim it first
                continue
            raise
        return path
    raise OSError(errno.EEXIST, "no free folder name", base)


def replace_folder(tmp: str, dest: str) -> str:
    """Put the finished folder ``tmp`` in the place of the existing folder ``dest``; return ``dest``.

    ``dest`` is first renamed to a hidden ``.NAME.old-*`` folder next to it, then ``tmp`` renamed to
    ``dest``, then the old folder removed: a reader sees the old folder or the new one, each whole (for
    an instant, neither); if the second rename fails the old folder is put back.
    """
    import shutil

    os.chmod(tmp, 0o777 & ~_UMASK)
    parent, name = os.path.split(os.path.abspath(dest))
    old = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
    os.rename(dest, old)  # onto the empty folder just made (POSIX allows it)
    try:
        os.rename(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.rename(old, dest)
        raise
    _fsync_dir(parent)
    shutil.rmtree(old, ignore_errors=True)
    return dest
