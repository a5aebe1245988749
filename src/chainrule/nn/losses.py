"""Loss modules: PyTorch's names over :mod:`chainrule.functional.losses`, where each loss's formula and
derivative are written out.

Each is called as ``loss_fn(prediction, target)`` and takes ``reduction='mean' | 'sum' | 'none'``.
A ``weight`` may come first, as in PyTorch (``nn.CrossEntropyLoss(class_weights)``); every other option is
a keyword argument (``nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=0)``). ``weight`` and
``pos_weight`` are kept as buffers, in the state dict under PyTorch's names; no gradient flows into them.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import get_default_dtype
from ..errors import ShapeError
from ..functional import _loss_core as C
from ..functional import losses as L
from .module import Module


def _weight_buffer(weight, loss: str, what: str = "weight", per_class: bool = False):
    """A copy of a weight (array, list or Tensor) for a buffer. A list or number, or integers, become the
    default float dtype (float32, as PyTorch's buffer); a float array or Tensor keeps its dtype."""
    if weight is None:
        return None
    w = C._weight_array(weight, loss, what)
    if per_class and w.ndim != 1:
        raise ShapeError(f"{loss}: weight must be 1-D, one entry per class, got shape {w.shape}")
    if w.dtype.kind != "f" or not isinstance(weight, (np.ndarray, Tensor)):
        return w.astype(get_default_dtype())
    return np.array(w, copy=True)


def _show(w) -> str:
    return np.array2string(w, separator=", ") if w.size <= 8 else f"<array of shape {w.shape}>"


class _Loss(Module):
    def __init__(self, *, reduction: str = "mean"):
        super().__init__()
        C._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error: l = (p - t)^2;  dl/dp = 2 (p - t).

    >>> import chainrule as cr
    >>> cr.nn.MSELoss()(cr.tensor([1.0, 3.0]), cr.tensor([1.0, 1.0])).item()
    2.0
    """

    def forward(self, pred, target):
        return L.mse_loss(pred, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: l = |p - t|;  dl/dp = sign(p - t)."""

    def forward(self, pred, target):
        return L.l1_loss(pred, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss: l = d^2/2 if |d| < delta else delta (|d| - delta/2), d = p - t;  dl/dp = clip(d, -delta, delta)."""

    def __init__(self, *, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = C._check_delta(delta, "HuberLoss")

    def forward(self, pred, target):
        return L.huber_loss(pred, target, delta=self.delta, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities: l = -w (t log p + (1 - t) log(1 - p));  dl/dp = w (p - t) / (p (1 - p)).

    ``weight`` (w, 1 if None) broadcasts to the input's shape.
    """

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.register_buffer("weight", _weight_buffer(weight, "BCELoss"))

    def forward(self, prob, target):
        return L.binary_cross_entropy(prob, target, reduction=self.reduction, weight=self.weight)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.weight is None else f", weight={_show(self.weight)}")


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy on raw scores z, stable:  l = max(z,0) - z t + log1p(exp(-|z|));
    dl/dz = sigmoid(z) - t.  With ``pos_weight`` a (one entry per class, along the last axis) and ``weight`` w:
    l = -w (a t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))), computed as stably.

    >>> import chainrule as cr
    >>> loss_fn = cr.nn.BCEWithLogitsLoss(pos_weight=[3.0, 1.0])
    >>> round(loss_fn(cr.zeros(1, 2), cr.ones(1, 2)).item(), 4)  # (3 + 1) log(2) / 2
    1.3863
    """

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction=reduction)
        self.register_buffer("weight", _weight_buffer(weight, "BCEWithLogitsLoss"))
        self.register_buffer("pos_weight", _weight_buffer(pos_weight, "BCEWithLogitsLoss", "pos_weight"))

    def forward(self, logits, target):
        return L.binary_cross_entropy_with_logits(logits, target, reduction=self.reduction, weight=self.weight,
                                                  pos_weight=self.pos_weight)

    def extra_repr(self) -> str:
        out = super().extra_repr()
        if self.weight is not None:
            out += f", weight={_show(self.weight)}"
        if self.pos_weight is not None:
            out += f", pos_weight={_show(self.pos_weight)}"
        return out


class _ClassLoss(_Loss):
    """A loss on class indices: per-class ``weight`` (C,) and ``ignore_index``, as PyTorch."""

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        C._check_ignore_index(ignore_index, type(self).__name__)
        self.register_buffer("weight", _weight_buffer(weight, type(self).__name__, per_class=True))
        self.ignore_index = int(ignore_index)

    def extra_repr(self) -> str:
        out = super().extra_repr()
        if self.weight is not None:
            out += f", weight={_show(self.weight)}"
        if self.ignore_index != -100:
            out += f", ignore_index={self.ignore_index}"
        return out


class CrossEntropyLoss(_ClassLoss):
    """Softmax cross-entropy on logits: l = -log softmax(z)_y;  dl/dz = softmax(z) - onehot(y).

    Targets are class indices of shape (N,) or probabilities of the logits' shape. ``weight`` (C,) weights
    each class and 'mean' then divides by the summed weight of the targets; targets equal to ``ignore_index``
    count for nothing (PyTorch's semantics, label smoothing included; see ``F.cross_entropy``).

    >>> import chainrule as cr, numpy as np
    >>> loss_fn = cr.nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> round(loss_fn(cr.zeros(4, 10), np.array([0, 1, 2, 3])).item(), 4)  # log(10)
    2.3026
    >>> cr.nn.CrossEntropyLoss([1.0, 2.0, 0.5], ignore_index=0)
    CrossEntropyLoss(reduction='mean', label_smoothing=0.0, weight=[1. , 2. , 0.5], ignore_index=0)
    """

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(weight, ignore_index=ignore_index, reduction=reduction)
        C._check_smoothing(label_smoothing, "CrossEntropyLoss")
        self.label_smoothing = float(label_smoothing)

    def forward(self, logits, target):
        return L.cross_entropy(logits, target, label_smoothing=self.label_smoothing, reduction=self.reduction,
                               weight=self.weight, ignore_index=self.ignore_index)

    def extra_repr(self) -> str:
        rest = super().extra_repr()[len(_Loss.extra_repr(self)):]
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}{rest}"


class NLLLoss(_ClassLoss):
    """Negative log-likelihood on log-probabilities: l = -w_y x_y (w_y = 1 without ``weight``);
    dl/dx = -w_y onehot(y); targets equal to ``ignore_index`` count for nothing.
    """

    def forward(self, log_probs, target):
        return L.nll_loss(log_probs, target, reduction=self.reduction, weight=self.weight,
                          ignore_index=self.ignore_index)


class HingeLoss(_Loss):
    """Hinge loss: max(0, 1 - t s) for 1-D scores and t in {-1, +1}; for (N, C) scores and class indices,
    sum_{j != y} max(0, 1 - s_y + s_j) / C (PyTorch's MultiMarginLoss).
    """

    def forward(self, scores, target):
        return L.hinge_loss(scores, target, reduction=self.reduction)
