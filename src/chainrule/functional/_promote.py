"""Dtype promotion for the binary ops: PyTorch's result dtype, and broadcasting errors that name both shapes.

:func:`promote` casts an op's operands so that the result has PyTorch's dtype, not NumPy's;
:func:`_binary` applies a broadcasting op through it (skipping it when both sides already agree).
Used by :mod:`chainrule.functional.arith` and :mod:`chainrule.functional.compare`.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd.tensor import Tensor, _as_array
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
