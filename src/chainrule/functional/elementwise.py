"""Elementwise functions and their derivatives: exp, log, sqrt, abs, tanh, sigmoid, relu, astype.

Each op saves the cheapest thing its derivative needs: exp, sqrt, tanh and sigmoid save their output,
log saves its input, relu saves the boolean mask x > 0.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_operand
from ..backend import get_default_dtype


def float_operand(x):
    """``as_operand(x)``, with bool and integer values as the default float dtype: the input of a function
    whose values are real numbers (exp, log, sqrt, tanh, sigmoid, softmax, mean, ...), which gives
    float32 for an int64 tensor as PyTorch does (NumPy would give float64, or float16 for bool)."""
    x = as_operand(x)
    if x.dtype.kind in "biu":
        x = astype(x, get_default_dtype())
    return x


class Exp(Function):
    """y = exp(x);  dL/dx = dL/dy * y."""

    def forward(self, x):
        self.y = np.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y


class Log(Function):
    """y = log(x);  dL/dx = dL/dy / x."""

    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, gy):
        return gy / self.x


class Sqrt(Function):
    """y = sqrt(x);  dL/dx = dL/dy / (2 y)."""

    def forward(self, x):
        self.y = np.sqrt(x)
        return self.y

    def backward(self, gy):
        return gy / (2 * self.y)


class Abs(Function):
    """y = |x|;  dL/dx = dL/dy * sign(x)  (0 at x = 0, as in PyTorch)."""

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, gy):
        return gy * np.sign(self.x)


class Tanh(Function):
    """y = tanh(x) = (e^x - e^-x) / (e^x + e^-x);  dL/dx = dL/dy * (1 - y^2)."""

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: exp is only ever taken of -|x| <= 0.

    For x >= 0 it is 1 / (1 + e), for x < 0 it is e / (1 + e), with e = exp(-|x|) in (0, 1].
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dL/dx = dL/dy * y * (1 - y)."""

    def forward(self, x):
        self.y = stable_sigmoid(x)
        return self.y

    def backward(self, gy):
        return gy * self.y * (1 - self.y)


def maximum0(x: np.ndarray) -> np.ndarray:
    """max(x, 0) elementwise, the same as ``np.maximum(x, 0)`` (NaN stays NaN), about twice as fast.

    NumPy's SIMD loop for ``maximum`` covers two contiguous arrays, not an array and a scalar, so a
    contiguous x is viewed as rows of 256 and compared with one row of zeros (broadcast down the rows).

    >>> maximum0(np.array([-1.0, 0.5, np.nan])).tolist()[:2]
    [0.0, 0.5]
    """
    if x.flags.c_contiguous and x.size % 256 == 0 and x.size:
        y = np.empty_like(x)
        np.maximum(x.reshape(-1, 256), np.zeros(256, x.dtype), out=y.reshape(-1, 256))
        return y
    return np.maximum(x, 0)


