"""Rows for convolution and pooling: conv2d (stride, padding, dilation, groups), max_pool2d, avg_pool2d.

Odd sizes on purpose (H=7, W=5): every stride / padding combination then leaves a remainder somewhere.
The NumPy references loop over kernel offsets, independently of the im2col code under test.
"""

import numpy as np

import chainrule.functional as F

from . import Arg, OpSpec

A = Arg


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _ref_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, _, h, wd = xp.shape
    o, cg, kh, kw = w.shape
    ho, wo = (h - dh * (kh - 1) - 1) // sh + 1, (wd - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    y = np.zeros((n, o, ho, wo))
    for g in range(groups):
        for a in range(kh):
            for c in range(kw):
                patch = xp[:, g * cg : (g + 1) * cg, a * dh : a * dh + sh * (ho - 1) + 1 : sh,
                           c * dw : c * dw + sw * (wo - 1) + 1 : sw]
                y[:, g * og : (g + 1) * og] += np.einsum("nchw,oc->nohw", patch, w[g * og : (g + 1) * og, :, a, c])
    if b is not None:
        y += b[:, None, None]
    return y.astype(x.dtype)


def _ref_pool(x, k, stride=None, padding=0, kind="max"):
    (kh, kw), (ph, pw) = _pair(k), _pair(padding)
    sh, sw = _pair(k if stride is None else stride)
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    ho, wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    views = [xp[:, :, a : a + sh * (ho - 1) + 1 : sh, c : c + sw * (wo - 1) + 1 : sw]
             for a in range(kh) for c in range(kw)]
    return np.max(views, axis=0) if kind == "max" else np.mean(views, axis=0).astype(x.dtype)


def _conv_row(name, x_shape, w_shape, bias=True, **kw):
    args = [A(x_shape), A(w_shape)] + ([A((w_shape[0],))] if bias else [])
    return OpSpec(
        name,
        lambda *t: F.conv2d(*t, **kw),
        args,
        lambda *a: _ref_conv(*a, **kw),
        lambda torch, *t: torch.nn.functional.conv2d(*t, **kw),
    )


def _pool_row(name, kind, x_shape, k, **kw):
    ours = F.max_pool2d if kind == "max" else F.avg_pool2d
    theirs = "max_pool2d" if kind == "max" else "avg_pool2d"
    return OpSpec(
        name,
        lambda x: ours(x, k, **kw),
        [A(x_shape)],
        lambda x: _ref_pool(x, k, kind=kind, **kw),
        lambda torch, x: getattr(torch.nn.functional, theirs)(x, k, **kw),
    )


X = (2, 3, 7, 5)
SPECS = [
    _conv_row("conv2d_3x3", X, (4, 3, 3, 3)),
    _conv_row("conv2d_3x3_pad1", X, (4, 3, 3, 3), padding=1),
    _conv_row("conv2d_2x3_stride2_pad1", X, (4, 3, 2, 3), stride=2, padding=1),
    _conv_row("conv2d_3x3_stride2_nobias", X, (4, 3, 3, 3), bias=False, stride=2),
    _conv_row("conv2d_dilation2_pad1", X, (4, 3, 3, 3), padding=1, dilation=2),
    _conv_row("conv2d_groups3_pad1", X, (6, 1, 3, 3), padding=1, groups=3),
    _conv_row("conv2d_groups3_stride2_nobias", (2, 6, 7, 5), (3, 2, 2, 3), bias=False, stride=2, groups=3),
    _conv_row("conv2d_pairs", X, (4, 3, 3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
    _conv_row("conv2d_1x1_pad2", X, (4, 3, 1, 1), padding=2),
    _conv_row("conv2d_cin1_pad1", (2, 1, 7, 5), (4, 1, 3, 3), padding=1),
    _conv_row("conv2d_big_padding", (1, 2, 4, 3), (3, 2, 2, 2), padding=3),
    # an empty batch (N = 0): empty output and input gradient, zero weight gradients (QA2 numerics #3)
    _conv_row("conv2d_empty_batch", (0, 3, 7, 5), (4, 3, 3, 3), padding=1),
    _conv_row("conv2d_empty_batch_groups", (0, 6, 7, 5), (6, 2, 3, 3), groups=3, stride=2),
    _conv_row("conv2d_empty_batch_wide", (0, 16, 5, 5), (300, 16, 3, 3), bias=False),
    _pool_row("max_pool2d_tiles", "max", (2, 3, 8, 6), 2),
    _pool_row("max_pool2d_remainder", "max", X, 2),
    _pool_row("max_pool2d_overlap_pad", "max", X, 3, stride=2, padding=1),
    _pool_row("max_pool2d_rect", "max", X, (3, 2), stride=(2, 1), padding=(1, 0)),
    _pool_row("max_pool2d_stride1", "max", X, 2, stride=1),
    _pool_row("avg_pool2d_tiles", "avg", (2, 3, 8, 6), 2),
    _pool_row("avg_pool2d_remainder", "avg", X, 2),
    _pool_row("avg_pool2d_overlap_pad", "avg", X, 3, stride=2, padding=1),
    _pool_row("avg_pool2d_rect", "avg", X, (3, 2), stride=1, padding=(1, 0)),
]
