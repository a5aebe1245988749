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

As in PyTorch, the first argument is named ``tensor`` and must be a Tensor (a Parameter is one); the random
fills need a floating-point tensor. A fill is an in-place change: a graph built before it that saved the
tensor can no longer back-propagate (``backward`` raises ``AutogradError`` instead of using the new values).
A NumPy array is not accepted; ``cr.from_numpy(a)`` shares its memory, so filling that fills ``a``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import get_generator
from ..errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError


# ------------------------------------------------------------------------------------------ checks
def _target(fn: str, tensor, random: bool = False) -> Tensor:
    """``tensor`` checked: a writable Tensor, floating-point for a random fill (PyTorch refuses other dtypes)."""
    if not isinstance(tensor, Tensor):
        hint = (" (cr.from_numpy(a) wraps a NumPy array without copying: filling it fills the array)"
                if isinstance(tensor, np.ndarray) else "")
        raise ArgumentTypeError(f"nn.init.{fn}: tensor must be a Parameter or Tensor, got "
                                f"{type(tensor).__name__}{hint}")
    if random and tensor.dtype.kind != "f":
        raise DTypeError(f"nn.init.{fn}: a random fill needs a floating-point tensor (float32 or float64), got "
                         f"dtype {tensor.dtype}, as in PyTorch (draws would be truncated to integers)")
    if not tensor.data.flags.writeable:
        raise ArgumentError(f"nn.init.{fn}: the tensor's array (shape {tensor.shape}) is read-only")
    return tensor


def _number(fn: str, name: str, v, fill: bool = False):
    """``v`` as a Python float: a real number, a NumPy scalar or a 0-d array/Tensor of one. For a ``fill`` value
    (``constant_``) bools are accepted and ints kept exact; elsewhere a bool is refused (True is not a std)."""
    if isinstance(v, (Tensor, np.ndarray)) and v.ndim == 0 and v.dtype.kind in "biuf":
        v = v.item()
    if not isinstance(v, numbers.Real) or (isinstance(v, (bool, np.bool_)) and not fill):
        raise ArgumentTypeError(f"nn.init.{fn}: {name} must be a real number, got {v!r} ({type(v).__name__})")
    if fill and isinstance(v, numbers.Integral):
        return bool(v) if isinstance(v, (bool, np.bool_)) else int(v)
    try:
        return float(v)
    except OverflowError:  # an int beyond the float range
        raise ArgumentError(f"nn.init.{fn}: {name} is too large, got {v}") from None


def _fill(t: Tensor, values) -> Tensor:
    t.data[...] = values
    t._version += 1  # an in-place change: a graph that saved t cannot back-propagate any more
    return t


