"""Fully connected layers: Linear, Identity, Flatten."""

from __future__ import annotations

import math

import numpy as np

from ...errors import ArgumentError, ArgumentTypeError
from ...functional.linalg import linear
from ...functional.shape import flatten
from .. import init
from .._model_args import as_generator, check_device, flag, param_dtype
from ..module import Module, Parameter


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features) as in PyTorch.

    Math: y = x W^T + b;  dL/dx = dL/dy W,  dL/dW = dL/dy^T x,  dL/db = sum over the batch of dL/dy.
    Initialisation (PyTorch's default): W, b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
    Sizes may be 0, as in PyTorch (``Linear(0, n)`` then returns its bias, which is 0).
    Python lists become arrays of the default dtype and integer inputs the weight's dtype. A floating input
    of another dtype is cast to the weight's dtype (a float32 layer computes in float32 on float64 data,
    as ``train.fit`` casts); a tensor that requires grad gets its gradient back in its own dtype.
    ``generator`` (a seed or a NumPy Generator) draws the initial weights, by default the global one;
    ``device`` may only be the CPU ('cpu'), as everywhere in chainrule.

    >>> import chainrule as cr
    >>> cr.nn.Linear(3, 2)(cr.ones(5, 3)).shape
    (5, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None, generator=None, *,
                 device=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ArgumentError(f"Linear: {name} must be a non-negative integer, got {v!r}")
        check_device("Linear", device)
        self.in_features, self.out_features = int(in_features), int(out_features)
        dt = param_dtype("Linear", dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dt))
        self.bias = Parameter(np.empty(self.out_features, dtype=dt)) if flag("Linear", "bias", bias) else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        generator = as_generator("Linear", generator)  # one stream for W and b (a seed would restart it)
        # PyTorch: kaiming_uniform_(a=sqrt(5)) on W, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, x):
        return linear(x, self.weight, self.bias, _layer=f"Linear({self.in_features}, {self.out_features})")

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """y = x."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Merge axes ``start_dim`` .. ``end_dim`` (by default everything but the batch axis).

    >>> import chainrule as cr
    >>> cr.nn.Flatten()(cr.zeros(2, 3, 4)).shape, cr.nn.Flatten(0, 1)
    ((2, 12), Flatten(start_dim=0, end_dim=1))
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        for name, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ArgumentTypeError(f"Flatten: {name} must be an integer (an axis), got {v!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x):
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
