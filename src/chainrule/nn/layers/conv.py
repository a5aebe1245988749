"""Convolution layer: Conv2d, with PyTorch's arguments, parameter names, shapes and initialisation.

The math (windows times a matrix, and the derivative as two more matrix products) sits in
:mod:`chainrule.functional.conv`.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import ArgumentError
from ...functional.conv import _pair, conv2d
from .. import init
from .._model_args import as_generator, check_device, flag, param_dtype
from ..module import Module, Parameter


def _positive_int(value, name: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ArgumentError(f"{where}: {name} must be a positive integer, got {value!r}")
    return int(value)


class Conv2d(Module):
    """2-D convolution over NCHW images: y = x (*) W + b, W of shape (out, in/groups, kh, kw).

    Math: y[n, o, i, j] = b[o] + sum_{c, a, b'} W[o, c, a, b'] * xp[n, c, i*sh + a*dh, j*sw + b'*dw]
    (xp: x zero-padded); dL/dW = windows^T dL/dy, dL/db = sum of dL/dy, dL/dx = dL/dy convolved with
    the flipped kernel.
    Initialisation (PyTorch's default): kaiming_uniform_(W, a=sqrt(5)), i.e. W ~ U(-1/sqrt(fan_in),
    1/sqrt(fan_in)), and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with fan_in = in/groups * kh * kw.
    The layer computes in its weight's dtype: lists become the default dtype, and integer or floating
    inputs of another dtype are cast to the weight's (a tensor that requires grad gets its gradient
    back in its own dtype).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, dilation : int or (int, int)
    padding : int, (int, int), 'valid' or 'same' ('same' keeps H and W; stride 1 only, as in PyTorch)
    groups : int, dividing in_channels and out_channels
    bias : bool
    padding_mode : 'zeros' (the only one chainrule has; PyTorch's others raise an ArgumentError)
    dtype : floating dtype of the parameters (default: the default dtype)
    generator : int or numpy Generator, optional
        Draws the initial weights (a seed becomes one Generator); by default the global one.
    device : 'cpu' or None (chainrule runs on the CPU)

    >>> import chainrule as cr
    >>> conv = cr.nn.Conv2d(1, 32, 3, padding=1)
    >>> conv
    Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    >>> conv(cr.zeros(8, 1, 28, 28)).shape
    (8, 32, 28, 28)
    >>> cr.nn.Conv2d(1, 4, 4, padding="same")(cr.zeros(2, 1, 9, 9)).shape
    (2, 4, 9, 9)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", dtype=None, generator=None, *,
                 device=None):
        super().__init__()
        where = "Conv2d"
        check_device(where, device)
        self.in_channels = _positive_int(in_channels, "in_channels", where)
        self.out_channels = _positive_int(out_channels, "out_channels", where)
        self.groups = _positive_int(groups, "groups", where)
        self.kernel_size = _pair(kernel_size, "kernel_size", where)
        self.stride = _pair(stride, "stride", where)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ArgumentError(f"{where}: padding must be an int, a pair of ints, 'same' or 'valid', "
                                    f"got {padding!r}")
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding", where)
        self.dilation = _pair(dilation, "dilation", where)
        if padding_mode != "zeros":
            raise ArgumentError(f"{where}: padding_mode={padding_mode!r} is not supported; chainrule pads with "
                                "zeros only (padding_mode='zeros')")
        self.padding_mode = padding_mode
        for name in ("kernel_size", "stride", "dilation"):
            if min(getattr(self, name)) < 1:
                raise ArgumentError(f"{where}: {name} must be positive, got {getattr(self, name)}")
        if self.padding == "same" and self.stride != (1, 1):
            raise ArgumentError(f"{where}: padding='same' is not supported for strided convolutions "
                                f"(stride={self.stride})")
        if not isinstance(self.padding, str) and min(self.padding) < 0:
            raise ArgumentError(f"{where}: padding must be non-negative, got {self.padding}")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ArgumentError(
                f"{where}: groups={self.groups} must divide in_channels={self.in_channels} "
                f"and out_channels={self.out_channels}"
            )
        dt = param_dtype(where, dtype)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=dt))
        self.bias = Parameter(np.empty(self.out_channels, dtype=dt)) if flag(where, "bias", bias) else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        generator = as_generator("Conv2d", generator)  # one stream for W and b (a seed would restart it)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                      _layer=f"Conv2d({self.extra_repr()})")

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding if not isinstance(self.padding, str) else repr(self.padding)}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
