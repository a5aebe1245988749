"""Loss functions, each one fused op (forward, reduction and derivative together).

Every loss takes ``reduction='mean' | 'sum' | 'none'``: the per-element losses l_i are averaged, summed
or returned as they are. The backward first turns dL/d(reduced) into dL/dl_i (divided by n for the
mean), then applies the loss's own derivative. Targets get a gradient only when they are tensors that
require one. Shapes must match exactly: unlike PyTorch, a (N, 1) prediction against a (N,) target is an
error here, not a silent (N, N) broadcast.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, _as_array
from ..errors import ArgumentError, DataError, DTypeError, ShapeError

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------------------------- helpers
def _in(x):
    return x if isinstance(x, Tensor) else _as_array(x)


def _data(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else x


def _raw_target(target):
    """Labels keep their integer dtype: a list [0, 2, 1] must not become floats as tensor data would."""
    return target if isinstance(target, Tensor) else np.asarray(target)


def _check_reduction(reduction, loss: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ArgumentError(f"{loss}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _float_target(target, like: np.ndarray, loss: str, what: str = "target"):
    """A target that gets no gradient is cast to the prediction's dtype (no float32 -> float64 upcast)."""
    target = _in(target)
    t = _data(target)
    if t.shape != like.shape:
        raise ShapeError(f"{loss}: input has shape {like.shape} but {what} has shape {t.shape}; they must match")
    if isinstance(target, Tensor) and target.requires_grad:
        return target
    if t.dtype != like.dtype:
        t = t.astype(like.dtype)
    return t


def _labels(target, shape: tuple, num_classes: int, loss: str) -> np.ndarray:
    """Check integer class labels: dtype, shape and range [0, num_classes)."""
    t = _data(target)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{loss}: class-index targets must be integers, got dtype {t.dtype} "
                         "(use .astype(np.int64); probability targets must have the input's shape)")
    if t.shape != shape:
        raise ShapeError(f"{loss}: input of shape {shape[:1] + (num_classes,) + shape[1:]} needs class-index "
                         f"targets of shape {shape}, got {t.shape} (batch size {shape[0] if shape else 1} "
                         f"vs {t.shape[0] if t.ndim else 1})")
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        bad = t[(t < 0) | (t >= num_classes)].reshape(-1)[0]
        raise DataError(f"{loss}: target label {bad} is out of range [0, {num_classes}) for {num_classes} classes")
    return t


def _classes_last(a: np.ndarray) -> np.ndarray:
    """(N, C, d1, ...) -> (N*d1*..., C); (N, C) unchanged; (C,) -> (1, C)."""
    if a.ndim == 2:
        return a
    if a.ndim == 1:
        return a.reshape(1, -1)
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _classes_back(g: np.ndarray, shape: tuple) -> np.ndarray:
    """The inverse of :func:`_classes_last` for a gradient of the input's ``shape``."""
    if len(shape) <= 2:
        return g.reshape(shape)
    return np.moveaxis(g.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1)


class _Loss(Function):
    """Shared by the fused losses: reduce per-element losses l, and turn dL/d(reduced) into dL/dl."""

    def __init__(self, reduction="mean", **params):
        self.reduction = reduction
        self.__dict__.update(params)

    def reduce(self, l: np.ndarray) -> np.ndarray:
        self.n = l.size
        if self.reduction == "mean":  # l.sum() / n: np.mean has a Python-level overhead that shows on hot paths
            return np.asarray(l.sum() / l.size)
        if self.reduction == "sum":
            return np.asarray(l.sum())
        return l

    def grad_l(self, gy: np.ndarray) -> np.ndarray:
        """dL/dl_i: gy / n for the mean, gy for the sum (a scalar, broadcast) and for 'none' (per element)."""
        return gy / self.n if self.reduction == "mean" else gy


# ------------------------------------------------------------------------------ regression losses
class MSE(_Loss):
    """l = (p - t)^2;  dl/dp = 2 (p - t),  dl/dt = -2 (p - t)."""

    def forward(self, p, t):
        self.d = p - t
        return self.reduce(self.d * self.d)

    def backward(self, gy):
        g = (2 * self.grad_l(gy)) * self.d
        return g, (-g if self.needs_input_grad[1] else None)


