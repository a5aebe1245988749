"""Pooling layers: MaxPool2d and AvgPool2d, with PyTorch's arguments (stride defaults to the kernel).

The math sits in :mod:`chainrule.functional.pool`.
"""

from __future__ import annotations

from ...functional.pool import avg_pool2d, max_pool2d
from ..module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over each kernel_size window of NCHW images; the gradient goes to the window's first maximum.

    Math: y[n, c, i, j] = max_{a, b} xp[n, c, i*sh + a, j*sw + b] (xp: x padded with -inf);
    dL/dx = dL/dy at the first maximum of each window (row-major, as PyTorch), 0 elsewhere.

    >>> import chainrule as cr
    >>> pool = cr.nn.MaxPool2d(2)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0)
    >>> pool(cr.zeros(8, 32, 28, 28)).shape
    (8, 32, 14, 14)
    """

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, _layer=f"MaxPool2d({self.extra_repr()})")


class AvgPool2d(_Pool2d):
    """Mean over each kernel_size window of NCHW images (zero padding counted, as PyTorch's default).

    Math: y[n, c, i, j] = 1/(kh*kw) sum_{a, b} xp[n, c, i*sh + a, j*sw + b];
    dL/dx = dL/dy / (kh*kw) for every pixel of the window.

    >>> import chainrule as cr
    >>> cr.nn.AvgPool2d(3, stride=2, padding=1)(cr.zeros(2, 4, 7, 5)).shape
    (2, 4, 4, 3)
    """

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, _layer=f"AvgPool2d({self.extra_repr()})")
