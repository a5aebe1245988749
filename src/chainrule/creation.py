"""Making tensors: ``tensor``, ``from_numpy`` and the constructors ``zeros ones full randn rand arange eye``.

Random constructors draw from chainrule's global generator (seeded by ``cr.manual_seed``) unless a
``generator`` is passed.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .autograd.tensor import Tensor, _as_array
from .errors import ArgumentTypeError


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"shape must be integers, got {shape!r}") from None


def _dt(dtype):
    return np.dtype(dtype) if dtype is not None else backend.get_default_dtype()


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``.

    NumPy arrays keep their dtype; Python numbers and lists get the default dtype (float32).

    >>> import chainrule as cr, numpy as np
    >>> cr.tensor([1, 2]).dtype, cr.tensor(np.arange(2)).dtype
    (dtype('float32'), dtype('int64'))
    """
    return Tensor(_as_array(data, dtype, copy=True), requires_grad=requires_grad)


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array ``a`` (no copy)."""
    if not isinstance(a, np.ndarray):
        raise ArgumentTypeError(f"from_numpy: expected a NumPy array, got {type(a).__name__}")
    return Tensor(a)


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype=_dt(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype=_dt(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.full(_shape((shape,)), fill_value, dtype=_dt(dtype)), requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    a = t.data if isinstance(t, Tensor) else np.asarray(t)
    return Tensor(np.zeros_like(a, dtype=dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    a = t.data if isinstance(t, Tensor) else np.asarray(t)
    return Tensor(np.ones_like(a, dtype=dtype), requires_grad=requires_grad)


def randn(*shape, dtype=None, requires_grad: bool = False, generator=None) -> Tensor:
    """Standard normal draws N(0, 1)."""
    g = backend.get_generator(generator)
    return Tensor(g.standard_normal(_shape(shape)).astype(_dt(dtype)), requires_grad=requires_grad)


def rand(*shape, dtype=None, requires_grad: bool = False, generator=None) -> Tensor:
    """Uniform draws on [0, 1)."""
    g = backend.get_generator(generator)
    return Tensor(g.random(_shape(shape)).astype(_dt(dtype)), requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop); integers stay int64 unless a dtype is given."""
    a = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is not None:
        a = a.astype(dtype)
    elif a.dtype.kind == "f":
        a = a.astype(backend.get_default_dtype())
    return Tensor(a, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.eye(n, m, dtype=_dt(dtype)), requires_grad=requires_grad)
