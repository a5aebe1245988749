"""The backward walk: the chain rule applied to the whole recorded graph.

For a scalar loss L and a graph of ops, reverse mode computes dL/dx for every input x by visiting the
ops from the last to the first (reverse topological order) and, at each op, turning the gradient of its
output into gradients of its inputs (its vector-Jacobian product). A tensor used by several ops receives
the sum of their contributions: gradients are accumulated with ``+``, never assigned.

The walk is iterative (an explicit stack), so a chain of 10,000 ops needs no recursion.
"""

from __future__ import annotations

import numpy as np

from ..backend import unbroadcast
from ..errors import ArgumentTypeError, AutogradError, ShapeError
from . import function as _function
from .tensor import Tensor


def _topological_order(root_fn) -> list:
    """Ops reachable from ``root_fn``, each listed after every op that produced one of its inputs."""
    order = []
    visited = set()
    stack = [(root_fn, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if id(fn) in visited:
            continue
        if fn.released:
            raise AutogradError(
                "backward through a graph whose saved arrays were already freed by an earlier backward; "
                "call backward(retain_graph=True) the first time if you need to go through it twice"
            )
        visited.add(id(fn))
        stack.append((fn, True))
        for x in fn.inputs:
            if isinstance(x, Tensor) and x._ctx is not None and id(x._ctx) not in visited:
                stack.append((x._ctx, False))
    return order


def _accumulate_leaf(t: Tensor, g: np.ndarray, owned: bool = False) -> None:
    if t.grad is None:
        if owned and type(g) is np.ndarray and g.base is None and g.dtype == t.data.dtype:
            t.grad = g  # nothing else holds g (a fresh array, not a view): adopt it, no copy
        else:
            # the first contribution is copied: g may be shared with other ops or tensors
            t.grad = np.array(g, dtype=t.data.dtype, copy=True)
    else:
        if not isinstance(t.grad, np.ndarray) or t.grad.shape != t.data.shape:
            raise ShapeError(
                f"backward: the .grad already on a tensor of shape {t.shape} is "
                + (f"of shape {t.grad.shape}" if isinstance(t.grad, np.ndarray) else f"a {type(t.grad).__name__}")
                + "; gradients accumulate into it, so it must be an array of the tensor's shape (or None)"
            )
        try:
            t.grad += g
        except (TypeError, ValueError) as e:  # a .grad set by hand: an integer or read-only array
            raise AutogradError(f"backward: cannot add the gradient into the .grad already on a tensor of shape "
                                f"{t.shape} ({e}); set .grad to None, or to a writeable float array") from None


def _as_gradient(fn, j: int, gx) -> np.ndarray:
    """A gradient that an op returned as something other than an array: NumPy scalars are fine, the rest not."""
    if isinstance(gx, (np.ndarray, np.generic)):  # an ndarray subclass or a NumPy scalar (a 0-d result)
        return np.asarray(gx)
    raise AutogradError(f"{type(fn).__name__}.backward returned a {type(gx).__name__} as the gradient for input {j}; "
                        "return NumPy arrays (or None)")


def backward(root: Tensor, grad=None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires a gradient.

    Parameters
    ----------
    root : Tensor
        The output to differentiate. A scalar, or any shape when ``grad`` is given.
    grad : array-like, optional
        dL/d(root), of root's shape; defaults to 1 for a scalar root.
    retain_graph : bool
        Keep the saved arrays so that backward can run through the same graph again.
    """
    if not root.requires_grad:
        raise AutogradError(
            "backward() on a tensor that does not require grad: no input of the computation had "
            "requires_grad=True (or it was computed under no_grad)"
        )
    if grad is None:
        if root.data.size != 1:
            raise AutogradError(
                f"backward() without a gradient needs a scalar output, got shape {root.shape}; "
                "pass grad= of the same shape, or reduce the output first (e.g. .sum())"
            )
        grad = np.ones(root.shape, dtype=root.dtype)
    else:
        try:
            given = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
        except (TypeError, ValueError) as e:  # a ragged list
            raise ArgumentTypeError(f"backward(grad=...): grad must be an array of numbers, got {type(grad).__name__}"
                                    f" ({e})") from None
        if given.dtype.kind not in "biuf":  # strings, None in a list, complex numbers
            raise ArgumentTypeError(f"backward(grad=...): grad must hold real numbers, got dtype {given.dtype}")
        grad = given.astype(root.dtype, copy=False)
        if grad.shape != root.shape:
            raise ShapeError(f"backward(grad=...): grad has shape {grad.shape}, the tensor has {root.shape}")

    if root._ctx is None:  # a leaf: d(root)/d(root) = grad
        _accumulate_leaf(root, grad)
        return

    anomaly = _function.anomaly_enabled()
    order = _topological_order(root._ctx)
    pending = {id(root._ctx): [None] * root._ctx.n_outputs}
    pending[id(root._ctx)][root._idx] = grad
    if root._retain:
        _accumulate_leaf(root, grad)

    for fn in reversed(order):
        gys = pending.pop(id(fn), None)
        if gys is None:  # no gradient reached this op (its consumers returned None)
            if not retain_graph:
                fn.release()
            continue
        if fn.n_outputs == 1:
            gy = gys[0]
        elif fn.takes_none_grads:
            gy = tuple(gys)
        else:
            gy = tuple(
                g if g is not None else np.zeros(shape, dtype) for g, (shape, dtype) in zip(gys, fn.out_meta)
            )
        for x, v in zip(fn.inputs, fn.versions):
            if isinstance(x, Tensor) and x._version != v:
                raise AutogradError(
                    f"{type(fn).__name__}.backward: an input of shape {x.shape} was changed in place after the "
                    "op used it, so the gradient would be wrong; change it after backward(), or out of place"
                )
        if _function.changed_saved_output(fn):
            raise AutogradError(
                f"{type(fn).__name__}.backward: its output, which it keeps for the gradient, was changed in place "
                "(through an alias such as detach()) after the op made it, so the gradient would be wrong; "
                "change a copy (.detach() shares memory; use cr.tensor(t.numpy()) or t * 1), or after backward()"
            )
        gxs = fn.backward(gy)
        if not isinstance(gxs, tuple):
            gxs = (gxs,)
        if len(gxs) != len(fn.inputs) and (any(fn.needs_input_grad[len(gxs):])
                                            or any(g is not None for g in gxs[len(fn.inputs):])):
            raise AutogradError(f"{type(fn).__name__}.backward returned {len(gxs)} gradient(s) for "
                                f"{len(fn.inputs)} input(s), some of which need one: return one per input of forward "
                                "(None where none is needed)")
        if anomaly:
            _function._check_finite(type(fn).__name__, "backward", gxs)
        fresh = fn.fresh_grads
        for j, (x, gx, need) in enumerate(zip(fn.inputs, gxs, fn.needs_input_grad)):
            if not need or gx is None:
                continue
            owned = fresh  # gx is a new array that only this loop holds
            if type(gx) is not np.ndarray:
                gx = _as_gradient(fn, j, gx)
                owned = False
            if gx.shape != x.data.shape:
                try:
                    gx = unbroadcast(gx, x.data.shape)
                except ValueError:
                    raise AutogradError(
                        f"{type(fn).__name__}.backward: the gradient for input {j} has shape {gx.shape}, which does "
                        f"not fit the input's shape {x.data.shape} (it must be that shape, or broadcast to it)"
                    ) from None
                owned = True  # a sum (new) or a reshaped view (which _accumulate_leaf copies)
            if gx.dtype != x.data.dtype:
                gx = gx.astype(x.data.dtype)
                owned = True
            if x._ctx is None:
                _accumulate_leaf(x, gx, owned)
                continue
            if x._retain:
                _accumulate_leaf(x, gx)
            slots = pending.get(id(x._ctx))
            if slots is None:
                slots = pending[id(x._ctx)] = [None] * x._ctx.n_outputs
            prev = slots[x._idx]
            slots[x._idx] = gx if prev is None else prev + gx  # out of place: gx may be shared
        if not retain_graph:
            fn.release()
