"""Activation functions and their derivatives: leaky_relu, elu, gelu, softplus, softmax, log_softmax,
logsumexp (sigmoid, tanh and relu live in :mod:`.elementwise` and are re-exported here), and one_hot.

Numerical stability is part of each op: exp is only ever taken of numbers <= 0 (softplus, softmax,
log_softmax and logsumexp subtract the maximum first), so |x| = 1e4 gives finite values and gradients
in float32 as in float64. Softmax and log_softmax are single ops with their own backward, cheaper than
the chain of exp, sum and divide they replace.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_default_dtype
from ..errors import ArgumentError, ArgumentTypeError, DataError, DTypeError
from .elementwise import float_operand as _in
from .elementwise import relu, sigmoid, stable_sigmoid, tanh
from .reduce import covers_nothing, normalize_axis

__all__ = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "softmax", "log_softmax",
           "logsumexp", "one_hot"]




def _ndim(x) -> int:
    return x.data.ndim if isinstance(x, Tensor) else np.ndim(x)


def _one_axis(axis, x, op: str) -> int | None:
    """``axis`` as a non-negative int; None for a 0-d tensor (axis 0 or -1 accepted there, as in PyTorch)."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ArgumentTypeError(f"{op}: axis must be an int, got {axis!r}")
    axes = normalize_axis(int(axis), _ndim(x), op)
    return axes[0] if axes else None  # a 0-d tensor is its own single-element row: softmax 1, log_softmax 0


# ------------------------------------------------------------------------------------------ erf
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
# 1 / (2n+1)!! for n = 0, 1, 2, ...: the coefficients of the all-positive series of erf below
_ODD_FACT_INV = [1 / math.prod(range(1, 2 * n + 2, 2)) for n in range(40)]
# (series terms, continued-fraction depth) giving full precision at the switch point |t| = 2
_ERF_TERMS = {np.dtype(np.float64): (28, 50), np.dtype(np.float32): (18, 20)}


def _erf_erfc(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """erf(t) and erfc(t) = 1 - erf(t), elementwise, to the precision of t's dtype (float64: ~1e-15).

    For |t| <= 2, the series  erf(a) = 2/sqrt(pi) a exp(-a^2) sum_n (2a^2)^n / (1*3*5*...*(2n+1))  has
    only positive terms (no cancellation). For |t| > 2, the continued fraction
    erfc(a) = exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...)))))
    gives the small tail directly, so erfc keeps its relative precision far out (erfc(10) ~ 2e-45).
    Odd symmetry erf(-a) = -erf(a) handles negative t.
    """
    if t.dtype.itemsize < 4:  # float16: too narrow for the series' intermediate terms
        e, c = _erf_erfc(t.astype(np.float32))
        return e.astype(t.dtype), c.astype(t.dtype)
    n_terms, depth = _ERF_TERMS.get(t.dtype, _ERF_TERMS[np.dtype(np.float64)])
    a = np.minimum(np.abs(t), 30)  # erfc(30) underflows to 0 anyway; this keeps a*a finite
    near = a <= 2
    erf_a = np.empty_like(a)
    erfc_a = np.empty_like(a)
    if near.any():
        s = a[near]
        u = 2 * s * s
        p = np.full_like(s, _ODD_FACT_INV[n_terms])
        for c in _ODD_FACT_INV[n_terms - 1::-1]:  # Horner in u
            p *= u
            p += c
        e = _TWO_OVER_SQRT_PI * s * np.exp(-s * s) * p
        erf_a[near] = e
        erfc_a[near] = 1 - e
    far = ~near
    if far.any():
        s = a[far]
        f = s.copy()
        for k in range(depth, 0, -1):  # the continued fraction, evaluated from its tail up
            f = s + (0.5 * k) / f
        e = _INV_SQRT_PI * np.exp(-s * s) / f
        erfc_a[far] = e
        erf_a[far] = 1 - e
    neg = t < 0
    erf_t = np.where(neg, -erf_a, erf_a)
    erfc_t = np.where(neg, 2 - erfc_a, erfc_a)  # erfc(-a) = 2 - erfc(a)
    return erf_t, erfc_t


def _erf(x) -> np.ndarray:
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-s^2) ds, on NumPy arrays (no gradient).

    Accurate to about 1e-15 in float64; used by the exact GELU.

    >>> import numpy as np
    >>> float(_erf(np.array(1.0)))  # math.erf(1.0) = 0.8427007929497149
    0.8427007929497149
    """
    a = np.asarray(x.data if isinstance(x, Tensor) else x)
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    return _erf_erfc(a)[0]


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 = erfc(-x / sqrt 2) / 2, precise in both tails."""
    return 0.5 * _erf_erfc(x * -math.sqrt(0.5))[1]


