"""The Function base class: one differentiable operation, its forward and its vector-Jacobian product.

An op is written as a subclass with two methods on plain NumPy arrays::

    class Tanh(Function):
        def forward(self, x):
            self.y = np.tanh(x)          # save what the derivative needs, in its cheapest form
            return self.y

        def backward(self, gy):
            return gy * (1 - self.y * self.y)

``Tanh.apply(t)`` runs ``forward`` on ``t``'s array and, when a gradient is wanted, records the
call in the graph so that :mod:`chainrule.autograd.engine` can later call ``backward``.

Conventions every op keeps:

* ``backward(gy)`` returns one gradient per input of ``forward`` (a tuple when there are several),
  or ``None`` for an input that needs none; ``self.needs_input_grad`` says which are wanted.
* Gradients may have the broadcast shape of the output: the engine un-broadcasts them, once.
* ``gy`` is never modified in place: it may be shared with other ops.
* An op may return several arrays from ``forward`` (a tuple); ``backward`` then receives a tuple of
  gradients, with zeros for outputs that received none (or None, if the op sets
  ``takes_none_grads = True``: an LSTM whose output sequence nobody reads skips that work).
* An op whose ``backward`` always returns newly allocated arrays (never ``gy``, a view of it or a saved
  array, and a different array for each input) may set ``fresh_grads = True``. The engine then hands
  such an array to a leaf as its first ``.grad`` without copying it (a weight gradient is often the
  biggest array of a step).
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..errors import NonFiniteError
from .tensor import Tensor

_grad_enabled = True
_anomaly = False


class Function:
    """Base class of every differentiable op. See the module docstring for the conventions."""

    # set by apply(); kept out of __init__ so that ops define __init__ for their own parameters only
    inputs: tuple = ()
    needs_input_grad: tuple = ()
    n_outputs: int = 1
    out_meta: tuple = ()  # ((shape, dtype), ...) of the outputs, for zero-filling missing gradients
    versions: list = []  # the inputs' in-place change counts when the op ran (checked before its backward)
    released: bool = False
    fresh_grads: bool = False  # backward returns arrays that nothing else holds (see the module docstring)
    takes_none_grads: bool = False  # backward gets None, not zeros, for an output that received no gradient

    def forward(self, *xs):  # pragma: no cover - every op overrides
        raise NotImplementedError

    def backward(self, gy):  # pragma: no cover - every op overrides
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on tensors (or plain numbers / arrays, which get no gradient)."""
        fn = cls(**params) if params else cls()
        arrays = []
        needs = []
        versions = []
        record = False
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                r = x.requires_grad
                needs.append(r)
                versions.append(x._version)
                record = record or r
            else:
                arrays.append(x)
                needs.append(False)
                versions.append(0)
        record = record and _grad_enabled
        fn.needs_input_grad = tuple(needs) if record else (False,) * len(needs)
        if record:
            fn.versions = versions
        y = fn.forward(*arrays)
        if isinstance(y, tuple):
            outs = tuple(Tensor._wrap(a, record, fn if record else None, i) for i, a in enumerate(y))
            if record:
                fn.n_outputs = len(outs)
                fn.out_meta = tuple((o.data.shape, o.data.dtype) for o in outs)
        else:
            outs = Tensor._wrap(y, record, fn if record else None, 0)
        if record:
            fn.inputs = inputs
        if _anomaly:
            _check_finite(cls.__name__, "forward", y if isinstance(y, tuple) else (y,))
        return outs

    def release(self) -> None:
        """Drop the saved arrays and the inputs once backward has used them."""
        self.__dict__.clear()
        self.released = True


def _check_finite(op: str, phase: str, arrays) -> None:
    for a in arrays:
        if a is not None and isinstance(a, np.ndarray) and a.dtype.kind in "fc" and not np.isfinite(a).all():
            what = "NaN" if np.isnan(a).any() else "inf"
            raise NonFiniteError(
                f"anomaly mode: {op}.{phase} produced {what} (an array of shape {a.shape}, dtype {a.dtype})"
            )


# ------------------------------------------------------------------------------------- grad mode
class _GradMode(contextlib.ContextDecorator):
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._prev
        return False


def no_grad(func=None):
    """Context manager (and decorator, with or without parentheses) in which no op records a graph.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """
    return _GradMode(False) if func is None else _decorate(_GradMode(False), func, "no_grad")


def enable_grad(func=None):
    """Context manager (and decorator) that turns recording back on inside ``no_grad``."""
    return _GradMode(True) if func is None else _decorate(_GradMode(True), func, "enable_grad")


def _decorate(mode: _GradMode, func, name: str):
    if not callable(func):
        from ..errors import ArgumentTypeError

        raise ArgumentTypeError(f"{name}: takes no arguments, or a function to decorate; got {type(func).__name__}")
    return mode(func)


def is_grad_enabled() -> bool:
    return _grad_enabled


class detect_anomaly(contextlib.ContextDecorator):
    """Check every op's outputs (forward) and gradients (backward) for NaN and inf.

    The first op that produces one raises :class:`chainrule.errors.NonFiniteError` naming it. It costs a
    pass over every array, so it is off unless asked for.

    >>> import chainrule as cr
    >>> with cr.detect_anomaly():
    ...     cr.log(cr.tensor([-1.0]))
    Traceback (most recent call last):
    ...
    chainrule.errors.NonFiniteError: anomaly mode: Log.forward produced NaN (an array of shape (1,), dtype float32)
    """

    def __enter__(self):
        global _anomaly
        self._prev = _anomaly
        _anomaly = True
        self._np = np.seterr(invalid="ignore", divide="ignore", over="ignore")
        return self

    def __exit__(self, *exc):
        global _anomaly
        _anomaly = self._prev
        np.seterr(**self._np)
        return False


def anomaly_enabled() -> bool:
    return _anomaly
