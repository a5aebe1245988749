"""Data API argument checks: seeds of load_csv / train_val_split, absurd noise of the synthetic sets, ragged
lists in TensorDataset, and the MNIST loaders' root (a file, not a path, another dataset's folder)."""

import gzip
import hashlib

import numpy as np
import pytest

from chainrule import data
from chainrule.data import download
from chainrule.errors import ArgumentError, ArgumentTypeError, DataError, FileFormatError, MissingFileError


@pytest.fixture
def csv_file(tmp_path):
    p = tmp_path / "reg.csv"
    p.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i * 0.5}\n" for i in range(10)))
    return p


@pytest.mark.parametrize("seed, err", [(-1, ArgumentError), ("a", ArgumentTypeError), (1.5, ArgumentTypeError),
                                       (True, ArgumentTypeError)])
def test_load_csv_and_split_check_the_seed(csv_file, seed, err):
    with pytest.raises(err, match="load_csv: seed"):
        data.load_csv(csv_file, "y", seed=seed)
    with pytest.raises(err, match="train_val_split: seed"):
        data.train_val_split(np.arange(10), seed=seed)


def test_good_seeds_still_work(csv_file):
    a = data.load_csv(csv_file, "y", seed=np.int64(3))
    b = data.load_csv(csv_file, "y", seed=3)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert len(data.train_val_split(np.arange(10), seed=None)[1][0]) == 1


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles, data.make_spirals, data.make_xor])
@pytest.mark.parametrize("noise", [1e39, float("inf"), float("nan"), -0.1])
def test_synthetic_noise_must_be_finite_and_sane(make, noise):
    with pytest.raises(ArgumentError, match=f"{make.__name__}: noise"):
        make(10, noise=noise, seed=0)


def test_large_but_sane_noise_stays_finite():
    x, _ = data.make_moons(50, noise=1e30, seed=0)
    assert np.isfinite(x).all()


@pytest.mark.parametrize("ragged", [[[1, 2], [3]], [[[1, 2], [3, 4]], [[1, 2], [3]]]])
def test_tensor_dataset_ragged_lists_raise_data_error(ragged):
    with pytest.raises(DataError, match="TensorDataset: ragged"):
        data.TensorDataset(ragged, [0, 1])


# ------------------------------------------------------------------------------------------ MNIST root
def _idx(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return (0x0800 + arr.ndim).to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape) + \
        arr.tobytes()


def _write(folder, seed: int) -> dict:
    """Four tiny gzip IDX files; returns {name: sha256}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sums = {}
    for split, n in (("train", 4), ("t10k", 2)):
        for kind, arr in (("images", rng.integers(0, 256, (n, 28, 28))), ("labels", rng.integers(0, 10, n))):
            name = f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz"
            body = gzip.compress(_idx(arr), mtime=0)
            (folder / name).write_bytes(body)
            sums[name] = hashlib.sha256(body).hexdigest()
    return sums


def test_mnist_root_that_is_a_file(tmp_path):
    _write(tmp_path / "mnist", 0)
    with pytest.raises(MissingFileError, match="is a file, not a folder"):
        data.load_mnist(tmp_path / "mnist" / "train-images-idx3-ubyte.gz")


@pytest.mark.parametrize("root", [123, 1.5, ["a"]])
def test_mnist_root_that_is_not_a_path(root):
    with pytest.raises(ArgumentTypeError, match="root must be a folder path"):
        data.load_fashion_mnist(root)


def test_fashion_loader_refuses_mnist_files(tmp_path, monkeypatch):
    """The label files' SHA-256 sums, published in download.DATASETS, tell the datasets apart."""
    mnist = _write(tmp_path / "mnist", 0)
    fashion = _write(tmp_path / "fashion-mnist", 1)
    monkeypatch.setitem(download.DATASETS, "mnist", {"mirrors": [], "files": mnist})
    monkeypatch.setitem(download.DATASETS, "fashion-mnist", {"mirrors": [], "files": fashion})
    with pytest.raises(FileFormatError, match="are mnist, not fashion-mnist"):
        data.load_fashion_mnist(tmp_path / "mnist")
    with pytest.raises(FileFormatError, match="are fashion-mnist, not mnist"):
        data.load_mnist(tmp_path / "fashion-mnist")
    (x, _), _ = data.load_fashion_mnist(tmp_path)  # finds fashion-mnist/ under the parent
    assert x.shape == (4, 1, 28, 28)
    (x, _), _ = data.load_mnist(tmp_path / "mnist")
    assert x.shape == (4, 1, 28, 28)


def test_unknown_copies_are_read_as_they_are(tmp_path):
    _write(tmp_path, 2)  # sums that no dataset publishes (a re-compressed copy): cannot tell, so read
    (x, y), (xt, _) = data.load_fashion_mnist(tmp_path)
    assert x.shape == (4, 1, 28, 28) and xt.shape == (2, 1, 28, 28)
