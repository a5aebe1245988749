"""The shared pieces of the loss ops: argument checks, target handling, weights and the reduction.

Every loss op derives from :class:`_Loss`, which applies ``reduction='mean' | 'sum' | 'none'`` in the
forward and turns dL/d(reduced) back into dL/dl_i in the backward (:mod:`chainrule.functional.losses`
explains the conventions).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..autograd.tensor import as_operand as _in
from ..errors import ArgumentError, ArgumentTypeError, DataError, DTypeError, ShapeError

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------------------------- helpers


def _data(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else x


def _raw_target(target):
    """Labels keep their integer dtype: a list [0, 2, 1] must not become floats as tensor data would."""
    return target if isinstance(target, Tensor) else np.asarray(target)


def _check_reduction(reduction, loss: str) -> None:
    if isinstance(reduction, str) and reduction in _REDUCTIONS:
        return
    if isinstance(reduction, (str, int, float, type(None))):
        raise ArgumentError(f"{loss}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    raise ArgumentTypeError(f"{loss}: reduction must be 'mean', 'sum' or 'none', got a {type(reduction).__name__} "
                            "(class weights go in weight=...)")


def _check_smoothing(label_smoothing, loss: str) -> None:
    if type(label_smoothing) is float and 0.0 <= label_smoothing <= 1.0:  # the usual case, quickly
        return
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"{loss}: label_smoothing must be a number in [0, 1], got a "
                                f"{type(label_smoothing).__name__} (class weights go in weight=...)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"{loss}: label_smoothing must be in [0, 1], got {label_smoothing!r}")


def _check_delta(delta, loss: str) -> float:
    """Huber's delta as a float: a real number > 0 (inf allowed: the loss is then d^2 / 2 everywhere)."""
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"{loss}: delta must be a positive number, got {type(delta).__name__} {delta!r:.60}")
    if not delta > 0:  # NaN too
        raise ArgumentError(f"{loss}: delta must be positive, got {delta!r}")
    return float(delta)


def _check_ignore_index(ignore_index, loss: str) -> None:
    if type(ignore_index) is int:
        return
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise ArgumentTypeError(f"{loss}: ignore_index must be an integer class index, got {ignore_index!r}")


def _weight_array(weight, loss: str, what: str) -> np.ndarray:
    """A weight given as a Tensor, array or list, as an array (no gradient flows into it)."""
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.dtype.kind not in "iuf":
        raise DTypeError(f"{loss}: {what} must hold numbers, got dtype {w.dtype}")
    return w


def _class_weight(weight, num_classes: int, dtype, loss: str) -> np.ndarray:
    """A per-class weight of shape (C,), in the input's dtype."""
    w = _weight_array(weight, loss, "weight")
    if w.shape != (num_classes,):
        raise ShapeError(f"{loss}: weight must have one entry per class, shape ({num_classes},) for an input "
                         f"with {num_classes} classes, got shape {w.shape}")
    return w.astype(dtype, copy=False)


def _elementwise_weight(weight, like: np.ndarray, loss: str, what: str) -> np.ndarray:
    """A weight that broadcasts to the input's shape (pos_weight: one entry per class, the last axis)."""
    w = _weight_array(weight, loss, what)
    try:
        fits = np.broadcast_shapes(w.shape, like.shape) == like.shape
    except ValueError:
        fits = False
    if not fits:
        hint = " (pos_weight runs along the last axis: one entry per class)" if what == "pos_weight" else ""
        raise ShapeError(f"{loss}: {what} of shape {w.shape} does not broadcast to the input's shape "
                         f"{like.shape}{hint}")
    return w.astype(like.dtype, copy=False)


def _float_target(target, like: np.ndarray, loss: str, what: str = "target"):
    """A target that gets no gradient is cast to the prediction's dtype (no float32 -> float64 upcast)."""
    target = _in(target)
    t = _data(target)
    if t.shape != like.shape:
        raise ShapeError(f"{loss}: input has shape {like.shape} but {what} has shape {t.shape}; they must match")
    if isinstance(target, Tensor) and target.requires_grad:
        return target
    if t.dtype != like.dtype:
        t = t.astype(like.dtype)
    return t


