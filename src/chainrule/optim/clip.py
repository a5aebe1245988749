"""Gradient clipping: rescale all gradients to a maximum total norm, or clamp each value."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ArgumentError, NonFiniteError, ShapeError
from .optimizer import as_param_list, check_flag, check_number, grad_array


def _p_norm(grads: list, norm_type: float) -> float:
    if norm_type == 2.0:
        # a dot product of the flat view: no temporary array
        return math.sqrt(sum(float(np.dot(g.reshape(-1), g.reshape(-1))) for g in grads))
    if norm_type == 1.0:
        return sum(float(np.abs(g).sum()) for g in grads)
    total = sum(float((np.abs(g) ** norm_type).sum()) for g in grads)
    return total ** (1.0 / norm_type)


def _total_norm(grads: list, norm_type: float) -> float:
    if not grads:
        return 0.0
    if norm_type == math.inf:
        # np.max, not Python's max: a NaN must win wherever it is (max(2.0, nan) is 2.0)
        return float(np.max([np.max(np.abs(g)) if g.size else 0.0 for g in grads]))
    with np.errstate(over="ignore"):  # an overflow is handled below
        total = _p_norm(grads, norm_type)
    if math.isinf(total):
        # |g|^p overflowed (float32 from |g| ~ 2e19: the exploding gradients clipping is for), yet every
        # gradient may be finite: n = m * norm(g / m) with m = max |g| measures it without overflow.
        # (PyTorch returns inf here and the clipping zeroes every gradient.)
        m = _total_norm(grads, math.inf)
        if math.isfinite(m):
            total = m * _p_norm([g / m for g in grads], norm_type)
    return total


def _grads(owner: str, params) -> list:
    """The gradients of ``params`` that are set, each a float array of its parameter's dtype (a gradient set
    by hand as a list, a Tensor or integers is converted and stored back, as the optimizers accept it)."""
    grads = []
    for t in as_param_list(params):
        g = t.grad
        if g is None:
            continue
        if type(g) is not np.ndarray or g.dtype.kind != "f":
            g = grad_array(owner, t, g).copy()  # clipped in place: never the hand-set Tensor's own array
            if g.shape != t.shape:
                raise ShapeError(f"{owner}: a parameter of shape {t.shape} has a gradient of shape {g.shape}")
            t.grad = g
        grads.append(g)
    return grads


def clip_grad_norm_(params, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale the gradients in place so that their total norm is at most ``max_norm``; return the norm before.

    Math
    ----
    The total norm is the norm of all gradients taken as one vector::

        n = (sum over every gradient element of |g|^p)^(1/p)      (max |g| for p = inf)
        g = g * min(1, max_norm / (n + 1e-6))

    Parameters
    ----------
    params : Tensor or iterable of Tensor
        Parameters whose ``.grad`` is clipped (those without a gradient are skipped).
    max_norm : float
        The largest total norm allowed, >= 0; ``math.inf`` only measures the norm.
    norm_type : float
        p of the p-norm, > 0, or ``math.inf``.
    error_if_nonfinite : bool
        Raise NonFiniteError when the total norm is NaN or inf (otherwise the gradients become NaN).

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.tensor([3.0, 4.0]))
    >>> w.grad = w.numpy().copy()
    >>> clip_grad_norm_([w], max_norm=1.0)
    5.0
    >>> w.grad.round(4)
    array([0.6, 0.8], dtype=float32)
    """
    measure_only = isinstance(max_norm, (int, float, np.integer, np.floating)) and max_norm == math.inf
    if not measure_only:
        max_norm = check_number("clip_grad_norm_", "max_norm", max_norm)
    p = math.inf if norm_type == math.inf else check_number("clip_grad_norm_", "norm_type", norm_type)
    if p == 0:
        raise ArgumentError("clip_grad_norm_: norm_type must be > 0 (or math.inf), got 0")
    error_if_nonfinite = check_flag("clip_grad_norm_", "error_if_nonfinite", error_if_nonfinite)
    grads = _grads("clip_grad_norm_", params)
    total = _total_norm(grads, p)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise NonFiniteError(f"clip_grad_norm_: the total {norm_type}-norm of the gradients is {total}")
    if measure_only:  # max_norm = inf never changes a gradient (PyTorch's inf / inf would make them all NaN)
        return total
    coef = max_norm / (total + 1e-6)
    if coef < 1.0 or math.isnan(coef):
        for g in grads:
            np.multiply(g, coef, out=g)
    return total


def clip_grad_value_(params, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place.

    Math
    ----
    g = min(max(g, -c), c)

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.tensor([3.0, -0.5]))
    >>> w.grad = w.numpy().copy()
    >>> clip_grad_value_([w], 1.0); w.grad
    array([ 1. , -0.5], dtype=float32)
    """
    c = check_number("clip_grad_value_", "clip_value", clip_value)
    for g in _grads("clip_grad_value_", params):
        np.clip(g, -c, c, out=g)
