"""Argument checks shared by the model builders of :mod:`chainrule.nn.models`.

Each names the builder (``where``) and the argument, says what came and what was expected, and raises
``ArgumentTypeError`` for a value of the wrong type and ``ArgumentError`` for a value out of range.
"""

from __future__ import annotations

import numpy as np

from ..backend import get_generator
from ..errors import ArgumentError, ArgumentTypeError


def pos_int(where: str, name: str, v) -> int:
    """``v`` as a positive int; floats, bools and strings are refused, not truncated."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ArgumentTypeError(f"{where}: {name} must be a positive integer, got {v!r}")
    if v < 1:
        raise ArgumentError(f"{where}: {name} must be a positive integer, got {v!r}")
    return int(v)


def pos_ints(where: str, name: str, v, min_len: int = 0, length: int | None = None) -> list:
    """``v`` (a list, tuple or 1-D array; never a string) as a list of positive ints."""
    if (isinstance(v, (str, bytes)) or not isinstance(v, (list, tuple, range, np.ndarray))
            or (isinstance(v, np.ndarray) and v.ndim != 1)):
        raise ArgumentTypeError(f"{where}: {name} must be a list of positive integers, got {v!r}")
    out = [pos_int(where, f"{name}[{i}]", s) for i, s in enumerate(v)]
    if length is not None and len(out) != length:
        raise ArgumentError(f"{where}: {name} must hold {length} positive integers, got {len(out)}: {out}")
    if len(out) < min_len:
        raise ArgumentError(f"{where}: {name} must hold at least {min_len} positive integers, got {out}")
    return out


def real(where: str, name: str, v, low: float = 0.0, high: float = np.inf, open_low: bool = False,
          open_high: bool = True) -> float:
    """``v`` as a finite float in [low, high) (bounds as flagged); NaN and inf are refused."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"{where}: {name} must be a number, got {v!r}")
    v = float(v)
    ok = np.isfinite(v) and (v > low if open_low else v >= low) and (v < high if open_high else v <= high)
    if not ok:
        lo, hi = "(" if open_low else "[", ")" if open_high else "]"
        raise ArgumentError(f"{where}: {name} must be a finite number in {lo}{low:g}, {high:g}{hi}, got {v!r}")
    return v


def check_choice(where: str, name: str, v, valid: tuple) -> str:
    if not isinstance(v, str) or v not in valid:
        what = "valid names" if name == "activation" else "valid schemes"
        err = ArgumentError if isinstance(v, str) else ArgumentTypeError
        raise err(f"{where}: unknown {name} {v!r}; {what}: {', '.join(valid)}")
    return v


def as_generator(where: str, generator, name: str = "generator"):
    """One Generator for a whole builder (a seed would restart for every layer), or None for the global one."""
    return None if generator is None else get_generator(generator, where, name)


def sample_shape(where: str, shape, lengths: tuple) -> tuple:
    """One sample's shape: a tuple of positive ints of one of the ``lengths``."""
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (list, tuple, np.ndarray)):
        raise ArgumentTypeError(f"{where}: input_shape must be a tuple of positive integers, e.g. (1, 28, 28) or "
                                f"(64,), got {shape!r}")
    out = tuple(pos_ints(where, "input_shape", shape))
    if len(out) not in lengths:
        want = " or ".join({1: "(F,)", 3: "(C, H, W)"}[n] for n in lengths)
        raise ArgumentError(f"{where}: input_shape must be {want}, got {out}")
    return out
