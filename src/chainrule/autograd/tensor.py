"""Tensor: a NumPy array that remembers how it was computed, so its gradient can flow back.

A tensor holds ``data`` (a NumPy array), ``grad`` (``None`` until a backward reaches it, then an array
of the same shape, accumulated with ``+=``), and ``requires_grad``. Operators and methods delegate to
:mod:`chainrule.functional`, where each op's forward and derivative are written side by side.
"""

from __future__ import annotations

import copy
import numbers
import operator

import numpy as np

from .. import backend
from ..errors import ArgumentError, ArgumentTypeError, AutogradError, DTypeError, IndexOutOfRangeError, ShapeError


def _as_array(data, dtype=None, copy: bool = False) -> np.ndarray:
    """Turn user data into an array: NumPy arrays keep their dtype, Python numbers get the default."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = backend.as_dtype(dtype, "tensor")
    if isinstance(data, np.ndarray):
        if type(data) is not np.ndarray:  # a subclass: np.matrix would make * a matrix product
            if type(data).__module__.startswith("numpy.ma"):
                raise DTypeError("tensor: masked arrays are not supported; fill the masked places first, "
                                 "e.g. a.filled(0)")
            data = np.asarray(data)
        if data.dtype.kind not in "biuf":
            raise DTypeError(f"tensor: arrays must hold booleans, integers or floats, got dtype {data.dtype}")
        if dtype is not None:
            return data.astype(dtype, copy=copy)
        return data.copy() if copy else data
    if isinstance(data, np.generic):
        return np.array(data, dtype=dtype)
    if isinstance(data, (numbers.Number, list, tuple)):
        try:
            a = np.array(data, dtype=dtype)
        except (ValueError, TypeError, OverflowError) as e:
            raise ArgumentTypeError(f"tensor: cannot make an array from {type(data).__name__}: {e}") from None
        if dtype is None and a.dtype.kind in "iuf":  # Python numbers get the default float dtype
            a = a.astype(backend.get_default_dtype())
        if a.dtype.kind not in "biuf":
            raise ArgumentTypeError("tensor: data must be numbers, nested lists of numbers or an array of "
                                    f"them, got {a.dtype} values")
        return a
    raise ArgumentTypeError(
        f"tensor: expected a NumPy array, a Tensor, a number or a (nested) list, got {type(data).__name__}"
    )


def as_operand(x):
    """What the ``cr.`` function forms take: tensors pass through, NumPy arrays keep their dtype, Python
    numbers and lists become arrays of the default dtype (as ``cr.tensor`` would make them)."""
    return x if isinstance(x, (Tensor, np.ndarray)) else _as_array(x)


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4., 6.], dtype=float32)
    """

    # _vc[0] (read as ``_version``) counts in-place changes (``+=``, ``t[i] = v``): an op that saved this
    # tensor for its backward notes the count, and the backward refuses to run if it has changed since.
    # Tensors that share memory share the one-item list: ``detach()`` and every op whose output is a view
    # of an input (a slice, reshape, transpose; see ``Function.apply``), as in PyTorch, so a change made
    # through an alias is seen too
    # _nograd_view (set only on such views, read with getattr): a view made under no_grad of a tensor that
    # requires grad; PyTorch refuses its in-place change while recording, and so does _check_inplace
    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_idx", "_retain", "_vc", "_nograd_view", "__weakref__")
    __array_ufunc__ = None  # ndarray + Tensor defers to Tensor.__radd__ and friends
    __hash__ = object.__hash__  # == returns an array, so keep identity hashing

    def __init__(self, data, dtype=None, requires_grad: bool = False):
        self.data = _as_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._idx = 0
        self._retain = False
        # Tensor(t) without a new dtype shares t's memory, so it shares t's in-place counter too
        self._vc = data._vc if isinstance(data, Tensor) and self.data is data.data else [0]
        self.requires_grad = False
        if requires_grad is not False:
            self.requires_grad_(requires_grad)

    @classmethod
    def _wrap(cls, a, requires_grad: bool, ctx, idx: int) -> Tensor:
        """Fast constructor for op outputs: no checks, no copies."""
        t = cls.__new__(cls)
        t.data = a if type(a) is np.ndarray else np.asarray(a)
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = ctx
        t._idx = idx
        t._retain = False
        t._vc = [0]
        return t

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (through it or an alias)."""
        return self._vc[0]

    @_version.setter
    def _version(self, n: int) -> None:
        self._vc[0] = n

    # ------------------------------------------------------------------------------ autograd
    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (floating leaves only) and return the tensor."""
        if not isinstance(flag, (bool, np.bool_)):  # "no" would be true
            raise ArgumentTypeError(f"requires_grad must be True or False, got {type(flag).__name__} {flag!r:.40}")
        if flag and self.data.dtype.kind not in "fc":
            raise DTypeError(f"only floating-point tensors can require gradients, got dtype {self.data.dtype}")
        if not flag and self._ctx is not None and self.requires_grad:
            raise AutogradError(
                "requires_grad_(False) on a tensor computed by an op: only leaves can change the flag; "
                "use .detach() for a copy cut from the graph"
            )
        self.requires_grad = bool(flag)
        return self

    @property
    def is_leaf(self) -> bool:
        """True unless the tensor was recorded as an op's output (user-made, detached or made under no_grad)."""
        return self._ctx is None

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor during backward (leaves always keep theirs)."""
        self._retain = True

    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Reverse-mode differentiation from this tensor: add dL/dx to ``x.grad`` for every leaf x that requires grad.

        The walk is iterative (any depth) and accumulates with ``+=``: call ``zero_grad`` (or set
        ``x.grad = None``) between steps. See :func:`chainrule.autograd.engine.backward`.

        Parameters
        ----------
        grad : array-like of this tensor's shape, optional
            dL/d(this tensor); may be left out only when the tensor has one element (it is then 1).
        retain_graph : bool
            Keep the saved arrays so that the graph can be walked again; by default they are freed.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * x
        >>> y.backward(grad=[1.0, 10.0])
        >>> x.grad
        array([ 2., 40.], dtype=float32)
        """
        from .engine import backward

        backward(self, grad, retain_graph=retain_graph)

    def detach(self) -> Tensor:
        """The same data (shared, not copied), cut from the graph: no gradient flows through it.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * 2).detach().requires_grad
        False
        """
        t = Tensor._wrap(self.data, False, None, 0)
        t._vc = self._vc  # the same memory: an in-place change of either is one of both
        return t

    def __copy__(self) -> Tensor:
        return self.__deepcopy__({})

    def __deepcopy__(self, memo) -> Tensor:
        """A new leaf with copies of the data and ``.grad`` (copy.copy and copy.deepcopy alike, as NumPy copies
        an array's data); tensors that shared an array (tied weights) still share one in a model's deepcopy."""
        if self._ctx is not None:
            raise AutogradError("copy.copy / copy.deepcopy: only leaf tensors can be copied (as in PyTorch); a "
                                "tensor computed by an op would take its whole graph along: copy t.detach()")
        t = type(self).__new__(type(self))
        t.data = copy.deepcopy(self.data, memo)
        t.grad = None if self.grad is None else copy.deepcopy(self.grad, memo)
        t.requires_grad, t._ctx, t._idx, t._retain, t._vc = self.requires_grad, None, 0, self._retain, [0]
        return t

    def zero_grad(self) -> None:
        """Forget the accumulated gradient: ``.grad`` becomes None."""
        self.grad = None

    # ------------------------------------------------------------------------------ array facts
    @property
    def shape(self) -> tuple:
        """The size of each axis, as a tuple of ints (NumPy's ``shape``)."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the data (float32 by default)."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """The number of elements (the product of the shape)."""
        return self.data.size

    def numpy(self) -> np.ndarray:
        """The underlying NumPy array (shared, not copied: changing one changes the other).

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0]).numpy()
        array([1., 2.], dtype=float32)
        """
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number (e.g. a loss, for logging).

        >>> import chainrule as cr
        >>> cr.tensor([[2.5]]).item()
        2.5
        """
        if self.data.size != 1:
            from ..errors import ShapeError

            raise ShapeError(f"item(): only a tensor with one element has an item, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        """The data as nested Python lists of Python numbers (no gradient)."""
        return self.data.tolist()

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise ArgumentTypeError("len() of a 0-d tensor")
        return len(self.data)

    def __array__(self, dtype=None, copy=None):
        """NumPy's conversion protocol: ``np.asarray(t)`` shares memory, ``np.array(t)`` copies."""
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            if copy is False:
                raise ValueError(f"cannot convert a {self.data.dtype} tensor to {np.dtype(dtype)} without a copy")
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ArgumentError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous: use (t > 0).any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != backend.get_default_dtype():
            extra += f", dtype={self.data.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn={type(self._ctx).__name__}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # ------------------------------------------------------------------------------ operators
    def __add__(self, o):
        return _arith.add(self, o)

    def __radd__(self, o):
        return _arith.add(o, self)

    def __sub__(self, o):
        return _arith.sub(self, o)

    def __rsub__(self, o):
        return _arith.sub(o, self)

    def __mul__(self, o):
        return _arith.mul(self, o)

    def __rmul__(self, o):
        return _arith.mul(o, self)

    def __truediv__(self, o):
        return _arith.div(self, o)

    def __rtruediv__(self, o):
        return _arith.div(o, self)

    def __pow__(self, o):
        return _arith.pow(self, o)

    def __rpow__(self, o):
        return _arith.pow(o, self)

    def __matmul__(self, o):
        return _linalg.matmul(self, o)

    def __rmatmul__(self, o):
        return _linalg.matmul(o, self)

    def __neg__(self):
        return _arith.neg(self)

    def __abs__(self):
        return _elementwise.abs(self)

    def __pos__(self):
        return self

    # comparisons give plain boolean arrays: they have no gradient
    def __lt__(self, o):
        return _compare("<", operator.lt, self, o)

    def __le__(self, o):
        return _compare("<=", operator.le, self, o)

    def __gt__(self, o):
        return _compare(">", operator.gt, self, o)

    def __ge__(self, o):
        return _compare(">=", operator.ge, self, o)

    def __eq__(self, o):
        return _compare("==", operator.eq, self, o)

    def __ne__(self, o):
        return _compare("!=", operator.ne, self, o)

    def __getitem__(self, index):
        """``t[index]``, differentiable, with ints, slices, None, Ellipsis, integer arrays and boolean masks;
        see :func:`chainrule.functional.getitem`.

        >>> import chainrule as cr
        >>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> y = x[1, :]
        >>> y.sum().backward()
        >>> y, x.grad
        (tensor([3., 4.], grad_fn=GetItem), array([[0., 0.],
               [1., 1.]], dtype=float32))
        """
        return _shape.getitem(self, index)

    # ------------------------------------------------------------------------------ in place
    # ``p -= lr * p.grad`` under ``no_grad`` updates p itself, as in PyTorch. With recording on, a tensor
    # that requires grad cannot be changed in place (its old value may be needed by the backward); a
    # tensor computed by an op that requires grad cannot be changed even under no_grad (it is in a graph).
    def _check_inplace(self, what: str) -> None:
        if self.requires_grad and (self._ctx is not None or _function._grad.enabled):
            where = "a tensor computed by an op" if self._ctx is not None else "a leaf"
            raise AutogradError(
                f"{what}: in-place change of {where} that requires grad; "
                + ("do it on .detach() or out of place" if self._ctx is not None else
                   "do it under `with cr.no_grad():` (as an optimizer step does) or out of place")
            )
        if _function._grad.enabled and getattr(self, "_nograd_view", False):
            raise AutogradError(
                f"{what}: this tensor (shape {self.shape}) is a view, made under no_grad, of a tensor that "
                "requires grad; changing it in place with recording on is ambiguous (should the graph see "
                "it?). Make the view and the change both under `with cr.no_grad():`, or both outside it"
            )
        if not self.data.flags.writeable:
            raise ArgumentError(f"{what}: this tensor's array (shape {self.shape}) is read-only")

    def _check_value(self, what: str, o) -> None:
        if isinstance(o, Tensor) and o.requires_grad and _function._grad.enabled:
            raise AutogradError(
                f"{what}: the value requires grad, but an in-place change records no graph, so its gradient "
                "would be lost; write it out of place (t = t + v), or build the tensor with cr.concatenate, "
                "cr.stack or cr.where"
            )

    def _inplace(self, what: str, ufunc, o) -> Tensor:
        self._check_inplace(what)
        self._check_value(what, o)
        o = o.data if isinstance(o, Tensor) else o
        try:
            ufunc(self.data, o, out=self.data, casting="same_kind")
        except TypeError:  # NumPy's UFuncTypeError: e.g. a float result for an integer tensor
            try:
                got = f"a {ufunc(np.zeros(1, self.dtype), np.asarray(o).ravel()[:1]).dtype} result"
            except (TypeError, ValueError):
                got = f"a result with {type(o).__name__}"
            raise DTypeError(f"{what}: {got} cannot be stored in place in a {self.dtype} tensor; "
                             "compute it out of place") from None
        except ValueError:
            raise ShapeError(f"{what}: a value of shape {np.shape(o)} cannot update a tensor of shape "
                             f"{self.shape} in place (it must broadcast to that shape)") from None
        self._version += 1
        return self

    def __iadd__(self, o):
        return self._inplace("+=", np.add, o)

    def __isub__(self, o):
        return self._inplace("-=", np.subtract, o)

    def __imul__(self, o):
        return self._inplace("*=", np.multiply, o)

    def __itruediv__(self, o):
        return self._inplace("/=", np.true_divide, o)

    def __setitem__(self, index, value) -> None:
        self._check_inplace("t[index] = value")
        self._check_value("t[index] = value", value)
        index = _shape._clean_index(index)
        value = value.data if isinstance(value, Tensor) else value
        try:
            self.data[index] = value
        except IndexError as e:
            raise IndexOutOfRangeError(f"index {index!r} does not fit a tensor of shape {self.shape}: {e}") from None
        except ValueError as e:
            raise ShapeError(f"t[index] = value: a value of shape {np.shape(value)} does not fit the selected "
                             f"part of a tensor of shape {self.shape}: {e}") from None
        except TypeError as e:
            raise ArgumentTypeError(f"t[index] = value: cannot store {type(value).__name__}: {e}") from None
        self._version += 1

    # ------------------------------------------------------------------------------ methods
    def exp(self):
        """e^x elementwise; see :func:`chainrule.exp` (math, parameters, example)."""
        return _elementwise.exp(self)

    def log(self):
        """Natural logarithm elementwise; see :func:`chainrule.log`."""
        return _elementwise.log(self)

    def sqrt(self):
        """Square root elementwise; see :func:`chainrule.sqrt`."""
        return _elementwise.sqrt(self)

    def abs(self):
        """Absolute value elementwise; see :func:`chainrule.abs`."""
        return _elementwise.abs(self)

    def tanh(self):
        """Hyperbolic tangent elementwise; see :func:`chainrule.tanh`."""
        return _elementwise.tanh(self)

    def sigmoid(self):
        """Logistic sigmoid 1 / (1 + exp(-x)) elementwise; see :func:`chainrule.sigmoid`."""
        return _elementwise.sigmoid(self)

    def relu(self):
        """max(x, 0) elementwise; see :func:`chainrule.relu`."""
        return _elementwise.relu(self)

    def clip(self, lo=None, hi=None):
        """Clamp into [lo, hi] (zero gradient outside); see :func:`chainrule.clip`."""
        return _arith.clip(self, lo, hi)

    def astype(self, dtype):
        """A copy converted to ``dtype`` (differentiable between floats); see :func:`chainrule.functional.astype`."""
        return _elementwise.astype(self, dtype)

    def float(self):
        """A float32 copy (differentiable); see :meth:`astype`."""
        return _elementwise.astype(self, np.float32)

    def double(self):
        """A float64 copy (differentiable); see :meth:`astype`."""
        return _elementwise.astype(self, np.float64)

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (None: all); see :func:`chainrule.sum` (math, parameters).

        >>> import chainrule as cr
        >>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> x.sum(axis=1), x.sum(axis=0, keepdims=True).shape
        (tensor([3., 7.], grad_fn=Sum), (1, 2))
        >>> x.sum().backward()
        >>> x.grad
        array([[1., 1.],
               [1., 1.]], dtype=float32)
        """
        return _reduce.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis`` (None: all); see :func:`chainrule.mean`."""
        return _reduce.mean(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        """Variance over ``axis``, divided by n - ddof; see :func:`chainrule.var`."""
        return _reduce.var(self, axis, keepdims, ddof)

    def max(self, axis=None, keepdims=False):
        """Largest element over ``axis`` (ties share the gradient); see :func:`chainrule.max`."""
        return _reduce.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        """Smallest element over ``axis`` (ties share the gradient); see :func:`chainrule.min`."""
        return _reduce.min(self, axis, keepdims)

    def argmax(self, axis=None, keepdims=False):
        """Index of the largest element (int64, no gradient); see :func:`chainrule.argmax`."""
        return _reduce.argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims=False):
        """Index of the smallest element (int64, no gradient); see :func:`chainrule.argmin`."""
        return _reduce.argmin(self, axis, keepdims)

    def reshape(self, *shape):
        """The same elements in a new shape (one entry may be -1); see :func:`chainrule.reshape`.

        >>> import chainrule as cr
        >>> cr.arange(6.0).reshape(2, -1)
        tensor([[0., 1., 2.],
                [3., 4., 5.]])
        """
        return _shape.reshape(self, *shape)

    def view(self, *shape):
        """The same as :meth:`reshape` (PyTorch's name); see :func:`chainrule.reshape`."""
        return _shape.reshape(self, *shape)

    def transpose(self, *axes):
        """Permute the axes (reversed when none are given); see :func:`chainrule.transpose`."""
        return _shape.transpose(self, *axes)

    def permute(self, *axes):
        """The same as :meth:`transpose` with axes given (PyTorch's name); see :func:`chainrule.transpose`."""
        return _shape.transpose(self, *axes)

    @property
    def T(self):
        """The tensor with its axes reversed (the matrix transpose for 2-D); see :func:`chainrule.transpose`."""
        return _shape.transpose(self)

    def flatten(self, start_axis=0, end_axis=-1):
        """Merge the axes from ``start_axis`` to ``end_axis`` into one; see :func:`chainrule.flatten`."""
        return _shape.flatten(self, start_axis, end_axis)

    def squeeze(self, axis=None):
        """Remove axes of size 1 (all, or those in ``axis``); see :func:`chainrule.squeeze`."""
        return _shape.squeeze(self, axis)

    def unsqueeze(self, axis):
        """Insert an axis of size 1 at ``axis``; see :func:`chainrule.unsqueeze`."""
        return _shape.unsqueeze(self, axis)

    def broadcast_to(self, shape):
        """Broadcast to ``shape`` (gradients sum back); see :func:`chainrule.broadcast_to`."""
        return _shape.broadcast_to(self, shape)


def _compare(symbol: str, op, t: Tensor, o):
    o = o.data if isinstance(o, Tensor) else o
    try:
        return op(t.data, o)
    except ValueError:
        raise ShapeError(f"comparison {symbol}: shapes {t.shape} and {np.shape(o)} cannot be broadcast together") \
            from None
    except TypeError:
        raise ArgumentTypeError(f"comparison {symbol}: cannot compare a {t.dtype} tensor with "
                                f"{type(o).__name__}") from None


# The functional modules import Tensor from here; they are bound after the class exists.
from ..functional import arith as _arith  # noqa: E402
from ..functional import elementwise as _elementwise  # noqa: E402
from ..functional import linalg as _linalg  # noqa: E402
from ..functional import reduce as _reduce  # noqa: E402
from ..functional import shape as _shape  # noqa: E402
from . import function as _function  # noqa: E402
