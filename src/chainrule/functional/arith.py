"""Arithmetic: + - * / ** and unary minus, maximum, minimum, where, clip.

Binary ops broadcast like NumPy; their backward returns gradients of the broadcast shape and the engine
sums them back to each input's shape (``backend.unbroadcast``), so no op here un-broadcasts by hand.
Either side may be a tensor, an array or a Python number (numbers get no gradient).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, _as_array, as_operand
from ..backend import get_default_dtype
from ..errors import ArgumentTypeError, ChainruleError, ShapeError
from . import elementwise as _elementwise


def _shape_of(v) -> tuple:
    return np.shape(v.data if isinstance(v, Tensor) else v)


_KIND_RANK = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def _rank(v) -> int:
    """bool 0 < integer 1 < floating 2 < complex 3, for a typed operand or a Python number."""
    if isinstance(v, (Tensor, np.ndarray)):
        return _KIND_RANK.get(v.dtype.kind, 4)
    return 0 if isinstance(v, bool) else 1 if isinstance(v, int) else 2 if isinstance(v, float) else 3


def _decide(vs) -> tuple:
    """(dtype, kind rank) that the typed operands ``vs`` give: those of the highest kind decide."""
    top = max(_rank(v) for v in vs)
    return np.result_type(*[v.dtype for v in vs if _rank(v) == top]), top


def promote(*operands) -> list:
    """The operands of an op, cast so that the result has PyTorch's dtype, not NumPy's.

    PyTorch's rule: the operands with dimensions decide the dtype; a 0-d tensor counts only when it is
    of a higher kind (bool < integer < floating < complex), and a number (NumPy scalars and 0-d arrays
    included) only when it is of a higher kind than every tensor, and then gives the default dtype. So
    float32 stays float32 with ``np.sqrt(2)``, ``np.float64(2)`` or an int64 tensor on the other side, where
    NumPy gives float64, and an integer tensor times 0.5 gives float32. A tensor that must change dtype
    goes through the differentiable ``astype``: its gradient comes back in its own dtype.
    """
    ops = []
    for v in operands:
        if isinstance(v, np.generic) or (type(v) is np.ndarray and v.ndim == 0):
            v = v.item()  # a NumPy scalar counts as a number
        elif isinstance(v, (list, tuple)):
            v = _as_array(v)
        elif not isinstance(v, (Tensor, np.ndarray, numbers.Number)):
            raise ArgumentTypeError(f"expected tensors, arrays or numbers, got {type(v).__name__}")
        ops.append(v)
    typed = [v for v in ops if isinstance(v, (Tensor, np.ndarray))]
    dims = [v for v in typed if v.ndim]
    res, top = _decide(dims) if dims else (None, -1)
    zero_d = [v for v in typed if not v.ndim]
    if zero_d:
        r0, t0 = _decide(zero_d)
        if t0 > top:
            res, top = r0, t0
    nums = [_rank(v) for v in ops if not isinstance(v, (Tensor, np.ndarray))]
    if nums and max(nums) > top:
        top = max(nums)
        res = get_default_dtype() if top == 2 else np.dtype((bool, np.int64, None, np.complex64)[top])
    out = []
    for v in ops:
        if isinstance(v, Tensor):
            if v.data.dtype != res:
                v = _elementwise.astype(v, res)  # recorded only when v requires grad
        elif isinstance(v, np.ndarray):
            if v.dtype != res:
                v = v.astype(res)
        elif not typed:
            v = np.asarray(v, dtype=res)  # only numbers: the result gets the dtype they give
        out.append(v)
    return out


def _same_kind_fast(a, b) -> bool:
    """The common cases that need no promotion: one dtype on both sides, or a float tensor and a number."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return a.data.dtype == b.data.dtype
        return type(b) in (float, int) and a.data.dtype.kind in "fc"
    return isinstance(b, Tensor) and type(a) in (float, int) and b.data.dtype.kind in "fc"


