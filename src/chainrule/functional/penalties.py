"""Weight penalties for regularised losses: L1 (sparsity) and L2 (weight decay)."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_default_dtype
from ..errors import ArgumentTypeError


class _Penalty(Function):
    """y = sum over all weights w of |w| (L1) or w^2 (L2);  dL/dw = dL/dy * sign(w)  or  dL/dy * 2 w."""

    def __init__(self, kind):
        self.kind = kind

    def forward(self, *ws):
        self.ws = ws
        terms = [np.sum(np.abs(w)) if self.kind == "l1" else np.vdot(w, w) for w in ws]
        return np.asarray(np.sum(terms, dtype=np.result_type(*ws)))

    def backward(self, gy):
        return tuple(
            (gy * np.sign(w) if self.kind == "l1" else (2 * gy) * w) if need else None
            for w, need in zip(self.ws, self.needs_input_grad)
        )


def _params(params, name: str) -> list:
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    elif isinstance(params, Tensor):
        params = [params]
    params = list(params)
    for p in params:
        if not isinstance(p, Tensor):
            raise ArgumentTypeError(f"{name}: expected tensors or a Module, got an item of type {type(p).__name__}")
    return params


def l1_penalty(params) -> Tensor:
    """sum |w| over every weight of ``params`` (a Module, an iterable of tensors, or one tensor).

    Math
    ----
    R = sum_w |w|;  dR/dw = sign(w). Adding lam * R to a loss pulls weights to exactly 0 (sparsity).

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.l1_penalty([cr.tensor([1.0, -2.0]), cr.tensor([[3.0]])]).item()
    6.0
    """
    ps = _params(params, "l1_penalty")
    return _Penalty.apply(*ps, kind="l1") if ps else Tensor(np.zeros((), get_default_dtype()))


def l2_penalty(params) -> Tensor:
    """sum w^2 over every weight of ``params`` (a Module, an iterable of tensors, or one tensor).

    Math
    ----
    R = sum_w w^2;  dR/dw = 2 w. Adding (lam / 2) * R to the loss adds lam * w to every gradient, so plain
    SGD on loss + (lam / 2) R is exactly SGD with ``weight_decay=lam``: w <- w - lr (g + lam w).
    ``Adam(weight_decay=lam)`` adds the same lam w to the gradient, so it too equals Adam on loss + (lam / 2) R;
    but Adam rescales that term per weight, so it is no longer a plain decay: AdamW's decoupled
    w <- w (1 - lr lam) is.

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.l2_penalty([cr.tensor([1.0, -2.0]), cr.tensor([[3.0]])]).item()
    14.0
    """
    ps = _params(params, "l2_penalty")
    return _Penalty.apply(*ps, kind="l2") if ps else Tensor(np.zeros((), get_default_dtype()))
