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
import functools
import inspect
import os
import threading
import traceback

import numpy as np

from ..errors import NonFiniteError
from .tensor import Tensor


class _GradState(threading.local):
    """Whether ops record a graph: per thread, as in PyTorch (a thread inside ``no_grad`` leaves the others'
    recording alone); a new thread starts with recording on."""

    enabled = True


_grad = _GradState()
_anomaly = False  # anomaly mode is on (detect_anomaly)
_anomaly_nan = False  # ... and checks gradients for NaN (check_nan)
_anomaly_forward = False  # ... and checks forward outputs for NaN too (check_forward)


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
                versions.append(x._vc[0])
                record = record or r
            else:
                arrays.append(x)
                needs.append(False)
                versions.append(0)
        record = record and _grad.enabled
        fn.needs_input_grad = tuple(needs) if record else (False,) * len(needs)
        if record:
            fn.versions = versions
        y = fn.forward(*arrays)
        if isinstance(y, tuple):
            outs = tuple(Tensor._wrap(a, record, fn if record else None, i) for i, a in enumerate(y))
            for o in outs:
                if o.data.base is not None:
                    _share_version(o, inputs)
            if record:
                fn.n_outputs = len(outs)
                fn.out_meta = tuple((o.data.shape, o.data.dtype) for o in outs)
                fn.out_versions = [(o._vc, o._vc[0], id(o.data)) for o in outs]
        else:
            outs = Tensor._wrap(y, record, fn if record else None, 0)
            if outs.data.base is not None or (arrays and outs.data is arrays[0]):
                _share_version(outs, inputs)
            if record:
                fn.out_versions = ((outs._vc, outs._vc[0], id(outs.data)),)
        if record:
            fn.inputs = inputs
        if _anomaly:
            if _anomaly_forward:
                _check_nan(cls.__name__, "forward", y if isinstance(y, tuple) else (y,))
            if record and _anomaly_nan:
                _trace_backward(fn, cls.__name__)
        return outs

    def release(self) -> None:
        """Drop the saved arrays and the inputs once backward has used them."""
        self.__dict__.clear()
        self.released = True


def changed_saved_output(fn) -> bool:
    """Whether an output of ``fn`` that fn keeps for its backward (``self.y = y``: exp, tanh, sigmoid, sqrt,
    division, softmax...) was changed in place since, necessarily through an alias (``detach()``, a view
    made under no_grad): the output itself requires grad and refuses in-place changes."""
    for vc, v, ident in getattr(fn, "out_versions", ()):
        if vc[0] != v and any(isinstance(a, np.ndarray) and id(a) == ident for a in vars(fn).values()):
            return True
    return False


def _memory_of(a: np.ndarray):
    """The object that owns an array's memory: the array at the end of its chain of views (or the buffer)."""
    b = a.base
    while b is not None:
        if not isinstance(b, np.ndarray):
            return b
        a, b = b, b.base
    return a


def _share_version(out: Tensor, inputs) -> None:
    """Give an op's output the in-place counter of the input whose memory it views (see Tensor._vc), so that
    a change through either is seen by every graph that saved the other. Outputs in memory of their own
    (almost all; the caller checks ``.base`` first) keep their own counter."""
    mem = _memory_of(out.data)
    for x in inputs:
        if isinstance(x, Tensor) and _memory_of(x.data) is mem:
            out._vc = x._vc
            if (x.requires_grad and not _grad.enabled) or getattr(x, "_nograd_view", False):
                out._nograd_view = True  # its in-place change is refused while recording, as in PyTorch
            return


def _has_nan(a) -> bool:
    return isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind in "fc" and bool(np.isnan(a).any())


def _check_nan(op: str, phase: str, arrays, where: str = "") -> None:
    """Anomaly mode: raise NonFiniteError naming ``op`` if one of ``arrays`` holds a NaN (inf is a value)."""
    for i, a in enumerate(arrays):
        if _has_nan(a):
            part = f"the gradient for input {i}" if phase == "backward" else f"output {i}"
            raise NonFiniteError(f"anomaly mode: {op}.{phase} produced NaN in {part} (an array of shape {a.shape}, "
                                 f"dtype {a.dtype}){where}")


def _check_finite(op: str, phase: str, arrays) -> None:
    """The engine's check of every op's gradients in anomaly mode (NaN only, when check_nan is on)."""
    if _anomaly_nan:
        _check_nan(op, phase, arrays)


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _trace_backward(fn: Function, op: str) -> None:
    """Anomaly mode: make ``fn.backward`` check its gradients and name the line whose forward created the op."""
    # innermost frame first, without this function and apply; source lines are read only for the frame shown
    stack = list(traceback.StackSummary.extract(traceback.walk_stack(None), lookup_lines=False))[2:]

    def inside(f) -> bool:
        return os.path.abspath(f.filename).startswith(_PACKAGE + os.sep)

    user = next((f for f in stack if not inside(f)), None)
    where = ""
    if user is not None:
        where = f"; its forward was called from {user.filename}:{user.lineno} in {user.name}" + \
            (f" ({user.line})" if user.line else "")
    if stack and inside(stack[0]):
        f = stack[0]
        where += f"{'; its forward was called' if user is None else ','} through chainrule's {f.name} " \
                 f"({os.path.relpath(f.filename, os.path.dirname(_PACKAGE))}:{f.lineno})"
    backward = fn.backward

    def checked_backward(gy):
        gxs = backward(gy)
        _check_nan(op, "backward", gxs if isinstance(gxs, tuple) else (gxs,), where)
        return gxs

    fn.backward = checked_backward


