"""Residual connections: y = x + f(x), and the ResNet basic block built on them.

Why they help (the notes): the gradient of x + f(x) is dL/dx = dL/dy + dL/dy * df/dx, so however
small df/dx becomes in a deep stack, the identity path carries the gradient back unchanged, and
very deep networks keep learning instead of seeing their early layers' gradients vanish.
"""

from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor
from ...errors import ArgumentError, ArgumentTypeError, ShapeError
from ...functional.linalg import layer_input
from .._model_args import as_generator, check_device
from ..module import Module, Sequential
from .activation import ReLU
from .conv import Conv2d
from .norm import BatchNorm2d


class Residual(Module):
    """y = x + fn(x), for any module ``fn`` whose output has the shape of its input.

    Math: y = x + f(x);  dL/dx = dL/dy + (df/dx)^T dL/dy: the identity path passes dL/dy straight through.
    The wrapped module is the child ``fn`` (state dict keys ``fn.0.weight``, ...).

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> block = nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.Tanh()))
    >>> block(cr.randn(2, 4)).shape
    (2, 4)
    """

    def __init__(self, fn: Module):
        super().__init__()
        if not isinstance(fn, Module):
            raise ArgumentTypeError(f"Residual: fn must be a Module, got {type(fn).__name__}")
        self.fn = fn

    def forward(self, x):
        fx = self.fn(x)
        if isinstance(fx, Tensor) and not (isinstance(x, (Tensor, np.ndarray)) and x.dtype == fx.dtype):
            x = layer_input(x, fx)  # the identity path in fn's dtype (a float32 fn on float64 data stays float32)
        if tuple(fx.shape) != tuple(x.shape):
            raise ShapeError(f"Residual({type(self.fn).__name__}): the wrapped module maps shape {tuple(x.shape)} "
                             f"to {tuple(fx.shape)}; x + fn(x) needs the same shape")
        return x + fx


class ResidualBlock(Module):
    """The ResNet basic block: two 3x3 convolutions with batch norm, plus a shortcut.

    Math: y = relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x)), with s(x) = x, or
    s(x) = bn(conv1x1(x)) (the child ``downsample``) when the channels or the stride change.
    conv1 is Conv2d(in_channels, out_channels, 3, stride, padding=1), conv2 is
    Conv2d(out_channels, out_channels, 3, padding=1), both without bias (batch norm follows), so the
    state dict keys match torchvision's BasicBlock: conv1.weight, bn1.*, conv2.weight, bn2.*,
    downsample.0.weight, downsample.1.*.

    Parameters
    ----------
    in_channels : int
    out_channels : int, optional
        Defaults to ``in_channels``.
    stride : int
        Stride of conv1 (and of the shortcut); 2 halves the height and width.
    dtype, generator, device
        The parameters' floating dtype; a seed or a NumPy Generator drawing every initial weight (one stream
        for the block); the device, 'cpu' only. Inputs are cast to the weights' dtype, the identity
        shortcut included.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> nn.ResidualBlock(4, 8, stride=2)(cr.randn(2, 4, 8, 8)).shape
    (2, 8, 4, 4)
    """

    def __init__(self, in_channels: int, out_channels: int | None = None, stride: int = 1, dtype=None,
                 generator=None, *, device=None):
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels), ("stride", stride)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ArgumentError(f"ResidualBlock: {name} must be a positive integer, got {v!r}")
        check_device("ResidualBlock", device)
        generator = as_generator("ResidualBlock", generator)  # one stream for the three convolutions
        self.in_channels, self.out_channels, self.stride = int(in_channels), int(out_channels), int(stride)
        c_in, c_out = self.in_channels, self.out_channels
        self.conv1 = Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False, dtype=dtype, generator=generator)
        self.bn1 = BatchNorm2d(c_out, dtype=dtype)
        self.relu = ReLU()
        self.conv2 = Conv2d(c_out, c_out, 3, stride=1, padding=1, bias=False, dtype=dtype, generator=generator)
        self.bn2 = BatchNorm2d(c_out, dtype=dtype)
        if stride != 1 or c_in != c_out:
            self.downsample = Sequential(
                Conv2d(c_in, c_out, 1, stride=stride, bias=False, dtype=dtype, generator=generator),
                BatchNorm2d(c_out, dtype=dtype),
            )
        else:
            self.downsample = None

    def forward(self, x):
        x = layer_input(x, self.conv1.weight)  # as conv1 would cast it: the shortcut adds x in the same dtype
        shape = tuple(x.shape)
        if len(shape) != 4 or shape[1] != self.in_channels:
            raise ShapeError(f"ResidualBlock({self.in_channels}, {self.out_channels}): expected input of shape "
                             f"(N, {self.in_channels}, H, W), got {shape}")
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"