# ------------------------------------------------------------------------------------------ ops
class LeakyReLU(Function):
    """y = x if x > 0 else s*x;  dL/dx = dL/dy if x > 0 else s * dL/dy  (s: negative_slope)."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, x * self.slope)

    def backward(self, gy):
        return np.where(self.mask, gy, gy * self.slope)


class ELU(Function):
    """y = x if x > 0 else alpha (exp(x) - 1);  dL/dx = dL/dy if x > 0 else dL/dy * alpha exp(x)  (= y + alpha,
    but y + alpha cancels to 0 in float32 for x < -17, where alpha exp(x) is still a number, as in PyTorch)."""

    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x):
        self.mask = x > 0
        self.x = x
        return np.where(self.mask, x, self.alpha * np.expm1(np.minimum(x, 0)))  # exp never of x > 0

    def backward(self, gy):
        return np.where(self.mask, gy, gy * (self.alpha * np.exp(np.minimum(self.x, 0))))


class GELU(Function):
    """y = x Phi(x), Phi the standard normal CDF = (1 + erf(x / sqrt 2)) / 2;
    dL/dx = dL/dy * (Phi(x) + x phi(x)),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
    """

    def forward(self, x):
        self.x = x
        self.cdf = _normal_cdf(x)
        return x * self.cdf

    def backward(self, gy):
        xc = np.clip(self.x, -40, 40)  # phi is 0 beyond; clipping keeps x*x finite in float32
        pdf = np.exp(-0.5 * xc * xc) * (1 / math.sqrt(2 * math.pi))
        return gy * (self.cdf + self.x * pdf)


_K = math.sqrt(2 / math.pi)


class GELUTanh(Function):
    """y = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3);
    dL/dx = dL/dy * ((1 + t)/2 + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)),  t = tanh(u).
    """

    def forward(self, x):
        self.x = np.clip(x, -10, 10)  # tanh(u) is exactly +-1 beyond; clipping keeps x^3 finite
        self.t = np.tanh(_K * (self.x + 0.044715 * self.x**3))
        return 0.5 * x * (1 + self.t)

    def backward(self, gy):
        x, t = self.x, self.t
        return gy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _K * (1 + 3 * 0.044715 * x * x))


class Softplus(Function):
    """u = beta x;  y = x where u > threshold, else log(1 + exp(u)) / beta = (max(u, 0) + log1p(exp(-|u|))) / beta;
    dL/dx = dL/dy where u > threshold, else dL/dy * sigmoid(u).
    """

    def __init__(self, beta=1.0, threshold=20.0):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        beta = self.beta
        self.u = u = x if beta == 1 else x * beta
        y = np.maximum(u, 0) + np.log1p(np.exp(-np.abs(u)))
        if beta != 1:
            y /= beta
        over = u > self.threshold
        self.over = over if over.any() else None
        return y if self.over is None else np.where(over, x, y)

    def backward(self, gy):
        s = stable_sigmoid(self.u)
        if self.over is not None:
            s[self.over] = 1
        return gy * s


class Softmax(Function):
    """y_i = exp(x_i - m) / sum_j exp(x_j - m),  m = max_j x_j  (along ``axis``; None: a 0-d x, y = 1);
    dL/dx = y * (dL/dy - sum_j dL/dy_j y_j).
    """

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        if self.axis is not None and x.shape[self.axis] == 0:  # nothing to normalise: an empty result, as PyTorch
            self.y = x.copy()
            return self.y
        e = np.exp(x - np.max(x, axis=self.axis, keepdims=True))
        e /= np.sum(e, axis=self.axis, keepdims=True)
        self.y = e
        return e

    def backward(self, gy):
        y = self.y
        return y * (gy - np.sum(gy * y, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y_i = x_i - logsumexp(x) = (x_i - m) - log sum_j exp(x_j - m);
    dL/dx = dL/dy - softmax(x) * sum_j dL/dy_j,  softmax(x) = exp(y)  (axis None: a 0-d x, y = 0).
    """

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        if self.axis is not None and x.shape[self.axis] == 0:  # nothing to normalise: an empty result, as PyTorch
            self.y = x.copy()
            return self.y
        s = x - np.max(x, axis=self.axis, keepdims=True)
        s -= np.log(np.sum(np.exp(s), axis=self.axis, keepdims=True))
        self.y = s
        return s

    def backward(self, gy):
        return gy - np.exp(self.y) * np.sum(gy, axis=self.axis, keepdims=True)


