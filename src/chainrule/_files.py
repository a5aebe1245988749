"""Reading a user's file into memory with errors that name it (writing lives in ``_atomic``)."""

from __future__ import annotations

from pathlib import Path

from .errors import FileFormatError, MissingFileError


def read_bytes(path, kind: str) -> bytes:
    """The whole file at ``path``; ``kind`` (e.g. "CSV file") goes into the error messages.

    A missing file is a MissingFileError naming the file and its folder; a folder or an unreadable file
    is a FileFormatError naming the path.
    """
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise MissingFileError(f"{kind} not found: expected {path.name} in folder {path.parent}") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a folder, not a {kind}") from None
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:  # "embedded null byte": no file can have such a name
        raise FileFormatError(f"{str(path)!r}: not a usable {kind} path ({exc})") from None
