"""2-D max and average pooling (NCHW, as in PyTorch), one kernel offset at a time.

A k_h x k_w window at stride s (and dilation d) visits, for kernel offset (a, b), the input pixels
x[:, :, a*d + s*i, b*d + s*j] for all outputs (i, j): a strided slice of the input. So a pooling is
kh*kw elementwise steps over whole slices (never a loop over pixels), and its backward writes each
step's share of the gradient back into the same slice. When the windows tile the input
(stride == kernel, no overlap) every input pixel is written once and nothing needs adding.

Max pooling routes the gradient of each window to ONE input, the first maximum in row-major window
order, exactly as PyTorch does, so ties (common after a ReLU: windows of zeros) give the same
gradients. The first maximum is found in two passes, along each window row, then across the rows:
the first row holding the maximum, and in it the first column, is the row-major first maximum.

PyTorch's options: ``ceil_mode`` adds a last window that may hang over the bottom/right edge (it must
start inside the input or its left padding), done by padding more there; ``dilation`` (max pooling)
spreads a window's taps; ``count_include_pad=False`` and ``divisor_override`` change an average's
divisor, then a per-window (H_out, W_out) array instead of the constant kh*kw.

The work keeps the memory order of the input: channels-last input (the output of
:func:`chainrule.functional.conv2d`) gives channels-last output and gradient, and a gradient that
arrives in another order is converted once, since NumPy is several times slower on mixed layouts.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_operand
from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from .conv import _not_4d, _pair
from .linalg import check_real, layer_input


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


def _padded(x: np.ndarray, pads: tuple, value) -> np.ndarray:
    """x padded by (top, bottom, left, right) with ``value``, in x's memory order."""
    pt, pb, pl, pr = pads
    if pt == pb == pl == pr == 0:
        return x
    n, c, h, w = x.shape
    if x.dtype.kind != "f" and value == -np.inf:  # integers: their lowest value plays -inf
        value = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else False
    xp = _new((n, c, h + pt + pb, w + pl + pr), x.dtype, _channels_last(x), fill=value)
    xp[:, :, pt : pt + h, pl : pl + w] = x
    return xp


def _out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output length; with ceil_mode the last window must start inside input or left padding."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


class _Pool2d(Function):
    """Shared geometry: the strided slice of the (padded) input that kernel offset (a, b) visits."""

    def __init__(self, kernel, stride, padding, dilation=(1, 1), ceil_mode=False):
        self.kernel, self.stride, self.dilation, self.ceil_mode = kernel, stride, dilation, ceil_mode
        self.padding = padding

    def _setup(self, x):
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = self.kernel, self.stride, self.padding, self.dilation
        self.in_shape, self.channels_last = x.shape, _channels_last(x)
        ho, wo = (_out_size(h, kh, sh, ph, dh, self.ceil_mode), _out_size(w, kw, sw, pw, dw, self.ceil_mode))
        self.out_hw = (ho, wo)
        eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        # (top, bottom, left, right): more at the bottom/right when a ceil_mode window hangs over the edge
        self.pads = (ph, max(ph, (ho - 1) * sh + eh - h - ph), pw, max(pw, (wo - 1) * sw + ew - w - pw))
        # the windows tile the input exactly: each pixel is in exactly one window
        self.tiles = (sh, sw) == (eh, ew) == (kh, kw) and self.pads == (0, 0, 0, 0) and (h, w) == (ho * kh, wo * kw)
        self.disjoint = sh >= eh and sw >= ew

    def _slice(self, a: int, b: int) -> tuple:
        (sh, sw), (ho, wo), (dh, dw) = self.stride, self.out_hw, self.dilation
        a, b = a * dh, b * dw
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
        pt, pb, pl, pr = self.pads
        shape = (n, c, h + pt + pb, w + pl + pr)
        return _new(shape, gy.dtype, self.channels_last, fill=None if self.tiles else 0)

    def _crop(self, gxp):
        n, c, h, w = self.in_shape
        pt, _, pl, _ = self.pads
        return gxp[:, :, pt : pt + h, pl : pl + w]

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


