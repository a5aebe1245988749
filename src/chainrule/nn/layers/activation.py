"""Activation modules: thin Modules over :mod:`chainrule.functional.activations`, with PyTorch's names.

They hold no parameters. The math (forward formula and derivative) is in the functional op each one
calls. ``inplace=`` is accepted where PyTorch has it, so PyTorch code runs unchanged; chainrule never
overwrites its input.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import ArgumentError, ArgumentTypeError
from ...functional import activations as A
from ...functional import elementwise as E
from ..module import Module


def _number(layer: str, name: str, v) -> float:
    """``v`` as a finite float: a string, an array or None is named in an error (not float()'s)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"{layer}: {name} must be a real number, got {type(v).__name__} {v!r:.60}")
    if not math.isfinite(v):
        raise ArgumentError(f"{layer}: {name} must be a finite number, got {v!r}")
    return float(v)


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x));  dL/dx = dL/dy * y (1 - y).

    >>> import chainrule as cr
    >>> cr.nn.Sigmoid()(cr.tensor([0.0])).item()
    0.5
    """

    def forward(self, x):
        return E.sigmoid(x)


class Tanh(Module):
    """y = tanh(x);  dL/dx = dL/dy * (1 - y^2)."""

    def forward(self, x):
        return E.tanh(x)


class ReLU(Module):
    """y = max(x, 0);  dL/dx = dL/dy * [x > 0].

    >>> import chainrule as cr
    >>> cr.nn.ReLU()(cr.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()

    def forward(self, x):
        return E.relu(x)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x;  dL/dx = dL/dy * (1 if x > 0 else negative_slope)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x):
        return A.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """y = x if x > 0 else alpha (exp(x) - 1);  dL/dx = dL/dy * (1 if x > 0 else y + alpha)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = _number("ELU", "alpha", alpha)

    def forward(self, x):
        return A.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """y = x Phi(x) (exact erf form; ``approximate="tanh"`` for the tanh form);
    dL/dx = dL/dy * (Phi(x) + x phi(x)).
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ArgumentError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return A.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """y = log(1 + exp(beta x)) / beta, computed stably, and y = x where beta x > threshold (PyTorch's
    definition);  dL/dx = dL/dy * sigmoid(beta x)  (dL/dy above the threshold).

    >>> import chainrule as cr
    >>> cr.nn.Softplus(beta=2.0)
    Softplus(beta=2.0, threshold=20.0)
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = A._softplus_args(beta, threshold, "Softplus")

    def forward(self, x):
        return A.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


def _axis(axis, dim, layer: str) -> int:
    """``dim`` is PyTorch's word for ``axis``; either may be given, not both with different values."""
    if dim is None:
        return axis
    if axis != -1 and axis != dim:
        raise ArgumentError(f"{layer}: got axis={axis} and dim={dim}; give one of them")
    return dim


class Softmax(Module):
    """y = softmax(x) along ``axis`` (alias ``dim``);  dL/dx = y * (dL/dy - sum(dL/dy * y)).

    >>> import chainrule as cr
    >>> cr.nn.Softmax(axis=1)(cr.zeros(2, 4)).numpy()[0]
    array([0.25, 0.25, 0.25, 0.25], dtype=float32)
    """

    def __init__(self, axis: int = -1, *, dim: int | None = None):
        super().__init__()
        self.axis = _axis(axis, dim, "Softmax")

    def forward(self, x):
        return A.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """y = log_softmax(x) along ``axis`` (alias ``dim``);  dL/dx = dL/dy - softmax(x) * sum(dL/dy)."""

    def __init__(self, axis: int = -1, *, dim: int | None = None):
        super().__init__()
        self.axis = _axis(axis, dim, "LogSoftmax")

    def forward(self, x):
        return A.log_softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"
