"""How ``fit``, ``evaluate`` and ``predict`` read their data: (x, y) arrays, or an iterable of (x, y) batches.

The rule for a tuple or list ``data``: a tuple of two items that are not both tuples, ``(x, y)``, is
whole arrays, even when x and y are short nested lists that would also read as two batches; otherwise
``data`` is a sequence of batches when its elements are themselves (x, y) batches (tuples or lists of 2
or 3 arrays, tensors or lists, such as a DataLoader yields); any other pair is whole arrays: NumPy arrays,
tensors or (nested) lists, converted with ``np.asarray`` (a list x becomes the model's float dtype; a
list y keeps integer labels as int64). Anything else that is iterable (a DataLoader, a generator) is used
as an iterable of batches.
"""

from __future__ import annotations

import collections.abc

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..errors import ArgumentTypeError, DataError, ShapeError

ACCEPTS = ("fit and evaluate accept (x, y) arrays (NumPy arrays, tensors or lists with one row per sample), or a "
           "DataLoader or other iterable of (x, y) batches")


def array(a, where: str = "the model") -> np.ndarray:
    """A model's output as an array; a tuple or dict (an LSTM's (out, (h, c))) is a clear error."""
    if isinstance(a, Tensor):
        return a.data
    if isinstance(a, (tuple, list, dict)):
        raise ArgumentTypeError(f"{where}: the model returned a {type(a).__name__}, not one tensor; wrap it in a "
                                "Module whose forward returns the output to use (an LSTM's out[:, -1], say)")
    return np.asarray(a)


def arrays_of(out) -> list:
    """The arrays in a model's output: a tensor's, or those of the tensors in a tuple, list or dict."""
    if isinstance(out, Tensor):
        return [out.data]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in arrays_of(o)]
    return [out] if isinstance(out, np.ndarray) else []


def cast(a: np.ndarray, dtype) -> np.ndarray:
    """Floating data takes the model's dtype, so float64 NumPy data does not upcast a float32 network."""
    if dtype is not None and a.dtype.kind == "f" and a.dtype != dtype:
        with np.errstate(over="ignore"):  # 1e300 becomes inf in float32; the outputs' check names the sample
            return a.astype(dtype)
    return a


def model_dtype(model):
    for p in model.parameters():
        if p.dtype.kind == "f":
            return p.dtype
    return None