def _fans(fn: str, tensor) -> tuple[int, int]:
    shape = tensor.shape
    if len(shape) < 2:
        raise ShapeError(f"nn.init.{fn}: fan in and fan out need a tensor with at least 2 dimensions, "
                         f"got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """fan_in = in_features * receptive field, fan_out = out_features * receptive field (PyTorch's rule).

    >>> import chainrule as cr
    >>> cr.nn.init.calculate_fan_in_and_fan_out(cr.zeros(8, 3, 5, 5))   # a Conv2d(3, 8, 5) weight
    (75, 200)
    """
    return _fans("calculate_fan_in_and_fan_out", tensor)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity: 5/3 for tanh, sqrt(2) for relu, 1 for linear/sigmoid.

    ``param`` is leaky_relu's negative slope (default 0.01).

    >>> from chainrule.nn import init
    >>> round(init.calculate_gain("relu"), 4), round(init.calculate_gain("leaky_relu", 0.2), 4)
    (1.4142, 1.3868)
    """
    if not isinstance(nonlinearity, str):
        raise ArgumentTypeError(f"nn.init.calculate_gain: nonlinearity must be a string such as 'relu', "
                                f"got {nonlinearity!r}")
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else _number("calculate_gain", "param (the negative slope)", param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ArgumentError(f"nn.init.calculate_gain: unknown nonlinearity {nonlinearity!r} (expected one of linear, "
                        "identity, sigmoid, conv1d/2d/3d, tanh, relu, leaky_relu, selu)")


# ------------------------------------------------------------------------------------------ draws
def _normal(fn: str, t: Tensor, mean, std, generator) -> Tensor:
    """Fill ``t`` with N(mean, std^2) draws; ``std`` must be >= 0 (NaN refused, as PyTorch)."""
    mean, std = _number(fn, "mean", mean), _number(fn, "std", std)
    if not std >= 0:
        raise ArgumentError(f"nn.init.{fn}: the standard deviation must be >= 0, got std={std}")
    return _fill(t, get_generator(generator, f"nn.init.{fn}").normal(mean, std, size=t.shape))


def _uniform(fn: str, t: Tensor, a, b, generator, names=("a", "b")) -> Tensor:
    """Fill ``t`` with U(a, b) draws; finite bounds with a <= b (as PyTorch)."""
    a, b = _number(fn, names[0], a), _number(fn, names[1], b)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ArgumentError(f"nn.init.{fn}: the bounds must be finite, got {names[0]}={a}, {names[1]}={b}")
    if a > b:
        raise ArgumentError(f"nn.init.{fn}: the lower bound {names[0]}={a} is above the upper bound "
                            f"{names[1]}={b}; expected {names[0]} <= {names[1]}")
    try:
        values = get_generator(generator, f"nn.init.{fn}").uniform(a, b, size=t.shape)
    except OverflowError:  # b - a beyond the largest float
        raise ArgumentError(f"nn.init.{fn}: the range [{a}, {b}] is too wide to draw from") from None
    return _fill(t, values)


def _gain(fn: str, gain) -> float:
    gain = _number(fn, "gain", gain)
    if not (math.isfinite(gain) and gain >= 0):
        raise ArgumentError(f"nn.init.{fn}: gain must be finite and >= 0, got {gain}")
    return gain


# ------------------------------------------------------------------------------------------ fills
def zeros_(tensor: Tensor) -> Tensor:
    """w = 0 (shows the symmetry problem when used for hidden layers).

    >>> import chainrule as cr
    >>> cr.nn.init.zeros_(cr.ones(2)).numpy()
    array([0., 0.], dtype=float32)
    """
    return _fill(_target("zeros_", tensor), 0)


def ones_(tensor: Tensor) -> Tensor:
    """w = 1."""
    return _fill(_target("ones_", tensor), 1)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """w = val (a number that the tensor's dtype can hold; an integer tensor truncates a float, as PyTorch).

    >>> import chainrule as cr
    >>> cr.nn.init.constant_(cr.zeros(3), 0.5).numpy()
    array([0.5, 0.5, 0.5], dtype=float32)
    """
    t = _target("constant_", tensor)
    val = _number("constant_", "val", val, fill=True)
    dt = t.dtype
    finite = isinstance(val, int) or math.isfinite(val)  # a Python int is exact, however large
    if dt.kind == "f":
        fits = not finite or abs(val) <= float(np.finfo(dt).max)
    elif dt.kind in "iu":
        fits = finite and int(np.iinfo(dt).min) <= math.trunc(val) <= int(np.iinfo(dt).max)
    else:
        fits = True
    if not fits:
        raise ArgumentError(f"nn.init.constant_: val={val!r} cannot be stored in a {dt} tensor without overflow")
    return _fill(t, val)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """w ~ N(mean, std^2), std >= 0.

    >>> import chainrule as cr
    >>> w = cr.nn.init.normal_(cr.zeros(1000), 2.0, 0.5, generator=0)
    >>> round(float(w.numpy().mean()), 1), round(float(w.numpy().std()), 1)
    (2.0, 0.5)
    """
    return _normal("normal_", _target("normal_", tensor, random=True), mean, std, generator)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """w ~ U(a, b), finite bounds with a <= b.

    >>> import chainrule as cr
    >>> w = cr.nn.init.uniform_(cr.zeros(1000), -1.0, 1.0, generator=0).numpy()
    >>> bool(w.min() >= -1.0 and w.max() < 1.0)
    True
    """
    return _uniform("uniform_", _target("uniform_", tensor, random=True), a, b, generator)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """w ~ U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    t = _target("xavier_uniform_", tensor, random=True)
    fan_in, fan_out = _fans("xavier_uniform_", t)
    gain = _gain("xavier_uniform_", gain)
    if t.size == 0:  # nothing to fill (a zero fan): a no-op, as in PyTorch
        return t
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform("xavier_uniform_", t, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """w ~ N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    t = _target("xavier_normal_", tensor, random=True)
    fan_in, fan_out = _fans("xavier_normal_", t)
    gain = _gain("xavier_normal_", gain)
    if t.size == 0:
        return t
    return _normal("xavier_normal_", t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_scale(fn: str, t: Tensor, a, mode: str, nonlinearity: str) -> tuple[float, int]:
    """(gain, fan) of a He initialisation, each argument checked."""
    fan_in, fan_out = _fans(fn, t)
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"nn.init.{fn}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    a = _number(fn, "a (the negative slope)", a)
    if not isinstance(nonlinearity, str):
        raise ArgumentTypeError(f"nn.init.{fn}: nonlinearity must be a string such as 'relu', got {nonlinearity!r}")
    try:
        gain = calculate_gain(nonlinearity, a)
    except ArgumentError as e:
        raise ArgumentError(str(e).replace("nn.init.calculate_gain", f"nn.init.{fn}")) from None
    return gain, fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None) -> Tensor:
    """He uniform: w ~ U(-b, b), b = gain * sqrt(3 / fan), gain from ``nonlinearity`` (and slope ``a``)."""
    t = _target("kaiming_uniform_", tensor, random=True)
    gain, fan = _kaiming_scale("kaiming_uniform_", t, a, mode, nonlinearity)
    if fan == 0:  # a zero-size tensor: nothing to fill, as in PyTorch (no division by zero)
        return t
    bound = gain * math.sqrt(3.0 / fan)
    return _uniform("kaiming_uniform_", t, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None) -> Tensor:
    """He normal: w ~ N(0, std^2), std = gain / sqrt(fan)."""
    t = _target("kaiming_normal_", tensor, random=True)
    gain, fan = _kaiming_scale("kaiming_normal_", t, a, mode, nonlinearity)
    if fan == 0:
        return t
    return _normal("kaiming_normal_", t, 0.0, gain / math.sqrt(fan), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, scaled by ``gain``.

    >>> import chainrule as cr, numpy as np
    >>> q = cr.nn.init.orthogonal_(cr.zeros(3, 5, dtype=np.float64), generator=0).numpy()
    >>> np.allclose(q @ q.T, np.eye(3))
    True
    """
    t = _target("orthogonal_", tensor, random=True)
    if t.ndim < 2:
        raise ShapeError(f"nn.init.orthogonal_: needs a tensor with at least 2 dimensions, got shape {t.shape}")
    gain = _number("orthogonal_", "gain", gain)
    if t.size == 0:
        return t
    rows = t.shape[0]
    cols = t.size // rows
    flat = get_generator(generator, "nn.init.orthogonal_").standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # make the decomposition unique, so the distribution is uniform
    if rows < cols:
        q = q.T
    return _fill(t, gain * q.reshape(t.shape))
