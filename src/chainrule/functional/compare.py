"""Comparisons: maximum, minimum, where and clip, whose gradient goes to the input that was picked.

Like the arithmetic ops (:mod:`chainrule.functional.arith`, which re-exports these), they broadcast like
NumPy, promote dtypes as PyTorch does and leave un-broadcasting to the engine.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_operand
from ..errors import ArgumentTypeError, ChainruleError, ShapeError
from ._promote import _binary, _shape_of, promote
from .elementwise import float_operand, masked_grad


class Maximum(Function):
    """y = max(a, b);  the gradient goes to the larger input, split in half where they tie."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, gy):
        return _split_ties(gy, self.a > self.b, self.a == self.b, self.needs_input_grad)


class Minimum(Function):
    """y = min(a, b);  the gradient goes to the smaller input, split in half where they tie."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, gy):
        return _split_ties(gy, self.a < self.b, self.a == self.b, self.needs_input_grad)


def _split_ties(gy, a_wins, tie, needs):
    wa = a_wins + 0.5 * tie  # 1 where a wins, 1/2 on ties, 0 where b wins
    ga = masked_grad(gy, wa) if needs[0] else None
    gb = masked_grad(gy, 1 - wa) if needs[1] else None
    return ga, gb


class Where(Function):
    """y = a where cond else b;  dL/da = dL/dy where cond, dL/db = dL/dy elsewhere."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return np.where(self.cond, a, b)

    def backward(self, gy):
        zero = np.zeros((), dtype=gy.dtype)
        ga = np.where(self.cond, gy, zero) if self.needs_input_grad[0] else None
        gb = np.where(self.cond, zero, gy) if self.needs_input_grad[1] else None
        return ga, gb


class Clip(Function):
    """y = min(max(x, lo), hi);  dL/dx = dL/dy where lo <= x <= hi, else 0."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        self.x = x
        return np.clip(x, self.lo, self.hi)

    def backward(self, gy):
        # not in place: an array bound may broadcast x to a bigger shape, and the mask takes that shape
        inside = self.x >= self.lo if self.lo is not None else None
        if self.hi is not None:
            below = self.x <= self.hi
            inside = below if inside is None else inside & below
        return masked_grad(gy, inside)


# --------------------------------------------------------------------------------- the functions
def maximum(a, b):
    """Elementwise maximum max(a, b) with broadcasting; ties share the gradient equally, as in PyTorch.

    Math
    ----
    y = max(a, b);  dL/da = dL/dy * w,  dL/db = dL/dy * (1 - w),
    w = 1 where a > b, 1/2 where a = b, 0 where a < b  (see :class:`Maximum`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 5.0, 2.0], requires_grad=True)
    >>> y = cr.maximum(a, 2.0)
    >>> y.sum().backward()
    >>> y, a.grad
    (tensor([2., 5., 2.], grad_fn=Maximum), array([0. , 1. , 0.5], dtype=float32))
    """
    return _binary("maximum", Maximum, a, b)


def minimum(a, b):
    """Elementwise minimum min(a, b) with broadcasting; ties share the gradient equally, as in PyTorch.

    Math
    ----
    y = min(a, b);  dL/da = dL/dy * w,  dL/db = dL/dy * (1 - w),
    w = 1 where a < b, 1/2 where a = b, 0 where a > b  (see :class:`Minimum`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 5.0, 2.0], requires_grad=True)
    >>> y = cr.minimum(a, 2.0)
    >>> y.sum().backward()
    >>> y, a.grad
    (tensor([1., 2., 2.], grad_fn=Minimum), array([1. , 0. , 0.5], dtype=float32))
    """
    return _binary("minimum", Minimum, a, b)


def where(cond, a, b):
    """Pick ``a`` where ``cond`` holds and ``b`` elsewhere, broadcasting all three.

    Math
    ----
    y = a where cond else b;  dL/da = dL/dy where cond else 0,  dL/db = dL/dy where not cond else 0
    (``cond`` gets no gradient; see :class:`Where`).

    Parameters
    ----------
    cond : boolean Tensor, array or list (other dtypes are tested for != 0)
    a, b : Tensor, array, number or nested list
        cond, a and b must broadcast together; a and b are promoted as for ``+``.

    Returns
    -------
    Tensor of the broadcast shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = cr.where(a.numpy() > 1.5, a, 0.0)
    >>> y.sum().backward()
    >>> y, a.grad
    (tensor([0., 2., 3.], grad_fn=Where), array([0., 1., 1.], dtype=float32))
    """
    c = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    if c.dtype != bool:
        c = c.astype(bool)
    a, b = promote(a, b)  # where(mask, 1.0, 0.0) is float32, as in PyTorch
    try:
        return Where.apply(a, b, cond=c)
    except ChainruleError:
        raise
    except ValueError:
        raise ShapeError(
            f"where: cond {c.shape}, a {_shape_of(a)} and b {_shape_of(b)} cannot be broadcast together"
        ) from None


def _bound(v, x, name: str):
    """A clip bound as a number or an array in x's dtype (bounds get no gradient)."""
    if v is None:
        return None
    v = v.data if isinstance(v, Tensor) else v
    if isinstance(v, np.generic) or (isinstance(v, np.ndarray) and v.ndim == 0):
        v = v.item()
    if isinstance(v, (list, tuple)):
        v = np.asarray(v)
    if isinstance(v, np.ndarray):
        xd = x.data if isinstance(x, Tensor) else x
        if v.dtype.kind not in "biuf":
            raise ArgumentTypeError(f"clip: {name} must be a number or a numeric array, got dtype {v.dtype}")
        try:
            np.broadcast_shapes(v.shape, xd.shape)
        except ValueError:
            raise ShapeError(f"clip: {name} of shape {v.shape} does not broadcast with the input's shape "
                             f"{xd.shape}") from None
        return v.astype(xd.dtype, copy=False) if xd.dtype.kind == "f" else v
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ArgumentTypeError(f"clip: {name} must be a number, an array or None, got {type(v).__name__}")
    return v


def clip(x, lo=None, hi=None):
    """Clamp ``x`` into [lo, hi]; the gradient is zero outside.

    Math
    ----
    y = min(max(x, lo), hi);  dL/dx = dL/dy where lo <= x <= hi, else 0  (see :class:`Clip`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    lo, hi : number, array, Tensor or None
        The bounds (at least one given): numbers, or arrays/tensors that broadcast with x. They get no
        gradient; None means no bound on that side.

    Returns
    -------
    Tensor of x's shape (broadcast with array bounds) and dtype; an integer x with a floating-point bound
    gives the default float dtype, as in PyTorch.

    >>> import chainrule as cr
    >>> x = cr.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    >>> y = cr.clip(x, -1, 1)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([-1. ,  0.5,  1. ], grad_fn=Clip), array([0., 1., 0.], dtype=float32))
    """
    if lo is None and hi is None:
        from ..errors import ArgumentError

        raise ArgumentError("clip: give at least one of lo and hi")
    x = as_operand(x)
    if x.dtype.kind in "biu" and (_is_float(lo) or _is_float(hi)):
        x = float_operand(x)  # as PyTorch: an integer tensor clipped at 0.5 gives the default float dtype
    return Clip.apply(x, lo=_bound(lo, x, "lo"), hi=_bound(hi, x, "hi"))


def _is_float(v) -> bool:
    """Whether a clip bound holds floating-point numbers (a Python float, a float array or Tensor)."""
    if isinstance(v, float):
        return True
    v = v.data if isinstance(v, Tensor) else v
    return isinstance(v, (np.ndarray, np.generic, list, tuple)) and np.asarray(v).dtype.kind == "f"
