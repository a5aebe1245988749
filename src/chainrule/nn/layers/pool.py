"""Pooling layers: MaxPool2d and AvgPool2d, with PyTorch's arguments (stride defaults to the kernel).

The math sits in :mod:`chainrule.functional.pool`.
"""

from __future__ import annotations

from ...errors import ArgumentError
from ...functional.pool import avg_pool2d, max_pool2d
from ..module import Module


class MaxPool2d(Module):
    """Max over each kernel_size window of NCHW images; the gradient goes to the window's first maximum.

    Math: y[n, c, i, j] = max_{a, b} xp[n, c, i*sh + a*dh, j*sw + b*dw] (xp: x padded with -inf);
    dL/dx = dL/dy at the first maximum of each window (row-major, as PyTorch), 0 elsewhere.

    Parameters (PyTorch's): kernel_size, stride (default: kernel_size), padding (at most half the
    kernel), dilation, ``ceil_mode`` (round the output size up). ``return_indices=True`` is not supported.

    >>> import chainrule as cr
    >>> pool = cr.nn.MaxPool2d(2)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> pool(cr.zeros(8, 32, 28, 28)).shape
    (8, 32, 14, 14)
    >>> cr.nn.MaxPool2d(2, ceil_mode=True)(cr.zeros(1, 1, 5, 5)).shape
    (1, 1, 3, 3)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        if return_indices:
            raise ArgumentError("MaxPool2d: return_indices=True is not supported")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          _layer=f"MaxPool2d({self.extra_repr()})")

    def extra_repr(self) -> str:  # PyTorch's
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over each kernel_size window of NCHW images (zero padding counted, as PyTorch's default).

    Math: y[n, c, i, j] = 1/D sum_{a, b} xp[n, c, i*sh + a, j*sw + b]; dL/dx = dL/dy / D for every
    pixel of the window. D = kh*kw, or PyTorch's divisor for ``count_include_pad=False`` (the window's
    pixels inside the input), ``ceil_mode`` (a window hanging over the edge counts less) and
    ``divisor_override`` (that number).

    >>> import chainrule as cr
    >>> cr.nn.AvgPool2d(3, stride=2, padding=1)(cr.zeros(2, 4, 7, 5)).shape
    (2, 4, 4, 3)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override, _layer=f"AvgPool2d({self.extra_repr()})")

    def extra_repr(self) -> str:
        s = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if self.ceil_mode:
            s += ", ceil_mode=True"
        if not self.count_include_pad:
            s += ", count_include_pad=False"
        if self.divisor_override is not None:
            s += f", divisor_override={self.divisor_override}"
        return s