def _point_at_last_nan(rows: list, y: np.ndarray, row_of: np.ndarray, col_of: tuple) -> None:
    """For the windows whose max y is NaN, point (row_of, col_of) at the window's last NaN in row-major
    order, the element PyTorch sends the gradient to (comparisons with NaN are false, so the first-max
    search left them at an arbitrary element)."""
    nan_y = np.isnan(y)
    for a, row in enumerate(rows):
        for b, v in enumerate(row):
            here = nan_y & np.isnan(v)
            np.putmask(row_of, here, a)  # later (a, b) overwrite earlier ones: the last NaN wins
            np.putmask(col_of[a], here, b)


def _point_at_first_inside(y: np.ndarray, row_of: np.ndarray, col_of: tuple, inside: tuple) -> None:
    """For the windows whose max y is -inf, point (row_of, col_of) at the window's first tap inside the input
    (row-major), the element PyTorch sends the gradient to: every tap inside holds -inf then, and the
    first-max search stopped at the first tap, which may be padding (whose gradient is dropped).
    ``inside`` = (rows, cols): for each kernel offset a (b), a boolean (H_out, 1) ((1, W_out)) array telling
    whether that tap of each window lies inside the input."""
    neg_inf = np.isneginf(y)
    rows, cols = inside
    for a in reversed(range(len(rows))):  # earlier (a, b) overwrite later ones: the first tap inside wins
        for b in reversed(range(len(cols))):
            here = neg_inf & rows[a] & cols[b]
            np.putmask(row_of, here, a)
            np.putmask(col_of[a], here, b)