# ------------------------------------------------------------------------------------- grad mode
class _Mode(contextlib.ContextDecorator):
    """A context manager that is also a decorator, re-entrant, and that covers a generator's body.

    Each decorated call gets a fresh manager (``_recreate_cm``), so recursion and threads never share the
    saved state; a manager used in nested ``with`` blocks keeps a stack of it. A decorated generator
    function runs in the mode each time it resumes, not just when it is created, as in PyTorch.
    """

    def _recreate_cm(self):
        return self._fresh()

    def __call__(self, func):
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(self._fresh, func)
        return super().__call__(func)


def _wrap_generator(make_cm, func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gen = func(*args, **kwargs)
        send, value = gen.send, None
        while True:
            try:
                with make_cm():
                    out = send(value)
            except StopIteration as stop:
                return stop.value
            try:
                value = yield out
                send = gen.send
            except GeneratorExit:
                with make_cm():
                    gen.close()
                raise
            except BaseException as e:  # thrown into the wrapper: pass it on into the generator
                send, value = gen.throw, e

    return wrapper


class _GradMode(_Mode):
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._prev = []

    def _fresh(self):
        return _GradMode(self.enabled)

    def __enter__(self):
        self._prev.append(_grad.enabled)
        _grad.enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _grad.enabled = self._prev.pop()
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
    """Whether ops record a graph in this thread (False inside ``no_grad``)."""
    return _grad.enabled


class detect_anomaly(_Mode):
    """Anomaly mode, as PyTorch's: a backward pass whose op returns a NaN gradient raises, naming the op.

    Inside it, every op that returns a gradient holding a NaN raises :class:`chainrule.errors.NonFiniteError`
    naming the op and, when its forward ran inside anomaly mode too, the line of code that called it.
    inf is a value, not an anomaly (as in PyTorch): a ``-inf`` logit mask before softmax or cross-entropy, or
    the inf gradient of ``sqrt`` at 0, passes; it is flagged where it turns into a NaN (``inf * 0``).
    A NaN that appears in a forward pass but reaches no gradient (``where(x > 0, log(x), 0)``) is not an
    anomaly either; ``check_forward=True`` also checks every op's forward outputs for NaN, to find the op
    where a NaN value first appears. It costs a pass over every array, so it is off unless asked for.

    Parameters
    ----------
    check_nan : bool
        Check gradients for NaN (PyTorch's argument); False turns every check off.
    check_forward : bool
        Also check forward outputs for NaN (chainrule's addition; off by default, as in PyTorch).

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> with cr.detect_anomaly():
    ...     (x.sqrt() * 0).sum().backward()  # d sqrt(x)/dx = inf at 0, times 0: NaN
    Traceback (most recent call last):
    ...
    chainrule.errors.NonFiniteError: anomaly mode: Sqrt.backward produced NaN in the gradient for input 0 ...
    >>> with cr.detect_anomaly(check_forward=True):
    ...     cr.log(cr.tensor([-1.0]))
    Traceback (most recent call last):
    ...
    chainrule.errors.NonFiniteError: anomaly mode: Log.forward produced NaN in output 0 (an array of shape (1,), ...
    """

    def __init__(self, check_nan: bool = True, check_forward: bool = False) -> None:
        for name, v in (("check_nan", check_nan), ("check_forward", check_forward)):
            if not isinstance(v, (bool, np.bool_)):
                from ..errors import ArgumentTypeError

                raise ArgumentTypeError(f"detect_anomaly: {name} must be True or False, got {type(v).__name__} "
                                        f"{v!r:.40}")
        self.check_nan, self.check_forward = bool(check_nan), bool(check_forward)
        self._prev = []

    def _fresh(self):
        return detect_anomaly(self.check_nan, self.check_forward)

    def __enter__(self):
        global _anomaly, _anomaly_nan, _anomaly_forward
        np_state = np.seterr(invalid="ignore", divide="ignore", over="ignore")
        self._prev.append((_anomaly, _anomaly_nan, _anomaly_forward, np_state))
        _anomaly, _anomaly_nan, _anomaly_forward = True, self.check_nan, self.check_nan and self.check_forward
        return self

    def __exit__(self, *exc):
        global _anomaly, _anomaly_nan, _anomaly_forward
        _anomaly, _anomaly_nan, _anomaly_forward, np_state = self._prev.pop()
        np.seterr(**np_state)
        return False


def anomaly_enabled() -> bool:
    return _anomaly