class L1(_Loss):
    """l = |p - t|;  dl/dp = sign(p - t),  dl/dt = -sign(p - t)."""

    def forward(self, p, t):
        d = p - t
        self.sign = np.sign(d)
        return self.reduce(np.abs(d))

    def backward(self, gy):
        g = self.grad_l(gy) * self.sign
        return g, (-g if self.needs_input_grad[1] else None)


class Huber(_Loss):
    """l = d^2 / 2 if |d| < delta else delta (|d| - delta / 2),  d = p - t;
    dl/dp = clip(d, -delta, delta),  dl/dt = -dl/dp.
    """

    def forward(self, p, t):
        self.d = d = p - t
        a = np.abs(d)
        return self.reduce(np.where(a < self.delta, 0.5 * d * d, self.delta * (a - 0.5 * self.delta)))

    def backward(self, gy):
        g = self.grad_l(gy) * np.clip(self.d, -self.delta, self.delta)
        return g, (-g if self.needs_input_grad[1] else None)


# ---------------------------------------------------------------------------- binary classification
class BCE(_Loss):
    """l = -(t log p + (1 - t) log(1 - p)), each log clamped to >= -100 (as PyTorch) so p = 0 or 1 is finite;
    dl/dp = (p - t) / max(p (1 - p), 1e-12),  dl/dt = log(1 - p) - log(p).
    """

    def forward(self, p, t):
        with np.errstate(divide="ignore"):  # log(0) = -inf is clamped right away
            self.logp = np.maximum(np.log(p), -100)
            self.log1mp = np.maximum(np.log1p(-p), -100)
        self.p, self.t = p, t
        return self.reduce(-(t * self.logp + (1 - t) * self.log1mp))

    def backward(self, gy):
        g = self.grad_l(gy)
        p = self.p
        gp = g * (p - self.t) / np.maximum(p * (1 - p), 1e-12) if self.needs_input_grad[0] else None
        gt = g * (self.log1mp - self.logp) if self.needs_input_grad[1] else None
        return gp, gt


class BCEWithLogits(_Loss):
    """l = max(z, 0) - z t + log1p(exp(-|z|))  (= -(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))));
    dl/dz = sigmoid(z) - t,  dl/dt = -z.
    """

    def forward(self, z, t):
        self.z, self.t = z, t
        self.e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
        return self.reduce(np.maximum(z, 0) - z * t + np.log1p(self.e))

    def backward(self, gy):
        g = self.grad_l(gy)
        z, e = self.z, self.e
        sig = np.where(z >= 0, 1, e) / (1 + e)
        gz = g * (sig - self.t) if self.needs_input_grad[0] else None
        gt = -g * z if self.needs_input_grad[1] else None
        return gz, gt


# ------------------------------------------------------------------------- multi-class classification
class CrossEntropy(_Loss):
    """Softmax cross-entropy, one op. With z the logits of a row and m its maximum:
    log p_j = (z_j - m) - log sum_k exp(z_k - m);  l = -sum_j q_j log p_j,
    q the target distribution: one-hot at the label y, mixed with uniform by label smoothing eps,
    q = (1 - eps) onehot(y) + eps / C;
    dl/dz_j = p_j sum_k q_k - q_j  (= p_j - q_j for a distribution), dl/dq_j = -log p_j.
    Class-index targets never build the one-hot matrix: the gradient is p, minus (1 - eps) at the label.
    """

    def forward(self, z, t):
        self.shape = z.shape
        z2 = _classes_last(z)
        s = z2 - z2.max(axis=1, keepdims=True)
        p = np.exp(s)
        total = p.sum(axis=1, keepdims=True)
        lse = np.log(total)  # log sum_k exp(z_k - m), shape (M, 1)
        p /= total
        self.p = p
        eps, n_classes = self.eps, z2.shape[1]
        if not self.soft:
            self.rows, self.t = np.arange(z2.shape[0]), t.reshape(-1)
            l = lse[:, 0] - s[self.rows, self.t]  # -log p_y
            if eps:  # the uniform part: -(1/C) sum_j log p_j = lse - mean_j s_j
                l = (1 - eps) * l + eps * (lse[:, 0] - s.mean(axis=1))
        else:
            q = _classes_last(t)
            if eps:
                q = (1 - eps) * q + eps / n_classes
            logp = s - lse
            self.q, self.qsum = q, np.sum(q, axis=1, keepdims=True)
            if self.needs_input_grad[1]:
                self.logp = logp
            l = -np.sum(q * logp, axis=1)
        batch = self.shape[:1] + self.shape[2:] if z.ndim > 1 else ()
        return self.reduce(l.reshape(batch))

    def backward(self, gy):
        g = self.grad_l(gy)
        if g.ndim:  # reduction 'none': one gradient per row, as a column
            g = g.reshape(-1, 1)
        eps, n_classes = self.eps, self.p.shape[1]
        gz = gt = None
        if self.needs_input_grad[0]:
            if not self.soft:
                gz = self.p * g
                gz[self.rows, self.t] -= (1 - eps) * (g[:, 0] if g.ndim else g)
                if eps:
                    gz -= (eps / n_classes) * g
            else:
                gz = (self.p * self.qsum - self.q) * g
            gz = _classes_back(gz, self.shape)
        if self.soft and self.needs_input_grad[1]:
            gt = _classes_back(-(1 - eps) * self.logp * g, self.shape)
        return gz, gt


