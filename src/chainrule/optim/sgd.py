"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay (PyTorch's rule)."""

from __future__ import annotations

import numpy as np

from ..backend import axpby
from ..errors import ArgumentError
from .optimizer import Optimizer, check_flag, check_number


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay.

    Math
    ----
    For each parameter w with gradient g, at every step::

        g = g + weight_decay * w                           (when weight_decay > 0)
        v = momentum * v + (1 - dampening) * g             (when momentum > 0; v = g at the first step)
        d = g + momentum * v   if nesterov   else   v      (d = g when momentum = 0)
        w = w - lr * d

    With dampening 0 this is the notes' momentum: v = beta*v + g;  w = w - lr*v.

    Parameters
    ----------
    params : iterable of Parameter or of dicts (param groups)
    lr : float
        Learning rate, >= 0.
    momentum : float
        beta in [0, 1).
    nesterov : bool
        Nesterov momentum; needs momentum > 0 and dampening = 0.
    weight_decay : float
        L2 penalty coefficient, >= 0 (added to the gradient).
    dampening : float
        In [0, 1]; must be 0 with Nesterov. (PyTorch's extra argument; it comes last here, so that
        ``SGD(params, lr, momentum, nesterov, weight_decay)`` follows the API. Pass it by keyword.)

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.tensor([1.0, -2.0]))
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.numpy()
    array([ 0.8, -1.6], dtype=float32)
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
                 dampening: float = 0.0) -> None:
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay, dampening=dampening)
        super().__init__(params, defaults)

    _n_scratch = 2
    _state_keys = frozenset({"momentum_buffer"})  # None, or missing, starts a fresh buffer

    def _check_group(self, group: dict) -> None:
        check_number("SGD", "lr", group["lr"])
        check_number("SGD", "momentum", group["momentum"], 0.0, 1.0, high_open=True)
        check_number("SGD", "dampening", group["dampening"], 0.0, 1.0)
        check_number("SGD", "weight_decay", group["weight_decay"])
        group["nesterov"] = check_flag("SGD", "nesterov", group["nesterov"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ArgumentError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got momentum={group['momentum']}, "
                f"dampening={group['dampening']}"
            )

    def _init_state(self, p, group: dict) -> dict:
        return {"momentum_buffer": None} if group["momentum"] else {}

    def _update(self, w: np.ndarray, g: np.ndarray, group: dict, state: dict, scratch: list) -> None:
        lr, mom, wd = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
        damp = float(group["dampening"])
        d, tmp = scratch
        if wd:
            np.multiply(w, wd, out=d)
            np.add(g, d, out=d)  # d = g + wd * w
            g = d
        if mom:
            v = state.get("momentum_buffer")
            if v is None:
                v = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                axpby(1.0 - damp, g, mom, v, tmp)  # v = momentum * v + (1 - dampening) * g, one pass
            if group["nesterov"]:
                np.multiply(v, mom, out=tmp)
                np.add(g, tmp, out=d)  # d = g + momentum * v
                g = d
            else:
                g = v
        axpby(-lr, g, 1.0, w, tmp)  # w = w - lr * d, one pass