class LogSumExp(Function):
    """y = log sum_i exp(x_i) = m + log sum_i exp(x_i - m),  m = max_i x_i;
    dL/dx_i = dL/dy * exp(x_i - y) = dL/dy * softmax(x)_i.
    """

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        m = np.max(x, axis=self.axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # rows of -inf (or +inf) must not give inf - inf = NaN
        e = np.exp(x - m)
        total = np.sum(e, axis=self.axis, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):  # a row of -inf has logsumexp -inf, as in PyTorch
            y = m + np.log(total)
            # the softmax, saved from here: exp(x - y) would lose digits when y is large (float32 at 1e4)
            self.p = e / total
        self.y_shape = y.shape
        if self.keepdims:
            return y
        return y.reshape(()) if self.axis is None else np.squeeze(y, axis=self.axis)

    def backward(self, gy):
        if not self.keepdims:
            gy = gy.reshape(self.y_shape)
        return gy * self.p


# -------------------------------------------------------------------------------- the functions
def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """Leaky ReLU: keeps a small slope for negative inputs, so their gradient never dies.

    Math
    ----
    y = x if x > 0 else negative_slope * x;  dL/dx = dL/dy * (1 if x > 0 else negative_slope).

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.leaky_relu(cr.tensor([-2.0, 3.0]), 0.1)
    tensor([-0.2,  3. ])
    """
    return LeakyReLU.apply(_in(x), slope=_real(negative_slope, "negative_slope", "leaky_relu"))


def elu(x, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit: smooth, and negative outputs saturate at -alpha.

    Math
    ----
    y = x if x > 0 else alpha * (exp(x) - 1);  dL/dx = dL/dy * (1 if x > 0 else alpha * exp(x)).

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.elu(cr.tensor([-1.0, 2.0])).numpy().round(4)
    array([-0.6321,  2.    ], dtype=float32)
    """
    return ELU.apply(_in(x), alpha=_real(alpha, "alpha", "elu"))


def gelu(x, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit, exact (erf) form as PyTorch's default; ``approximate="tanh"`` for the
    tanh approximation.

    Math
    ----
    y = x * Phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2 the standard normal CDF;
    dL/dx = dL/dy * (Phi(x) + x * phi(x)),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
    tanh form: y = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.gelu(cr.tensor([-1.0, 0.0, 1.0])).numpy().round(4)
    array([-0.1587,  0.    ,  0.8413], dtype=float32)
    """
    if approximate == "none":
        return GELU.apply(_in(x))
    if approximate == "tanh":
        return GELUTanh.apply(_in(x))
    raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Softplus, a smooth ReLU, computed without overflow for any x (PyTorch's definition).

    Math
    ----
    u = beta x;  y = log(1 + exp(u)) / beta = (max(u, 0) + log1p(exp(-|u|))) / beta,  and y = x where
    u > threshold (linear there, as PyTorch);  dL/dx = dL/dy * sigmoid(u)  (dL/dy where u > threshold).

    Parameters
    ----------
    x : Tensor of any shape
    beta : nonzero number; a larger beta bends closer to relu
    threshold : where u = beta x exceeds it, y = x

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.softplus(cr.tensor([0.0, 1e4])).numpy().round(4)
    array([6.931e-01, 1.000e+04], dtype=float32)
    >>> F.softplus(cr.tensor([0.0, 1.0]), beta=2.0).numpy().round(4)
    array([0.3466, 1.0635], dtype=float32)
    """
    if type(beta) is float and type(threshold) is float and beta == 1.0 and threshold == 20.0:  # the default
        return Softplus.apply(_in(x))
    beta, threshold = _softplus_args(beta, threshold)
    return Softplus.apply(_in(x), beta=beta, threshold=threshold)


def _real(value, arg: str, where: str) -> float:
    """``value`` as a Python float, checked: a finite real number (not a bool, a string, None or an array)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"{where}: {arg} must be a number, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise ArgumentError(f"{where}: {arg} must be finite, got {value!r}")
    return float(value)


def _softplus_args(beta, threshold, where: str = "softplus") -> tuple[float, float]:
    """Check softplus's beta (a finite nonzero number) and threshold (a finite number)."""
    beta, threshold = _real(beta, "beta", where), _real(threshold, "threshold", where)
    if beta == 0:
        raise ArgumentError(f"{where}: beta must be nonzero (y = log(1 + exp(beta x)) / beta), got {beta!r}")
    return float(beta), float(threshold)


def softmax(x, axis: int = -1) -> Tensor:
    """Softmax along ``axis``: positive outputs summing to 1, stable for any logits.

    Math
    ----
    y_i = exp(x_i - m) / sum_j exp(x_j - m), m = max_j x_j (the shift cancels; it only prevents overflow);
    dL/dx = y * (dL/dy - sum_j dL/dy_j * y_j).

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.softmax(cr.tensor([[1.0, 2.0, 3.0]])).numpy().round(4)
    array([[0.09  , 0.2447, 0.6652]], dtype=float32)
    """
    x = _in(x)
    return Softmax.apply(x, axis=_one_axis(axis, x, "softmax"))


def log_softmax(x, axis: int = -1) -> Tensor:
    """Log of the softmax along ``axis``, computed directly (never log of a softmax that underflowed to 0).

    Math
    ----
    y_i = x_i - logsumexp(x) = (x_i - m) - log sum_j exp(x_j - m);
    dL/dx = dL/dy - softmax(x) * sum_j dL/dy_j.

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.log_softmax(cr.tensor([0.0, 1e4])).numpy()
    array([-10000.,      0.], dtype=float32)
    """
    x = _in(x)
    return LogSoftmax.apply(x, axis=_one_axis(axis, x, "log_softmax"))


def logsumexp(x, axis=-1, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis`` (an int, a tuple of ints, or None for all), without overflow.

    Math
    ----
    y = m + log sum_i exp(x_i - m), m = max_i x_i;  dL/dx_i = dL/dy * exp(x_i - y) = dL/dy * softmax(x)_i.

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.logsumexp(cr.tensor([1e4, 1e4])).item()
    10000.693359375
    """
    x = _in(x)
    data = x.data if isinstance(x, Tensor) else x
    axes = normalize_axis(axis, data.ndim, "logsumexp")
    if covers_nothing(data.shape, axes):
        raise DataError(f"logsumexp: nothing to sum over an empty axis (tensor of shape {data.shape}, axis {axis!r})")
    return LogSumExp.apply(x, axis=axes, keepdims=bool(keepdims))


def one_hot(labels, num_classes: int, dtype=None) -> np.ndarray:
    """Integer class labels as one-hot rows: a NumPy array of shape ``labels.shape + (num_classes,)``.

    Parameters
    ----------
    labels : integer array, list or Tensor, any shape, values in [0, num_classes)
    num_classes : int
    dtype : the output's dtype (default: chainrule's default float dtype)

    >>> one_hot([2, 0], 3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ArgumentError(f"one_hot: num_classes must be a positive int, got {num_classes!r}")
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if y.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: labels must be integers, got dtype {y.dtype} (use .astype(np.int64))")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        bad = y[(y < 0) | (y >= num_classes)].reshape(-1)[0]
        raise DataError(f"one_hot: label {bad} is out of range [0, {num_classes}) (num_classes={num_classes})")
    out = np.zeros((y.size, int(num_classes)), dtype=dtype or get_default_dtype())
    out[np.arange(y.size), y.reshape(-1)] = 1
    return out.reshape(y.shape + (int(num_classes),))