class NLL(_Loss):
    """l = -x_y (x: log-probabilities, y: the label);  dl/dx_j = -1 if j = y else 0."""

    def forward(self, x, t):
        self.shape = x.shape
        x2 = _classes_last(x)
        self.rows, self.t = np.arange(x2.shape[0]), t.reshape(-1)
        l = -x2[self.rows, self.t]
        return self.reduce(l.reshape(self.shape[:1] + self.shape[2:] if x.ndim > 1 else ()))

    def backward(self, gy):
        g = self.grad_l(gy)
        gx = np.zeros((self.rows.size, self.shape[1] if len(self.shape) > 1 else self.shape[0]), dtype=gy.dtype)
        gx[self.rows, self.t] = -(g.reshape(-1) if g.ndim else g)
        return _classes_back(gx, self.shape)


class BinaryHinge(_Loss):
    """l = max(0, 1 - t s),  t in {-1, +1};  dl/ds = -t where 1 - t s > 0, else 0."""

    def forward(self, s, t):
        self.t = t
        margin = 1 - t * s
        self.active = margin > 0
        return self.reduce(np.maximum(margin, 0))

    def backward(self, gy):
        return -self.grad_l(gy) * self.t * self.active


class MultiMargin(_Loss):
    """l = sum_{j != y} max(0, 1 - s_y + s_j) / C  (PyTorch's MultiMarginLoss);
    dl/ds_j = [1 - s_y + s_j > 0] / C for j != y,  dl/ds_y = -(number of active margins) / C.
    """

    def forward(self, s, t):
        n, c = s.shape
        self.rows, self.t = np.arange(n), t
        margin = 1 - s[self.rows, t][:, None] + s
        margin[self.rows, t] = 0  # the label's own term is excluded
        self.active = margin > 0
        return self.reduce(np.sum(np.maximum(margin, 0), axis=1) / c)

    def backward(self, gy):
        c = self.active.shape[1]
        g = self.grad_l(gy)
        g = g.reshape(-1, 1) / c if g.ndim else g / c
        gs = self.active * g
        gs[self.rows, self.t] = -np.sum(self.active, axis=1) * (g[:, 0] if g.ndim else g)
        return gs


# ---------------------------------------------------------------------------------- the functions
def _regression(cls, name, pred, target, reduction, **params):
    _check_reduction(reduction, name)
    pred = _in(pred)
    return cls.apply(pred, _float_target(target, _data(pred), name), reduction=reduction, **params)


def mse_loss(pred, target, reduction: str = "mean") -> Tensor:
    """Mean squared error.

    Math
    ----
    l_i = (p_i - t_i)^2;  dl_i/dp_i = 2 (p_i - t_i).  With 'mean': L = (1/n) sum_i l_i.

    Parameters
    ----------
    pred, target : Tensor, the same shape
    reduction : 'mean' | 'sum' | 'none'

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.mse_loss(cr.tensor([1.0, 2.0]), cr.tensor([0.0, 0.0])).item()
    2.5
    """
    return _regression(MSE, "mse_loss", pred, target, reduction)


