"""2-D convolution (NCHW, as in PyTorch) as sliding windows and matrix products.

Every output pixel of a convolution is a dot product of the kernel with one window of the input, so all
of them together are one matrix product: stack the windows as rows (im2col) and multiply by the kernel
reshaped to a matrix. The backward is two more matrix products:

* the weight gradient is (windows)^T @ dL/dy, the same windows times the output gradient;
* the input gradient is taken one kernel offset (a, b) at a time: dL/dy @ W[:, :, a, b] is what the
  input pixels read at that offset receive, added back shifted by (a, b): kh*kw products and shifted
  adds, never a loop over pixels. (For stride 1 this equals the "full" convolution of dL/dy with the
  flipped kernel; done as an im2col of dL/dy, kh*kw times its size, that measured ~30% slower.)

Memory layout, for speed. Tensors are NCHW, but the work is done channels-last (NHWC): there a window
of all channels is contiguous, the matrices are (pixels, channels) and need no transposes. The output
is returned as an NCHW *view* of NHWC memory, so the next ReLU, pooling or convolution reads it in that
order and the conversion costs nothing on the way in or out.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from .linalg import layer_input

# below this many input channels the windows are gathered one kernel offset at a time (faster there)
_GATHER_BY_OFFSET_MAX_C = 4
# A weight matrix this small (kh*kw*C_in x C_out elements, e.g. the first layer on 1-channel images) makes
# a product that is memory-bound: it is done image by image, in products small enough that BLAS runs them
# on one thread. One huge product would make BLAS start and synchronise threads, which gains nothing here
# and costs 10x when other processes keep the cores busy (measured with bench/conv_micro.py).
_SMALL_WEIGHT = 4096


# -------------------------------------------------------------------------------------------- helpers
def _pair(value, name: str, where: str) -> tuple[int, int]:
    """An int or a pair of ints as (height, width)."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool) for v in value
    ):
        return int(value[0]), int(value[1])
    raise ArgumentTypeError(f"{where}: {name} must be an int or a pair of ints, got {value!r}")


def _shape(v) -> tuple:
    return np.shape(v.data if isinstance(v, Tensor) else v)


def _pad_nhwc(x: np.ndarray, pads: tuple) -> np.ndarray:
    """x (N, H, W, C) zero-padded by (top, bottom, left, right) rows and columns (a contiguous array)."""
    pt, pb, pl, pr = pads
    if pt == pb == pl == pr == 0:
        return np.ascontiguousarray(x)
    n, h, w, c = x.shape
    xp = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=x.dtype)
    xp[:, pt : pt + h, pl : pl + w] = x
    return xp


def _four(padding: tuple) -> tuple:
    """(ph, pw) as (top, bottom, left, right); a 4-tuple passes unchanged."""
    return padding if len(padding) == 4 else (padding[0], padding[0], padding[1], padding[1])


def _at_offset(a: int, b: int, stride: tuple, dilation: tuple, out_hw: tuple) -> tuple:
    """(rows, cols) slices of the padded input that kernel offset (a, b) reads, one pixel per output."""
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, out_hw
    return slice(a * dh, a * dh + (ho - 1) * sh + 1, sh), slice(b * dw, b * dw + (wo - 1) * sw + 1, sw)


def _im2col(xp: np.ndarray, k: tuple, stride: tuple, dilation: tuple, out_hw: tuple, groups: int,
            ones: bool = False) -> np.ndarray:
    """Every receptive field of the padded NHWC input ``xp`` as a row: (N*ho*wo, groups, kh*kw*C/groups).

    Row (n, i, j) holds xp[n, i*sh + a*dh, j*sw + b*dw, c] for every kernel offset (a, b) and channel c of
    the group, in (a, b, c) order; with ``ones`` each group's row ends with a 1 (the bias's input). The
    copy is one pass over a sliding-window view (no Python loop over pixels); with few channels,
    gathering one kernel offset at a time is faster.
    """
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = k, stride, dilation, out_hw
    n, c = xp.shape[0], xp.shape[3]
    cg = c // groups
    width = kh * kw * cg
    if (kh, kw, sh, sw) == (1, 1, 1, 1) and not ones:  # a 1x1 kernel's windows are the pixels themselves
        return xp.reshape(n * ho * wo, groups, cg)
    buf = np.empty((n, ho, wo, groups, width + ones), dtype=xp.dtype)
    if ones:
        buf[..., width] = 1
    cols = buf[..., :width].reshape(n, ho, wo, groups, kh, kw, cg)  # splitting an axis: a view
    if c <= _GATHER_BY_OFFSET_MAX_C:
        src = xp.reshape(*xp.shape[:3], groups, cg)
        for a in range(kh):
            for b in range(kw):
                cols[:, :, :, :, a, b, :] = src[(slice(None), *_at_offset(a, b, stride, dilation, out_hw))]
    else:
        win = sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
        win = win[:, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw, :, ::dh, ::dw]  # (N, ho, wo, C, kh, kw)
        win = win.reshape(n, ho, wo, groups, cg, kh, kw)  # splitting C is a view
        np.copyto(cols, win.transpose(0, 1, 2, 3, 5, 6, 4))
    return buf.reshape(n * ho * wo, groups, width + ones)


