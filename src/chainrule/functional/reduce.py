"""Reductions: sum, mean, var, max, min (with gradients) and argmax, argmin (without).

A reduction's backward puts the reduced axes back (as size-1 axes) and broadcasts the incoming
gradient over them: every element that fed a sum receives the sum's gradient.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_operand
from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from .elementwise import float_operand


def normalize_axis(axis, ndim: int, op: str = "reduction") -> tuple | None:
    """``axis`` (None, an int or a tuple of ints, negatives allowed) as a sorted tuple of non-negatives."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    if not isinstance(axes, (tuple, list)) or not all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
        raise ArgumentTypeError(f"{op}: axis must be None, an int or a tuple of ints, got {axis!r}")
    out = []
    for a in axes:
        a = int(a)
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    # a 0-d tensor has no axes: axis 0 or -1 are accepted, as PyTorch does, and mean none (the op is the identity)
    return tuple(sorted(out)) if ndim else ()


def covers_nothing(shape: tuple, axes) -> bool:
    """True when a reduction over ``axes`` (normalised; None: all) has no element to reduce: an empty axis
    among them. An empty tensor reduced over its other axes gives an empty result, which is fine."""
    return any(n == 0 for n in shape) if axes is None else any(shape[a] == 0 for a in axes)


def _expand(g: np.ndarray, axes, keepdims: bool, shape: tuple) -> np.ndarray:
    """Put the reduced axes back as size 1 (unless kept) and broadcast to ``shape``."""
    if axes is None:
        g = np.reshape(g, (1,) * len(shape))
    elif not keepdims:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


def _count(shape: tuple, axes) -> int:
    if axes is None:
        return int(np.prod(shape))
    return int(np.prod([shape[a] for a in axes]))


class Sum(Function):
    """y = sum_i x_i over ``axis``;  dL/dx_i = dL/dy (broadcast back over the reduced axes)."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        return np.sum(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        return _expand(gy, self.axis, self.keepdims, self.shape)


class Mean(Function):
    """y = (1/n) sum_i x_i over ``axis``;  dL/dx_i = dL/dy / n."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        return np.mean(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        n = _count(self.shape, self.axis)
        return _expand(gy / n, self.axis, self.keepdims, self.shape)


class Var(Function):
    """y = sum_i (x_i - mean)^2 / (n - ddof);  dL/dx_i = dL/dy * 2 (x_i - mean) / (n - ddof)."""

    def __init__(self, axis=None, keepdims=False, ddof=0):
        self.axis, self.keepdims, self.ddof = axis, keepdims, ddof

    def forward(self, x):
        self.centered = x - np.mean(x, axis=self.axis, keepdims=True)
        self.n = _count(x.shape, self.axis) - self.ddof
        sq = np.sum(self.centered * self.centered, axis=self.axis, keepdims=self.keepdims)
        return sq / self.n

    def backward(self, gy):
        if self.n == 0:  # an empty reduced axis: x has no element to receive a gradient
            return np.zeros_like(self.centered)
        g = _expand(gy, self.axis, self.keepdims, self.centered.shape)
        return g * self.centered * (2.0 / self.n)


class _Extremum(Function):
    """Shared backward of max and min: the gradient is shared equally by the elements that attain it."""

    reduce = staticmethod(np.max)

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x = x
        self.y = type(self).reduce(x, axis=self.axis, keepdims=True)
        return self.y if self.keepdims else _drop(self.y, self.axis)

    def backward(self, gy):
        hit = self.x == self.y
        if np.isnan(self.y).any():  # a NaN maximum: the NaNs share the gradient (x == NaN is never true)
            hit |= np.isnan(self.x) & np.isnan(self.y)
        count = np.sum(hit, axis=self.axis, keepdims=True)
        g = _expand(gy, self.axis, self.keepdims, self.y.shape) if not self.keepdims else gy
        return hit * (g / count)


def _drop(y, axes):
    return y.reshape(()) if axes is None else np.squeeze(y, axis=axes)


class Max(_Extremum):
    """y = max_i x_i over ``axis``;  dL/dx_i = dL/dy / k where x_i is one of the k maxima, else 0."""

    reduce = staticmethod(np.max)


class Min(_Extremum):
    """y = min_i x_i over ``axis``;  dL/dx_i = dL/dy / k where x_i is one of the k minima, else 0."""

    reduce = staticmethod(np.min)


