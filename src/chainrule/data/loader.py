"""DataLoader: batches from a dataset, optionally shuffled, reproducibly per epoch."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from ..backend import default_generator
from ..errors import ArgumentError, ArgumentTypeError, DataError
from .dataset import TensorDataset


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _check_count(where: str, name: str, v, expected: str = "a non-negative integer") -> None:
    """``v`` a non-negative integer: a wrong type is an ArgumentTypeError, a negative one an ArgumentError."""
    if not _is_int(v):
        raise ArgumentTypeError(f"{where}: {name} must be {expected}, got {type(v).__name__} {v!r:.60}")
    if v < 0:
        raise ArgumentError(f"{where}: {name} must be {expected}, got {v!r}")


def _same_structure(values: list, idx: np.ndarray, where: str, width: int | None = None, keys=None) -> None:
    """Every sample's field ``where`` is a tuple of ``width`` items, or a dict with ``keys`` (in any order, as
    PyTorch's collate, which takes the first sample's keys), as sample 0's."""
    for i, v in zip(idx, values):
        if width is not None and (not isinstance(v, (tuple, list)) or len(v) != width):
            got = f"a {type(v).__name__}" + (f" of {len(v)}" if isinstance(v, (tuple, list)) else "")
            raise DataError(f"DataLoader: sample {int(i)} has a different structure from sample {int(idx[0])} "
                            f"(expected {'field ' + where + ' to be ' if where else ''}a tuple of {width} fields, "
                            f"got {got})")
        if keys is not None and (not isinstance(v, Mapping) or set(v.keys()) != set(keys)):
            got = f"keys {list(v.keys())}" if isinstance(v, Mapping) else f"a {type(v).__name__}"
            raise DataError(f"DataLoader: sample {int(i)} has a different structure from sample {int(idx[0])} "
                            f"(expected {'field ' + where + ' to be ' if where else ''}a dict with keys {keys}, "
                            f"got {got})")


def _collate(values: list, idx: np.ndarray, where: str):
    """One field of the samples of a batch, stacked: dicts key by key, tuples field by field, arrays along a
    new first axis (PyTorch's default_collate, with NumPy arrays for tensors)."""
    first = values[0]
    if isinstance(first, Mapping):
        keys = list(first.keys())
        _same_structure(values, idx, where, keys=keys)
        return {k: _collate([v[k] for v in values], idx, f"{where}[{k!r}]" if where else repr(k)) for k in keys}
    if isinstance(first, tuple):
        _same_structure(values, idx, where, width=len(first))
        return tuple(_collate([v[j] for v in values], idx, f"{where}[{j}]") for j in range(len(first)))
    return _stack(values, idx, where)


def _stack(values: list, idx: np.ndarray, where: str) -> np.ndarray:
    arrays = []
    for i, v in zip(idx, values):
        try:
            a = np.asarray(v)
        except (ValueError, TypeError):
            a = np.asarray(None)
        if a.dtype == object:
            raise DataError(f"DataLoader: cannot collate field {where} of sample {int(i)}, a {type(v).__name__}: "
                            "expected arrays, tensors or numbers (or tuples and dicts of them)")
        arrays.append(a)
    shape = arrays[0].shape
    for i, a in zip(idx, arrays):
        if a.shape != shape:
            raise DataError(f"DataLoader: field {where} of sample {int(i)} has shape {a.shape}, but sample "
                            f"{int(idx[0])} has {shape}; samples of one batch must share their shapes")
    return np.stack(arrays)


