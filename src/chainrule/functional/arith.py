"""Arithmetic: + - * / ** and unary minus (maximum, minimum, where and clip live in ``compare.py``).

Binary ops broadcast like NumPy; their backward returns gradients of the broadcast shape and the engine
sums them back to each input's shape (``backend.unbroadcast``), so no op here un-broadcasts by hand.
Either side may be a tensor, an array or a Python number (numbers get no gradient); ``_promote.py``
gives the result PyTorch's dtype. The names of ``compare.py`` and ``promote`` are re-exported here.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_operand
from ..errors import DTypeError
from . import elementwise as _elementwise
from ._promote import _binary, _same_kind_fast, promote  # noqa: F401  (re-exported)
from .compare import (  # noqa: F401  (re-exported)
    Clip,
    Maximum,
    Minimum,
    Where,
    clip,
    maximum,
    minimum,
    where,
)


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
    """y = a ** b;  dL/da = dL/dy * b * a^(b-1)  (0 where b = 0: a^0 = 1 is constant, even at a = 0),
    dL/db = dL/dy * y * log(a)  (as PyTorch: 0 where a = 0 and b >= 0; -inf where a = 0 and b < 0;
    NaN where a < 0, as log(a) is undefined there)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = a**b
        return self.y

    def backward(self, gy):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_input_grad[0]:
            if isinstance(b, (int, float)):
                if b == 0:
                    ga = np.zeros_like(gy)
                elif b == 2:
                    ga = gy * (2 * a)
                else:
                    ga = gy * (b * a ** (b - 1))
            else:  # b an array: 0 * 0^(-1) = 0 * inf must give 0 where b = 0, not NaN
                with np.errstate(divide="ignore", invalid="ignore"):
                    ga = gy * np.where(b == 0, 0, b * a ** (b - 1))
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = gy * np.where((a == 0) & (b >= 0), 0, self.y * np.log(a))
        return ga, gb


# --------------------------------------------------------------------------------- the functions
def add(a, b):
    """Elementwise sum a + b with broadcasting (the ``+`` operator).

    Math
    ----
    y = a + b;  dL/da = dL/dy,  dL/db = dL/dy  (see :class:`Add`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = cr.functional.add(a, 10)
    >>> y.sum().backward()
    >>> y, a.grad
    (tensor([11., 12.], grad_fn=Add), array([1., 1.], dtype=float32))
    """
    return _binary("add", Add, a, b)


def sub(a, b):
    """Elementwise difference a - b with broadcasting (the ``-`` operator).

    Math
    ----
    y = a - b;  dL/da = dL/dy,  dL/db = -dL/dy  (see :class:`Sub`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> b = cr.tensor([0.5], requires_grad=True)
    >>> y = cr.functional.sub(a, b)
    >>> y.sum().backward()
    >>> y, a.grad, b.grad
    (tensor([0.5, 1.5], grad_fn=Sub), array([1., 1.], dtype=float32), array([-2.], dtype=float32))
    """
    return _binary("sub", Sub, a, b)


def mul(a, b):
    """Elementwise product a * b with broadcasting (the ``*`` operator).

    Math
    ----
    y = a * b;  dL/da = dL/dy * b,  dL/db = dL/dy * a  (see :class:`Mul`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> b = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> y = cr.functional.mul(a, b)
    >>> y.sum().backward()
    >>> y, a.grad, b.grad
    (tensor([3., 8.], grad_fn=Mul), array([3., 4.], dtype=float32), array([1., 2.], dtype=float32))
    """
    return _binary("mul", Mul, a, b)


def div(a, b):
    """Elementwise quotient a / b with broadcasting (the ``/`` operator).

    Math
    ----
    y = a / b;  dL/da = dL/dy / b,  dL/db = -dL/dy * a / b^2 = -dL/dy * y / b  (see :class:`Div`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 6.0], requires_grad=True)
    >>> b = cr.tensor([2.0, 4.0], requires_grad=True)
    >>> y = cr.functional.div(a, b)
    >>> y.sum().backward()
    >>> y, a.grad, b.grad
    (tensor([0.5, 1.5], grad_fn=Div), array([0.5 , 0.25], dtype=float32), array([-0.25 , -0.375], dtype=float32))
    >>> import numpy as np
    >>> (cr.tensor(np.array([1, 2])) / 2).dtype  # true division of integers: the default float dtype
    dtype('float32')
    """
    if not _same_kind_fast(a, b) or _typed_kind(a, b) in "biu":
        a, b = promote(a, b)
        if _typed_kind(a, b) in "biu":
            a, b = (_elementwise.float_operand(v) if isinstance(v, (Tensor, np.ndarray)) else v for v in (a, b))
    return _binary("div", Div, a, b)


def _typed_kind(a, b) -> str:
    """The dtype kind of promoted operands (all typed ones share one dtype; numbers alone became arrays)."""
    return (a if isinstance(a, (Tensor, np.ndarray)) else b).dtype.kind


def pow(a, b):  # noqa: A001 - the operator's name
    """Elementwise power a ** b with broadcasting (the ``**`` operator).

    Math
    ----
    y = a ** b;  dL/da = dL/dy * b * a^(b-1)  (0 where b = 0),
    dL/db = dL/dy * y * log(a)  (0 where a = 0 and b >= 0; NaN where a < 0; see :class:`Pow`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = cr.functional.pow(a, 2)
    >>> y.sum().backward()
    >>> y, a.grad
    (tensor([1., 4., 9.], grad_fn=Pow), array([2., 4., 6.], dtype=float32))
    """
    if not _same_kind_fast(a, b) or _typed_kind(a, b) in "iu":
        a, b = promote(a, b)
        if _typed_kind(a, b) in "iu" and np.any((b.data if isinstance(b, Tensor) else np.asarray(b)) < 0):
            raise DTypeError("pow: integers to negative integer powers are not allowed (the result is not an "
                             "integer); make the base float first, e.g. x.astype(np.float32)")
    return _binary("pow", Pow, a, b)


def neg(x):
    """Elementwise negation -x (the unary ``-`` operator).

    Math
    ----
    y = -x;  dL/dx = -dL/dy  (see :class:`Neg`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape

    Returns
    -------
    Tensor of x's shape and dtype.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> y = cr.functional.neg(x)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([-1.,  2.], grad_fn=Neg), array([-1., -1.], dtype=float32))
    """
    x = as_operand(x)
    if x.dtype == bool:
        raise DTypeError("neg: the - operator on a bool tensor is not supported (as in PyTorch); "
                         "use ~ for logical not, or convert it to a number dtype first")
    return Neg.apply(x)
