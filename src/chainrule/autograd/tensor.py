"""Tensor: a NumPy array that remembers how it was computed, so its gradient can flow back.

A tensor holds ``data`` (a NumPy array), ``grad`` (``None`` until a backward reaches it, then an array
of the same shape, accumulated with ``+=``), and ``requires_grad``. Operators and methods delegate to
:mod:`chainrule.functional`, where each op's forward and derivative are written side by side.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..errors import ArgumentTypeError, DTypeError


def _as_array(data, dtype=None, copy: bool = False) -> np.ndarray:
    """Turn user data into an array: NumPy arrays keep their dtype, Python numbers get the default."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        if dtype is not None:
            return data.astype(dtype, copy=copy)
        return data.copy() if copy else data
    if isinstance(data, np.generic):
        return np.array(data, dtype=dtype)
    if isinstance(data, (numbers.Number, list, tuple)):
        try:
            a = np.array(data, dtype=dtype)
        except (ValueError, TypeError) as e:
            raise ArgumentTypeError(f"tensor: cannot make an array from {type(data).__name__}: {e}") from None
        if dtype is None and a.dtype.kind in "iuf":  # Python numbers get the default float dtype
            a = a.astype(backend.get_default_dtype())
        if a.dtype == object:
            raise ArgumentTypeError("tensor: data must be numbers, nested lists of numbers or an array")
        return a
    raise ArgumentTypeError(
        f"tensor: expected a NumPy array, a Tensor, a number or a (nested) list, got {type(data).__name__}"
    )


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4., 6.], dtype=float32)
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_idx", "_retain", "__weakref__")
    __array_ufunc__ = None  # ndarray + Tensor defers to Tensor.__radd__ and friends
    __hash__ = object.__hash__  # == returns an array, so keep identity hashing

    def __init__(self, data, dtype=None, requires_grad: bool = False):
        self.data = _as_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._idx = 0
        self._retain = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

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
        return t

    # ------------------------------------------------------------------------------ autograd
    def requires_grad_(self, flag: bool = True) -> Tensor:
        if flag and self.data.dtype.kind not in "fc":
            raise DTypeError(f"only floating-point tensors can require gradients, got dtype {self.data.dtype}")
        self.requires_grad = bool(flag)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor during backward (leaves always keep theirs)."""
        self._retain = True

    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Reverse-mode differentiation from this tensor; see :func:`chainrule.autograd.engine.backward`."""
        from .engine import backward

        backward(self, grad, retain_graph=retain_graph)

    def detach(self) -> Tensor:
        """The same data (shared, not copied), cut from the graph."""
        return Tensor._wrap(self.data, False, None, 0)

    def zero_grad(self) -> None:
        self.grad = None

    # ------------------------------------------------------------------------------ array facts
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self):
        if self.data.size != 1:
            from ..errors import ShapeError

            raise ShapeError(f"item(): only a tensor with one element has an item, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise ArgumentTypeError("len() of a 0-d tensor")
        return len(self.data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __bool__(self) -> bool:
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

    def __pos__(self):
        return self

    # comparisons give plain boolean arrays: they have no gradient
    def __lt__(self, o):
        return self.data < _raw(o)

    def __le__(self, o):
        return self.data <= _raw(o)

    def __gt__(self, o):
        return self.data > _raw(o)

    def __ge__(self, o):
        return self.data >= _raw(o)

    def __eq__(self, o):
        return self.data == _raw(o)

    def __ne__(self, o):
        return self.data != _raw(o)

    def __getitem__(self, index):
        return _shape.getitem(self, index)

    # ------------------------------------------------------------------------------ methods
    def exp(self):
        return _elementwise.exp(self)

    def log(self):
        return _elementwise.log(self)

    def sqrt(self):
        return _elementwise.sqrt(self)

    def abs(self):
        return _elementwise.abs(self)

    def tanh(self):
        return _elementwise.tanh(self)

    def sigmoid(self):
        return _elementwise.sigmoid(self)

    def relu(self):
        return _elementwise.relu(self)

    def clip(self, lo=None, hi=None):
        return _arith.clip(self, lo, hi)

    def astype(self, dtype):
        return _elementwise.astype(self, dtype)

    def float(self):
        return _elementwise.astype(self, np.float32)

    def double(self):
        return _elementwise.astype(self, np.float64)

    def sum(self, axis=None, keepdims=False):
        return _reduce.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _reduce.mean(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return _reduce.var(self, axis, keepdims, ddof)

    def max(self, axis=None, keepdims=False):
        return _reduce.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return _reduce.min(self, axis, keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _reduce.argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _reduce.argmin(self, axis, keepdims)

    def reshape(self, *shape):
        return _shape.reshape(self, *shape)

    def view(self, *shape):
        return _shape.reshape(self, *shape)

    def transpose(self, *axes):
        return _shape.transpose(self, *axes)

    def permute(self, *axes):
        return _shape.transpose(self, *axes)

    @property
    def T(self):
        return _shape.transpose(self)

    def flatten(self, start_axis=0, end_axis=-1):
        return _shape.flatten(self, start_axis, end_axis)

    def squeeze(self, axis=None):
        return _shape.squeeze(self, axis)

    def unsqueeze(self, axis):
        return _shape.unsqueeze(self, axis)

    def broadcast_to(self, shape):
        return _shape.broadcast_to(self, shape)


def _raw(o):
    return o.data if isinstance(o, Tensor) else o


# The functional modules import Tensor from here; they are bound after the class exists.
from ..functional import arith as _arith  # noqa: E402
from ..functional import elementwise as _elementwise  # noqa: E402
from ..functional import linalg as _linalg  # noqa: E402
from ..functional import reduce as _reduce  # noqa: E402
from ..functional import shape as _shape  # noqa: E402
