"""Loss modules: PyTorch's names over :mod:`chainrule.functional.losses`, where each loss's formula and
derivative are written out.

Each is called as ``loss_fn(prediction, target)`` and takes ``reduction='mean' | 'sum' | 'none'``.
Options are keyword arguments (``nn.CrossEntropyLoss(label_smoothing=0.1)``).
"""

from __future__ import annotations

from ..errors import ArgumentError
from ..functional import losses as L
from .module import Module


class _Loss(Module):
    def __init__(self, *, reduction: str = "mean"):
        super().__init__()
        L._check_reduction(reduction, type(self).__name__)
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
        if not delta > 0:
            raise ArgumentError(f"HuberLoss: delta must be positive, got {delta!r}")
        self.delta = float(delta)

    def forward(self, pred, target):
        return L.huber_loss(pred, target, delta=self.delta, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities: l = -(t log p + (1 - t) log(1 - p));  dl/dp = (p - t) / (p (1 - p))."""

    def forward(self, prob, target):
        return L.binary_cross_entropy(prob, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy on raw scores z, stable:  l = max(z,0) - z t + log1p(exp(-|z|));
    dl/dz = sigmoid(z) - t.
    """

    def forward(self, logits, target):
        return L.binary_cross_entropy_with_logits(logits, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits: l = -log softmax(z)_y;  dl/dz = softmax(z) - onehot(y).

    Targets are class indices of shape (N,) or probabilities of the logits' shape.

    >>> import chainrule as cr, numpy as np
    >>> loss_fn = cr.nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> round(loss_fn(cr.zeros(4, 10), np.array([0, 1, 2, 3])).item(), 4)  # log(10)
    2.3026
    """

    def __init__(self, *, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction=reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ArgumentError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, logits, target):
        return L.cross_entropy(logits, target, label_smoothing=self.label_smoothing, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class NLLLoss(_Loss):
    """Negative log-likelihood on log-probabilities: l = -x_y;  dl/dx = -onehot(y)."""

    def forward(self, log_probs, target):
        return L.nll_loss(log_probs, target, reduction=self.reduction)


class HingeLoss(_Loss):
    """Hinge loss: max(0, 1 - t s) for 1-D scores and t in {-1, +1}; for (N, C) scores and class indices,
    sum_{j != y} max(0, 1 - s_y + s_j) / C (PyTorch's MultiMarginLoss).
    """

    def forward(self, scores, target):
        return L.hinge_loss(scores, target, reduction=self.reduction)
