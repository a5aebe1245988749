"""Datasets: the indexable collection a :class:`~chainrule.data.DataLoader` draws batches from.

A dataset is anything with ``__len__`` and ``__getitem__(i)`` returning one sample (an array or a tuple of
arrays). :class:`TensorDataset` wraps whole arrays, so a loader can gather a batch with one fancy index per
array instead of one Python call per sample.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..backend import check_seed, get_generator
from ..errors import ArgumentError, ArgumentTypeError, DataError, IndexOutOfRangeError


class Dataset:
    """Base class of map-style datasets: ``len(ds)`` samples, ``ds[i]`` the i-th one.

    Subclasses implement ``__len__`` and ``__getitem__(i)`` for an integer ``i``; the item is one array or
    a tuple of arrays (e.g. ``(image, label)``). A loader stacks items field by field into batches.

    Examples
    --------
    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return np.float32(i), np.int64(i * i)
    >>> len(Squares()), Squares()[3]
    (4, (np.float32(3.0), np.int64(9)))
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")


def _as_numpy(a, where: str) -> np.ndarray:
    data = getattr(a, "data", None)  # a chainrule Tensor holds its array in .data
    if isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.asarray(a)
        except ValueError:  # NumPy: "setting an array element with a sequence ... inhomogeneous shape"
            lens = sorted({len(r) for r in a if hasattr(r, "__len__")}) if hasattr(a, "__iter__") else []
            got = (f"rows of lengths {lens[:8]}{' ...' if len(lens) > 8 else ''}" if len(lens) > 1
                   else "rows whose nested lists differ in length")
            raise DataError(f"{where}: ragged data: the rows of a list must all have the same shape to make one "
                            f"array, got {got}") from None
    if arr.ndim == 0:
        raise DataError(f"{where}: expected arrays with a leading sample axis, got a 0-d value {arr!r}")
    return arr


def _check_lengths(arrays: Sequence[np.ndarray], where: str) -> int:
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise DataError(f"{where}: all arrays must have the same length (first axis), got lengths {lengths} "
                        f"(shapes {shapes})")
    return lengths[0]


class TensorDataset(Dataset):
    """A dataset over whole arrays that share their first axis: sample ``i`` is ``(a[i], b[i], ...)``.

    Parameters
    ----------
    *arrays : array_like, each of shape (N, ...)
        Inputs, labels, ...; NumPy arrays (kept without copying) or chainrule Tensors.

    Examples
    --------
    >>> ds = TensorDataset(np.zeros((5, 3), np.float32), np.arange(5))
    >>> len(ds), ds[2][0].shape, int(ds[2][1])
    (5, (3,), 2)
    """

    def __init__(self, *arrays) -> None:
        if not arrays:
            raise ArgumentError("TensorDataset: expected at least one array, got none")
        self.arrays: tuple[np.ndarray, ...] = tuple(_as_numpy(a, "TensorDataset") for a in arrays)
        self._n = _check_lengths(self.arrays, "TensorDataset")

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index) -> tuple[np.ndarray, ...]:
        try:
            return tuple(a[index] for a in self.arrays)
        except IndexError as e:  # still an IndexError: a for loop over __getitem__ stops on it
            raise IndexOutOfRangeError(f"TensorDataset: index {index!r} does not fit {len(self)} samples ({e})") \
                from None

    def __repr__(self) -> str:
        return f"TensorDataset({', '.join(f'{a.dtype}{list(a.shape)}' for a in self.arrays)})"


