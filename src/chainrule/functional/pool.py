"""2-D max and average pooling (NCHW, as in PyTorch), one kernel offset at a time.

A k_h x k_w window at stride s visits, for kernel offset (a, b), the input pixels
x[:, :, a + s*i, b + s*j] for all outputs (i, j): a strided slice of the input. So a pooling is
kh*kw elementwise steps over whole slices (never a loop over pixels), and its backward writes each
step's share of the gradient back into the same slice. When the windows tile the input
(stride == kernel, no overlap) every input pixel is written once and nothing needs adding.

Max pooling routes the gradient of each window to ONE input, the first maximum in row-major window
order, exactly as PyTorch does, so ties (common after a ReLU: windows of zeros) give the same
gradients. The first maximum is found in two passes, along each window row, then across the rows:
the first row holding the maximum, and in it the first column, is the row-major first maximum.

The work keeps the memory order of the input: channels-last input (the output of
:func:`chainrule.functional.conv2d`) gives channels-last output and gradient, and a gradient that
arrives in another order is converted once, since NumPy is several times slower on mixed layouts.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..errors import ArgumentError, ShapeError
from .conv import _pair


def _channels_last(x: np.ndarray) -> bool:
    return not x.flags.c_contiguous and x.transpose(0, 2, 3, 1).flags.c_contiguous


def _new(shape: tuple, dtype, channels_last: bool, fill=None) -> np.ndarray:
    """A new (N, C, H, W) array, stored channels-last (NHWC) when asked, optionally filled."""
    n, c, h, w = shape
    if channels_last:
        buf = np.empty((n, h, w, c), dtype=dtype).transpose(0, 3, 1, 2)
    else:
        buf = np.empty(shape, dtype=dtype)
    if fill is not None:
        buf.fill(fill)
    return buf


def _padded(x: np.ndarray, ph: int, pw: int, value) -> np.ndarray:
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    xp = _new((n, c, h + 2 * ph, w + 2 * pw), x.dtype, _channels_last(x), fill=value)
    xp[:, :, ph : ph + h, pw : pw + w] = x
    return xp


class _Pool2d(Function):
    """Shared geometry: the strided slice of the (padded) input that kernel offset (a, b) visits."""

    def __init__(self, kernel, stride, padding):
        self.kernel, self.stride, self.padding = kernel, stride, padding

    def _setup(self, x):
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        self.in_shape, self.channels_last = x.shape, _channels_last(x)
        self.out_hw = ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
        # the windows tile the input exactly: each pixel is in exactly one window
        self.tiles = (sh, sw) == (kh, kw) and (ph, pw) == (0, 0) and (h, w) == (self.out_hw[0] * kh,
                                                                                 self.out_hw[1] * kw)
        self.disjoint = sh >= kh and sw >= kw

    def _slice(self, a: int, b: int) -> tuple:
        (sh, sw), (ho, wo) = self.stride, self.out_hw
        return (slice(None), slice(None), slice(a, a + (ho - 1) * sh + 1, sh), slice(b, b + (wo - 1) * sw + 1, sw))

    def _match_layout(self, gy):
        """gy in the input's memory order: elementwise work on two layouts at once is several times slower."""
        if self.channels_last and not _channels_last(gy):
            return np.ascontiguousarray(gy.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        if not self.channels_last and not gy.flags.c_contiguous:
            return np.ascontiguousarray(gy)
        return gy

    def _grad_frame(self, gy):
        """Zeros (or uninitialised, when every pixel will be written) in the padded input's shape."""
        n, c, h, w = self.in_shape
        ph, pw = self.padding
        shape = (n, c, h + 2 * ph, w + 2 * pw)
        return _new(shape, gy.dtype, self.channels_last, fill=None if self.tiles else 0)

    def _crop(self, gxp):
        n, c, h, w = self.in_shape
        ph, pw = self.padding
        return gxp[:, :, ph : ph + h, pw : pw + w]

    def _put(self, gxp, a: int, b: int, g, mask=None) -> None:
        """Add the share ``g`` (times ``mask``) of offset (a, b) into the frame; written straight in, with no
        temporary, when the windows are disjoint."""
        view = gxp[self._slice(a, b)]
        if self.disjoint:
            if mask is None:
                view[...] = g
            else:
                np.multiply(g, mask, out=view)
        else:
            view += g if mask is None else g * mask


def _reduce(ufunc, arrays: list) -> np.ndarray:
    """ufunc(... ufunc(a0, a1), ...) into one new array in the memory order of the inputs."""
    y = ufunc(arrays[0], arrays[1]) if len(arrays) > 1 else np.copy(arrays[0], order="K")
    for a in arrays[2:]:
        ufunc(y, a, out=y)
    return y


def _first_max(arrays: list) -> tuple:
    """Elementwise max of same-shape arrays and the index of the first one attaining it (uint8)."""
    best, idx = arrays[0], None
    for k, a in enumerate(arrays[1:], 1):
        better = a > best  # strictly greater: on ties the earlier one keeps the gradient
        best = np.maximum(best, a)
        if idx is None:
            idx = better.view(np.uint8)  # 0 or 1
        else:
            np.putmask(idx, better, k)
    return best, (np.zeros(best.shape, dtype=np.uint8) if idx is None else idx)


class MaxPool2d(_Pool2d):
    """y = max over each window; the gradient goes to the first maximum of the window.

    Math
    ----
    y[n, c, i, j] = max_{a, b} xp[n, c, i*sh + a, j*sw + b]  (xp padded with -inf);
    dL/dx[n, c, i*sh + a*, j*sw + b*] += dL/dy[n, c, i, j] for (a*, b*) the first maximum (row-major),
    and 0 for the other pixels of the window.
    """

    def forward(self, x):
        self._setup(x)
        (kh, kw), (ph, pw) = self.kernel, self.padding
        xp = _padded(x, ph, pw, -np.inf)
        rows = [[xp[self._slice(a, b)] for b in range(kw)] for a in range(kh)]
        if not self.needs_input_grad[0]:  # inference: the max alone
            return _reduce(np.maximum, [v for row in rows for v in row])
        # along each window row: the row's max and the column of its first max; then across the rows
        row_max, self.col_of = zip(*(_first_max(row) for row in rows))
        y, self.row_of = _first_max(list(row_max))
        return y

    def backward(self, gy):
        (kh, kw) = self.kernel
        gy = self._match_layout(gy)
        gxp = self._grad_frame(gy)
        for a in range(kh):
            g_row = gy * (self.row_of == a) if kh > 1 else gy
            for b in range(kw):
                self._put(gxp, a, b, g_row, (self.col_of[a] == b) if kw > 1 else None)
        return self._crop(gxp)


class AvgPool2d(_Pool2d):
    """y = mean over each window (zero padding counted, as PyTorch's default count_include_pad=True).

    Math
    ----
    y[n, c, i, j] = 1/(kh*kw) sum_{a, b} xp[n, c, i*sh + a, j*sw + b];
    dL/dx[n, c, i*sh + a, j*sw + b] += dL/dy[n, c, i, j] / (kh*kw) for every (a, b).
    """

    def forward(self, x):
        self._setup(x)
        (kh, kw), (ph, pw) = self.kernel, self.padding
        xp = _padded(x, ph, pw, 0)
        y = _reduce(np.add, [xp[self._slice(a, b)] for a in range(kh) for b in range(kw)])
        y *= 1.0 / (kh * kw)  # a Python float keeps float32 float32
        return y

    def backward(self, gy):
        (kh, kw) = self.kernel
        g = self._match_layout(gy) * (1.0 / (kh * kw))
        gxp = self._grad_frame(gy)
        for a in range(kh):
            for b in range(kw):
                self._put(gxp, a, b, g)
        return self._crop(gxp)


def _pool(op, name: str, x, kernel_size, stride, padding, where: str | None):
    where = where or name
    kernel = _pair(kernel_size, "kernel_size", where)
    stride = kernel if stride is None else _pair(stride, "stride", where)
    padding = _pair(padding, "padding", where)
    if min(kernel) < 1:
        raise ArgumentError(f"{where}: kernel_size must be positive, got {kernel}")
    if min(stride) < 1:
        raise ArgumentError(f"{where}: stride must be positive, got {stride}")
    if min(padding) < 0 or padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ArgumentError(f"{where}: padding must be between 0 and half the kernel size {kernel}, got {padding}")
    xs = np.shape(x.data if isinstance(x, Tensor) else x)
    if len(xs) != 4:
        raise ShapeError(
            f"{where}: expected a 4-D input (N, C, H, W), got shape {xs}"
            + (f"; for a single image use x[None] to get shape {(1, *xs)}" if len(xs) == 3 else "")
        )
    hp, wp = xs[2] + 2 * padding[0], xs[3] + 2 * padding[1]
    if kernel[0] > hp or kernel[1] > wp:
        raise ShapeError(
            f"{where}: kernel {kernel} is larger than the padded input ({hp}, {wp}) (input shape {xs})"
        )
    return op.apply(x, kernel=kernel, stride=stride, padding=padding)


def max_pool2d(x, kernel_size, stride=None, padding=0, *, _layer: str | None = None):
    """Max over each kh x kw window of an NCHW batch; ``stride`` defaults to ``kernel_size``.

    Math: y = max over the window (input padded with -inf); dL/dx = dL/dy at the window's first
    maximum (row-major, as PyTorch), 0 elsewhere.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W)
    kernel_size, stride, padding : int or (int, int); padding at most half the kernel

    Returns
    -------
    Tensor, shape (N, C, (H + 2*ph - kh) // sh + 1, (W + 2*pw - kw) // sw + 1)

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.max_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2).numpy()[0, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    return _pool(MaxPool2d, "max_pool2d", x, kernel_size, stride, padding, _layer)


def avg_pool2d(x, kernel_size, stride=None, padding=0, *, _layer: str | None = None):
    """Mean over each kh x kw window of an NCHW batch (zero padding counted, like PyTorch's default).

    Math: y = sum over the window / (kh*kw); dL/dx = dL/dy / (kh*kw) for every pixel of the window.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W)
    kernel_size, stride, padding : int or (int, int); padding at most half the kernel

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.avg_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2).numpy()[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """
    return _pool(AvgPool2d, "avg_pool2d", x, kernel_size, stride, padding, _layer)