def _grouped_matmul(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """(M, g, K) @ (g, K, P) -> (M, g*P): one matrix product per group; M = n images * pixels (n may be 0)."""
    m, g, k = a.shape
    if g == 1:
        if k * b.shape[2] <= _SMALL_WEIGHT and n:  # memory-bound: one product per image (see _SMALL_WEIGHT)
            return np.matmul(a.reshape(n, m // n, k), b[0]).reshape(m, -1)
        return a[:, 0, :] @ b[0]
    y = np.matmul(a.transpose(1, 0, 2), b)  # (g, M, P)
    return y.transpose(1, 0, 2).reshape(m, g * b.shape[2])


def _kernel_matrix(w: np.ndarray, groups: int) -> np.ndarray:
    """W (O, Cg, kh, kw) as per-group matrices (g, kh*kw*Cg, O/g), rows in the windows' (a, b, c) order."""
    o, cg, kh, kw = w.shape
    return w.reshape(groups, o // groups, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(groups, -1, o // groups)


# ------------------------------------------------------------------------------------------- the op
def _not_4d(where: str, xs: tuple, channels: int | None = None) -> ShapeError:
    """The error for an input that is not (N, C, H, W); for a 3-D one, the likely fix.

    A 3-D input is one image (C, H, W), fixed by ``x[None]``, or a batch of one-channel images whose channel
    axis was dropped (N, H, W) (MNIST-style data), fixed by ``x[:, None]``. With the layer's input ``channels``
    known (a convolution) the hint names the reading that fits, if any; without (a pool) it names both.
    """
    msg = f"{where}: expected a 4-D input (N, C, H, W), got shape {xs}"
    if len(xs) == 3:
        a, rest = xs[0], xs[1:]
        image = f"for a single image (C, H, W) use x[None] to get shape {(1, *xs)}"
        batch = f"for a batch of one-channel images (N, H, W) use x[:, None] to get shape {(a, 1, *rest)}"
        if channels == a or (channels is None and a == 1):  # (1, H, W): both readings give (1, 1, H, W)
            msg += f"; {image}"
        elif channels == 1:
            msg += f"; {batch}"
        elif channels is None:
            msg += f"; {image}, {batch}"
        else:
            msg += (f"; the layer takes {channels} input channels, so this is neither one image (C, H, W) with "
                    f"C = {channels} nor a batch of one-channel images: expected shape (N, {channels}, H, W)")
    elif len(xs) == 2 and channels in (1, None):
        msg += f"; for a single one-channel image (H, W) use x[None, None] to get shape {(1, 1, *xs)}"
    return ShapeError(msg)


class Conv2d(Function):
    """y = x (*) W + b: a 2-D cross-correlation with stride, zero padding, dilation and groups.

    Math
    ----
    Forward, for output pixel (i, j) of image n and output channel o (group of o: the Cg input channels
    c it sees):

        y[n, o, i, j] = b[o] + sum_{c, a, b'} W[o, c, a, b'] * xp[n, c, i*sh + a*dh, j*sw + b'*dw]

    with xp the input zero-padded by (ph, pw) (or by (top, bottom, left, right)). As matrices, with X the
    (pixels, kh*kw*Cg) window matrix and the bias as the weight of an extra constant input 1,
    [X 1] [W_mat; b] = Y. Derivative:

        [dL/dW_mat; dL/db] = [X 1]^T dL/dY     (dL/db is the sum of dL/dY over pixels)
        dL/dxp[n, :, i*sh + a*dh, j*sw + b*dw] += W[:, :, a, b]^T dL/dy[n, :, i, j]   for each offset (a, b)

    i.e. each window's gradient dL/dY W_mat^T goes back to the pixels the window read.
    """

    def __init__(self, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        self.stride, self.padding, self.dilation, self.groups = stride, _four(padding), dilation, groups

    def forward(self, x, w, b=None):
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        (sh, sw), (pt, pb, pl, pr), (dh, dw), g = self.stride, self.padding, self.dilation, self.groups
        ho = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
        wo = (wd + pl + pr - (kw - 1) * dw - 1) // sw + 1
        xp = _pad_nhwc(x.transpose(0, 2, 3, 1), self.padding)  # channels-last, zero-padded
        cols = _im2col(xp, (kh, kw), self.stride, self.dilation, (ho, wo), g, ones=b is not None)
        w_mat = _kernel_matrix(w, g)
        if b is not None:  # the bias is the last row: one matrix product computes X W + b
            w_mat = np.concatenate([w_mat, b.reshape(g, 1, o // g).astype(w_mat.dtype)], axis=1)
        y = _grouped_matmul(cols, w_mat, n)  # (N*ho*wo, O): the NHWC output, row by row
        self.in_shape, self.out_hw, self.kernel = x.shape, (ho, wo), (kh, kw)
        self.w = w if self.needs_input_grad[0] else None
        self.cols = cols if any(self.needs_input_grad[1:]) else None
        return y.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)

    def backward(self, gy):
        o = gy.shape[1]
        g = self.groups
        kh, kw = self.kernel
        needs = self.needs_input_grad
        gy_rows = gy.transpose(0, 2, 3, 1).reshape(-1, o)  # (N*ho*wo, O); a view when gy is channels-last
        gx = gw = gb = None
        if any(needs[1:]):
            cols = self.cols
            n = gy.shape[0]
            if g == 1 and cols.shape[2] * o <= _SMALL_WEIGHT and n:  # image by image, summed (see _SMALL_WEIGHT)
                g_mat = np.matmul(cols.reshape(n, -1, cols.shape[2]).transpose(0, 2, 1), gy_rows.reshape(n, -1, o))
                g_mat = g_mat.sum(axis=0)[None]
            elif g == 1:  # [X 1]^T dL/dY
                g_mat = (cols[:, 0, :].T @ gy_rows)[None]
            else:
                g_mat = np.matmul(cols.transpose(1, 2, 0), gy_rows.reshape(-1, g, o // g).transpose(1, 0, 2))
            cg = self.in_shape[1] // g
            k = kh * kw * cg  # rows of the weights; a last row, if any, is the bias's
            if needs[1]:
                gw = g_mat[:, :k].reshape(g, kh, kw, cg, o // g).transpose(0, 4, 3, 1, 2).reshape(o, cg, kh, kw)
            if len(needs) > 2 and needs[2]:
                gb = g_mat[:, k].reshape(o)
        if needs[0]:
            gx = self._grad_input(gy_rows)
        return gx, gw, gb

    def _grad_input(self, gy_rows):
        """dL/dx: for each kernel offset (a, b), dL/dY @ W[:, :, a, b] is added where that offset read x.

        The product rows are the output pixels (i, j); at offset (a, b) they read padded-input pixels
        (i*sh + a*dh, j*sw + b*dw), a strided block of the padded gradient: one matrix product and one
        add of whole blocks per offset.
        """
        n, c, h, wd = self.in_shape
        o, cg, kh, kw = self.w.shape
        g, og = self.groups, o // self.groups
        pt, pb, pl, pr = self.padding
        ho, wo = self.out_hw
        gy_g = gy_rows.reshape(-1, g, og).transpose(1, 0, 2)  # (g, M, Og)
        w_g = self.w.reshape(g, og, cg, kh, kw)
        gxp = np.zeros((n, h + pt + pb, wd + pl + pr, g, cg), dtype=np.result_type(gy_rows, self.w))
        for a in range(kh):
            for b in range(kw):
                part = gy_rows @ w_g[0, :, :, a, b] if g == 1 else np.matmul(gy_g, w_g[:, :, :, a, b])
                rows, cols = _at_offset(a, b, self.stride, self.dilation, self.out_hw)
                if g == 1:
                    gxp[:, rows, cols, 0] += part.reshape(n, ho, wo, cg)
                else:
                    gxp[:, rows, cols] += part.reshape(g, n, ho, wo, cg).transpose(1, 2, 3, 0, 4)
        gx = np.ascontiguousarray(gxp[:, pt : pt + h, pl : pl + wd]).reshape(n, h, wd, c)
        return gx.transpose(0, 3, 1, 2)  # channels-last, like the forward's output


# ------------------------------------------------------------------------------------- public function
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1, *, _layer: str = "conv2d"):
    """2-D convolution (cross-correlation, as in PyTorch) of a batch of NCHW images.

    Math
    ----
    y[n, o, i, j] = b[o] + sum_{c, a, b'} W[o, c, a, b'] * xp[n, g(o)*Cg + c, i*sh + a*dh, j*sw + b'*dw],
    xp the input zero-padded by ``padding``. Derivative: dL/dW = windows^T dL/dy, dL/db = sum of dL/dy,
    dL/dx = dL/dy convolved with the flipped kernel (see :class:`Conv2d`).

    Parameters
    ----------
    x : Tensor, shape (N, C_in, H, W)
    weight : Tensor, shape (C_out, C_in / groups, kh, kw)
    bias : Tensor, shape (C_out,), optional
    stride, dilation : int or (int, int)
    padding : int, (int, int), 'valid' (no padding) or 'same' (stride 1 only, as in PyTorch)
        'same' pads dh*(kh-1) rows in all, half on top and the rest (one more, if odd) at the bottom,
        and likewise for the columns, so the output has the input's height and width.
    groups : int, dividing both C_in and C_out

    Python lists become arrays of the default dtype, integer inputs the weight's dtype.

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out) with H_out = (H + 2*ph - dh*(kh-1) - 1) // sh + 1 (same for W).

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.conv2d(cr.ones(2, 3, 7, 5), cr.ones(4, 3, 3, 3), padding=1).shape
    (2, 4, 7, 5)
    """
    where = _layer
    x = layer_input(x, weight, where)
    stride, dilation = _pair(stride, "stride", where), _pair(dilation, "dilation", where)
    mode = padding if isinstance(padding, str) else None
    if mode is not None and mode not in ("same", "valid"):
        raise ArgumentError(f"{where}: padding must be an int, a pair of ints, 'same' or 'valid', got {padding!r}")
    if mode == "same" and stride != (1, 1):
        raise ArgumentError(f"{where}: padding='same' is not supported for strided convolutions (stride={stride})")
    padding = (0, 0) if mode else _pair(padding, "padding", where)
    if isinstance(groups, bool) or not isinstance(groups, (numbers.Integral, np.integer)) or groups < 1:
        raise ArgumentError(f"{where}: groups must be a positive integer, got {groups!r}")
    groups = int(groups)
    if min(stride) < 1:
        raise ArgumentError(f"{where}: stride must be positive, got {stride}")
    if min(padding) < 0:
        raise ArgumentError(f"{where}: padding must be non-negative, got {padding}")
    if min(dilation) < 1:
        raise ArgumentError(f"{where}: dilation must be positive, got {dilation}")
    xs, ws = _shape(x), _shape(weight)
    if len(ws) != 4:
        raise ShapeError(f"{where}: weight must have shape (C_out, C_in/groups, kh, kw), got {ws}")
    if len(xs) != 4:
        raise _not_4d(where, xs, ws[1] * groups)
    c_out, cg, kh, kw = ws
    if mode == "same":  # total dh*(kh-1): half before, the rest after (PyTorch's split)
        th, tw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
        pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        padding = (pads[0], pads[2]) if th % 2 == 0 and tw % 2 == 0 else pads
    if c_out % groups:
        raise ArgumentError(f"{where}: groups={groups} must divide the {c_out} output channels")
    if xs[1] != cg * groups:
        raise ShapeError(
            f"{where}: input of shape {xs} has {xs[1]} channels, expected {cg * groups} "
            f"(weight shape {ws}, groups={groups})"
        )
    eh, ew = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    pt, pb, pl, pr = _four(padding)
    hp, wp = xs[2] + pt + pb, xs[3] + pl + pr
    if eh > hp or ew > wp:
        raise ShapeError(
            f"{where}: kernel of size ({eh}, {ew}) (dilation included) is larger than the padded input "
            f"({hp}, {wp}) (input shape {xs}, padding {padding})"
        )
    if bias is not None and _shape(bias) != (c_out,):
        raise ShapeError(f"{where}: bias must have shape ({c_out},), got {_shape(bias)}")
    params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    if bias is None:
        return Conv2d.apply(x, weight, **params)
    return Conv2d.apply(x, weight, bias, **params)