class Arrays:
    """Training data given as whole arrays: batches are cut from them."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y


def _is_batch(b) -> bool:
    """Whether ``b`` looks like one (x, y) batch: a tuple or list of 2 or 3 arrays, tensors or lists."""
    return (isinstance(b, (tuple, list)) and 2 <= len(b) <= 3
            and all(isinstance(a, (np.ndarray, Tensor, list, tuple)) for a in b[:2]))


def _kinds(data) -> str:
    names = [type(a).__name__ for a in data[:4]]
    return ", ".join(names) + (", ..." if len(data) > 4 else "")


def from_list(a, what: str, where: str, float_dtype=None) -> np.ndarray:
    """An array from a list or tuple of numbers or rows; integer x (``float_dtype`` given) becomes float."""
    try:
        out = np.asarray(a)
    except (ValueError, TypeError) as e:
        raise DataError(f"{where}: {what} is a {type(a).__name__} that cannot become an array (rows of different "
                        f"lengths?): {e}") from None
    if out.dtype.kind not in "biuf":
        raise DataError(f"{where}: {what} must hold numbers, got a {type(a).__name__} of {out.dtype} values")
    if float_dtype is not None and out.dtype.kind != "f":
        out = out.astype(float_dtype)
    return out


def _xy(data, name: str, dtype, where: str) -> Arrays:
    where = f"{where}: {name}"
    x, y = data
    x = array(x) if isinstance(x, (np.ndarray, Tensor)) else from_list(
        x, "x", where, dtype or backend.get_default_dtype())
    y = array(y) if isinstance(y, (np.ndarray, Tensor)) else from_list(y, "y", where)
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ShapeError(f"{where} = (x, y) needs x and y with the same number of samples (rows), got x of shape "
                         f"{x.shape} and y of shape {y.shape}; {ACCEPTS}")
    if len(x) == 0:
        raise DataError(f"{where} has no samples")
    return Arrays(cast(x, dtype), cast(y, dtype))


def prepare(data, name: str, dtype, where: str = "fit"):
    """``Arrays`` for (x, y) data, or the iterable of batches as it is (see the module docstring)."""
    if isinstance(data, Arrays):
        return data
    if isinstance(data, (tuple, list)) and data:
        pair_tuple = isinstance(data, tuple) and not (isinstance(data[0], tuple) and isinstance(data[1], tuple))
        if len(data) == 2 and (pair_tuple or not (_is_batch(data[0]) and _is_batch(data[1]))):
            return _xy(data, name, dtype, where)
        if not _is_batch(data[0]):
            extra = " (sample weights are not supported)" if len(data) == 3 else ""
            raise DataError(f"{where}: {name} is a {type(data).__name__} of {len(data)} items ({_kinds(data)}), "
                            f"neither an (x, y) pair nor a sequence of (x, y) batches{extra}; {ACCEPTS}")
        return data
    if isinstance(data, (np.ndarray, Tensor, str, bytes, dict)) or not hasattr(data, "__iter__"):
        raise ArgumentTypeError(f"{where}: {name} must be an (x, y) pair of arrays or an iterable of (x, y) batches "
                                f"(a DataLoader), got {type(data).__name__}")
    return data


def read_once(data) -> bool:
    """Whether ``data`` is an iterator (a generator), which a second epoch finds empty. Asked without calling
    ``iter``, which would start an epoch of a DataLoader (and move its shuffling on)."""
    return isinstance(data, collections.abc.Iterator)


def n_batches(data, batch_size: int) -> int | None:
    if isinstance(data, Arrays):
        return -(-len(data.x) // batch_size)
    try:
        return len(data)
    except TypeError:
        return None


def batchnorm_training(model) -> bool:
    """Whether ``model`` holds a batch-norm layer in training mode (which cannot take a batch of 1 sample)."""
    modules = getattr(model, "modules", None)
    if modules is None:
        return False
    return any(getattr(m, "training", False) and any(c.__name__.startswith(("BatchNorm", "_BatchNorm"))
                                                     for c in type(m).__mro__) for m in modules())


def _skip_single_last(batches):
    """The batches, less a final one of a single sample (a lone batch is kept, for batch norm's own error)."""
    held, count = None, 0
    for b in batches:
        if held is not None:
            yield held
        held, count = b, count + 1
    if held is not None and (count == 1 or len(held[0]) != 1):
        yield held


def batches(data, batch_size: int, shuffle: bool, rng, dtype, drop_single: bool = False, where: str = "fit"):
    """Yield (x, y) batches of one epoch: sliced (with one fancy index each) or taken from an iterable.

    ``drop_single``: leave out a last batch of one sample (see ``fit``).
    """
    if isinstance(data, Arrays):
        x, y = data.x, data.y
        n = len(x)
        order = rng.permutation(n) if shuffle else None
        stop = n - 1 if drop_single and n > 1 and n % batch_size == 1 else n
        for i in range(0, stop, batch_size):
            if order is None:
                yield x[i:i + batch_size], y[i:i + batch_size]
            else:
                idx = order[i:i + batch_size]
                yield x[idx], y[idx]
        return
    source = _skip_single_last(data) if drop_single else data
    for b in source:
        if not isinstance(b, (tuple, list)) or len(b) < 2:
            raise DataError(f"{where}: a data loader must yield (x, y) batches, got a {type(b).__name__}; {ACCEPTS}")
        if len(b) > 2:  # (x, y, w): the weights would be dropped without a word
            raise DataError(f"{where}: a batch of {len(b)} items, (x, y, ...); sample weights and extra items are not "
                            "supported: yield (x, y) batches (weigh the loss in loss_fn instead)")
        yield cast(array(b[0]), dtype), cast(array(b[1]), dtype)


def _is_predict_batch(b) -> bool:
    """Whether an item of a list given to ``predict`` is a batch: (x,), (x, y) or (x, y, w) with x an array
    or tensor, as a DataLoader yields (a 1-tuple for a dataset of one array)."""
    if isinstance(b, tuple) and len(b) == 1:
        return isinstance(b[0], (np.ndarray, Tensor)) and b[0].ndim >= 1
    return _is_batch(b) and isinstance(b[0], (np.ndarray, Tensor))


def _samples(x, dtype) -> np.ndarray:
    """A list or tuple of samples (numbers, rows, arrays or tensors of one shape) stacked into one array."""
    if len(x) and all(isinstance(v, (np.ndarray, Tensor)) for v in x[:64]):
        shapes = {array(v).shape for v in x}
        if len(shapes) > 1:
            raise DataError(f"predict: x is a {type(x).__name__} of {len(x)} arrays, read as one sample each (as "
                            f"fit reads a list x) and stacked, but their shapes differ: "
                            f"{', '.join(map(str, sorted(shapes, key=str)[:4]))}; to predict batch by batch, "
                            "pass (x,) or (x, y) tuples, or a DataLoader")
    return from_list(x, "x", "predict", dtype or backend.get_default_dtype())


def predict_batches(x, batch_size: int, dtype):
    """The input batches of ``predict``: slices of one array, or the x of each batch of an iterable.

    The rule for a list or tuple ``x`` is ``fit``'s: it is a sequence of batches when its items are
    batches, tuples ``(x,)``, ``(x, y)`` or ``(x, y, w)`` (a DataLoader's batches, gathered in a list);
    any other list is the samples themselves (numbers, rows, or equal-shaped arrays or tensors, one per
    sample), stacked into one (N, ...) array and cut into batches of ``batch_size``.
    """
    if isinstance(x, (list, tuple)) and x and not _is_predict_batch(x[0]):
        x = _samples(x, dtype)
    if isinstance(x, (np.ndarray, Tensor)):
        x = cast(array(x), dtype)
        if x.ndim == 0:
            raise ShapeError("predict: x must have a sample axis, got a scalar")
        return (x[i:i + batch_size] for i in range(0, len(x), batch_size))
    if isinstance(x, (str, bytes, dict)) or not hasattr(x, "__iter__"):
        raise ArgumentTypeError(f"predict: x must be an array, a list of rows or an iterable of batches, "
                                f"got {type(x).__name__}")
    return (_predict_input(b, dtype) for b in x)


def _predict_input(b, dtype) -> np.ndarray:
    """The x of one batch given to ``predict``: the batch itself, or the first item of an (x, ...) tuple."""
    if isinstance(b, (tuple, list)):
        if not b:
            raise DataError("predict: got an empty batch (an empty tuple or list)")
        b = b[0]
    if isinstance(b, dict):
        raise ArgumentTypeError("predict: a batch is a dict; pass its input array (e.g. batch['x']) instead")
    return cast(array(b), dtype)
