"""The embedded digits dataset: UCI optdigits, 8x8 handwritten digits, with its official split."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import FileFormatError, MissingFileError

_PATH = Path(__file__).with_name("digits.npz")
_SHAPES = {"x_train": (3823, 8, 8), "y_train": (3823,), "x_test": (1797, 8, 8), "y_test": (1797,)}


def load_digits(flatten: bool = False) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the optdigits handwritten digits shipped with chainrule (no download).

    3,823 training digits from 30 writers and 1,797 test digits from 13 other writers (the UCI split,
    so the test set measures generalisation to new writers). Each digit is an 8x8 grid of block counts
    0..16, returned as ``count / 16``. Source and license (CC BY 4.0): ``DIGITS_LICENSE.txt``.

    Parameters
    ----------
    flatten : bool
        Return images of shape (N, 64) instead of (N, 1, 8, 8).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        Images float32 in [0, 1] of shape (N, 1, 8, 8) (or (N, 64)); labels int64 in 0..9 of shape (N,).

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_digits()
    >>> x_train.shape, x_train.dtype, y_test.shape, y_test.dtype
    ((3823, 1, 8, 8), dtype('float32'), (1797,), dtype('int64'))
    """
    if not _PATH.is_file():
        raise MissingFileError(f"load_digits: the embedded dataset {_PATH} is missing; reinstall chainrule "
                               f"or rebuild it with scripts/build_digits.py")
    try:
        with np.load(_PATH, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in _SHAPES}
    except (OSError, ValueError, KeyError) as exc:
        raise FileFormatError(f"load_digits: {_PATH} is corrupt ({exc}); rebuild it with "
                              f"scripts/build_digits.py") from None
    for key, shape in _SHAPES.items():
        if arrays[key].shape != shape or arrays[key].dtype != np.uint8:
            raise FileFormatError(f"load_digits: {_PATH} holds {key} of shape {arrays[key].shape} and dtype "
                                  f"{arrays[key].dtype}, expected {shape} uint8")

    def images(a: np.ndarray) -> np.ndarray:
        x = a.astype(np.float32) / np.float32(16.0)
        return x.reshape(len(a), 64) if flatten else x.reshape(len(a), 1, 8, 8)

    return ((images(arrays["x_train"]), arrays["y_train"].astype(np.int64)),
            (images(arrays["x_test"]), arrays["y_test"].astype(np.int64)))