class DataLoader:
    """Iterate over a dataset in batches, each a tuple of NumPy arrays with a leading batch axis.

    How samples are stacked (PyTorch's default collate, with NumPy arrays): a tuple (or list) sample
    ``(x, y)`` gives the tuple ``(X, Y)`` of stacked fields; a single array gives a 1-tuple ``(X,)``; a dict
    sample ``{'x': ..., 'y': ...}`` gives the dict ``{'x': X, 'y': Y}``. Dicts and tuples inside samples
    are collated the same way, recursively; a list inside a sample is array data (``np.asarray``).
    Anything else that cannot become an array (None, objects) raises a DataError naming the sample,
    the field and its type; so do samples whose structure or shapes differ within a batch.

    Every epoch visits each sample exactly once, and each ``iter(loader)`` is one epoch: it uses the loader's
    epoch counter ``loader.epoch`` (from 0) and then advances it by one. How ``shuffle=True`` orders an epoch:

    - with a ``seed``, epoch ``k`` takes its order from ``np.random.default_rng([seed, k])``: it depends only
      on the seed and the epoch number, so a run resumed at epoch ``k`` (``loader.set_epoch(k)``) sees the
      same batches as the original run, and :meth:`order` tells any epoch's order in advance;
    - without one (``seed=None``), each ``iter(loader)`` draws a seed for its epoch from chainrule's global
      generator at that moment, as PyTorch's DataLoader draws from ``torch``'s: ``cr.manual_seed(n)`` before
      a loop over the loader repeats that loop's order, whenever the loader was built, and ``fit(seed=...)``
      (which seeds the global generator each epoch) makes every epoch reproducible.

    Building a loader draws nothing, and an unshuffled loader never draws (PyTorch's draws a seed for its
    worker processes on every ``iter``; chainrule has no workers), so adding one to a script does not
    change the weights that a later ``nn.Linear(...)`` draws.

    For a :class:`TensorDataset` a batch is gathered with one fancy index per array (a copy, never a view
    of the dataset); any other dataset is read item by item and stacked field by field.

    Parameters
    ----------
    dataset : Dataset
        Anything with ``__len__`` and ``__getitem__``; items are arrays, tuples or dicts of arrays.
    batch_size : int >= 1
    shuffle : bool
        Reorder the samples each epoch.
    drop_last : bool
        Skip the last batch when it is smaller than ``batch_size``.
    seed : int or None
        Seed of the shuffling; ``None``: each epoch's order is drawn from chainrule's global generator
        (``cr.manual_seed``) when the epoch starts.

    Examples
    --------
    >>> from chainrule.data import TensorDataset
    >>> ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
    >>> loader = DataLoader(ds, batch_size=2)
    >>> len(loader), [y.tolist() for _, y in loader]
    (3, [[0, 1], [2, 3], [4]])
    >>> [y.tolist() for _, y in DataLoader(ds, batch_size=2, shuffle=True, drop_last=True, seed=0)]
    [[2, 4], [3, 0]]
    >>> batch = next(iter(DataLoader([{"x": np.zeros(3), "y": 1}, {"x": np.ones(3), "y": 2}], batch_size=2)))
    >>> batch["x"].shape, batch["y"].tolist()
    ((2, 3), [1, 2])
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise ArgumentTypeError(f"DataLoader: dataset must have __len__ and __getitem__, "
                                    f"got {type(dataset).__name__}")
        if not _is_int(batch_size):
            raise ArgumentTypeError(f"DataLoader: batch_size must be an integer, got {type(batch_size).__name__}")
        if batch_size < 1:
            raise ArgumentError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        if seed is not None:
            _check_count("DataLoader", "seed", seed, "a non-negative integer or None")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = int(seed) if seed is not None else None
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration use the order of epoch ``epoch`` (counting from 0)."""
        _check_count("DataLoader.set_epoch", "epoch", epoch)
        self.epoch = int(epoch)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self, epoch: int | None = None) -> np.ndarray:
        """The sample indices of an epoch (the current one by default), in the order they are visited.

        A shuffling loader without ``seed`` draws each epoch's order when the epoch starts, so it has
        no order to tell in advance: that raises an ArgumentError.
        """
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        if self.seed is None:
            raise ArgumentError("DataLoader.order: this loader has no seed, so it draws each epoch's order from "
                                "chainrule's global generator when the epoch starts (at iter()); no order is known "
                                "in advance. Build it with DataLoader(..., seed=...) to ask for an epoch's order")
        if epoch is not None:
            _check_count("DataLoader.order", "epoch", epoch)
        k = self.epoch if epoch is None else int(epoch)
        return np.random.default_rng([self.seed, k]).permutation(n)

    def __iter__(self) -> Iterator[tuple | dict]:
        if self.shuffle and self.seed is None:
            # one draw from the global generator per epoch, whatever the dataset's size (PyTorch's
            # RandomSampler draws one int64 the same way), so later draws do not depend on len(dataset)
            drawn = int(default_generator().integers(2**63))
            order = np.random.default_rng(drawn).permutation(len(self.dataset))  # not the epoch: only the draw
        else:
            order = self.order()
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order: np.ndarray) -> Iterator[tuple | dict]:
        n_batches = len(self)
        # one fancy index per array, unless a subclass changed how an item is read (e.g. augmentation)
        fast = type(self.dataset).__getitem__ is TensorDataset.__getitem__
        arrays = self.dataset.arrays if fast else None
        for b in range(n_batches):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            if arrays is not None:
                yield tuple(a[idx] for a in arrays)
            else:
                yield self._collate(idx)

    def _collate(self, idx: np.ndarray):
        items = [self.dataset[int(i)] for i in idx]
        first = items[0]
        if isinstance(first, Mapping):
            return _collate(items, idx, "")
        if isinstance(first, (tuple, list)):
            _same_structure(items, idx, "", width=len(first))
            return tuple(_collate([item[j] for item in items], idx, str(j)) for j in range(len(first)))
        return (_collate(items, idx, "0"),)

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__}[{len(self.dataset)}], batch_size="
                f"{self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})")
