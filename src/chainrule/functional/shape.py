"""Shape ops: reshape, transpose, flatten, squeeze, unsqueeze, broadcast_to, concatenate, stack and pad.
They move numbers without changing them, so each backward moves the gradient back. Indexing
(``getitem``, ``GetItem``, ``add_rows``) lives in ``indexing.py`` and is re-exported here.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import as_operand
from ..backend import shape_tuple
from ..errors import ArgumentTypeError, ShapeError
from . import _promote
from .indexing import GetItem, _clean_index, _data, add_rows, getitem  # noqa: F401  (re-exported)
from .reduce import normalize_axis


class Reshape(Function):
    """y = x with a new shape;  dL/dx = dL/dy reshaped to x's shape."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return gy.reshape(self.in_shape)


class Transpose(Function):
    """y = x with axes permuted;  dL/dx = dL/dy with the inverse permutation."""

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return np.transpose(x, self.axes)

    def backward(self, gy):
        return np.transpose(gy, np.argsort(self.axes)) if self.axes is not None else gy.T


class BroadcastTo(Function):
    """y = x broadcast to ``shape``;  dL/dx = dL/dy summed over the broadcast axes (by the engine)."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return np.broadcast_to(x, self.shape)

    def backward(self, gy):
        return gy  # the engine's unbroadcast sums it back to x's shape


class Concatenate(Function):
    """y = [x_1, x_2, ...] joined along ``axis``;  dL/dx_k = the slice of dL/dy that x_k filled."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.bounds = np.cumsum([x.shape[self.axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        return tuple(np.split(gy, self.bounds, axis=self.axis))