def l1_loss(pred, target, reduction: str = "mean") -> Tensor:
    """Mean absolute error.

    Math
    ----
    l_i = |p_i - t_i|;  dl_i/dp_i = sign(p_i - t_i)  (0 where they are equal, as PyTorch).

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.l1_loss(cr.tensor([1.0, -2.0]), cr.tensor([0.0, 0.0]), reduction="sum").item()
    3.0
    """
    return _regression(L1, "l1_loss", pred, target, reduction)


def huber_loss(pred, target, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """Huber loss: quadratic for small errors, linear (robust to outliers) beyond ``delta``.

    Math
    ----
    d = p - t;  l = d^2 / 2 if |d| < delta else delta (|d| - delta / 2);  dl/dp = clip(d, -delta, delta).

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.huber_loss(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]), reduction="none")
    tensor([0.125, 2.5  ])
    """
    if not delta > 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta!r}")
    return _regression(Huber, "huber_loss", pred, target, reduction, delta=float(delta))


def binary_cross_entropy(prob, target, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities (the output of a sigmoid).

    Math
    ----
    l = -(t log p + (1 - t) log(1 - p)), logs clamped to >= -100 so p = 0 or 1 gives a finite loss;
    dl/dp = (p - t) / (p (1 - p)) (denominator clamped to >= 1e-12).
    Prefer :func:`binary_cross_entropy_with_logits` on raw scores: it is exact where the sigmoid saturates.

    Parameters
    ----------
    prob : Tensor of probabilities in [0, 1]
    target : Tensor of the same shape, values in [0, 1]

    >>> import chainrule as cr, chainrule.functional as F
    >>> round(F.binary_cross_entropy(cr.tensor([0.9, 0.2]), cr.tensor([1.0, 0.0])).item(), 4)
    0.1643
    """
    _check_reduction(reduction, "binary_cross_entropy")
    prob = _in(prob)
    p = _data(prob)
    if p.size and not (np.min(p) >= 0 and np.max(p) <= 1):  # also catches NaN
        raise DataError(f"binary_cross_entropy: input must hold probabilities in [0, 1], got values in "
                        f"[{np.min(p)}, {np.max(p)}] (for raw scores use binary_cross_entropy_with_logits)")
    t = _float_target(target, p, "binary_cross_entropy")
    return BCE.apply(prob, t, reduction=reduction)


def binary_cross_entropy_with_logits(logits, target, reduction: str = "mean") -> Tensor:
    """Sigmoid and binary cross-entropy in one stable op, on raw scores z.

    Math
    ----
    l = max(z, 0) - z t + log1p(exp(-|z|))  (= -(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))));
    dl/dz = sigmoid(z) - t.

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.binary_cross_entropy_with_logits(cr.tensor([1e4, -1e4]), cr.tensor([1.0, 1.0]), reduction="none")
    tensor([    0., 10000.])
    """
    return _regression(BCEWithLogits, "binary_cross_entropy_with_logits", logits, target, reduction)


def cross_entropy(logits, target, label_smoothing: float = 0.0, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy on raw scores (logits), as one fused op.

    Math
    ----
    log p = z - logsumexp(z) (row max subtracted first);  l = -log p_y for a label y, or -sum_j q_j log p_j
    for a target distribution q. Label smoothing eps uses (1 - eps) q + eps / C instead of q.
    dl/dz = p - q: the softmax minus the (smoothed) target. 'mean' averages over the rows.

    Parameters
    ----------
    logits : Tensor (N, C), or (N, C, d1, ...), or (C,)
    target : integer class indices of shape (N,) (or (N, d1, ...), or ()), values in [0, C);
        or probabilities of the logits' shape
    label_smoothing : float in [0, 1]
    reduction : 'mean' | 'sum' | 'none'

    >>> import chainrule as cr, chainrule.functional as F, numpy as np
    >>> z = cr.tensor([[2.0, 1.0, 0.1]], requires_grad=True)
    >>> loss = F.cross_entropy(z, np.array([0]))
    >>> round(loss.item(), 4)
    0.417
    >>> loss.backward(); z.grad.round(3)  # softmax - onehot
    array([[-0.341,  0.242,  0.099]], dtype=float32)
    """
    name = "cross_entropy"
    _check_reduction(reduction, name)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    logits = _in(logits)
    z = _data(logits)
    if z.ndim < 1 or z.shape[1 if z.ndim > 1 else 0] == 0:
        raise ShapeError(f"{name}: logits must have shape (N, C) with C >= 1 classes, got {z.shape}")
    if z.dtype.kind != "f":
        raise DTypeError(f"{name}: logits must be floating point, got dtype {z.dtype}")
    target = _raw_target(target)
    t = _data(target)
    if t.dtype.kind == "f" and t.shape == z.shape:  # probabilities
        t = _float_target(target, z, name)
        soft = True
    else:
        n_classes = z.shape[1] if z.ndim > 1 else z.shape[0]
        t = _labels(t, z.shape[:1] + z.shape[2:] if z.ndim > 1 else (), n_classes, name)
        soft = False
    return CrossEntropy.apply(logits, t, reduction=reduction, eps=float(label_smoothing), soft=soft)


