"""DataLoader: batches from a dataset, optionally shuffled, reproducibly per epoch."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..backend import default_generator
from ..errors import ArgumentError, ArgumentTypeError, DataError
from .dataset import TensorDataset


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


class DataLoader:
    """Iterate over a dataset in batches, each a tuple of NumPy arrays with a leading batch axis.

    Every epoch visits each sample exactly once. With ``shuffle=True`` the order of epoch ``k`` comes from
    ``np.random.default_rng([seed, k])``: it depends only on the seed and the epoch number, so a run resumed
    at epoch ``k`` (``loader.set_epoch(k)``) sees the same batches as the original run. Each ``iter(loader)``
    uses the current epoch and then advances it by one.

    For a :class:`TensorDataset` a batch is gathered with one fancy index per array (a copy, never a view
    of the dataset); any other dataset is read item by item and stacked field by field.

    Parameters
    ----------
    dataset : Dataset
        Anything with ``__len__`` and ``__getitem__``; items are arrays or tuples of arrays.
    batch_size : int >= 1
    shuffle : bool
        Reorder the samples each epoch.
    drop_last : bool
        Skip the last batch when it is smaller than ``batch_size``.
    seed : int or None
        Seed of the shuffling; ``None`` draws one from chainrule's global generator (``cr.manual_seed``).

    Examples
    --------
    >>> from chainrule.data import TensorDataset
    >>> ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
    >>> loader = DataLoader(ds, batch_size=2)
    >>> len(loader), [y.tolist() for _, y in loader]
    (3, [[0, 1], [2, 3], [4]])
    >>> [y.tolist() for _, y in DataLoader(ds, batch_size=2, shuffle=True, drop_last=True, seed=0)]
    [[2, 4], [3, 0]]
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
        if seed is not None and (not _is_int(seed) or seed < 0):
            raise ArgumentError(f"DataLoader: seed must be a non-negative integer or None, got {seed!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = int(seed) if seed is not None else int(default_generator().integers(2**63))
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration use the order of epoch ``epoch`` (counting from 0)."""
        if not _is_int(epoch) or epoch < 0:
            raise ArgumentError(f"DataLoader.set_epoch: epoch must be a non-negative integer, got {epoch!r}")
        self.epoch = int(epoch)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self, epoch: int | None = None) -> np.ndarray:
        """The sample indices of an epoch (the current one by default), in the order they are visited."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        k = self.epoch if epoch is None else epoch
        return np.random.default_rng([self.seed, k]).permutation(n)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        order = self.order()
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order: np.ndarray) -> Iterator[tuple[np.ndarray, ...]]:
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

    def _collate(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        items = [self.dataset[int(i)] for i in idx]
        first = items[0]
        if isinstance(first, (tuple, list)):
            width = len(first)
            for i, item in zip(idx, items):
                if not isinstance(item, (tuple, list)) or len(item) != width:
                    raise DataError(f"DataLoader: sample {int(i)} has a different structure from sample "
                                    f"{int(idx[0])} (expected a tuple of {width} fields)")
            fields = [[item[j] for item in items] for j in range(width)]
        else:
            fields = [items]
        return tuple(self._stack(f, idx, j) for j, f in enumerate(fields))

    @staticmethod
    def _stack(values: list, idx: np.ndarray, field: int) -> np.ndarray:
        arrays = [np.asarray(v) for v in values]
        shape = arrays[0].shape
        for i, a in zip(idx, arrays):
            if a.shape != shape:
                raise DataError(f"DataLoader: field {field} of sample {int(i)} has shape {a.shape}, but sample "
                                f"{int(idx[0])} has {shape}; samples of one batch must share their shapes")
        return np.stack(arrays)

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__}[{len(self.dataset)}], batch_size="
                f"{self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})")