class MaxPool2d(_Pool2d):
    """y = max over each window; the gradient goes to the first maximum of the window.

    Math
    ----
    y[n, c, i, j] = max_{a, b} xp[n, c, i*sh + a*dh, j*sw + b*dw]  (xp padded with -inf);
    dL/dx[n, c, i*sh + a*dh, j*sw + b*dw] += dL/dy[n, c, i, j] for (a, b) the first maximum (row-major),
    and 0 for the other pixels of the window.
    A window holding NaN gives NaN, and its gradient goes to its last NaN (row-major), as in PyTorch; a
    window whose max is -inf sends its gradient to its first tap inside the input (not to the padding).
    """

    def forward(self, x):
        self._setup(x)
        kh, kw = self.kernel
        xp = _padded(x, self.pads, -np.inf)
        rows = [[xp[self._slice(a, b)] for b in range(kw)] for a in range(kh)]
        if not self.needs_input_grad[0]:  # inference: the max alone
            return _reduce(np.maximum, [v for row in rows for v in row])
        # along each window row: the row's max and the column of its first max; then across the rows
        row_max, self.col_of = zip(*(_first_max(row) for row in rows))
        y, self.row_of = _first_max(list(row_max))
        if y.dtype.kind == "f":
            lowest = np.minimum.reduce(y, axis=None, initial=np.inf)  # NaN if a NaN anywhere (minimum keeps NaN)
            if np.isnan(lowest):
                _point_at_last_nan(rows, y, self.row_of, self.col_of)
            if self.pads != (0, 0, 0, 0) and (np.isnan(lowest) or lowest == -np.inf):
                _point_at_first_inside(y, self.row_of, self.col_of, self._inside())
        return y

    def _inside(self) -> tuple:
        """For each kernel row a (column b): whether that tap of each window lies inside the unpadded input."""
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = self.kernel, self.stride, self.dilation, self.out_hw
        _, _, h, w = self.in_shape
        pt, _, pl, _ = self.pads
        rows = [((np.arange(ho) * sh + a * dh - pt) < h)[:, None] & ((np.arange(ho) * sh + a * dh) >= pt)[:, None]
                for a in range(kh)]
        cols = [((np.arange(wo) * sw + b * dw - pl) < w) & ((np.arange(wo) * sw + b * dw) >= pl) for b in range(kw)]
        return rows, cols

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
    y[n, c, i, j] = 1/D[i, j] sum_{a, b} xp[n, c, i*sh + a, j*sw + b];
    dL/dx[n, c, i*sh + a, j*sw + b] += dL/dy[n, c, i, j] / D[i, j] for every (a, b).
    D = kh*kw by default; PyTorch's rules otherwise: ``divisor_override`` if given; else the window's
    pixels inside the padded input (a ceil_mode window hanging over the edge counts fewer) when
    ``count_include_pad``, or inside the unpadded input when not.
    """

    def __init__(self, kernel, stride, padding, ceil_mode=False, count_include_pad=True, divisor_override=None):
        super().__init__(kernel, stride, padding, (1, 1), ceil_mode)
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def _scale(self, dtype):
        """1 / D: a Python float (keeps float32 float32) when every window has kh*kw, else an (H_out, W_out) array."""
        (kh, kw), (ph, pw) = self.kernel, self.padding
        if self.divisor_override is not None:
            return 1.0 / self.divisor_override
        if self.count_include_pad and self.pads == (ph, ph, pw, pw):
            return 1.0 / (kh * kw)
        n, c, h, w = self.in_shape
        counts = []
        for n_out, size, k, st, p in ((self.out_hw[0], h, kh, self.stride[0], ph),
                                      (self.out_hw[1], w, kw, self.stride[1], pw)):
            start = np.arange(n_out) * st - p
            end = np.minimum(start + k, size + p)
            counts.append(end - start if self.count_include_pad else np.minimum(end, size) - np.maximum(start, 0))
        return (1.0 / np.outer(counts[0], counts[1])).astype(dtype)

    def forward(self, x):
        self._setup(x)
        kh, kw = self.kernel
        xp = _padded(x, self.pads, 0)
        y = _reduce(np.add, [xp[self._slice(a, b)] for a in range(kh) for b in range(kw)])
        y *= self._scale(y.dtype)
        return y

    def backward(self, gy):
        (kh, kw) = self.kernel
        g = self._match_layout(gy) * self._scale(gy.dtype)
        gxp = self._grad_frame(gy)
        for a in range(kh):
            for b in range(kw):
                self._put(gxp, a, b, g)
        return self._crop(gxp)


def _pool(op, name: str, x, kernel_size, stride, padding, where: str | None, dilation=1, ceil_mode=False,
          **extra):
    where = where or name
    kernel = _pair(kernel_size, "kernel_size", where)
    stride = kernel if stride is None else _pair(stride, "stride", where)
    padding = _pair(padding, "padding", where)
    dilation = _pair(dilation, "dilation", where)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise ArgumentTypeError(f"{where}: ceil_mode must be True or False, got {ceil_mode!r}")
    if min(kernel) < 1:
        raise ArgumentError(f"{where}: kernel_size must be positive, got {kernel}")
    if min(stride) < 1:
        raise ArgumentError(f"{where}: stride must be positive, got {stride}")
    if min(dilation) < 1:
        raise ArgumentError(f"{where}: dilation must be positive, got {dilation}")
    if min(padding) < 0 or padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ArgumentError(f"{where}: padding must be between 0 and half the kernel size {kernel}, got {padding}")
    check_real(x, where)
    xs = np.shape(x.data if isinstance(x, Tensor) else x)
    if len(xs) != 4:
        raise _not_4d(where, xs)
    out = [_out_size(xs[2 + i], kernel[i], stride[i], padding[i], dilation[i], bool(ceil_mode)) for i in (0, 1)]
    if min(out) < 1:
        eh, ew = (kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1
        hp, wp = xs[2] + 2 * padding[0], xs[3] + 2 * padding[1]
        raise ShapeError(
            f"{where}: kernel {(eh, ew) if dilation != (1, 1) else kernel}"
            f"{' (dilation included)' if dilation != (1, 1) else ''} is larger than the padded input "
            f"({hp}, {wp}) (input shape {xs})"
        )
    if dilation != (1, 1) or ceil_mode:
        extra.update(dilation=dilation, ceil_mode=bool(ceil_mode)) if op is MaxPool2d else extra.update(
            ceil_mode=bool(ceil_mode))
    return op.apply(x, kernel=kernel, stride=stride, padding=padding, **extra)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False, *,
               _layer: str | None = None):
    """Max over each kh x kw window of an NCHW batch; ``stride`` defaults to ``kernel_size``.

    Math
    ----
    y[n, c, i, j] = max over (a, b) of xp[n, c, i*sh + a*dh, j*sw + b*dw]   (xp: x padded with -inf)
    dL/dx[n, c, i*sh + a*dh, j*sw + b*dw] += dL/dy[n, c, i, j] for (a, b) the window's first maximum
    (row-major, as PyTorch), nothing for the window's other pixels; overlapping windows add up.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W); Python lists become the default dtype
    kernel_size, stride, padding, dilation : int or (int, int); padding at most half the kernel
    ceil_mode : bool
        Round the output size up (PyTorch's rule): a last window may hang over the bottom/right edge.

    Returns
    -------
    Tensor, shape (N, C, H_out, W_out), H_out = (H + 2*ph - dh*(kh-1) - 1) // sh + 1 (rounded up with
    ``ceil_mode``, as long as the last window starts inside the input or its left padding); same for W.

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.max_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2).numpy()[0, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    >>> F.max_pool2d(cr.arange(25.0).reshape(1, 1, 5, 5), 2, ceil_mode=True).shape
    (1, 1, 3, 3)
    >>> x = cr.tensor([[[[1.0, 3.0], [2.0, 0.0]]]], requires_grad=True)
    >>> F.max_pool2d(x, 2).sum().backward()
    >>> x.grad[0, 0]   # the gradient goes to the maximum
    array([[0., 1.],
           [0., 0.]], dtype=float32)
    """
    return _pool(MaxPool2d, "max_pool2d", as_operand(x), kernel_size, stride, padding, _layer, dilation, ceil_mode)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None, *, _layer: str | None = None):
    """Mean over each kh x kw window of an NCHW batch (zero padding counted, like PyTorch's default).

    Math
    ----
    y[n, c, i, j] = (1 / D) * sum over (a, b) of xp[n, c, i*sh + a, j*sw + b]   (xp: x padded with zeros)
    dL/dx[n, c, i*sh + a, j*sw + b] += dL/dy[n, c, i, j] / D for every (a, b) of the window
    D = kh*kw, unless ``divisor_override`` (D = that number), ``count_include_pad=False`` (D = the window's
    pixels inside the input) or a ``ceil_mode`` window hanging over the edge (D = its pixels in the padded input).

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W); lists become the default dtype, integer arrays too
    kernel_size, stride, padding : int or (int, int); padding at most half the kernel
    ceil_mode : bool
        Round the output size up, as :func:`max_pool2d`.
    count_include_pad : bool
        Count the zero padding in the divisor.
    divisor_override : int, optional
        Divide every window's sum by this instead.

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.avg_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2).numpy()[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    >>> F.avg_pool2d(cr.ones(1, 1, 2, 2), 2, padding=1, count_include_pad=False).numpy()[0, 0]
    array([[1., 1.],
           [1., 1.]], dtype=float32)
    >>> x = cr.tensor([[[[1.0, 3.0], [2.0, 0.0]]]], requires_grad=True)
    >>> F.avg_pool2d(x, 2).sum().backward()
    >>> x.grad[0, 0]   # 1 / D for every pixel of the window
    array([[0.25, 0.25],
           [0.25, 0.25]], dtype=float32)
    """
    where = _layer or "avg_pool2d"
    extra = {}
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise ArgumentTypeError(f"{where}: count_include_pad must be True or False, got {count_include_pad!r}")
    if not count_include_pad:
        extra["count_include_pad"] = False
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer)) \
                or divisor_override < 1:
            raise ArgumentError(f"{where}: divisor_override must be a positive integer or None, "
                                f"got {divisor_override!r}")
        extra["divisor_override"] = int(divisor_override)
    return _pool(AvgPool2d, "avg_pool2d", layer_input(x, None, where), kernel_size, stride, padding, _layer, 1,
                 ceil_mode, **extra)
