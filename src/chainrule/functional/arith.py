"""Arithmetic: + - * / ** and unary minus, maximum, minimum, where, clip.

Binary ops broadcast like NumPy; their backward returns gradients of the broadcast shape and the engine
sums them back to each input's shape (``backend.unbroadcast``), so no op here un-broadcasts by hand.
Either side may be a tensor, an array or a Python number (numbers get no gradient).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..errors import ChainruleError, ShapeError


def _shape_of(v) -> tuple:
    return np.shape(v.data if isinstance(v, Tensor) else v)


def _binary(name: str, cls, a, b):
    """Apply a broadcasting op, turning NumPy's broadcast ValueError into a ShapeError with both shapes."""
    try:
        return cls.apply(a, b)
    except ChainruleError:
        raise
    except ValueError:
        sa, sb = _shape_of(a), _shape_of(b)
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise ShapeError(f"{name}: shapes {sa} and {sb} cannot be broadcast together") from None
        raise


class Add(Function):
    """y = a + b;  dL/da = dL/dy,  dL/db = dL/dy."""

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy


class Sub(Function):
    """y = a - b;  dL/da = dL/dy,  dL/db = -dL/dy."""

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        return gy, (-gy if self.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b;  dL/da = dL/dy * b,  dL/db = dL/dy * a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        ga = gy * self.b if self.needs_input_grad[0] else None
        gb = gy * self.a if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """y = a / b;  dL/da = dL/dy / b,  dL/db = -dL/dy * a / b^2 = -dL/dy * y / b."""

    def forward(self, a, b):
        self.b = b
        self.y = a / b
        return self.y

    def backward(self, gy):
        ga = gy / self.b if self.needs_input_grad[0] else None
        gb = -gy * self.y / self.b if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """y = -x;  dL/dx = -dL/dy."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(Function):
    """y = a ** b;  dL/da = dL/dy * b * a^(b-1),  dL/db = dL/dy * y * log(a)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = a**b
        return self.y

    def backward(self, gy):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_input_grad[0]:
            if isinstance(b, (int, float)) and b == 2:
                ga = gy * (2 * a)
            else:
                ga = gy * (b * a ** (b - 1))
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = gy * self.y * np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
        return ga, gb


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
    ga = gy * wa if needs[0] else None
    gb = gy * (1 - wa) if needs[1] else None
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
        inside = np.ones(self.x.shape, dtype=bool)
        if self.lo is not None:
            inside &= self.x >= self.lo
        if self.hi is not None:
            inside &= self.x <= self.hi
        return gy * inside


# --------------------------------------------------------------------------------- the functions
def add(a, b):
    """a + b with broadcasting."""
    return _binary("add", Add, a, b)


def sub(a, b):
    """a - b with broadcasting."""
    return _binary("sub", Sub, a, b)


def mul(a, b):
    """a * b with broadcasting."""
    return _binary("mul", Mul, a, b)


def div(a, b):
    """a / b with broadcasting."""
    return _binary("div", Div, a, b)


def pow(a, b):  # noqa: A001 - the operator's name
    """a ** b with broadcasting."""
    return _binary("pow", Pow, a, b)


def neg(x):
    """-x."""
    return Neg.apply(x)


def maximum(a, b):
    """Elementwise maximum (ties share the gradient equally, as in PyTorch)."""
    return _binary("maximum", Maximum, a, b)


def minimum(a, b):
    """Elementwise minimum (ties share the gradient equally, as in PyTorch)."""
    return _binary("minimum", Minimum, a, b)


def where(cond, a, b):
    """Pick ``a`` where ``cond`` holds and ``b`` elsewhere, broadcasting all three."""
    c = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    if c.dtype != bool:
        c = c.astype(bool)
    try:
        return Where.apply(a, b, cond=c)
    except ChainruleError:
        raise
    except ValueError:
        raise ShapeError(
            f"where: cond {c.shape}, a {_shape_of(a)} and b {_shape_of(b)} cannot be broadcast together"
        ) from None


def clip(x, lo=None, hi=None):
    """Clamp ``x`` into [lo, hi]; the gradient is zero outside."""
    if lo is None and hi is None:
        from ..errors import ArgumentError

        raise ArgumentError("clip: give at least one of lo and hi")
    return Clip.apply(x, lo=lo, hi=hi)