def nll_loss(log_probs, target, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of the labels, given log-probabilities (e.g. from log_softmax).

    Math
    ----
    l = -x_y;  dl/dx_j = -1 at j = y, 0 elsewhere.  nll_loss(log_softmax(z), y) == cross_entropy(z, y).

    Parameters
    ----------
    log_probs : Tensor (N, C), or (N, C, d1, ...), or (C,)
    target : integer class indices of shape (N,) (or (N, d1, ...), or ()), values in [0, C)

    >>> import chainrule as cr, chainrule.functional as F, numpy as np
    >>> F.nll_loss(cr.tensor([[-0.1, -2.5], [-1.0, -0.5]]), np.array([0, 1])).item()
    0.30000001192092896
    """
    name = "nll_loss"
    _check_reduction(reduction, name)
    log_probs = _in(log_probs)
    x = _data(log_probs)
    if x.ndim < 1:
        raise ShapeError(f"{name}: input must have shape (N, C), got {x.shape}")
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    t = _labels(_data(_raw_target(target)), x.shape[:1] + x.shape[2:] if x.ndim > 1 else (), n_classes, name)
    return NLL.apply(log_probs, t, reduction=reduction)


def hinge_loss(scores, target, reduction: str = "mean") -> Tensor:
    """Hinge (margin) loss, as for support vector machines.

    Math
    ----
    Binary, scores s of shape (N,), target t in {-1, +1}:  l = max(0, 1 - t s);  dl/ds = -t where 1 - t s > 0.
    Multi-class, scores (N, C), target class indices y (PyTorch's MultiMarginLoss):
    l = sum_{j != y} max(0, 1 - s_y + s_j) / C;  dl/ds_j = [margin_j > 0] / C,  dl/ds_y = -(active margins) / C.

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.hinge_loss(cr.tensor([2.0, 0.5, -1.0]), cr.tensor([1.0, 1.0, 1.0]), reduction="none")
    tensor([0. , 0.5, 2. ])
    """
    name = "hinge_loss"
    _check_reduction(reduction, name)
    scores = _in(scores)
    s = _data(scores)
    t = _data(_raw_target(target))
    if s.ndim == 1:
        if t.shape != s.shape:
            raise ShapeError(f"{name}: scores of shape {s.shape} need targets of the same shape, got {t.shape}")
        if not np.all((t == 1) | (t == -1)):
            raise DataError(f"{name}: binary targets must be -1 or +1, got values {np.unique(t)[:5].tolist()}")
        return BinaryHinge.apply(scores, t.astype(s.dtype, copy=False), reduction=reduction)
    if s.ndim == 2:
        t = _labels(t, s.shape[:1], s.shape[1], name)
        return MultiMargin.apply(scores, t, reduction=reduction)
    raise ShapeError(f"{name}: scores must be (N,) for binary or (N, C) for multi-class, got shape {s.shape}")
