"""Save and load state dicts as safetensors files, written with NumPy alone, atomically, without pickle.

The safetensors layout (https://huggingface.co/docs/safetensors):

    8 bytes     N, the header length, an unsigned little-endian 64-bit integer
    N bytes     a JSON object {name: {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
                with an optional "__metadata__" map of strings to strings; padded with spaces to a
                multiple of 8 bytes
    the rest    the tensors' raw little-endian bytes, back to back; offsets count from the end of the header

A flat mapping of names to arrays (a model's state dict) is written as plain safetensors, readable by any
safetensors library, and comes back as the same flat dict. Anything else (nested dicts such as an
optimizer's state dict or ``{"model": ..., "optimizer": ..., "epoch": 3}``, int keys, Python numbers,
strings, None, lists and tuples) is stored as its arrays under dotted names plus a description of the
tree, as JSON, in ``__metadata__["chainrule.tree"]``; loading rebuilds the exact structure.

The reader trusts nothing in the file: every length, dtype, shape and offset is checked before any array
is made, and a bad file raises :class:`~chainrule.errors.FileFormatError` naming it.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import struct
from collections.abc import Mapping

import numpy as np

from ._atomic import atomic_write, user_path
from .backend import foreign_array
from .errors import ArgumentError, ArgumentTypeError, DTypeError, FileFormatError, MissingFileError

__all__ = ["save", "load", "load_metadata"]

_DTYPES = {
    "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
    "I8": np.dtype("i1"), "I16": np.dtype("<i2"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8"),
    "U8": np.dtype("u1"), "U16": np.dtype("<u2"), "U32": np.dtype("<u4"), "U64": np.dtype("<u8"),
    "BOOL": np.dtype("?"),
}  # fmt: skip
_CODES = {(dt.kind, dt.itemsize): code for code, dt in _DTYPES.items()}
# bfloat16 (most published checkpoints): NumPy has no such type, so it is read as its 16-bit patterns and
# widened to float32 exactly (a bfloat16 is the top half of a float32: bits << 16). It is never written.
_BF16 = np.dtype("<u2")
_READ = {**_DTYPES, "BF16": _BF16}
_TREE = "chainrule.tree"
_MAX_HEADER = 100_000_000  # the safetensors library's limit: a larger header is refused by every reader
_MAX_DEPTH = 64  # containers within containers: the tree's JSON must load from a deep call stack too


# ------------------------------------------------------------------------------------------ writing
def _as_array(name: str, v) -> np.ndarray | None:
    """The array behind an array-like leaf (ndarray, chainrule or PyTorch tensor), else None."""
    from .autograd.tensor import Tensor

    if isinstance(v, Tensor):
        v = v.data
    else:
        v = foreign_array(v)  # a PyTorch tensor (bfloat16 widened to float32)
    if not isinstance(v, np.ndarray):
        return None
    code = _CODES.get((v.dtype.kind, v.dtype.itemsize))
    if code is None:
        raise DTypeError(
            f"save: '{name}' has dtype {v.dtype}; safetensors files hold float16/32/64, int8/16/32/64, "
            "uint8/16/32/64 and bool"
        )
    return np.asarray(v, dtype=_DTYPES[code], order="C")  # (ascontiguousarray would make 0-d arrays 1-d)


class _Writer:
    """Walks a tree, collecting its arrays under unique dotted names and describing the rest as JSON."""

    def __init__(self) -> None:
        self.tensors: dict[str, np.ndarray] = {}

    def _name(self, name: str) -> str:
        unique, i = name, 0
        while unique in self.tensors or unique == "__metadata__":
            i += 1
            unique = f"{name}#{i}"
        return unique

    def encode(self, value, name: str, depth: int = 0):
        if isinstance(value, (Mapping, list, tuple)) and depth >= _MAX_DEPTH:
            raise ArgumentError(f"save: '{name}' is nested more than {_MAX_DEPTH} containers deep")
        depth += 1
        if isinstance(value, Mapping):
            items = []
            for k, v in value.items():
                if isinstance(k, bool) or not isinstance(k, (str, int, np.integer)):
                    raise ArgumentTypeError(
                        f"save: dict keys must be str or int, got {type(k).__name__} {k!r} under '{name}'"
                    )
                k = k if isinstance(k, str) else int(k)
                items.append([k, self.encode(v, f"{name}.{k}" if name else str(k), depth)])
            return {"__dict__": items}
        if isinstance(value, list):
            return [self.encode(v, f"{name}.{i}", depth) for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, f"{name}.{i}", depth) for i, v in enumerate(value)]}
        if isinstance(value, np.str_):  # a str (a label read from a NumPy array), not an array of characters
            return str(value)
        if isinstance(value, np.generic):  # before the Python numbers: np.float64 is a float subclass
            n = self._name(name)
            self.tensors[n] = _as_array(name, np.asarray(value))
            return {"__scalar__": n}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        a = _as_array(name, value)
        if a is None:
            raise ArgumentTypeError(
                f"save: '{name}' is a {type(value).__name__}; expected arrays, tensors, numbers, strings, "
                "bools, None, and lists, tuples and dicts of these"
            )
        n = self._name(name)
        self.tensors[n] = a
        return {"__tensor__": n}


def save(obj: Mapping, path, metadata: Mapping[str, str] | None = None) -> None:
    """Write a state dict (flat or nested) to ``path`` in the safetensors format, atomically.

    Parameters
    ----------
    obj : mapping
        Names to arrays (a model's ``state_dict()``), or a nested dict of arrays, tensors, numbers,
        strings, bools, None, lists and tuples (an optimizer's state dict, a checkpoint), at most 64
        containers deep; the header (names, shapes and the non-array values) must fit in 100 MB.
    path : str or os.PathLike
        The file to write; its folder must exist. The old file stays intact until the new one is complete.
    metadata : mapping of str to str, optional
        Extra strings to keep in the header (read back with :func:`load_metadata`).

    >>> import os, tempfile, numpy as np, chainrule as cr
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> cr.save({"model": {"0.weight": np.eye(2)}, "epoch": 3}, path)
    >>> cr.load(path)
    {'model': {'0.weight': array([[1., 0.],
           [0., 1.]])}, 'epoch': 3}
    """
    if not isinstance(obj, Mapping):
        raise ArgumentTypeError(f"save: expected a dict (a state dict), got {type(obj).__name__}")
    meta = {}
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str) or k == _TREE:
                raise ArgumentError(f"save: metadata must map str to str (and not use '{_TREE}'), got {k!r}: {v!r}")
            meta[k] = v
    w = _Writer()
    flat = all(isinstance(k, str) and k != "__metadata__" for k in obj)
    if flat:
        for k, v in obj.items():
            a = None if isinstance(v, np.generic) else _as_array(k, v)
            if a is None:
                flat = False
                break
            w.tensors[k] = a
    if not flat:
        w.tensors.clear()
        try:
            tree = w.encode(obj, "")
        except RecursionError:
            raise ArgumentError("save: the object is nested too deeply") from None
        meta[_TREE] = json.dumps(tree, separators=(",", ":"))

    header: dict = {"__metadata__": meta} if meta else {}
    offset = 0
    for name, a in w.tensors.items():
        header[name] = {"dtype": _CODES[(a.dtype.kind, a.dtype.itemsize)], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    for text in (*w.tensors, *meta.keys(), *meta.values()):
        try:  # a lone surrogate ('\udc80', from a badly decoded file name) is no UTF-8: other readers refuse it
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ArgumentError(f"save: the name or metadata string {text!r} is not valid Unicode text") from None
    hbytes = json.dumps(header, separators=(",", ":")).encode("ascii")
    hbytes += b" " * (-len(hbytes) % 8)
    if len(hbytes) > _MAX_HEADER:  # checked before the old file is replaced by one that nothing could read
        raise ArgumentError(f"save: the header (names, shapes and non-array values) takes {len(hbytes)} bytes, "
                            f"more than the {_MAX_HEADER} that safetensors readers accept; store long lists of "
                            "numbers as arrays")
    with atomic_write(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for a in w.tensors.values():
            if a.nbytes:
                f.write(a.reshape(-1).view(np.uint8).data)


# ------------------------------------------------------------------------------------------ reading
def _bad(path: str, why: str) -> FileFormatError:
    return FileFormatError(f"{path} is not a valid safetensors file: {why}")


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list) -> dict:
    """json.loads keeps the last of repeated names silently; a file naming a tensor twice is ambiguous."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _DuplicateKey(f"the header names {dup!r} twice")
    return out


def _read_header(f, path: str, size: int) -> tuple[dict, int]:
    """The parsed header and the length of the data section, or a FileFormatError."""
    if size < 8:
        raise _bad(path, f"it has {size} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > _MAX_HEADER:
        raise _bad(path, f"the header length {n} is absurd (more than {_MAX_HEADER} bytes)")
    if n > size - 8:
        raise _bad(path, f"the header length {n} is larger than the rest of the file ({size - 8} bytes)")
    raw = f.read(n)
    if len(raw) != n:
        raise _bad(path, "the file is truncated inside the header")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _DuplicateKey as e:
        raise _bad(path, str(e)) from None
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _bad(path, f"the header is not JSON ({type(e).__name__})") from None
    if not isinstance(header, dict):
        raise _bad(path, f"the header is a JSON {type(header).__name__}, expected an object")
    return header, size - 8 - n


def _entries(header: dict, path: str, data_len: int) -> list:
    """(name, dtype, shape, begin, end) for every tensor, with every field and offset checked."""
    out = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict):
            raise _bad(path, f"tensor '{name}' is described by a {type(info).__name__}, expected an object")
        dtype, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in _READ:
            raise _bad(path, f"tensor '{name}' has unknown dtype {dtype!r} (known: {', '.join(_READ)})")
        if (not isinstance(shape, list) or len(shape) > 64
                or not all(type(d) is int and 0 <= d < 2**62 for d in shape)):
            raise _bad(path, f"tensor '{name}' has shape {shape!r}, expected a list of non-negative integers")
        if not isinstance(offs, list) or len(offs) != 2 or not all(type(o) is int for o in offs):
            raise _bad(path, f"tensor '{name}' has data_offsets {offs!r}, expected [begin, end]")
        begin, end = offs
        if not 0 <= begin <= end <= data_len:
            raise _bad(path, f"tensor '{name}' has data_offsets {offs} outside the data section of {data_len} bytes")
        count = 1
        for d in shape:
            count *= d
        if count * _READ[dtype].itemsize != end - begin:
            raise _bad(path, f"tensor '{name}' of shape {shape} and dtype {dtype} needs "
                       f"{count * _READ[dtype].itemsize} bytes, its data_offsets span {end - begin}")
        out.append((name, dtype, tuple(shape), begin, end))
    pos = 0
    for name, _, _, begin, end in sorted(out, key=lambda e: (e[3], e[4])):
        if begin != pos:
            what = "overlap" if begin < pos else "leave a gap"
            raise _bad(path, f"the tensors' byte ranges {what} at byte {min(begin, pos)} (tensor '{name}')")
        pos = end
    if pos != data_len:
        raise _bad(path, f"the tensors cover {pos} bytes but the data section has {data_len}")
    return out


def _metadata(header: dict, path: str) -> dict:
    meta = header.get("__metadata__")
    if meta is None:
        return {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise _bad(path, "__metadata__ must be an object mapping strings to strings")
    return meta


def _open(path) -> tuple[str, int]:
    path = user_path(path, "the file to load")
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):  # NotADirectory: a part of the path is a file
        raise MissingFileError(f"no such file: {path}") from None
    except OSError as e:  # a name too long, no permission to look into a folder
        raise FileFormatError(f"{path}: cannot be read ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise FileFormatError(f"{path} is not a regular file")
    return path, st.st_size


@contextlib.contextmanager
def _reading(path: str):
    """The file open for reading; an OSError while opening or reading it (no permission, an I/O error) is a
    FileFormatError naming it, as in :func:`_open`."""
    try:
        with open(path, "rb") as f:
            yield f
    except FileNotFoundError:  # removed since _open looked at it
        raise MissingFileError(f"no such file: {path}") from None
    except OSError as e:
        raise FileFormatError(f"{path}: cannot be read ({e.strerror or e})") from None


def _decode(spec, arrays: dict, path: str):
    if spec is None or isinstance(spec, (bool, int, float, str)):
        return spec
    if isinstance(spec, list):
        return [_decode(s, arrays, path) for s in spec]
    if isinstance(spec, dict) and len(spec) == 1:
        (kind, body), = spec.items()
        if kind == "__dict__" and isinstance(body, list):
            out = {}
            for item in body:
                if (not isinstance(item, list) or len(item) != 2 or isinstance(item[0], bool)
                        or not isinstance(item[0], (str, int))):
                    raise _bad(path, "the tree in __metadata__ has a malformed dict item")
                out[item[0]] = _decode(item[1], arrays, path)
            return out
        if kind == "__tuple__" and isinstance(body, list):
            return tuple(_decode(s, arrays, path) for s in body)
        if kind in ("__tensor__", "__scalar__") and isinstance(body, str):
            if body not in arrays:
                raise _bad(path, f"the tree in __metadata__ names a tensor '{body}' that the file does not hold")
            a = arrays[body]
            if kind == "__tensor__":
                return a
            if a.ndim != 0:
                raise _bad(path, f"the tree in __metadata__ calls tensor '{body}' of shape {a.shape} a scalar")
            return a[()]
    raise _bad(path, "the tree in __metadata__ has an element of unknown form")


def load(path) -> dict:
    """Read a file written by :func:`save` (or any safetensors file) back into the same structure.

    Arrays come back as writeable NumPy arrays in native byte order, with the file's dtype (F16, F32,
    F64, the integers, bool), except bfloat16 (BF16), which NumPy lacks: it comes back as float32, an
    exact conversion (every bfloat16 is a float32). A plain safetensors file (no chainrule tree in its
    metadata) comes back as a flat dict of names to arrays, in header order.

    Raises
    ------
    MissingFileError
        ``path`` does not exist.
    FileFormatError
        The file is truncated, corrupt or not a safetensors file (the message names the file and why).
    """
    path, size = _open(path)
    with _reading(path) as f:
        header, data_len = _read_header(f, path, size)
        meta = _metadata(header, path)
        entries = _entries(header, path, data_len)
        data = np.empty(data_len, dtype=np.uint8)
        view, got = memoryview(data), 0
        while got < data_len:
            n = f.readinto(view[got:])
            if not n:
                raise _bad(path, f"the file is truncated: the data section should have {data_len} bytes, has {got}")
            got += n
    arrays = {}
    for name, code, shape, begin, end in entries:
        dt = _READ[code]
        try:
            if dt.kind == "b":  # any non-zero byte is True; never expose odd bool bytes
                a = (data[begin:end] != 0).reshape(shape)
            elif begin == end:
                a = np.zeros(shape, dtype=dt.newbyteorder("="))
            else:
                a = np.frombuffer(data, dtype=dt, count=(end - begin) // dt.itemsize, offset=begin)
                a = a.reshape(shape).astype(dt.newbyteorder("="), copy=True)
            if code == "BF16":  # exact: the bfloat16 bits are the high half of the float32
                wide = a.astype(np.uint32)
                np.left_shift(wide, 16, out=wide)
                a = wide.view(np.float32)
        except (ValueError, OverflowError, MemoryError):
            raise _bad(path, f"tensor '{name}' of shape {list(shape)} cannot be made into an array") from None
        arrays[name] = a
    del data
    if _TREE not in meta:
        return arrays
    try:
        tree = _decode(json.loads(meta[_TREE]), arrays, path)
    except (ValueError, RecursionError) as e:
        if isinstance(e, FileFormatError):
            raise
        raise _bad(path, f"the tree in __metadata__ is not valid JSON or is nested too deeply ({type(e).__name__})") \
            from None
    if not isinstance(tree, dict):
        raise _bad(path, "the tree in __metadata__ is not a dict")
    return tree


def load_metadata(path) -> dict:
    """The extra strings given to :func:`save` as ``metadata`` (the header's ``__metadata__``, minus the tree)."""
    path, size = _open(path)
    with _reading(path) as f:
        header, _ = _read_header(f, path, size)
    meta = _metadata(header, path)
    return {k: v for k, v in meta.items() if k != _TREE}
