"""QA sweep 3: unreadable or impossible MNIST paths, degenerate IDX headers, argument types, dict key order."""

import errno
import gzip
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import DataLoader, load_mnist, make_circles, make_moons, make_spirals, make_xor, read_idx
from chainrule.data.idx import parse_idx
from chainrule.errors import (
    ArgumentError,
    ArgumentTypeError,
    ChainruleError,
    DataError,
    FileFormatError,
    MissingFileError,
)


def _idx(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return ((0x0800 + arr.ndim).to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
            + arr.tobytes())


def _write_mnist(folder: Path) -> Path:
    """Four tiny gzipped IDX files (5 train, 3 test) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 5), ("t10k", 3)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        (folder / f"{split}-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images), mtime=0))
        (folder / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(labels), mtime=0))
    return folder


def _deny(monkeypatch, method: str, refused) -> None:
    """Make ``Path.<method>`` raise PermissionError for the paths ``refused(path)`` picks (we run as root)."""
    original = getattr(Path, method)

    def guarded(self, *args, **kwargs):
        if refused(self):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, method, guarded)


# ------------------------------------------------------------------------------------- unreadable paths
def test_unsearchable_root_is_a_chainrule_error(tmp_path, monkeypatch):
    root = _write_mnist(tmp_path / "d")
    _deny(monkeypatch, "is_file", lambda p: str(p).startswith(str(root) + "/"))  # root itself lists, nothing in it
    with pytest.raises(FileFormatError, match=r"cannot be looked at \(Permission denied\).*cannot be searched") as e:
        load_mnist(root=root)
    assert str(root) in str(e.value)


def test_unsearchable_mnist_subfolder_names_it(tmp_path, monkeypatch):
    sub = _write_mnist(tmp_path / "d" / "mnist")
    _deny(monkeypatch, "is_file", lambda p: str(p).startswith(str(sub) + "/"))
    with pytest.raises(FileFormatError, match="Permission denied") as e:
        load_mnist(root=tmp_path / "d")
    assert f"its folder {sub} " in str(e.value)


def test_unsearchable_parent_of_root(tmp_path, monkeypatch):
    root = _write_mnist(tmp_path / "d")
    _deny(monkeypatch, "is_file", lambda p: str(p).startswith(str(root)))
    with pytest.raises(FileFormatError, match=f"{root}: cannot be looked at"):
        load_mnist(root=root)


@pytest.mark.parametrize("name", ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz"])
def test_unreadable_label_or_image_file_same_error(tmp_path, monkeypatch, name):
    root = _write_mnist(tmp_path / "d")
    _deny(monkeypatch, "read_bytes", lambda p: p.name == name)
    with pytest.raises(FileFormatError, match=r"cannot be read \(Permission denied\)") as e:
        load_mnist(root=root)
    assert str(root / name) in str(e.value)


def test_tiny_dataset_loads(tmp_path):
    (x_train, y_train), (x_test, _) = load_mnist(root=_write_mnist(tmp_path / "d"))
    assert x_train.shape == (5, 1, 28, 28) and x_test.shape == (3, 1, 28, 28) and y_train.dtype == np.int64


def test_root_name_too_long(tmp_path):
    root = str(tmp_path / ("a" * 5000))
    with pytest.raises(MissingFileError, match="File name too long") as e:
        load_mnist(root=root)
    msg = str(e.value)
    assert len(msg) < 400 and f"({len(root)} characters)" in msg  # shortened, not printed whole
    assert root[:40] in msg


# ---------------------------------------------------------------------------------------- IDX headers
def test_degenerate_dims_are_a_file_format_error(tmp_path):
    body = bytes([0, 0, 8, 3]) + (0).to_bytes(4, "big") + (2**32 - 1).to_bytes(4, "big") * 2
    with pytest.raises(FileFormatError, match=r"dimensions \(0, 4294967295, 4294967295\)"):
        parse_idx(body, "x")
    path = tmp_path / "deg"
    path.write_bytes(body)
    with pytest.raises(FileFormatError, match=f"{path}: dimensions"):
        read_idx(path)


def test_too_many_dims_are_a_file_format_error():
    body = bytes([0, 0, 8, 70]) + (1).to_bytes(4, "big") * 70 + b"\x07"
    with pytest.raises(FileFormatError, match="x: dimensions"):
        parse_idx(body, "x")


def test_empty_dims_still_parse():
    arr = parse_idx(bytes([0, 0, 8, 3]) + (0).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2, magic=2051)
    assert arr.shape == (0, 28, 28)


@pytest.mark.parametrize("path", [5, None, 2.5, object()])
def test_read_idx_path_type(path):
    with pytest.raises(ArgumentTypeError, match="read_idx: path"):
        read_idx(path)


@pytest.mark.parametrize("magic", ["2049", 2049.0, True])
def test_read_idx_magic_type(tmp_path, magic):
    path = tmp_path / "l"
    path.write_bytes(_idx(np.arange(3)))
    with pytest.raises(ArgumentTypeError, match="read_idx: magic"):
        read_idx(path, magic=magic)
    with pytest.raises(ArgumentTypeError, match="parse_idx: magic"):
        parse_idx(path.read_bytes(), magic=magic)
    assert read_idx(str(path), magic=np.int64(2049)).tolist() == [0, 1, 2]


# ----------------------------------------------------------------------------------------- DataLoader
def test_dict_samples_in_any_key_order():
    batch = next(iter(DataLoader([{"x": 0, "y": 10}, {"y": 11, "x": 1}], batch_size=2)))
    assert list(batch) == ["x", "y"]  # the first sample's order, as PyTorch
    assert batch["x"].tolist() == [0, 1] and batch["y"].tolist() == [10, 11]


def test_nested_dict_in_any_key_order():
    samples = [({"a": np.zeros(2), "b": 0}, 1), ({"b": 1, "a": np.ones(2)}, 2)]
    (inner, y), = list(DataLoader(samples, batch_size=2))
    assert inner["a"].tolist() == [[0, 0], [1, 1]] and inner["b"].tolist() == [0, 1] and y.tolist() == [1, 2]


@pytest.mark.parametrize("second", [{"z": 1, "x": 1}, {"x": 1}, {"x": 1, "y": 1, "z": 1}])
def test_dict_samples_with_other_keys_refused(second):
    with pytest.raises(DataError, match="different structure"):
        next(iter(DataLoader([{"x": 0, "y": 0}, second], batch_size=2)))


@pytest.mark.parametrize("kwargs", [dict(seed=1.5), dict(seed="0"), dict(seed=True), dict(batch_size=2.0)])
def test_loader_wrong_types_are_type_errors(kwargs):
    with pytest.raises(ArgumentTypeError, match="DataLoader: " + next(iter(kwargs))):
        DataLoader([1, 2], **kwargs)


def test_loader_epoch_types():
    loader = DataLoader([1, 2], shuffle=True, seed=0)
    with pytest.raises(ArgumentTypeError, match="set_epoch: epoch"):
        loader.set_epoch(1.5)
    with pytest.raises(ArgumentTypeError, match="order: epoch"):
        loader.order("1")
    with pytest.raises(ArgumentError, match="seed must be a non-negative integer or None, got -1"):
        DataLoader([1, 2], seed=-1)
    loader.set_epoch(np.int64(3))
    assert loader.epoch == 3


# ------------------------------------------------------------------------------------------ synthetic
@pytest.mark.parametrize("make", [make_moons, make_circles, make_spirals, make_xor])
@pytest.mark.parametrize("seed, error", [(1.5, ArgumentTypeError), ("0", ArgumentTypeError),
                                         (False, ArgumentTypeError), (-1, ArgumentError)])
def test_make_seed_errors_name_the_function(make, seed, error):
    with pytest.raises(error, match=f"^{make.__name__}: seed must be"):
        make(10, seed=seed)


@pytest.mark.parametrize("seed", [0, np.int64(3), np.random.default_rng(1), None])
def test_make_seed_accepted(seed):
    x, y = make_moons(8, seed=seed)
    assert x.shape == (8, 2) and y.shape == (8,)


def test_every_new_error_is_a_chainrule_error():
    for f in (lambda: read_idx(None), lambda: DataLoader([1], seed=0.5), lambda: make_xor(4, seed=0.5)):
        with pytest.raises(ChainruleError):
            f()
