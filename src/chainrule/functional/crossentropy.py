"""Multi-class classification losses: softmax cross-entropy and the negative log-likelihood.

Both take class-index targets (or, for cross_entropy, class probabilities) with PyTorch's options:
per-class ``weight``, ``ignore_index`` and, for cross_entropy, ``label_smoothing``. The default path
(no weight, no ignored label) runs the plain ops :class:`CrossEntropy` and :class:`NLL`; the options go
to their weighted subclasses. Conventions (reductions, targets) as in :mod:`chainrule.functional.losses`.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import ArgumentError, DTypeError, ShapeError
from ._loss_core import (
    _check_ignore_index,
    _check_reduction,
    _check_smoothing,
    _class_weight,
    _classes_back,
    _classes_last,
    _data,
    _float_target,
    _in,
    _labels,
    _Loss,
    _raw_target,
    _reduce_weighted,
    _row_weights,
    _to_dtype,
)


# ------------------------------------------------------------------------- multi-class classification
class CrossEntropy(_Loss):
    """Softmax cross-entropy, one op. With z the logits of a row and m its maximum:
    log p_j = (z_j - m) - log sum_k exp(z_k - m);  l = -sum_j q_j log p_j,
    q the target distribution: one-hot at the label y, mixed with uniform by label smoothing eps,
    q = (1 - eps) onehot(y) + eps / C;
    dl/dz_j = p_j sum_k q_k - q_j  (= p_j - q_j for a distribution); a probability target t (q its smoothed
    form) gets dl/dt_j = -(1 - eps) log p_j.
    Class-index targets never build the one-hot matrix: the gradient is p, minus (1 - eps) at the label.
    """

    def _softmax(self, z):
        """Rows of z (classes last) shifted by their maximum, s = z - m, and lse = log sum_k exp(s_k)
        (shape (M, 1)); saves the softmax p = exp(s - lse) for the backward."""
        self.shape = z.shape
        z2 = _classes_last(z)
        if z2.dtype == np.float16:  # as PyTorch: float16 logits are computed in float32, the loss rounded back
            z2 = z2.astype(np.float32)
        s = z2 - z2.max(axis=1, keepdims=True)
        p = np.exp(s)
        total = p.sum(axis=1, keepdims=True)
        lse = np.log(total)
        p /= total
        self.p = p
        return s, lse

    def forward(self, z, t):
        s, lse = self._softmax(z)
        eps, n_classes = self.eps, s.shape[1]
        if not self.soft:
            self.rows, self.t = np.arange(s.shape[0]), t.reshape(-1)
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
        return _to_dtype(self.reduce(l.reshape(batch)), z.dtype)

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


class WeightedCrossEntropy(CrossEntropy):
    """CrossEntropy with class weights w and/or ignored labels (a subclass, so that the default op does no
    extra work). A distribution target q becomes w_j q_j (so dl/dt_j = -(1 - eps) w_j log p_j). For a label y, with
    r = w_y (1 without weights; 0 for an ignored label), k = 1 (0 if ignored) and W = sum_j w_j (C without):
    l = (1 - eps) r (-log p_y) + (eps / C) k (-sum_j w_j log p_j)   (PyTorch's formula);
    dl/dz_j = ((1 - eps) r + (eps / C) k W) p_j - (1 - eps) r [j = y] - (eps / C) k w_j;
    'mean' divides by sum r over the rows (the weight of the labels that count; nan if that is 0, as PyTorch).
    """

    w = mask = None

    def forward(self, z, t):
        s, lse = self._softmax(z)
        eps, w, n_classes = self.eps, self.w, s.shape[1]
        batch = self.shape[:1] + self.shape[2:] if z.ndim > 1 else ()
        if self.soft:  # only class weights here
            q = _classes_last(t)
            if eps:
                q = (1 - eps) * q + eps / n_classes
            q = q * w
            logp = s - lse
            self.q, self.qsum = q, np.sum(q, axis=1, keepdims=True)
            if self.needs_input_grad[1]:
                self.logp = logp * w  # dl/dq = -(1 - eps) w log p
            return _to_dtype(self.reduce(-np.sum(q * logp, axis=1).reshape(batch)), z.dtype)
        self.rows, self.t = np.arange(s.shape[0]), t.reshape(-1)
        r = _row_weights(self, s.dtype)
        lse = lse[:, 0]
        l = r * (lse - s[self.rows, self.t])
        if eps:  # -sum_j w_j log p_j = W lse - sum_j w_j s_j
            smooth = n_classes * lse - s.sum(axis=1) if w is None else w.sum() * lse - s @ w
            l = (1 - eps) * l + (eps / n_classes) * smooth
        if self.mask is not None:
            l[self.mask] = 0
        return _to_dtype(_reduce_weighted(self, l.reshape(batch), r), z.dtype)

    def backward(self, gy):
        if self.soft:
            return super().backward(gy)
        eps, w, mask, n_classes = self.eps, self.w, self.mask, self.p.shape[1]
        with np.errstate(divide="ignore", invalid="ignore"):  # an all-ignored 'mean': g = inf, zeroed below
            g = np.broadcast_to(self.grad_l(gy).reshape(-1), self.r.shape)
            a = ((1 - eps) * g) * self.r  # the label's coefficient
            if mask is not None:
                a[mask] = 0
            coef = a
            if eps:
                b = (eps / n_classes) * g  # the smoothing term's coefficient
                if mask is not None:
                    b[mask] = 0
                coef = a + b * (n_classes if w is None else w.sum())
            gz = self.p * coef[:, None]
        gz[self.rows, self.t] -= a
        if eps:
            gz -= b[:, None] if w is None else b[:, None] * w
        return _classes_back(gz, self.shape), None


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


class WeightedNLL(NLL):
    """NLL with class weights w and/or ignored labels: l = -r x_y with r = w_y (1 without weights; 0 for an
    ignored label);  dl/dx_j = -r [j = y];  'mean' divides by sum r (nan if that is 0, as PyTorch).
    """

    w = mask = None

    def forward(self, x, t):
        self.shape = x.shape
        x2 = _classes_last(x)
        self.rows, self.t = np.arange(x2.shape[0]), t.reshape(-1)
        r = _row_weights(self, x.dtype)
        l = -r * x2[self.rows, self.t]
        if self.mask is not None:
            l[self.mask] = 0
        return _reduce_weighted(self, l.reshape(self.shape[:1] + self.shape[2:] if x.ndim > 1 else ()), r)

    def backward(self, gy):
        gx = np.zeros((self.rows.size, self.shape[1] if len(self.shape) > 1 else self.shape[0]), dtype=gy.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):  # an all-ignored 'mean': g = inf, zeroed below
            g = self.grad_l(gy).reshape(-1) * self.r
        if self.mask is not None:
            g[self.mask] = 0
        gx[self.rows, self.t] = -g
        return _classes_back(gx, self.shape)


def cross_entropy(logits, target, label_smoothing: float = 0.0, reduction: str = "mean", weight=None,
                  ignore_index: int = -100) -> Tensor:
    """Softmax cross-entropy on raw scores (logits), as one fused op.

    Math
    ----
    log p = z - logsumexp(z) (row max subtracted first);  l = -log p_y for a label y, or -sum_j q_j log p_j
    for a target distribution q. Label smoothing eps uses (1 - eps) q + eps / C instead of q.
    dl/dz = p - q: the softmax minus the (smoothed) target (p sum_j q_j - q for a q that does not sum to 1).
    'mean' averages over the rows (over N * d1 * ... positions for (N, C, d1, ...) logits).
    With class weights w (PyTorch's formula): l = (1 - eps) w_y (-log p_y) + (eps / C) (-sum_j w_j log p_j)
    for a label, l = -sum_j w_j q_j log p_j for a distribution; 'mean' then divides by the sum of w_y over
    the labels that are not ignored (by the number of rows for distributions).

    Parameters
    ----------
    logits : Tensor (N, C), or (N, C, d1, ...), or (C,)
    target : integer class indices of shape (N,) (or (N, d1, ...), or ()), values in [0, C) or ignore_index;
        or probabilities of the logits' shape
    label_smoothing : float in [0, 1]
    reduction : 'mean' | 'sum' | 'none'
    weight : optional per-class weight of shape (C,), array or Tensor (no gradient flows into it)
    ignore_index : a label that counts for nothing: loss 0 and gradient 0 at its positions, left out of the
        'mean' (which is nan, as in PyTorch, when every label is ignored). Not for probability targets.

    >>> import chainrule as cr, chainrule.functional as F, numpy as np
    >>> z = cr.tensor([[2.0, 1.0, 0.1]], requires_grad=True)
    >>> loss = F.cross_entropy(z, np.array([0]))
    >>> round(loss.item(), 4)
    0.417
    >>> loss.backward(); z.grad.round(3)  # softmax - onehot
    array([[-0.341,  0.242,  0.099]], dtype=float32)
    >>> F.cross_entropy(cr.zeros(3, 2), np.array([0, -100, 1]), reduction="none")  # -100: ignored
    tensor([0.6931472, 0.       , 0.6931472])
    >>> round(F.cross_entropy(cr.zeros(2, 2), np.array([0, 1]), weight=[3.0, 1.0]).item(), 4)  # (3 + 1) log 2 / 4
    0.6931
    """
    name = "cross_entropy"
    _check_reduction(reduction, name)
    if type(label_smoothing) is not float or not 0.0 <= label_smoothing <= 1.0 or type(ignore_index) is not int:
        _check_smoothing(label_smoothing, name)
        _check_ignore_index(ignore_index, name)
    logits = _in(logits)
    z = _data(logits)
    if z.ndim < 1 or z.shape[1 if z.ndim > 1 else 0] == 0:
        raise ShapeError(f"{name}: logits must have shape (N, C) with C >= 1 classes, got {z.shape}")
    if z.dtype.kind != "f":
        raise DTypeError(f"{name}: logits must be floating point, got dtype {z.dtype}")
    target = _raw_target(target)
    t = _data(target)
    n_classes = z.shape[1] if z.ndim > 1 else z.shape[0]
    w = None if weight is None else _class_weight(weight, n_classes, z.dtype, name)
    mask = None
    if t.dtype.kind == "f" and t.shape == z.shape:  # probabilities
        if ignore_index >= 0:  # as PyTorch: a negative one (the default -100) cannot match a class
            raise ArgumentError(f"{name}: ignore_index={ignore_index} is not supported for probability targets "
                                f"(target of the logits' shape {t.shape}); zero those rows' probabilities instead")
        t = _float_target(target, z, name)
        soft = True
    else:
        t, mask = _labels(t, z.shape[:1] + z.shape[2:] if z.ndim > 1 else (), n_classes, name, ignore_index)
        soft = False
    if w is None and mask is None:  # the default path: the plain op, no extra work
        return CrossEntropy.apply(logits, t, reduction=reduction, eps=float(label_smoothing), soft=soft)
    return WeightedCrossEntropy.apply(logits, t, reduction=reduction, eps=float(label_smoothing), soft=soft, w=w,
                                      mask=mask)


def nll_loss(log_probs, target, reduction: str = "mean", weight=None, ignore_index: int = -100) -> Tensor:
    """Negative log-likelihood of the labels, given log-probabilities (e.g. from log_softmax).

    Math
    ----
    l = -x_y;  dl/dx_j = -1 at j = y, 0 elsewhere.  nll_loss(log_softmax(z), y) == cross_entropy(z, y).
    With class weights w: l = -w_y x_y, and 'mean' divides by the sum of w_y over the labels not ignored.

    Parameters
    ----------
    log_probs : Tensor (N, C), or (N, C, d1, ...), or (C,)
    target : integer class indices of shape (N,) (or (N, d1, ...), or ()), values in [0, C) or ignore_index
    reduction : 'mean' | 'sum' | 'none'
    weight : optional per-class weight of shape (C,), array or Tensor (no gradient flows into it)
    ignore_index : a label that counts for nothing (loss 0, gradient 0, left out of the 'mean', which is nan
        when every label is ignored, as in PyTorch)

    >>> import chainrule as cr, chainrule.functional as F, numpy as np
    >>> F.nll_loss(cr.tensor([[-0.1, -2.5], [-1.0, -0.5]]), np.array([0, 1])).item()
    0.30000001192092896
    """
    name = "nll_loss"
    _check_reduction(reduction, name)
    _check_ignore_index(ignore_index, name)
    log_probs = _in(log_probs)
    x = _data(log_probs)
    if x.ndim < 1:
        raise ShapeError(f"{name}: input must have shape (N, C), got {x.shape}")
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    t, mask = _labels(_data(_raw_target(target)), x.shape[:1] + x.shape[2:] if x.ndim > 1 else (), n_classes, name,
                      ignore_index)
    if weight is None and mask is None:
        return NLL.apply(log_probs, t, reduction=reduction)
    w = None if weight is None else _class_weight(weight, n_classes, x.dtype, name)
    return WeightedNLL.apply(log_probs, t, reduction=reduction, w=w, mask=mask)
