"""Weight initialisers, each filling a Parameter or Tensor in place and returning it.

Why initialisation matters (the notes): with all-zero weights every hidden unit of a layer computes
the same thing and receives the same gradient, so they never become different (symmetry is never
broken). Random weights break the symmetry, and their scale decides whether signals vanish or explode
through depth:

* Xavier / Glorot (tanh, sigmoid):  Var(w) = 2 / (fan_in + fan_out)
  uniform on [-a, a] with a = gain * sqrt(6 / (fan_in + fan_out)),
  or normal with std = gain * sqrt(2 / (fan_in + fan_out))
* He / Kaiming (ReLU):              Var(w) = 2 / fan_in
  uniform on [-b, b] with b = gain * sqrt(3 / fan), or normal with std = gain / sqrt(fan)

Every draw comes from chainrule's seeded generator (``cr.manual_seed``) unless ``generator`` is given.
A tensor with no elements (a zero fan, e.g. the weight of ``Linear(0, n)``) is left as it is, as in
PyTorch, instead of dividing by zero.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import get_generator
from ..errors import ArgumentError, ShapeError


def _fill(t: Tensor, values) -> Tensor:
    t.data[...] = values
    return t


def calculate_fan_in_and_fan_out(t) -> tuple[int, int]:
    """fan_in = in_features * receptive field, fan_out = out_features * receptive field (PyTorch's rule)."""
    shape = t.shape
    if len(shape) < 2:
        raise ShapeError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity: 5/3 for tanh, sqrt(2) for relu, 1 for linear/sigmoid."""
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ArgumentError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def zeros_(t: Tensor) -> Tensor:
    """w = 0 (shows the symmetry problem when used for hidden layers)."""
    return _fill(t, 0)


def ones_(t: Tensor) -> Tensor:
    return _fill(t, 1)


def constant_(t: Tensor, val: float) -> Tensor:
    return _fill(t, val)


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """w ~ N(mean, std^2)."""
    return _fill(t, get_generator(generator).normal(mean, std, size=t.shape))


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """w ~ U(a, b)."""
    return _fill(t, get_generator(generator).uniform(a, b, size=t.shape))


def xavier_uniform_(t: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """w ~ U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(t)
    if t.size == 0:  # nothing to fill (a zero fan): a no-op, as in PyTorch
        return t
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a, generator)


def xavier_normal_(t: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """w ~ N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(t)
    if t.size == 0:
        return t
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _fan(t, mode: str) -> int:
    fan_in, fan_out = calculate_fan_in_and_fan_out(t)
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None) -> Tensor:
    """He uniform: w ~ U(-b, b), b = gain * sqrt(3 / fan), gain from ``nonlinearity`` (and slope ``a``)."""
    if _fan(t, mode) == 0:  # a zero-size tensor: nothing to fill, as in PyTorch (no division by zero)
        return t
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(t, mode))
    return uniform_(t, -bound, bound, generator)


def kaiming_normal_(t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None) -> Tensor:
    """He normal: w ~ N(0, std^2), std = gain / sqrt(fan)."""
    if _fan(t, mode) == 0:
        return t
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode))
    return normal_(t, 0.0, std, generator)


def orthogonal_(t: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, scaled by ``gain``."""
    if t.ndim < 2:
        raise ShapeError(f"orthogonal_: needs at least 2 dimensions, got shape {t.shape}")
    if t.size == 0:
        return t
    rows = t.shape[0]
    cols = t.size // rows
    flat = get_generator(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # make the decomposition unique, so the distribution is uniform
    if rows < cols:
        q = q.T
    return _fill(t, gain * q.reshape(t.shape))
