"""Run configurations as TOML: read with the standard library's ``tomllib`` (``tomli`` on Python 3.10),
written by a small writer that covers what a run needs (tables of strings, numbers, booleans and lists).

A run's ``config.toml`` holds everything needed to rebuild its network and its data pipeline::

    [data]
    dataset = "digits"
    input_shape = [1, 8, 8]
    num_classes = 10

    [model]
    name = "mlp"

    [optimizer]
    name = "adam"
    lr = 0.001

>>> text = dumps({"model": {"name": "mlp", "hidden": [64, 32]}, "train": {"epochs": 3}})
>>> print(text)
[model]
name = "mlp"
hidden = [64, 32]
<BLANKLINE>
[train]
epochs = 3
<BLANKLINE>
>>> loads(text)["model"]["hidden"]
[64, 32]
"""

from __future__ import annotations

import json
import math
import os
import re
import sys

from .errors import ArgumentError, ArgumentTypeError, FileFormatError, MissingFileError

if sys.version_info >= (3, 11):
    import tomllib as _toml
else:  # pragma: no cover - Python 3.10
    try:
        import tomli as _toml
    except ImportError:
        _toml = None


def loads(text: str) -> dict:
    """Parse TOML text into nested dicts; a FileFormatError says where it is malformed."""
    if _toml is None:  # pragma: no cover
        raise FileFormatError('reading TOML on Python 3.10 needs the tomli package: pip install tomli')
    try:
        return _toml.loads(text)
    except _toml.TOMLDecodeError as e:
        raise FileFormatError(f"malformed TOML: {e}") from None


def load(path) -> dict:
    """Read a TOML file; MissingFileError if it does not exist, FileFormatError if it is malformed."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        what = "is a folder, not a file" if os.path.isdir(path) else "does not exist"
        raise MissingFileError(f"config file {path!r} {what}")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise FileFormatError(f"config file {path!r} is not UTF-8 text") from None
    try:
        return loads(text)
    except FileFormatError as e:
        raise FileFormatError(f"config file {path!r}: {e}") from None


def _value(v, where: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int) or (hasattr(v, "dtype") and v.dtype.kind in "iu"):
        return str(int(v))
    if isinstance(v, float) or (hasattr(v, "dtype") and v.dtype.kind == "f"):
        f = float(v)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return repr(f)
    if isinstance(v, str):
        return _string(v, where)
    if isinstance(v, (list, tuple)) or (hasattr(v, "tolist") and hasattr(v, "ndim")):
        items = v.tolist() if hasattr(v, "tolist") else v
        return "[" + ", ".join(_value(x, where) for x in items) + "]"
    raise ArgumentTypeError(f"config: cannot write {where} of type {type(v).__name__} to TOML")


_CONTROLS = re.compile("[\x7f-\x9f]")


def _string(s: str, where: str) -> str:
    """A TOML basic string: JSON's escapes (valid in TOML) plus \\u escapes for DEL and the C1 controls.

    >>> print(_string("a\x7fb\x85", "k"))
    "a\\u007fb\\u0085"
    """
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise ArgumentTypeError(f"config: {where} = {ascii(s)} is not UTF-8 text (bytes a file name could not "
                                "decode), which TOML cannot hold") from None
    text = json.dumps(s, ensure_ascii=False)  # escapes '"', '\\' and the C0 controls
    return _CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _key(k: str) -> str:
    k = str(k)
    if k and all(c.isalnum() or c in "_-" for c in k) and k.isascii():
        return k
    return _string(k, "a key")


def dumps(config: dict) -> str:
    """Write nested dicts as TOML: plain keys first, then one ``[table]`` per nested dict (depth first).

    None values are left out (TOML has no null).
    """
    out: list[str] = []

    def table(d: dict, prefix: list[str]) -> None:
        plain = [(k, v) for k, v in d.items() if v is not None and not isinstance(v, dict)]
        nested = [(k, v) for k, v in d.items() if isinstance(v, dict)]
        if prefix and (plain or not nested):
            out.append("[" + ".".join(_key(p) for p in prefix) + "]")
        for k, v in plain:
            out.append(f"{_key(k)} = {_value(v, '.'.join([*prefix, str(k)]))}")
        if prefix and (plain or not nested):
            out.append("")
        for k, v in nested:
            table(v, [*prefix, str(k)])

    table(config, [])
    return "\n".join(out) + ("\n" if out and out[-1] != "" else "")


def check_storable(cfg: dict) -> None:
    """Refuse (ArgumentError) a string that TOML cannot hold: a path with bytes that are not UTF-8 text."""
    for section, table in cfg.items():
        for key, value in (table.items() if isinstance(table, dict) else ()):
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str):
                    try:
                        v.encode("utf-8")
                    except UnicodeEncodeError:
                        raise ArgumentError(f"[{section}] {key} = {ascii(v)}: holds bytes that are not UTF-8 text, "
                                            "so config.toml cannot record it; rename the file or folder") from None


def dump(config: dict, path) -> None:
    """Write ``config`` as TOML to ``path`` atomically (a temporary file renamed into place)."""
    from ._atomic import atomic_write

    with atomic_write(path, mode="w") as f:
        f.write(dumps(config))
