"""MNIST and Fashion-MNIST from their original IDX files (28x28 grayscale, 10 classes)."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import numpy as np

from .._files import read_bytes
from ..errors import ArgumentTypeError, FileFormatError, MissingFileError
from .download import DATASETS, cache_dir, ensure_downloaded, manual_instructions
from .idx import read_idx_pair

# Where a dataset may sit inside a `root` folder: the folder itself, our layout, torchvision's layout.
_SUBFOLDERS = {
    "mnist": ("", "mnist", "MNIST/raw", "MNIST"),
    "fashion-mnist": ("", "fashion-mnist", "fashion_mnist", "FashionMNIST/raw", "FashionMNIST"),
}


def _candidates(split: str, kind: str) -> list[str]:
    ndim = 3 if kind == "images" else 1
    stems = [f"{split}-{kind}-idx{ndim}-ubyte", f"{split}-{kind}.idx{ndim}-ubyte"]
    return [name for stem in stems for name in (stem + ".gz", stem)]


def _short(path: Path) -> str:
    s = str(path)
    return s if len(s) <= 120 else f"{s[:60]}...{s[-40:]} ({len(s)} characters)"


def _is(test: str, path: Path) -> bool:
    """``path.is_file()`` or ``path.is_dir()``; the system's refusal to look (a folder that cannot be searched,
    a name too long) becomes a ChainruleError naming the path, as an unreadable IDX file does."""
    try:
        return getattr(path, test)()
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise MissingFileError(f"{_short(path)}: no such file or folder can exist ({exc.strerror}): "
                                   f"the path or one of its names is longer than the system allows") from None
        why = (f": its folder {_short(path.parent)} (or one above it) cannot be searched"
               if exc.errno in (errno.EACCES, errno.EPERM) else "")
        raise FileFormatError(f"{_short(path)}: cannot be looked at ({exc.strerror or exc}){why}") from None


def _find(folder: Path, split: str, kind: str) -> Path | None:
    return next((folder / n for n in _candidates(split, kind) if _is("is_file", folder / n)), None)


def _dataset_folder(dataset: str, root: Path) -> Path:
    if _is("is_file", root):
        raise MissingFileError(f"{dataset}: root {root} is a file, not a folder: pass the folder that holds the "
                               f"IDX files ({root.parent})")
    if not _is("is_dir", root):
        raise MissingFileError(f"{dataset}: the data folder {root} does not exist")
    for sub in _SUBFOLDERS[dataset]:
        if _find(root / sub, "train", "images") is not None:
            return root / sub
    tried = ", ".join(str(root / s) for s in _SUBFOLDERS[dataset][1:])
    raise MissingFileError(f"{dataset}: expected train-images-idx3-ubyte.gz (or uncompressed "
                           f"train-images-idx3-ubyte) in folder {root} or one of its subfolders {tried}; "
                           f"none found")


def _check_identity(dataset: str, folder: Path) -> None:
    """Refuse another dataset's files: the label files (small, so hashing them is cheap) are compared with
    the published SHA-256 sums of every dataset the loader knows. A copy that matches no known sum (e.g.
    re-compressed, or uncompressed) cannot be told apart and is read as it is."""
    for name in ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        path = folder / name
        if not _is("is_file", path):
            continue
        digest = hashlib.sha256(read_bytes(path, "IDX file")).hexdigest()
        if digest == DATASETS[dataset]["files"][name]:
            continue
        other = next((d for d, spec in DATASETS.items() if d != dataset and spec["files"].get(name) == digest), None)
        if other is not None:
            raise FileFormatError(f"{dataset}: the files in {folder} are {other}, not {dataset} ({name} has the "
                                  f"published SHA-256 of {other}'s); point root at the {dataset} folder")


def _load(dataset: str, root, download: bool):
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise ArgumentTypeError(f"{dataset}: root must be a folder path (str or pathlib.Path), got "
                                    f"{type(root).__name__} {root!r:.60}")
        folder = _dataset_folder(dataset, Path(os.fspath(root)).expanduser())
    else:
        folder = cache_dir() / dataset
        if download:
            ensure_downloaded(dataset, folder)
    _check_identity(dataset, folder)
    out = []
    for split in ("train", "t10k"):
        paths = []
        for kind in ("images", "labels"):
            path = _find(folder, split, kind)
            if path is None:
                hint = manual_instructions(dataset, folder) if root is None else ""
                raise MissingFileError(f"{dataset}: expected {_candidates(split, kind)[0]} (or uncompressed "
                                       f"{_candidates(split, kind)[1]}) in folder {folder}. {hint}".rstrip())
            paths.append(path)
        images, labels = read_idx_pair(*paths)
        x = images.astype(np.float32).reshape(len(images), 1, 28, 28)
        x /= np.float32(255.0)
        out.append((x, labels.astype(np.int64)))
    return tuple(out)


def load_mnist(root: str | os.PathLike | None = None, download: bool = True):
    """Load MNIST: 60,000 training and 10,000 test handwritten digits, 28x28.

    Parameters
    ----------
    root : path, optional
        A folder holding the four original IDX files (``train-images-idx3-ubyte.gz`` ..., or their
        uncompressed forms), or a folder with an ``mnist/`` subfolder holding them. Only read, never
        written. Without ``root`` the cache folder (``$CHAINRULE_HOME`` or ``~/.cache/chainrule``) is used.
    download : bool
        Without ``root``: download missing files into the cache (SHA-256 verified). With ``download=False``
        a missing file is a :class:`~chainrule.errors.MissingFileError`.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        Images float32 in [0, 1] of shape (N, 1, 28, 28) (pixel / 255); labels int64 in 0..9 of shape (N,).

    Raises
    ------
    MissingFileError, FileFormatError, DownloadError

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_mnist("/data")  # doctest: +SKIP
    >>> x_train.shape, y_test.shape  # doctest: +SKIP
    ((60000, 1, 28, 28), (10000,))
    """
    return _load("mnist", root, download)


def load_fashion_mnist(root: str | os.PathLike | None = None, download: bool = True):
    """Load Fashion-MNIST: 60,000 training and 10,000 test 28x28 images of 10 kinds of clothing.

    Same arguments, layout and errors as :func:`load_mnist`; a ``root`` may hold the files directly or in a
    ``fashion-mnist/`` subfolder. Classes: :data:`FASHION_CLASSES`.

    Examples
    --------
    >>> (x_train, y_train), _ = load_fashion_mnist("/data")  # doctest: +SKIP
    >>> FASHION_CLASSES[int(y_train[0])]  # doctest: +SKIP
    'Ankle boot'
    """
    return _load("fashion-mnist", root, download)


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