def _fraction(value, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ArgumentTypeError(f"{where}: {name} must be a number in (0, 1), got {type(value).__name__}")
    if not 0.0 < float(value) < 1.0:
        raise ArgumentError(f"{where}: {name} must lie strictly between 0 and 1, got {value!r}")
    return float(value)


def _per_class(counts: np.ndarray, frac: float) -> np.ndarray:
    """How many samples of each class go to validation: round(n * frac) in all (as without stratify), shared
    by largest remainder (each class gets the floor of its share, the rest go to the largest fractions,
    ties to the larger class), and never a class's last sample. Rounding each class on its own drifted:
    10 classes of 5 at 0.1 gave 1 sample instead of 5, at 0.3 gave 20 instead of 15."""
    n = int(counts.sum())
    total = min(max(int(round(n * frac)), 1), n - 1)
    ideal = counts * frac
    cap = counts - 1  # a singleton stays in train
    take = np.minimum(np.floor(ideal).astype(np.int64), cap)
    order = np.lexsort((-counts, -(ideal - take)))  # largest remainder first, then the larger class
    for pass_ in range(2):  # the remainders first, then any class with room, should caps have left some over
        for k in order:
            if take.sum() >= total:
                return take
            if take[k] < cap[k] and (pass_ or ideal[k] > take[k]):
                take[k] += 1
    return take


def split_indices(n: int, val_fraction: float, seed: int | None = 0, stratify=None,
                  where: str = "train_val_split") -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, val) index arrays for ``n`` samples; see :func:`train_val_split`."""
    seed = check_seed(seed, where)
    frac = _fraction(val_fraction, "val_fraction", where)
    if n < 2:
        raise DataError(f"{where}: need at least 2 samples to split into train and validation, got {n}")
    rng = get_generator(seed)  # None: chainrule's global generator, which cr.manual_seed seeds
    if stratify is None:
        n_val = min(max(int(round(n * frac)), 1), n - 1)
        perm = rng.permutation(n)
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])
    labels = np.asarray(stratify)
    if labels.shape[:1] != (n,):
        raise DataError(f"{where}: stratify must hold one label per sample ({n}), got shape {labels.shape}")
    try:
        flat = labels if labels.ndim == 1 else labels.reshape(n, -1)
        _, inverse = np.unique(flat, axis=0, return_inverse=True)
    except TypeError:
        raise DataError(f"{where}: stratify labels of dtype {labels.dtype} cannot be sorted into classes") from None
    inverse = inverse.reshape(-1)
    perm = rng.permutation(n)
    by_class = perm[np.argsort(inverse[perm], kind="stable")]  # shuffled within each class
    counts = np.bincount(inverse)
    n_val_per = _per_class(counts, frac)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    offset = np.arange(n) - np.repeat(starts, counts)
    is_val = offset < np.repeat(n_val_per, counts)
    if not is_val.any():  # every class too small: still give validation one sample
        is_val[0] = True
    return np.sort(by_class[~is_val]), np.sort(by_class[is_val])


def train_val_split(*arrays, val_fraction: float = 0.1, seed: int | None = 0, stratify=None):
    """Split arrays that share their first axis into a training and a validation part.

    The split is random (seeded) and keeps the original order within each part. With ``stratify``
    (labels, one per sample) each class is split in the same proportion; a class with a single sample
    stays in training.

    Parameters
    ----------
    *arrays : array_like, each of shape (N, ...)
    val_fraction : float in (0, 1)
        Share of samples that go to validation, rounded, at least one and at most N - 1.
    seed : int or None
        Seed of the permutation; None draws it from chainrule's global generator (``cr.manual_seed``).
    stratify : array_like of shape (N,), optional
        Labels whose proportions both parts keep.

    Returns
    -------
    (train_arrays, val_arrays) : two tuples, each with one array per input.

    Examples
    --------
    >>> x, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
    >>> (x_tr, y_tr), (x_val, y_val) = train_val_split(x, y, val_fraction=0.2, stratify=y)
    >>> x_tr.shape, x_val.shape, sorted(y_val.tolist())
    ((8, 2), (2, 2), [0, 1])
    """
    if not arrays:
        raise ArgumentError("train_val_split: expected at least one array, got none")
    check_seed(seed, "train_val_split")
    arrs = tuple(_as_numpy(a, "train_val_split") for a in arrays)
    n = _check_lengths(arrs, "train_val_split")
    train_idx, val_idx = split_indices(n, val_fraction, seed, stratify)
    return tuple(a[train_idx] for a in arrs), tuple(a[val_idx] for a in arrs)