def _labels(target, shape: tuple, num_classes: int, loss: str, ignore_index=None):
    """Check integer class labels: dtype, shape and range [0, num_classes), where a label equal to
    ``ignore_index`` may lie outside the range. Returns (labels, mask of the ignored labels or None).
    The usual ignore_index (-100, out of range) costs nothing when the labels pass the range check."""
    t = _data(target)
    input_shape = shape[:1] + (num_classes,) + shape[1:]
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{loss}: class-index targets must be integers, got dtype {t.dtype} and shape {t.shape} "
                         f"for an input of shape {input_shape} (use .astype(np.int64); probability targets must "
                         "have the input's shape)")
    if t.shape != shape:
        batch = f" (batch size {shape[0]} vs {t.shape[0]})" if shape and t.ndim and shape[0] != t.shape[0] else ""
        raise ShapeError(f"{loss}: input of shape {input_shape} needs class-index targets of shape {shape}, got "
                         f"{t.shape}{batch}")
    mask = None
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        bad = (t < 0) | (t >= num_classes)
        if ignore_index is not None:
            mask = t == ignore_index
            bad &= ~mask
        if bad.any():
            also = f" and is not ignore_index={ignore_index}" if ignore_index is not None else ""
            raise DataError(f"{loss}: target label {t[bad].reshape(-1)[0]} is out of range [0, {num_classes}) for "
                            f"{num_classes} classes{also}")
    elif ignore_index is not None and 0 <= ignore_index < num_classes:
        mask = t == ignore_index
    if mask is not None and not mask.any():
        mask = None
    return t, mask


def _row_weights(fn, dtype) -> np.ndarray:
    """For a labels op with class weights fn.w and/or ignored labels fn.mask: the weight of each row,
    r = w[y] (1 without class weights), 0 where ignored; ignored labels become 0 so that they index safely."""
    mask = fn.mask
    if mask is not None:
        fn.mask = mask = mask.reshape(-1)
        fn.t = np.where(mask, 0, fn.t)
    r = fn.w[fn.t] if fn.w is not None else np.ones(fn.t.shape, dtype)
    if mask is not None:
        r[mask] = 0
    fn.r = r
    return r


def _to_dtype(y: np.ndarray, dtype) -> np.ndarray:
    """``y`` in ``dtype``: the float16 losses compute in float32 and round their result back. A value past
    float16's range becomes inf, as in PyTorch (no overflow warning: inf is the answer)."""
    if y.dtype == dtype:
        return y
    with np.errstate(over="ignore"):
        return np.asarray(y, dtype=dtype)


def _reduce_weighted(fn, l: np.ndarray, r: np.ndarray) -> np.ndarray:
    """fn.reduce(l), where 'mean' divides by sum(r) (the summed row weights; 0 / 0 = nan as PyTorch).
    float16 sums are added up in float32 (see :meth:`_Loss.reduce`)."""
    if fn.reduction != "mean":
        return fn.reduce(l)
    half = l.dtype == np.float16
    total = l.sum(dtype=np.float32) if half else l.sum()
    fn.n = denom = r.sum(dtype=np.float32) if r.dtype == np.float16 else r.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.asarray(total / denom)
    return _to_dtype(mean, np.float16) if half else mean


def _classes_last(a: np.ndarray) -> np.ndarray:
    """(N, C, d1, ...) -> (N*d1*..., C); (N, C) unchanged; (C,) -> (1, C)."""
    if a.ndim == 2:
        return a
    if a.ndim == 1:
        return a.reshape(1, -1)
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _classes_back(g: np.ndarray, shape: tuple) -> np.ndarray:
    """The inverse of :func:`_classes_last` for a gradient of the input's ``shape``."""
    if len(shape) <= 2:
        return g.reshape(shape)
    return np.moveaxis(g.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1)


class _Loss(Function):
    """Shared by the fused losses: reduce per-element losses l, and turn dL/d(reduced) into dL/dl."""

    def __init__(self, reduction="mean", **params):
        self.reduction = reduction
        self.__dict__.update(params)

    def reduce(self, l: np.ndarray) -> np.ndarray:
        self.n = l.size
        if l.dtype == np.float16 and self.reduction != "none":
            # a float16 sum overflows past 65504 (and n itself is inf in float16): add up in float32 and
            # round the result to float16, as PyTorch does for half precision
            total = l.sum(dtype=np.float32)
            return _to_dtype(np.asarray(total / np.float32(l.size) if self.reduction == "mean" else total),
                             np.float16)
        if self.reduction == "mean":  # l.sum() / n: np.mean has a Python-level overhead that shows on hot paths
            return np.asarray(l.sum() / l.size)
        if self.reduction == "sum":
            return np.asarray(l.sum())
        return l

    def grad_l(self, gy: np.ndarray) -> np.ndarray:
        """dL/dl_i: gy / n for the mean, gy for the sum (a scalar, broadcast) and for 'none' (per element).
        For float16, gy / n is taken in float32 (n may exceed float16's range); the engine rounds the
        input's gradient back to float16 once."""
        if self.reduction != "mean":
            return gy
        if gy.dtype == np.float16:
            return gy.astype(np.float32) / np.float32(self.n)
        return gy / self.n