def _binary(name: str, cls, a, b):
    """Apply a broadcasting op, turning NumPy's broadcast ValueError into a ShapeError with both shapes."""
    if not _same_kind_fast(a, b):
        a, b = promote(a, b)
    try:
        return cls.apply(a, b)
    except ChainruleError:
        raise
    except ValueError:
        sa, sb = _shape_of(a), _shape_of(b)
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise ShapeError(f"{name}: shapes {sa} and {sb} cannot be broadcast together") from None
        raise


class Add(Function):
    """y = a + b;  dL/da = dL/dy,  dL/db = dL/dy."""

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy


class Sub(Function):
    """y = a - b;  dL/da = dL/dy,  dL/db = -dL/dy."""

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        return gy, (-gy if self.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b;  dL/da = dL/dy * b,  dL/db = dL/dy * a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        ga = gy * self.b if self.needs_input_grad[0] else None
        gb = gy * self.a if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """y = a / b;  dL/da = dL/dy / b,  dL/db = -dL/dy * a / b^2 = -dL/dy * y / b."""

    def forward(self, a, b):
        self.b = b
        self.y = a / b
        return self.y

    def backward(self, gy):
        ga = gy / self.b if self.needs_input_grad[0] else None
        gb = -gy * self.y / self.b if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """y = -x;  dL/dx = -dL/dy."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(Function):
    """y = a ** b;  dL/da = dL/dy * b * a^(b-1)  (0 where b = 0: a^0 = 1 is constant, even at a = 0),
    dL/db = dL/dy * y * log(a)  (as PyTorch: 0 where a = 0 and b >= 0; -inf where a = 0 and b < 0;
    NaN where a < 0, as log(a) is undefined there)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = a**b
        return self.y

    def backward(self, gy):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_input_grad[0]:
            if isinstance(b, (int, float)):
                if b == 0:
                    ga = np.zeros_like(gy)
                elif b == 2:
                    ga = gy * (2 * a)
                else:
                    ga = gy * (b * a ** (b - 1))
            else:  # b an array: 0 * 0^(-1) = 0 * inf must give 0 where b = 0, not NaN
                with np.errstate(divide="ignore", invalid="ignore"):
                    ga = gy * np.where(b == 0, 0, b * a ** (b - 1))
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = gy * np.where((a == 0) & (b >= 0), 0, self.y * np.log(a))
        return ga, gb


class Maximum(Function):
    """y = max(a, b);  the gradient goes to the larger input, split in half where they tie."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, gy):
        return _split_ties(gy, self.a > self.b, self.a == self.b, self.needs_input_grad)


class Minimum(Function):
    """y = min(a, b);  the gradient goes to the smaller input, split in half where they tie."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, gy):
        return _split_ties(gy, self.a < self.b, self.a == self.b, self.needs_input_grad)


def _split_ties(gy, a_wins, tie, needs):
    wa = a_wins + 0.5 * tie  # 1 where a wins, 1/2 on ties, 0 where b wins
    ga = gy * wa if needs[0] else None
    gb = gy * (1 - wa) if needs[1] else None
    return ga, gb


class Where(Function):
    """y = a where cond else b;  dL/da = dL/dy where cond, dL/db = dL/dy elsewhere."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return np.where(self.cond, a, b)

    def backward(self, gy):
        zero = np.zeros((), dtype=gy.dtype)
        ga = np.where(self.cond, gy, zero) if self.needs_input_grad[0] else None
        gb = np.where(self.cond, zero, gy) if self.needs_input_grad[1] else None
        return ga, gb


class Clip(Function):
    """y = min(max(x, lo), hi);  dL/dx = dL/dy where lo <= x <= hi, else 0."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        self.x = x
        return np.clip(x, self.lo, self.hi)

    def backward(self, gy):
        inside = np.ones(self.x.shape, dtype=bool)
        if self.lo is not None:
            inside &= self.x >= self.lo
        if self.hi is not None:
            inside &= self.x <= self.hi
        return gy * inside


# --------------------------------------------------------------------------------- the functions
def add(a, b):
    """Elementwise sum a + b with broadcasting (the ``+`` operator).

    Math
    ----
    y = a + b;  dL/da = dL/dy,  dL/db = dL/dy  (see :class:`Add`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = cr.functional.add(a, 10)
    >>> y.sum().backward()
    >>> y, a.grad
    (tensor([11., 12.], grad_fn=Add), array([1., 1.], dtype=float32))
    """
    return _binary("add", Add, a, b)


def sub(a, b):
    """Elementwise difference a - b with broadcasting (the ``-`` operator).

    Math
    ----
    y = a - b;  dL/da = dL/dy,  dL/db = -dL/dy  (see :class:`Sub`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> b = cr.tensor([0.5], requires_grad=True)
    >>> y = cr.functional.sub(a, b)
    >>> y.sum().backward()
    >>> y, a.grad, b.grad
    (tensor([0.5, 1.5], grad_fn=Sub), array([1., 1.], dtype=float32), array([-2.], dtype=float32))
    """
    return _binary("sub", Sub, a, b)


def mul(a, b):
    """Elementwise product a * b with broadcasting (the ``*`` operator).

    Math
    ----
    y = a * b;  dL/da = dL/dy * b,  dL/db = dL/dy * a  (see :class:`Mul`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> b = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> y = cr.functional.mul(a, b)
    >>> y.sum().backward()
    >>> y, a.grad, b.grad
    (tensor([3., 8.], grad_fn=Mul), array([3., 4.], dtype=float32), array([1., 2.], dtype=float32))
    """
    return _binary("mul", Mul, a, b)


def div(a, b):
    """Elementwise quotient a / b with broadcasting (the ``/`` operator).

    Math
    ----
    y = a / b;  dL/da = dL/dy / b,  dL/db = -dL/dy * a / b^2 = -dL/dy * y / b  (see :class:`Div`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 6.0], requires_grad=True)
    >>> b = cr.tensor([2.0, 4.0], requires_grad=True)
    >>> y = cr.functional.div(a, b)
    >>> y.sum().backward()
    >>> y, a.grad, b.grad
    (tensor([0.5, 1.5], grad_fn=Div), array([0.5 , 0.25], dtype=float32), array([-0.25 , -0.375], dtype=float32))
    """
    return _binary("div", Div, a, b)


def pow(a, b):  # noqa: A001 - the operator's name
    """Elementwise power a ** b with broadcasting (the ``**`` operator).

    Math
    ----
    y = a ** b;  dL/da = dL/dy * b * a^(b-1)  (0 where b = 0),
    dL/db = dL/dy * y * log(a)  (0 where a = 0 and b >= 0; NaN where a < 0; see :class:`Pow`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = cr.functional.pow(a, 2)
    >>> y.sum().backward()
    >>> y, a.grad
    (tensor([1., 4., 9.], grad_fn=Pow), array([2., 4., 6.], dtype=float32))
    """
    return _binary("pow", Pow, a, b)


def neg(x):
    """Elementwise negation -x (the unary ``-`` operator).

    Math
    ----
    y = -x;  dL/dx = -dL/dy  (see :class:`Neg`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape

    Returns
    -------
    Tensor of x's shape and dtype.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> y = cr.functional.neg(x)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([-1.,  2.], grad_fn=Neg), array([-1., -1.], dtype=float32))
    """
    return Neg.apply(as_operand(x))


def maximum(a, b):
    """Elementwise maximum max(a, b) with broadcasting; ties share the gradient equally, as in PyTorch.

    Math
    ----
    y = max(a, b);  dL/da = dL/dy * w,  dL/db = dL/dy * (1 - w),
    w = 1 where a > b, 1/2 where a = b, 0 where a < b  (see :class:`Maximum`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 5.0, 2.0], requires_grad=True)
    >>> y = cr.maximum(a, 2.0)
    >>> y.sum().backward()
    >>> y, a.grad
    (tensor([2., 5., 2.], grad_fn=Maximum), array([0. , 1. , 0.5], dtype=float32))
    """
    return _binary("maximum", Maximum, a, b)


def minimum(a, b):
    """Elementwise minimum min(a, b) with broadcasting; ties share the gradient equally, as in PyTorch.

    Math
    ----
    y = min(a, b);  dL/da = dL/dy * w,  dL/db = dL/dy * (1 - w),
    w = 1 where a < b, 1/2 where a = b, 0 where a > b  (see :class:`Minimum`).

    Parameters
    ----------
    a, b : Tensor, array, number or nested list, shapes that broadcast together (NumPy's rules)
        The result has the broadcast shape and PyTorch's dtype (a float32 tensor with a Python or NumPy
        float stays float32); the engine sums each input's gradient back to that input's shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 5.0, 2.0], requires_grad=True)
    >>> y = cr.minimum(a, 2.0)
    >>> y.sum().backward()
    >>> y, a.grad
    (tensor([1., 2., 2.], grad_fn=Minimum), array([1. , 0. , 0.5], dtype=float32))
    """
    return _binary("minimum", Minimum, a, b)


def where(cond, a, b):
    """Pick ``a`` where ``cond`` holds and ``b`` elsewhere, broadcasting all three.

    Math
    ----
    y = a where cond else b;  dL/da = dL/dy where cond else 0,  dL/db = dL/dy where not cond else 0
    (``cond`` gets no gradient; see :class:`Where`).

    Parameters
    ----------
    cond : boolean Tensor, array or list (other dtypes are tested for != 0)
    a, b : Tensor, array, number or nested list
        cond, a and b must broadcast together; a and b are promoted as for ``+``.

    Returns
    -------
    Tensor of the broadcast shape.

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = cr.where(a.numpy() > 1.5, a, 0.0)
    >>> y.sum().backward()
    >>> y, a.grad
    (tensor([0., 2., 3.], grad_fn=Where), array([0., 1., 1.], dtype=float32))
    """
    c = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    if c.dtype != bool:
        c = c.astype(bool)
    a, b = promote(a, b)  # where(mask, 1.0, 0.0) is float32, as in PyTorch
    try:
        return Where.apply(a, b, cond=c)
    except ChainruleError:
        raise
    except ValueError:
        raise ShapeError(
            f"where: cond {c.shape}, a {_shape_of(a)} and b {_shape_of(b)} cannot be broadcast together"
        ) from None


def _bound(v, x, name: str):
    """A clip bound as a number or an array in x's dtype (bounds get no gradient)."""
    if v is None:
        return None
    v = v.data if isinstance(v, Tensor) else v
    if isinstance(v, np.generic) or (isinstance(v, np.ndarray) and v.ndim == 0):
        v = v.item()
    if isinstance(v, (list, tuple)):
        v = np.asarray(v)
    if isinstance(v, np.ndarray):
        xd = x.data if isinstance(x, Tensor) else x
        if v.dtype.kind not in "biuf":
            raise ArgumentTypeError(f"clip: {name} must be a number or a numeric array, got dtype {v.dtype}")
        try:
            np.broadcast_shapes(v.shape, xd.shape)
        except ValueError:
            raise ShapeError(f"clip: {name} of shape {v.shape} does not broadcast with the input's shape "
                             f"{xd.shape}") from None
        return v.astype(xd.dtype, copy=False) if xd.dtype.kind == "f" else v
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ArgumentTypeError(f"clip: {name} must be a number, an array or None, got {type(v).__name__}")
    return v


def clip(x, lo=None, hi=None):
    """Clamp ``x`` into [lo, hi]; the gradient is zero outside.

    Math
    ----
    y = min(max(x, lo), hi);  dL/dx = dL/dy where lo <= x <= hi, else 0  (see :class:`Clip`).

    Parameters
    ----------
    x : Tensor, array, number or nested list, any shape
    lo, hi : number, array, Tensor or None
        The bounds (at least one given): numbers, or arrays/tensors that broadcast with x. They get no
        gradient; None means no bound on that side.

    Returns
    -------
    Tensor of x's shape and dtype.

    >>> import chainrule as cr
    >>> x = cr.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    >>> y = cr.clip(x, -1, 1)
    >>> y.sum().backward()
    >>> y, x.grad
    (tensor([-1. ,  0.5,  1. ], grad_fn=Clip), array([0., 1., 0.], dtype=float32))
    """
    if lo is None and hi is None:
        from ..errors import ArgumentError

        raise ArgumentError("clip: give at least one of lo and hi")
    x = as_operand(x)
    return Clip.apply(x, lo=_bound(lo, x, "lo"), hi=_bound(hi, x, "hi"))