def _reduce(cls, name, x, axis, keepdims, **kw):
    x = float_operand(x) if cls in (Mean, Var) else as_operand(x)
    data = x.data if isinstance(x, Tensor) else x
    axes = normalize_axis(axis, data.ndim, name)
    if cls in (Max, Min) and covers_nothing(data.shape, axes):
        raise ShapeError(f"{name}: cannot take the {name} over an empty axis (tensor of shape {data.shape}, "
                         f"axis {axis!r})")
    return cls.apply(x, axis=axes, keepdims=bool(keepdims), **kw)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    """Sum of the elements over ``axis`` (None: all).

    Math
    ----
    y = sum_i x_i over the reduced axes;  dL/dx_i = dL/dy  (broadcast back over them; see :class:`Sum`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    axis : None, int or tuple of ints
        The axes to reduce (negatives count from the end); None reduces over all of them.
    keepdims : bool
        Keep the reduced axes as size 1, so the result broadcasts against x.

    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = cr.sum(x, axis=0)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([4., 6.], grad_fn=Sum), array([[1., 1.],
           [1., 1.]], dtype=float32))
    """
    y = _reduce(Sum, "sum", x, axis, keepdims)
    if y.data.dtype.kind == "u" and np.asarray(x.data if isinstance(x, Tensor) else x).dtype.itemsize < 8:
        y = Tensor(y.data.astype(np.int64))  # NumPy sums uint8 into uint64, PyTorch into int64
    return y


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean of the elements over ``axis`` (None: all).

    Math
    ----
    y = (1/n) sum_i x_i over the n reduced elements;  dL/dx_i = dL/dy / n  (see :class:`Mean`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    axis : None, int or tuple of ints
        The axes to reduce (negatives count from the end); None reduces over all of them.
    keepdims : bool
        Keep the reduced axes as size 1, so the result broadcasts against x.

    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = cr.mean(x, axis=1)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([1.5, 3.5], grad_fn=Mean), array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32))
    """
    return _reduce(Mean, "mean", x, axis, keepdims)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom (0: the biased, population form).

    Math
    ----
    m = (1/n) sum_i x_i;  y = sum_i (x_i - m)^2 / (n - ddof);
    dL/dx_i = dL/dy * 2 (x_i - m) / (n - ddof)  (the terms through m sum to 0; see :class:`Var`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    axis : None, int or tuple of ints
        The axes to reduce (negatives count from the end); None reduces over all of them.
    keepdims : bool
        Keep the reduced axes as size 1, so the result broadcasts against x.
    ddof : int >= 0
        Divide by n - ddof (1: the unbiased sample variance); it must leave n - ddof > 0.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0, 6.0], requires_grad=True)
    >>> y = cr.var(x)
    >>> y.backward()
    >>> y, x.grad
    (tensor(3.5, grad_fn=Var), array([-1. , -0.5,  0. ,  1.5], dtype=float32))
    """
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)) or ddof < 0:
        raise ArgumentError(f"var: ddof must be a non-negative integer, got {ddof!r}")
    x = as_operand(x)
    shape = x.shape if isinstance(x, Tensor) else np.shape(x)
    n = _count(shape, normalize_axis(axis, len(shape), "var"))
    if ddof and n - ddof <= 0:
        raise ArgumentError(f"var: ddof={ddof} leaves no degrees of freedom: {n} element(s) per result (shape "
                            f"{shape}, axis {axis!r}); ddof must be below that")
    return _reduce(Var, "var", x, axis, keepdims, ddof=int(ddof))


def max(x, axis=None, keepdims=False):  # noqa: A001
    """Largest element over ``axis`` (None: all); ties share the gradient equally.

    Math
    ----
    y = max_i x_i over the reduced axes;  dL/dx_i = dL/dy / k where x_i is one of the k elements equal
    to the maximum, else 0  (see :class:`Max`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    axis : None, int or tuple of ints
        The axes to reduce (negatives count from the end); None reduces over all of them.
    keepdims : bool
        Keep the reduced axes as size 1, so the result broadcasts against x.

    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 5.0], [7.0, 7.0]], requires_grad=True)
    >>> y = cr.max(x, axis=1)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([5., 7.], grad_fn=Max), array([[0. , 1. ],
           [0.5, 0.5]], dtype=float32))
    """
    return _reduce(Max, "max", x, axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    """Smallest element over ``axis`` (None: all); ties share the gradient equally.

    Math
    ----
    y = min_i x_i over the reduced axes;  dL/dx_i = dL/dy / k where x_i is one of the k elements equal
    to the minimum, else 0  (see :class:`Min`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    axis : None, int or tuple of ints
        The axes to reduce (negatives count from the end); None reduces over all of them.
    keepdims : bool
        Keep the reduced axes as size 1, so the result broadcasts against x.

    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 5.0], [7.0, 7.0]], requires_grad=True)
    >>> y = cr.min(x, axis=1)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([1., 7.], grad_fn=Min), array([[1. , 0. ],
           [0.5, 0.5]], dtype=float32))
    """
    return _reduce(Min, "min", x, axis, keepdims)


def _arg(fn, name, x, axis, keepdims):
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if axis is not None:
        axes = normalize_axis(axis, data.ndim, name)
        if len(axes) > 1:
            raise ShapeError(f"{name}: takes one axis, got {axis!r}")
        axis = axes[0] if axes else None
    if (data.size == 0) if axis is None else (data.shape[axis] == 0):
        raise ShapeError(f"{name}: no {name[3:]} of an empty axis (tensor of shape {data.shape}, axis {axis})")
    return Tensor(fn(data, axis=axis, keepdims=keepdims).astype(np.int64))


def argmax(x, axis=None, keepdims=False):
    """Index of the largest element over ``axis`` (the first one on ties): int64, no gradient.

    Math
    ----
    y = argmax_i x_i;  no derivative: y is an integer, piecewise constant in x (dy/dx = 0 almost
    everywhere), so the result never requires grad.

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    axis : None or int
        One axis; None gives the index into the flattened x.
    keepdims : bool
        Keep the reduced axis as size 1.

    >>> import chainrule as cr
    >>> cr.argmax(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
    tensor([1, 0], dtype=int64)
    """
    return _arg(np.argmax, "argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index of the smallest element over ``axis`` (the first one on ties): int64, no gradient.

    Math
    ----
    y = argmin_i x_i;  no derivative: y is an integer, piecewise constant in x (dy/dx = 0 almost
    everywhere), so the result never requires grad.

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    axis : None or int
        One axis; None gives the index into the flattened x.
    keepdims : bool
        Keep the reduced axis as size 1.

    >>> import chainrule as cr
    >>> cr.argmin(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
    tensor([0, 1], dtype=int64)
    """
    return _arg(np.argmin, "argmin", x, axis, keepdims)