class Stack(Function):
    """y = x_1, x_2, ... stacked along a new ``axis``;  dL/dx_k = dL/dy taken at position k of that axis."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return np.stack(xs, axis=self.axis)

    def backward(self, gy):
        return tuple(np.moveaxis(gy, self.axis, 0))


class Pad(Function):
    """y = x with zeros (or ``value``) around it;  dL/dx = the centre of dL/dy."""

    def __init__(self, pad_width, value):
        self.pad_width, self.value = pad_width, value

    def forward(self, x):
        self.centre = tuple(slice(lo, lo + n) for (lo, _), n in zip(self.pad_width, x.shape))
        return np.pad(x, self.pad_width, mode="constant", constant_values=self.value)

    def backward(self, gy):
        return gy[self.centre]


# --------------------------------------------------------------------------------- the functions
def _shape_arg(shape) -> tuple:
    return shape_tuple(shape, "shape", allow_minus_one=True)


def reshape(x, *shape):
    """Give ``x`` a new shape with the same number of elements, in row-major (C) order.

    Math
    ----
    y = x with shape ``shape`` (the same numbers in the same order);  dL/dx = dL/dy reshaped to x's shape
    (see :class:`Reshape`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    *shape : ints, or one tuple of ints
        The new shape; one entry may be -1 (inferred from the others). ``reshape(x, 2, 3)`` and
        ``reshape(x, (2, 3))`` are the same.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    >>> y = cr.reshape(x, 2, -1)
    >>> (y * cr.tensor([[1.0], [10.0]])).sum().backward()
    >>> y.shape, x.grad
    ((2, 2), array([ 1.,  1., 10., 10.], dtype=float32))
    """
    x = as_operand(x)
    shape = _shape_arg(shape)
    try:
        return Reshape.apply(x, shape=shape)
    except ValueError:
        src = _data(x).shape
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {src} into shape {shape}") from None


def _axis_in(a, ndim: int, op: str) -> int:
    """One axis, negatives allowed, as a non-negative int; a ShapeError when out of range."""
    if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
        raise ArgumentTypeError(f"{op}: axes must be ints, got {a!r}")
    if not -ndim <= a < ndim:
        raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
    return int(a) % ndim


def transpose(x, *axes):
    """Permute the axes of ``x`` (reverse them when none are given: the matrix transpose for 2-D).

    Math
    ----
    y[i_p0, i_p1, ...] = x[i_0, i_1, ...] for the permutation p = ``axes``;  dL/dx = dL/dy permuted back
    with the inverse permutation argsort(p)  (see :class:`Transpose`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    *axes : ints, or one tuple of ints
        A permutation of 0 .. ndim - 1 (negatives allowed); none given means reversed order.

    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    >>> y = cr.transpose(x)
    >>> (y * cr.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    >>> y.shape, x.grad
    ((3, 1), array([[1., 2., 3.]], dtype=float32))
    """
    x = as_operand(x)
    ndim = _data(x).ndim
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        return Transpose.apply(x, axes=tuple(range(ndim))[::-1])
    norm = [_axis_in(a, ndim, "transpose") for a in axes]
    if sorted(norm) != list(range(ndim)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of the {ndim} axes of {_data(x).shape}")
    return Transpose.apply(x, axes=tuple(norm))


def swapaxes(x, a: int, b: int):
    """Exchange two axes of ``x`` (a transpose that swaps ``a`` and ``b``).

    Math
    ----
    y = x with axes a and b exchanged;  dL/dx = dL/dy with the same two axes exchanged back
    (see :class:`Transpose`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    a, b : int
        The two axes (negatives count from the end).

    >>> import chainrule as cr
    >>> x = cr.ones(2, 3, 4, requires_grad=True)
    >>> y = cr.functional.swapaxes(x, 0, -1)
    >>> y.sum().backward()
    >>> y.shape, x.grad.shape
    ((4, 3, 2), (2, 3, 4))
    """
    x = as_operand(x)
    axes = list(range(_data(x).ndim))
    a, b = _axis_in(a, len(axes), "swapaxes"), _axis_in(b, len(axes), "swapaxes")
    axes[a], axes[b] = axes[b], axes[a]
    return Transpose.apply(x, axes=tuple(axes))


def flatten(x, start_axis: int = 0, end_axis: int = -1):
    """Merge the axes from ``start_axis`` to ``end_axis`` (inclusive) into one; a 0-d x becomes shape (1,).

    Math
    ----
    y = x reshaped to (..., n_start * ... * n_end, ...);  dL/dx = dL/dy reshaped to x's shape
    (see :class:`Reshape`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    start_axis, end_axis : int
        The first and last axis merged (negatives count from the end). ``flatten(x, 1)`` turns a batch of
        images (N, C, H, W) into rows (N, C*H*W).

    >>> import chainrule as cr
    >>> x = cr.ones(2, 3, 4, requires_grad=True)
    >>> y = cr.flatten(x, 1)
    >>> y.sum().backward()
    >>> y.shape, x.grad.shape
    ((2, 12), (2, 3, 4))
    """
    x = as_operand(x)
    shape = _data(x).shape
    if not shape:
        if start_axis not in (0, -1) or end_axis not in (0, -1):  # PyTorch's rule: a 0-d x counts as 1-d
            raise ShapeError(f"flatten: a 0-d tensor takes start_axis and end_axis 0 or -1, got {start_axis} "
                             f"and {end_axis}")
        return reshape(x, 1)
    s, e = normalize_axis(start_axis, len(shape), "flatten")[0], normalize_axis(end_axis, len(shape), "flatten")[0]
    if s > e:
        raise ShapeError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} for shape {shape}")
    return reshape(x, *shape[:s], int(np.prod(shape[s : e + 1])), *shape[e + 1 :])


def squeeze(x, axis=None):
    """Remove axes of size 1 (all of them, or those in ``axis``).

    Math
    ----
    y = x without its size-1 axes (same numbers);  dL/dx = dL/dy reshaped to x's shape
    (see :class:`Reshape`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    axis : None, int or tuple of ints
        Which axes to remove; each must have size 1 (a ShapeError otherwise). None: every size-1 axis.

    >>> import chainrule as cr
    >>> x = cr.ones(1, 3, 1, requires_grad=True)
    >>> y = cr.squeeze(x, 0)
    >>> y.sum().backward()
    >>> y.shape, x.grad.shape
    ((3, 1), (1, 3, 1))
    """
    x = as_operand(x)
    shape = _data(x).shape
    if axis is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = normalize_axis(axis, len(shape), "squeeze")
        bad = [a for a in axes if shape[a] != 1]
        if bad:
            raise ShapeError(f"squeeze: axis {bad[0]} of shape {shape} has size {shape[bad[0]]}, not 1")
        new = tuple(n for i, n in enumerate(shape) if i not in axes)
    return Reshape.apply(x, shape=new)


def unsqueeze(x, axis: int):
    """Insert an axis of size 1 at position ``axis``.

    Math
    ----
    y = x with a new size-1 axis (same numbers);  dL/dx = dL/dy reshaped to x's shape (see :class:`Reshape`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    axis : int
        Where the new axis goes in the result, from -(ndim + 1) to ndim (-1 appends it).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = cr.unsqueeze(x, -1)
    >>> y.sum().backward()
    >>> y.shape, x.grad
    ((2, 1), array([1., 1.], dtype=float32))
    """
    x = as_operand(x)
    shape = _data(x).shape
    axis = _axis_in(axis, len(shape) + 1, "unsqueeze")
    return Reshape.apply(x, shape=shape[:axis] + (1,) + shape[axis:])


def broadcast_to(x, shape):
    """Broadcast ``x`` to ``shape`` (NumPy's rules; a read-only view, no copy).

    Math
    ----
    y[..., i, ...] = x[..., 0, ...] along every broadcast axis;  dL/dx = dL/dy summed over the broadcast
    axes (each x element fed every copy of itself; the engine does the sum; see :class:`BroadcastTo`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    shape : int or tuple of ints
        The target shape; x's shape must broadcast to it (size-1 or missing leading axes grow).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = cr.broadcast_to(x, (3, 2))
    >>> y.sum().backward()
    >>> y.shape, x.grad
    ((3, 2), array([3., 3.], dtype=float32))
    """
    x = as_operand(x)
    shape = _shape_arg((shape,))
    src = _data(x).shape
    try:
        np.broadcast_shapes(src, shape)
        if np.broadcast_shapes(src, shape) != shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {src} to {shape}") from None
    return BroadcastTo.apply(x, shape=shape)


def _axis_for(xs, axis, op, new_axis=False):
    if not xs:
        raise ShapeError(f"{op}: needs at least one tensor")
    nd = _data(xs[0]).ndim + (1 if new_axis else 0)
    return normalize_axis(axis, nd, op)[0]


def concatenate(ts, axis: int = 0):
    """Join tensors along an existing axis.

    Math
    ----
    y = [x_1, x_2, ...] joined along ``axis``;  dL/dx_k = the slice of dL/dy that x_k filled
    (see :class:`Concatenate`).

    Parameters
    ----------
    ts : sequence of Tensors or arrays
        At least one, all of the same ndim (>= 1) and shape outside ``axis``.
    axis : int
        The axis to join along (negatives count from the end).

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> b = cr.tensor([3.0], requires_grad=True)
    >>> y = cr.concatenate([a, b])
    >>> (y * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    >>> y, a.grad, b.grad
    (tensor([1., 2., 3.], grad_fn=Concatenate), array([1., 2.], dtype=float32), array([3.], dtype=float32))
    """
    ts = _promote.promote(*ts) if ts else []  # PyTorch's dtype: float32 with an int64 array stays float32
    if ts and _data(ts[0]).ndim == 0:
        raise ShapeError("concatenate: 0-d tensors have no axis to join along; use stack")
    axis = _axis_for(ts, axis, "concatenate")
    shapes = [_data(t).shape for t in ts]
    ref = shapes[0]
    for s in shapes[1:]:
        if len(s) != len(ref) or any(a != b for i, (a, b) in enumerate(zip(s, ref)) if i != axis):
            raise ShapeError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    return Concatenate.apply(*ts, axis=axis)


def stack(ts, axis: int = 0):
    """Join tensors of equal shape along a new axis.

    Math
    ----
    y[..., k, ...] = x_k  (k along the new ``axis``);  dL/dx_k = dL/dy taken at position k of that axis
    (see :class:`Stack`).

    Parameters
    ----------
    ts : sequence of Tensors or arrays
        At least one, all of the same shape s; the result has shape s with len(ts) inserted at ``axis``.
    axis : int
        Position of the new axis in the result, from -(ndim + 1) to ndim.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> b = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> y = cr.stack([a, b], axis=1)
    >>> (y * cr.tensor([1.0, 10.0])).sum().backward()
    >>> y.shape, a.grad, b.grad
    ((2, 2), array([1., 1.], dtype=float32), array([10., 10.], dtype=float32))
    """
    ts = _promote.promote(*ts) if ts else []  # PyTorch's dtype, as concatenate
    axis = _axis_for(ts, axis, "stack", new_axis=True)
    shapes = [_data(t).shape for t in ts]
    if any(s != shapes[0] for s in shapes):
        raise ShapeError(f"stack: every tensor must have the same shape, got {shapes}")
    return Stack.apply(*ts, axis=axis)


def pad(x, pad_width, value: float = 0.0):
    """Pad ``x`` with a constant on every side, NumPy style.

    Math
    ----
    y = x surrounded by ``value``: y[lo_0 + i_0, lo_1 + i_1, ...] = x[i_0, i_1, ...];
    dL/dx = the centre of dL/dy, dL/dy[lo_0 : lo_0 + n_0, ...]  (the padding gets no gradient; see :class:`Pad`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    pad_width : int, a (before, after) pair, or one (before, after) pair per axis
        Non-negative counts of ``value`` added before and after each axis.
    value : float
        The constant filled in (0 by default).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = cr.pad(x, (1, 2))
    >>> (y * cr.arange(5.0)).sum().backward()
    >>> y, x.grad
    (tensor([0., 1., 2., 0., 0.], grad_fn=Pad), array([1., 2.], dtype=float32))
    """
    x = as_operand(x)
    nd = _data(x).ndim
    raw = np.asarray(pad_width)
    if raw.size and raw.dtype.kind not in "iu":  # 1.5 would be cut to 1 without a word
        raise ArgumentTypeError(f"pad: pad_width must hold integers, got {pad_width!r}")
    try:
        pw = np.broadcast_to(raw.astype(np.int64), (nd, 2))
    except ValueError:
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit a tensor with {nd} dimensions") from None
    if (pw < 0).any():
        raise ShapeError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    return Pad.apply(x, pad_width=tuple((int(a), int(b)) for a, b in pw), value=value)
