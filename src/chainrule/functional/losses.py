"""Loss functions, each one fused op (forward, reduction and derivative together).

Every loss takes ``reduction='mean' | 'sum' | 'none'``: the per-element losses l_i are averaged, summed
or returned as they are. The backward first turns dL/d(reduced) into dL/dl_i (divided by n for the
mean), then applies the loss's own derivative. Targets get a gradient only when they are tensors that
require one. Shapes must match exactly: unlike PyTorch, a (N, 1) prediction against a (N,) target is an
error here, not a silent (N, N) broadcast.

PyTorch's options are here with its semantics: per-class ``weight`` and ``ignore_index`` for
cross_entropy / nll_loss ('mean' divides by the summed weight of the targets that count), elementwise
``weight`` for the binary losses and ``pos_weight`` for binary_cross_entropy_with_logits. The default
path of each loss does none of that work: every option is behind an ``is not None``.

The multi-class losses (cross_entropy, nll_loss) live in :mod:`chainrule.functional.crossentropy` and
are re-exported here; the shared checks and the reduction in :mod:`chainrule.functional._loss_core`.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import DataError, DTypeError, ShapeError
from ._loss_core import (
    _check_delta,
    _check_reduction,
    _data,
    _elementwise_weight,
    _float_target,
    _in,
    _labels,
    _Loss,
    _raw_target,
)
from .crossentropy import NLL, CrossEntropy, cross_entropy, nll_loss  # noqa: F401  (re-exported)


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
    """l = -w (t log p + (1 - t) log(1 - p)), each log clamped to >= -100 (as PyTorch) so p = 0 or 1 is finite,
    w an optional elementwise weight (1 without);
    dl/dp = w (p - t) / max(p (1 - p), 1e-12),  dl/dt = w (log(1 - p) - log(p)).
    """

    w = None

    def forward(self, p, t):
        with np.errstate(divide="ignore"):  # log(0) = -inf is clamped right away
            self.logp = np.maximum(np.log(p), -100)
            self.log1mp = np.maximum(np.log1p(-p), -100)
        self.p, self.t = p, t
        l = -(t * self.logp + (1 - t) * self.log1mp)
        return self.reduce(l if self.w is None else l * self.w)

    def backward(self, gy):
        g = self.grad_l(gy)
        if self.w is not None:
            g = g * self.w
        p = self.p
        gp = g * (p - self.t) / np.maximum(p * (1 - p), 1e-12) if self.needs_input_grad[0] else None
        gt = g * (self.log1mp - self.logp) if self.needs_input_grad[1] else None
        return gp, gt


class BCEWithLogits(_Loss):
    """l = max(z, 0) - z t + log1p(exp(-|z|))  (= -(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))));
    dl/dz = sigmoid(z) - t,  dl/dt = -z.
    With pos_weight a (weighting the positive term) and sp(-z) = -log sigmoid(z) = max(-z, 0) + log1p(exp(-|z|)):
    l = -(a t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))) = (1 - t) z + (1 + (a - 1) t) sp(-z);
    dl/dz = (1 - t) - (1 + (a - 1) t) sigmoid(-z),  dl/dt = (a - 1) sp(-z) - z.
    An elementwise weight w multiplies l and both derivatives.
    Both are computed from max(z, 0) and min(z, 0) apart, l = (1 - t) max(z, 0) - a t min(z, 0)
    + (1 + (a - 1) t) log1p(exp(-|z|)): an infinite logit on the wrong side gives inf (PyTorch too at z = +inf),
    not inf - inf = NaN; one on the right side with a hard target (z = +inf, t = 1) is 0 * inf = NaN, as in PyTorch.
    """

    w = pw = None

    def forward(self, z, t):
        self.z, self.t = z, t
        self.e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
        # max(z, 0) - z t written as (1 - t) max(z, 0) - t min(z, 0): no inf - inf at z = +-inf
        zp, zn = np.maximum(z, 0), np.minimum(z, 0)
        if self.pw is None:
            l = (1 - t) * zp - t * zn + np.log1p(self.e)
        else:
            self.lw = 1 + (self.pw - 1) * t
            if self.needs_input_grad[1]:
                self.sp = np.log1p(self.e) - zn
            l = (1 - t) * zp - (self.pw * t) * zn + self.lw * np.log1p(self.e)
        return self.reduce(l if self.w is None else l * self.w)

    def backward(self, gy):
        g = self.grad_l(gy)
        if self.w is not None:
            g = g * self.w
        z, e = self.z, self.e
        if self.pw is not None:
            sig_neg = np.where(z >= 0, e, 1) / (1 + e)  # sigmoid(-z)
            gz = g * ((1 - self.t) - self.lw * sig_neg) if self.needs_input_grad[0] else None
            gt = g * ((self.pw - 1) * self.sp - z) if self.needs_input_grad[1] else None
            return gz, gt
        sig = np.where(z >= 0, 1, e) / (1 + e)
        gz = g * (sig - self.t) if self.needs_input_grad[0] else None
        gt = -g * z if self.needs_input_grad[1] else None
        return gz, gt


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
def _regression(cls, name, pred, target, reduction, unit_target: bool = False, **params):
    _check_reduction(reduction, name)
    pred = _in(pred)
    t = _float_target(target, _data(pred), name)
    if unit_target:
        _check_unit_target(_data(t), name)
    return cls.apply(pred, t, reduction=reduction, **params)


def _check_unit_target(tv: np.ndarray, name: str) -> None:
    """Binary cross-entropy's target must lie in [0, 1]: outside it the loss is unbounded below, and training
    drives it to -inf instead of fitting anything."""
    if tv.size and not (np.min(tv) >= 0 and np.max(tv) <= 1):  # also catches NaN
        raise DataError(f"{name}: target must hold values in [0, 1], got {_values(tv)} "
                        "(-1/+1 labels: use (t + 1) / 2; 0-255 masks: t / 255; several classes: cross_entropy)")


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
    return _regression(Huber, "huber_loss", pred, target, reduction, delta=_check_delta(delta, "huber_loss"))


def _values(a: np.ndarray) -> str:
    lo, hi = np.min(a), np.max(a)
    return "NaN" if np.isnan(lo) else f"values in [{lo}, {hi}]"


def binary_cross_entropy(prob, target, reduction: str = "mean", weight=None) -> Tensor:
    """Binary cross-entropy on probabilities (the output of a sigmoid).

    Math
    ----
    l = -w (t log p + (1 - t) log(1 - p)), logs clamped to >= -100 so p = 0 or 1 gives a finite loss;
    dl/dp = w (p - t) / (p (1 - p)) (denominator clamped to >= 1e-12).  w = 1 without a weight.
    Prefer :func:`binary_cross_entropy_with_logits` on raw scores: it is exact where the sigmoid saturates.

    Parameters
    ----------
    prob : Tensor of probabilities in [0, 1] (else DataError)
    target : Tensor of the same shape, values in [0, 1] (else DataError, as PyTorch)
    reduction : 'mean' | 'sum' | 'none'
    weight : optional array or Tensor broadcasting to prob's shape (no gradient flows into it);
        'mean' still divides by the number of elements, as PyTorch

    >>> import chainrule as cr, chainrule.functional as F
    >>> round(F.binary_cross_entropy(cr.tensor([0.9, 0.2]), cr.tensor([1.0, 0.0])).item(), 4)
    0.1643
    """
    _check_reduction(reduction, "binary_cross_entropy")
    prob = _in(prob)
    p = _data(prob)
    if p.size and not (np.min(p) >= 0 and np.max(p) <= 1):  # also catches NaN
        raise DataError(f"binary_cross_entropy: input must hold probabilities in [0, 1], got {_values(p)} "
                        "(for raw scores use binary_cross_entropy_with_logits)")
    t = _float_target(target, p, "binary_cross_entropy")
    _check_unit_target(_data(t), "binary_cross_entropy")
    if weight is None:
        return BCE.apply(prob, t, reduction=reduction)
    return BCE.apply(prob, t, reduction=reduction, w=_elementwise_weight(weight, p, "binary_cross_entropy", "weight"))


def binary_cross_entropy_with_logits(logits, target, reduction: str = "mean", weight=None,
                                     pos_weight=None) -> Tensor:
    """Sigmoid and binary cross-entropy in one stable op, on raw scores z.

    Math
    ----
    l = max(z, 0) - z t + log1p(exp(-|z|))  (= -(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))));
    dl/dz = sigmoid(z) - t.
    With pos_weight a and weight w (as PyTorch): l = -w (a t log sigmoid(z) + (1 - t) log(1 - sigmoid(z)));
    dl/dz = w ((1 - t) - (1 + (a - 1) t) sigmoid(-z)).

    Parameters
    ----------
    logits : Tensor of raw scores
    target : Tensor of the same shape, values in [0, 1] (else DataError; PyTorch computes a loss unbounded
        below there)
    reduction : 'mean' | 'sum' | 'none'
    weight : optional array or Tensor broadcasting to the logits' shape (no gradient flows into it)
    pos_weight : optional weight of the positive term, broadcasting to the logits' shape: one entry per class,
        shape (C,), runs along the last axis (a > 1 raises recall); no gradient flows into it

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.binary_cross_entropy_with_logits(cr.tensor([1e4, -1e4]), cr.tensor([1.0, 1.0]), reduction="none")
    tensor([    0., 10000.])
    >>> round(F.binary_cross_entropy_with_logits(cr.tensor([0.0]), cr.tensor([1.0]), pos_weight=[3.0]).item(), 4)
    2.0794
    """
    name = "binary_cross_entropy_with_logits"
    if weight is None and pos_weight is None:
        return _regression(BCEWithLogits, name, logits, target, reduction, unit_target=True)
    z = _data(_in(logits))
    params = {}
    if weight is not None:
        params["w"] = _elementwise_weight(weight, z, name, "weight")
    if pos_weight is not None:
        params["pw"] = _elementwise_weight(pos_weight, z, name, "pos_weight")
    return _regression(BCEWithLogits, name, logits, target, reduction, unit_target=True, **params)


def hinge_loss(scores, target, reduction: str = "mean") -> Tensor:
    """Hinge (margin) loss, as for support vector machines.

    Math
    ----
    Binary, scores s of shape (N,) or (N, 1) (a linear SVM: ``nn.Linear(d, 1)``), target t in {-1, +1} of shape
    (N,) or the scores' shape:  l = max(0, 1 - t s);  dl/ds = -t where 1 - t s > 0.
    Multi-class, scores (N, C), C > 1, target class indices y (PyTorch's MultiMarginLoss):
    l = sum_{j != y} max(0, 1 - s_y + s_j) / C;  dl/ds_j = [margin_j > 0] / C,  dl/ds_y = -(active margins) / C.

    Parameters
    ----------
    scores : Tensor (N,) or (N, 1) for the binary loss, (N, C) for the multi-class one
    target : -1 / +1 labels (binary), or integer class indices (N,) (multi-class)
    reduction : 'mean' | 'sum' | 'none' ('none' gives the target's shape in the binary case, (N,) otherwise)

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.hinge_loss(cr.tensor([2.0, 0.5, -1.0]), cr.tensor([1.0, 1.0, 1.0]), reduction="none")
    tensor([0. , 0.5, 2. ])
    >>> F.hinge_loss(cr.tensor([[2.0], [0.5]]), [1, -1]).item()  # (N, 1) scores, as nn.Linear(d, 1) gives
    0.75
    """
    name = "hinge_loss"
    _check_reduction(reduction, name)
    scores = _in(scores)
    s = _data(scores)
    t = _data(_raw_target(target))
    if s.ndim == 1 or s.ndim == 2 and s.shape[1] == 1:
        if t.shape != s.shape and not (s.ndim == 2 and t.shape == s.shape[:1]):
            want = f"{s.shape}" + (f" or {s.shape[:1]}" if s.ndim == 2 else "")
            raise ShapeError(f"{name}: binary scores of shape {s.shape} need -1/+1 targets of shape {want}, "
                             f"got {t.shape}")
        if t.dtype.kind not in "iuf":
            raise DTypeError(f"{name}: binary targets must be -1 or +1 numbers, got dtype {t.dtype}")
        if not np.all((t == 1) | (t == -1)):
            got = np.unique(t)[:5].tolist()
            hint = " (0/1 labels: use 2 * t - 1)" if np.all((t == 0) | (t == 1)) else ""
            raise DataError(f"{name}: binary targets must be -1 or +1 (for scores of shape {s.shape}), got values "
                            f"{got}{hint}; for class indices give scores of shape (N, C) with C > 1")
        if t.shape != s.shape:  # (N, 1) scores and (N,) targets: the loss per sample is (N,)
            scores = scores.reshape(-1) if isinstance(scores, Tensor) else s.reshape(-1)
        return BinaryHinge.apply(scores, t.astype(_data(scores).dtype, copy=False), reduction=reduction)
    if s.ndim == 2:
        if t.dtype.kind not in "iu":
            raise DTypeError(f"{name}: multi-class scores of shape {s.shape} need integer class indices of shape "
                             f"{s.shape[:1]}, got dtype {t.dtype} (use .astype(np.int64)); for the binary -1/+1 "
                             "hinge give scores of shape (N,) or (N, 1)")
        t, _ = _labels(t, s.shape[:1], s.shape[1], name)
        return MultiMargin.apply(scores, t, reduction=reduction)
    raise ShapeError(f"{name}: scores must be (N,) or (N, 1) for binary or (N, C) for multi-class, got shape "
                     f"{s.shape}")
