"""A strict reader for IDX files, the format of MNIST and Fashion-MNIST (raw or gzip-compressed).

Layout: two zero bytes, a type byte, the number of dimensions d; then d big-endian uint32 sizes; then
the items, row-major, big-endian. MNIST image files have magic 2051 (0x00000803: uint8, 3 dims),
label files 2049 (0x00000801: uint8, 1 dim). Everything is checked: a corrupt, truncated or foreign
file raises :class:`~chainrule.errors.FileFormatError` naming the file and what was wrong.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from .._files import read_bytes
from ..errors import ArgumentTypeError, FileFormatError

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def _check_magic(where: str, magic) -> None:
    if magic is not None and (isinstance(magic, bool) or not isinstance(magic, (int, np.integer))):
        raise ArgumentTypeError(f"{where}: magic must be an integer (e.g. 2051 for MNIST images, 2049 for labels) "
                                f"or None, got {type(magic).__name__} {magic!r:.60}")


def decompress(data: bytes, name: str) -> bytes:
    """The payload of ``data``: gunzipped when it starts with the gzip signature, else as is."""
    if data[:2] != b"\x1f\x8b":
        if str(name).endswith(".gz"):
            raise FileFormatError(f"{name}: not a gzip file (it does not start with the gzip signature 1f 8b)")
        return data
    try:
        return gzip.decompress(data)
    except EOFError:
        raise FileFormatError(f"{name}: the gzip stream is truncated (the file ends early)") from None
    except (OSError, zlib.error) as exc:
        raise FileFormatError(f"{name}: corrupt gzip data ({exc})") from None


def parse_idx(data: bytes, name: str = "<bytes>", magic: int | None = None) -> np.ndarray:
    """Parse the bytes of an uncompressed IDX file into an array of its stored shape and type.

    Parameters
    ----------
    data : bytes
        The whole (decompressed) file.
    name : str
        Shown in error messages.
    magic : int, optional
        The magic number the file must have (2051 for MNIST images, 2049 for labels).

    Returns
    -------
    ndarray
        A read-only array over ``data`` (no copy) for byte types, native-endian otherwise.

    Examples
    --------
    >>> parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]), magic=2049)
    array([7, 8, 9], dtype=uint8)
    """
    _check_magic("parse_idx", magic)
    if len(data) < 4:
        raise FileFormatError(f"{name}: too short for an IDX file ({len(data)} bytes, the header alone needs 4+)")
    found = int.from_bytes(data[:4], "big")
    if magic is not None and found != magic:
        raise FileFormatError(f"{name}: wrong magic number {found} (0x{found:08x}), expected {magic} "
                              f"(0x{magic:08x}); this is not the expected IDX file")
    if data[0] != 0 or data[1] != 0 or data[2] not in _TYPES:
        raise FileFormatError(f"{name}: not an IDX file (magic number 0x{found:08x} has no valid type byte)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise FileFormatError(f"{name}: truncated header: {ndim} dimensions need {header} bytes, "
                              f"the file has {len(data)}")
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_TYPES[data[2]])
    expected = int(np.prod(dims, dtype=object)) * dtype.itemsize
    got = len(data) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise FileFormatError(f"{name}: {what}: dimensions {dims} need {expected} bytes of data after the "
                              f"{header}-byte header, found {got}")
    try:  # NumPy refuses shapes whose nonzero sizes multiply past its limit, or too many dimensions
        arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    except ValueError as exc:
        raise FileFormatError(f"{name}: dimensions {dims} cannot form an array ({exc})") from None
    return arr if dtype.itemsize == 1 else arr.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read an IDX file, gzip-compressed (``.gz``) or raw; see :func:`parse_idx` for the checks.

    Raises :class:`~chainrule.errors.MissingFileError` when the file does not exist and
    :class:`~chainrule.errors.FileFormatError` when it is not a valid IDX file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"read_idx: path must be a file path (str or pathlib.Path), got "
                                f"{type(path).__name__} {path!r:.60}")
    _check_magic("read_idx", magic)
    path = Path(os.fspath(path))
    data = read_bytes(path, "IDX file")
    return parse_idx(decompress(data, str(path)), str(path), magic)


def read_idx_pair(images_path: Path, labels_path: Path, shape: tuple[int, int] | None = (28, 28),
                  num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Read an image file and its label file; check they match. Returns (uint8 (N, H, W), uint8 (N,))."""
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.ndim != 3:
        raise FileFormatError(f"{images_path}: expected 3 dimensions (count, rows, columns), got {images.shape}")
    if labels.ndim != 1:
        raise FileFormatError(f"{labels_path}: expected 1 dimension (count), got {labels.shape}")
    if shape is not None and images.shape[1:] != tuple(shape):
        raise FileFormatError(f"{images_path}: images of {images.shape[1]}x{images.shape[2]} pixels, "
                              f"expected {shape[0]}x{shape[1]}")
    if len(images) != len(labels):
        raise FileFormatError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                              f"{len(labels)} labels; the counts must match")
    if len(labels) and int(labels.max()) >= num_classes:
        raise FileFormatError(f"{labels_path}: label {int(labels.max())} out of range, expected 0..{num_classes - 1}")
    return images, labels