_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def masked_grad(gy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """dL/dy * w for the weight w of an input that a ReLU, a clip or a max picked: a bool mask, or 0, 1/2
    (ties) and 1.

    Where w is 0, the result is 0 even when dL/dy is inf or NaN, as in PyTorch: an input that was not
    picked had no part in y, and inf * 0 would be NaN (sqrt(relu(x)) at x = 0 sends an inf). For a bool
    mask the product is taken on the bits: gy's bit pattern times 1 or 0, an integer product that keeps
    gy exactly or gives +0.0, as fast as the float product (``np.where`` is ten times slower). For other
    weights one max-reduce of the product looks for a NaN, and only then are the unpicked places set to 0.

    >>> masked_grad(np.array([np.inf, 2.0, np.nan]), np.array([False, True, True])).tolist()[:2]
    [0.0, 2.0]
    >>> masked_grad(np.array([np.inf, 2.0, np.inf]), np.array([0.0, 1.0, 0.5])).tolist()
    [0.0, 2.0, inf]
    """
    u = _UINT.get(gy.dtype.itemsize) if gy.dtype.kind == "f" else None
    if w.dtype == bool and u is not None:
        return (gy.view(u) * w).view(gy.dtype)
    with np.errstate(invalid="ignore"):  # inf * 0, repaired below
        g = gy * w
    if g.size and np.isnan(np.maximum.reduce(g, axis=None)):
        g = np.where(w != 0, g, 0)
    return g


class ReLU(Function):
    """y = max(x, 0);  dL/dx = dL/dy * [x > 0]."""

    def forward(self, x):
        if self.needs_input_grad[0]:  # no mask when nothing will ask for the gradient (no_grad, inference)
            self.mask = x > 0
        return maximum0(x)

    def backward(self, gy):
        return masked_grad(gy, self.mask)


class AsType(Function):
    """y = x converted to another dtype;  dL/dx = dL/dy converted back (the engine casts)."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy


def exp(x):
    """Exponential e^x, elementwise.

    Math
    ----
    y = exp(x);  dL/dx = dL/dy * exp(x) = dL/dy * y  (the op saves y; see :class:`Exp`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
        Floating point for a gradient; numbers and lists become the default dtype (float32).

    Returns
    -------
    Tensor of x's shape; a floating x keeps its dtype (float32 stays float32).

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> y = cr.exp(x)
    >>> y.sum().backward()
    >>> y.numpy().round(4), x.grad.round(4)
    (array([1.    , 2.7183], dtype=float32), array([1.    , 2.7183], dtype=float32))
    """
    return Exp.apply(float_operand(x))


def log(x):
    """Natural logarithm log(x), elementwise (x > 0; log(0) = -inf).

    Math
    ----
    y = log(x);  dL/dx = dL/dy / x  (the op saves x; see :class:`Log`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
        Floating point for a gradient; numbers and lists become the default dtype (float32).

    Returns
    -------
    Tensor of x's shape; a floating x keeps its dtype (float32 stays float32).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 4.0], requires_grad=True)
    >>> y = cr.log(x)
    >>> y.sum().backward()
    >>> y.numpy().round(4), x.grad
    (array([0.    , 1.3863], dtype=float32), array([1.  , 0.25], dtype=float32))
    """
    return Log.apply(float_operand(x))


def sqrt(x):
    """Square root sqrt(x), elementwise (x >= 0; the gradient is infinite at 0).

    Math
    ----
    y = sqrt(x);  dL/dx = dL/dy / (2 sqrt(x)) = dL/dy / (2 y)  (the op saves y; see :class:`Sqrt`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
        Floating point for a gradient; numbers and lists become the default dtype (float32).

    Returns
    -------
    Tensor of x's shape; a floating x keeps its dtype (float32 stays float32).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 4.0], requires_grad=True)
    >>> y = cr.sqrt(x)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([1., 2.], grad_fn=Sqrt), array([0.5 , 0.25], dtype=float32))
    """
    return Sqrt.apply(float_operand(x))


def abs(x):  # noqa: A001 - the function's name
    """Absolute value |x|, elementwise.

    Math
    ----
    y = |x|;  dL/dx = dL/dy * sign(x)  (0 at x = 0, as in PyTorch; see :class:`Abs`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
        Floating point for a gradient; numbers and lists become the default dtype (float32).

    Returns
    -------
    Tensor of x's shape; a floating x keeps its dtype (float32 stays float32).

    >>> import chainrule as cr
    >>> x = cr.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    >>> y = cr.abs(x)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([2., 0., 3.], grad_fn=Abs), array([-1.,  0.,  1.], dtype=float32))
    """
    return Abs.apply(as_operand(x))


def tanh(x):
    """Hyperbolic tangent, elementwise: squashes any x into (-1, 1).

    Math
    ----
    y = tanh(x) = (e^x - e^-x) / (e^x + e^-x);  dL/dx = dL/dy * (1 - y^2)  (the op saves y; see :class:`Tanh`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
        Floating point for a gradient; numbers and lists become the default dtype (float32).

    Returns
    -------
    Tensor of x's shape; a floating x keeps its dtype (float32 stays float32).

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> y = cr.tanh(x)
    >>> y.sum().backward()
    >>> y.numpy().round(4), x.grad.round(4)
    (array([0.    , 0.7616], dtype=float32), array([1.  , 0.42], dtype=float32))
    """
    return Tanh.apply(float_operand(x))


def sigmoid(x):
    """Logistic sigmoid, elementwise: squashes any x into (0, 1), without overflow (|x| = 1e4 is fine).

    Math
    ----
    y = 1 / (1 + exp(-x));  dL/dx = dL/dy * y * (1 - y)  (the op saves y; see :class:`Sigmoid`).
    exp is only ever taken of -|x| <= 0: y = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, e = exp(-|x|).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
        Floating point for a gradient; numbers and lists become the default dtype (float32).

    Returns
    -------
    Tensor of x's shape; a floating x keeps its dtype (float32 stays float32).

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 2.0], requires_grad=True)
    >>> y = cr.sigmoid(x)
    >>> y.sum().backward()
    >>> y.numpy().round(4), x.grad.round(4)
    (array([0.5   , 0.8808], dtype=float32), array([0.25 , 0.105], dtype=float32))
    """
    return Sigmoid.apply(float_operand(x))


def relu(x):
    """Rectified linear unit max(x, 0), elementwise.

    Math
    ----
    y = max(x, 0);  dL/dx = dL/dy * [x > 0]  (0 at x = 0, as in PyTorch; the op saves the mask x > 0;
    see :class:`ReLU`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
        Floating point for a gradient; numbers and lists become the default dtype (float32).

    Returns
    -------
    Tensor of x's shape; a floating x keeps its dtype (float32 stays float32).

    >>> import chainrule as cr
    >>> x = cr.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> y = cr.relu(x)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([0., 0., 2.], grad_fn=ReLU), array([0., 0., 1.], dtype=float32))
    """
    return ReLU.apply(as_operand(x))


def astype(x, dtype):
    """Convert to ``dtype``; gradients flow back in the input's dtype.

    A cast to an integer or bool dtype is not differentiable (rounding has derivative 0 almost
    everywhere): its result needs no gradient.

    Math
    ----
    y = x (in the new dtype);  dL/dx = dL/dy (cast back to x's dtype by the engine; see :class:`AsType`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    dtype : NumPy dtype or its name, e.g. ``np.float64`` or ``"float32"``

    >>> import chainrule as cr, numpy as np
    >>> x = cr.tensor([1.5, 2.0], requires_grad=True)
    >>> y = cr.functional.astype(x, np.float64)
    >>> (y * y).sum().backward()
    >>> y.dtype, x.grad
    (dtype('float64'), array([3., 4.], dtype=float32))
    """
    x = as_operand(x)
    dt = np.dtype(dtype)
    if dt.kind not in "fc":
        return Tensor._wrap((x.data if isinstance(x, Tensor) else x).astype(dt), False, None, 0)
    return AsType.apply(x, dtype=dt)
