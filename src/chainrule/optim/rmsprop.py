"""RMSprop: divide the gradient by a running root-mean-square of its recent values (PyTorch's rule)."""

from __future__ import annotations

import numpy as np

from ..backend import axpby, axpby_uses_blas
from .optimizer import Optimizer, check_flag, check_number


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum.

    Math
    ----
    For each parameter w with gradient g, at every step::

        g = g + weight_decay * w                       (when weight_decay > 0)
        s = alpha * s + (1 - alpha) * g * g            (running mean square)
        a = alpha * a + (1 - alpha) * g                (centered only: running mean)
        r = sqrt(max(s - a * a, 0)) + eps   if centered   else   sqrt(s) + eps
        b = momentum * b + g / r;   w = w - lr * b     (momentum > 0)
        w = w - lr * g / r                             (momentum = 0)

    Arrays of 16,384 numbers or more compute s, a and the update through BLAS's axpby, in fewer passes over
    memory (on the MLP benchmark's network the update takes about 0.95 ms instead of 1.3 ms a step), the
    same values rounded differently; smaller arrays follow PyTorch's operations bit for bit.

    Centered, s - a * a is a variance, >= 0, but rounding can make it a tiny negative number where the
    gradient barely varies (a constant one, after a few hundred steps): it is clamped at 0, where PyTorch
    takes the square root of it and the weight becomes NaN.

    Parameters
    ----------
    params : iterable of Parameter or of dicts (param groups)
    lr : float
        Learning rate, >= 0.
    alpha : float
        Smoothing constant in [0, 1).
    eps : float
        Added to the root mean square, >= 0.
    weight_decay : float
        >= 0.
    momentum : float
        In [0, 1).
    centered : bool
        Normalise by an estimate of the gradient's variance instead of its raw second moment.

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.tensor([1.0]))
    >>> opt = RMSprop([w], lr=0.01, alpha=0.99)
    >>> (w * w).sum().backward(); opt.step()   # g = 2: s = 0.04, w = 1 - 0.01 * 2 / 0.2
    >>> w.numpy().round(6)
    array([0.9], dtype=float32)
    """

    _n_scratch = 2
    _state_keys = frozenset({"step", "square_avg", "momentum_buffer", "grad_avg"})

    def _required_state(self, group: dict) -> tuple:
        return (("step", "square_avg") + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_number("RMSprop", "lr", group["lr"])
        check_number("RMSprop", "alpha", group["alpha"], 0.0, 1.0, high_open=True)
        check_number("RMSprop", "eps", group["eps"])
        check_number("RMSprop", "weight_decay", group["weight_decay"])
        check_number("RMSprop", "momentum", group["momentum"], 0.0, 1.0, high_open=True)
        group["centered"] = check_flag("RMSprop", "centered", group["centered"])

    def _init_state(self, p, group: dict) -> dict:
        state = {"step": 0, "square_avg": np.zeros_like(p.data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p.data)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(p.data)
        return state

    def _update(self, w: np.ndarray, g: np.ndarray, group: dict, state: dict, scratch: list) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        wd, mom = float(group["weight_decay"]), float(group["momentum"])
        r, tmp = scratch
        if wd:
            np.multiply(w, wd, out=tmp)
            np.add(g, tmp, out=tmp)
            g = tmp
        state["step"] += 1
        s = state["square_avg"]
        # big arrays: fewer passes through BLAS's axpby (same math, rounded differently); small ones: PyTorch's
        # operations and rounding
        fast = axpby_uses_blas(g, s)
        if fast:
            np.multiply(g, g, out=r)
            axpby(1.0 - alpha, r, alpha, s)  # s = alpha s + (1 - alpha) g^2
        else:
            np.multiply(g, 1.0 - alpha, out=r)
            np.multiply(r, g, out=r)
            np.multiply(s, alpha, out=s)
            np.add(s, r, out=s)
        if group["centered"]:
            if state.get("grad_avg") is None:  # switched on by hand after the first step: start as at step 1
                state["grad_avg"] = np.zeros_like(s)
            a = state["grad_avg"]
            if fast:
                axpby(1.0 - alpha, g, alpha, a)  # a = alpha a + (1 - alpha) g
            else:  # a = lerp(a, g, 1 - alpha), rounded as PyTorch's lerp
                np.subtract(g, a, out=r)
                if 1.0 - alpha < 0.5:
                    np.multiply(r, 1.0 - alpha, out=r)
                    np.add(a, r, out=a)
                else:
                    np.multiply(r, alpha, out=r)
                    np.subtract(g, r, out=a)
            np.multiply(a, a, out=r)
            np.subtract(s, r, out=r)
            np.maximum(r, 0.0, out=r)  # a variance: rounding must not make it negative (sqrt would be NaN)
            np.sqrt(r, out=r)
        else:
            np.sqrt(s, out=r)
        np.add(r, eps, out=r)
        if mom > 0:
            if state.get("momentum_buffer") is None:  # switched on by hand after the first step
                state["momentum_buffer"] = np.zeros_like(s)
            b = state["momentum_buffer"]
            np.divide(g, r, out=r)
            axpby(1.0, r, mom, b)  # b = momentum * b + g / r, one pass
            axpby(-lr, b, 1.0, w, r)  # w = w - lr * b, one pass
        elif fast:
            np.divide(g, r, out=r)
            axpby(-lr, r, 1.0, w)  # w = w - lr g / r
        else:
            np.multiply(g, -lr, out=tmp)  # g may be tmp itself: elementwise in place is safe
            np.divide(tmp, r, out=tmp)
            np.add(w, tmp, out=w)
