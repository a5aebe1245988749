"""Making tensors: ``tensor``, ``from_numpy`` and the constructors ``zeros ones full randn rand arange eye``.

Random constructors draw from chainrule's global generator (seeded by ``cr.manual_seed``) unless a
``generator`` is passed.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import backend
from .autograd.tensor import Tensor, _as_array
from .errors import ArgumentError, ArgumentTypeError, DTypeError


def _shape(shape) -> tuple:
    return backend.shape_tuple(shape)


def _dt(dtype, floating: bool = False, what: str = "dtype"):
    """The dtype asked for (the default when None); ``floating``: only float dtypes (random draws)."""
    dt = backend.as_dtype(dtype, what) if dtype is not None else backend.get_default_dtype()
    if floating and dt.kind != "f":
        raise DTypeError(f"{what}: random draws need a floating dtype, got {dt}")
    return dt


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``.

    NumPy arrays keep their dtype; Python numbers and lists get the default dtype (float32).

    >>> import chainrule as cr, numpy as np
    >>> cr.tensor([1, 2]).dtype, cr.tensor(np.arange(2)).dtype
    (dtype('float32'), dtype('int64'))
    """
    return Tensor(_as_array(data, dtype, copy=True), requires_grad=requires_grad)


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array ``a`` (no copy; the dtype is kept).

    >>> import chainrule as cr, numpy as np
    >>> a = np.zeros(2)
    >>> t = cr.from_numpy(a)
    >>> a[0] = 7.0
    >>> t
    tensor([7., 0.], dtype=float64)
    """
    if not isinstance(a, np.ndarray):
        raise ArgumentTypeError(f"from_numpy: expected a NumPy array, got {type(a).__name__}")
    if a.dtype.kind not in "biuf":
        raise DTypeError(f"from_numpy: the array must hold booleans, integers or floats, got dtype {a.dtype}")
    return Tensor(a)


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of ``shape`` (ints, or one tuple), in ``dtype`` (default: the default dtype).

    >>> import chainrule as cr
    >>> cr.zeros(2, 3).shape, cr.zeros((2,), dtype="int64")
    ((2, 3), tensor([0, 0], dtype=int64))
    """
    return Tensor(np.zeros(_shape(shape), dtype=_dt(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of ``shape`` (ints, or one tuple), in ``dtype`` (default: the default dtype).

    >>> import chainrule as cr
    >>> cr.ones(2)
    tensor([1., 1.])
    """
    return Tensor(np.ones(_shape(shape), dtype=_dt(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` (an int or a tuple) filled with the real number ``fill_value``.

    >>> import chainrule as cr
    >>> cr.full((2, 2), 0.5)
    tensor([[0.5, 0.5],
            [0.5, 0.5]])
    """
    if not isinstance(fill_value, (numbers.Number, np.number, np.bool_)) or isinstance(fill_value, complex):
        raise ArgumentTypeError(f"full: fill_value must be a real number, got {type(fill_value).__name__} "
                                f"{fill_value!r}")
    return Tensor(np.full(_shape((shape,)), fill_value, dtype=_dt(dtype)), requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros of the shape and dtype of ``t`` (a Tensor, array or list), unless ``dtype`` is given."""
    a = t.data if isinstance(t, Tensor) else _as_array(t)
    return Tensor(np.zeros_like(a, dtype=None if dtype is None else _dt(dtype, what="zeros_like")),
                  requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones of the shape and dtype of ``t`` (a Tensor, array or list), unless ``dtype`` is given."""
    a = t.data if isinstance(t, Tensor) else _as_array(t)
    return Tensor(np.ones_like(a, dtype=None if dtype is None else _dt(dtype, what="ones_like")),
                  requires_grad=requires_grad)


def randn(*shape, dtype=None, requires_grad: bool = False, generator=None) -> Tensor:
    """Standard normal draws N(0, 1) of ``shape``, from ``generator`` or the global one (``cr.manual_seed``)."""
    g = backend.get_generator(generator)
    return Tensor(g.standard_normal(_shape(shape)).astype(_dt(dtype, True, "randn")), requires_grad=requires_grad)


def rand(*shape, dtype=None, requires_grad: bool = False, generator=None) -> Tensor:
    """Uniform draws on [0, 1) of ``shape``, from ``generator`` or the global one (``cr.manual_seed``)."""
    g = backend.get_generator(generator)
    return Tensor(g.random(_shape(shape)).astype(_dt(dtype, True, "rand")), requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop) (``arange(stop)``: from 0), as NumPy's ``arange``; integers stay
    int64 unless a dtype is given.

    >>> import chainrule as cr
    >>> cr.arange(10, step=3).tolist(), cr.arange(1.0, 2.0, 0.5).tolist()
    ([0, 3, 6, 9], [1.0, 1.5])
    """
    if stop is None:
        start, stop = 0, start
    for name, v in (("start", start), ("stop", stop), ("step", step)):
        if (isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))
                or (isinstance(v, (float, np.floating)) and not np.isfinite(v))):
            raise ArgumentTypeError(f"arange: {name} must be a finite number, got {v!r}")
    if step == 0:
        raise ArgumentError("arange: step must not be 0")
    try:
        a = np.arange(start, stop, step)
    except (OverflowError, ValueError) as e:  # beyond int64, or more elements than an array can hold
        raise ArgumentError(f"arange({start}, {stop}, {step}): {e}") from None
    if dtype is not None:
        a = a.astype(_dt(dtype, what="arange"))
    elif a.dtype.kind == "f":
        a = a.astype(backend.get_default_dtype())
    return Tensor(a, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """The identity matrix, n x n (or n x m)."""
    n, m = _shape((n, n if m is None else m))
    return Tensor(np.eye(n, m, dtype=_dt(dtype)), requires_grad=requires_grad)
