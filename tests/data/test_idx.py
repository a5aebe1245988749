"""The IDX reader, the MNIST / Fashion-MNIST loaders and the download path, on tiny files written here."""

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.data import download, load_fashion_mnist, load_mnist, read_idx
from chainrule.data.idx import parse_idx
from chainrule.errors import ChainruleError, DownloadError, FileFormatError, MissingFileError

SHARED = Path("/work/shared/datasets")


def idx_bytes(arr: np.ndarray, magic: int | None = None) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    magic = magic if magic is not None else 0x0800 + arr.ndim
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def tiny_split(n: int, seed: int):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n, dtype=np.uint8)


def write_dataset(folder: Path, gz: bool = True, n_train: int = 5, n_test: int = 3) -> dict:
    """Write the four files of a tiny MNIST-like dataset; return {filename: bytes written}."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images, labels = tiny_split(n, seed=n)
        for name, arr in ((f"{split}-images-idx3-ubyte", images), (f"{split}-labels-idx1-ubyte", labels)):
            body = idx_bytes(arr)
            if gz:
                body, name = gzip.compress(body, mtime=0), name + ".gz"
            (folder / name).write_bytes(body)
            written[name] = body
    return written


# ---------------------------------------------------------------------------------------------- reader
@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_valid(tmp_path, gz):
    images, _ = tiny_split(4, 0)
    body = idx_bytes(images)
    path = tmp_path / ("x.gz" if gz else "x")
    path.write_bytes(gzip.compress(body) if gz else body)
    got = read_idx(path, magic=2051)
    assert got.dtype == np.uint8 and got.shape == (4, 28, 28)
    np.testing.assert_array_equal(got, images)


def test_read_idx_other_types(tmp_path):
    a = (np.arange(6).reshape(2, 3) - 3).astype(">i4")
    (tmp_path / "a").write_bytes(bytes([0, 0, 0x0C, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + a.tobytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), a)


@pytest.mark.parametrize("mutate,match", [
    (lambda b: b[:-1], "truncated"),
    (lambda b: b + b"\x00", "trailing"),
    (lambda b: b[:10], "truncated header"),
    (lambda b: b[:2], "too short"),
    (lambda b: (2049).to_bytes(4, "big") + b[4:], "wrong magic number 2049"),
    (lambda b: b"PK\x03\x04" + b[4:], "wrong magic"),
])
@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_rejects_bad_files(tmp_path, mutate, match, gz):
    images, _ = tiny_split(2, 0)
    body = mutate(idx_bytes(images))
    path = tmp_path / ("bad.gz" if gz else "bad")
    path.write_bytes(gzip.compress(body) if gz else body)
    with pytest.raises(FileFormatError, match=match) as info:
        read_idx(path, magic=2051)
    assert str(path) in str(info.value)


def test_read_idx_bad_gzip(tmp_path):
    body = gzip.compress(idx_bytes(tiny_split(3, 0)[0]))
    cases = {
        "cut.gz": body[: len(body) // 2],  # truncated stream
        "flip.gz": body[:20] + bytes([body[20] ^ 0xFF]) + body[21:],  # corrupt deflate data / CRC
        "notgz.gz": b"hello world, not gzip",
        "crc.gz": body[:-8] + bytes(8),  # wrong CRC and length trailer
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(FileFormatError, match=name):
            read_idx(tmp_path / name)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(MissingFileError, match="nope.gz"):
        read_idx(tmp_path / "nope.gz")


# --------------------------------------------------------------------------------------------- loaders
@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("loader,sub", [(load_mnist, "mnist"), (load_fashion_mnist, "fashion-mnist")])
def test_loader_reads_folder_and_parent(tmp_path, gz, loader, sub):
    write_dataset(tmp_path / sub, gz=gz)
    for root in (tmp_path / sub, tmp_path, str(tmp_path)):
        (x_train, y_train), (x_test, y_test) = loader(root)
        assert x_train.shape == (5, 1, 28, 28) and x_test.shape == (3, 1, 28, 28)
        assert x_train.dtype == np.float32 and y_train.dtype == np.int64
        assert 0.0 <= x_train.min() and x_train.max() <= 1.0
        images, labels = tiny_split(5, seed=5)
        np.testing.assert_array_equal(x_train[:, 0] * 255, images.astype(np.float32))
        np.testing.assert_array_equal(y_train, labels)


def test_loader_count_mismatch_and_wrong_sizes(tmp_path):
    write_dataset(tmp_path)
    labels = tiny_split(4, 0)[1]
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(FileFormatError, match="5 images.*4 labels"):
        load_mnist(tmp_path)
    write_dataset(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((3, 8, 8)))))
    with pytest.raises(FileFormatError, match="8x8"):
        load_mnist(tmp_path)
    write_dataset(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.array([1, 2, 12]))))
    with pytest.raises(FileFormatError, match="label 12"):
        load_mnist(tmp_path)
    write_dataset(tmp_path)  # labels and images swapped
    (tmp_path / "t10k-labels-idx1-ubyte.gz").rename(tmp_path / "swap")
    (tmp_path / "t10k-images-idx3-ubyte.gz").rename(tmp_path / "t10k-labels-idx1-ubyte.gz")
    (tmp_path / "swap").rename(tmp_path / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(FileFormatError, match="magic"):
        load_mnist(tmp_path)


def test_loader_missing_files_name_file_and_folder(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(MissingFileError, match="train-images-idx3-ubyte.gz"):
        load_mnist(tmp_path)
    write_dataset(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(MissingFileError, match=f"t10k-labels-idx1-ubyte.gz.*{tmp_path}"):
        load_mnist(tmp_path)


# -------------------------------------------------------------------------------------------- download
@pytest.fixture
def tiny_registry(tmp_path, monkeypatch):
    """A mirror folder with tiny files, registered as the 'mnist' mirrors, and a fresh cache folder."""
    mirror = tmp_path / "mirror"
    written = write_dataset(mirror)
    spec = {"mirrors": [(tmp_path / "dead").as_uri() + "/", mirror.as_uri() + "/"],
            "files": {name: hashlib.sha256(body).hexdigest() for name, body in written.items()}}
    monkeypatch.setitem(download.DATASETS, "mnist", spec)
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "cache"))
    return spec


def test_download_via_file_url_then_cached(tiny_registry, tmp_path, monkeypatch):
    (x_train, _), (x_test, _) = load_mnist()
    assert x_train.shape == (5, 1, 28, 28) and x_test.shape == (3, 1, 28, 28)
    cache = tmp_path / "cache" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(tiny_registry["files"])  # no temp files left

    def no_network(url):
        raise AssertionError(f"fetched {url} although the files are cached")

    monkeypatch.setattr(download, "fetch_url", no_network)
    (x2, _), _ = load_mnist()
    np.testing.assert_array_equal(x2, x_train)


def test_download_checksum_mismatch(tiny_registry, tmp_path):
    name = "train-labels-idx1-ubyte.gz"
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download.download_file(name, tmp_path / "out", tiny_registry["mirrors"], "0" * 64)
    assert not (tmp_path / "out" / name).exists()
    good = download.download_file(name, tmp_path / "out", tiny_registry["mirrors"], tiny_registry["files"][name])
    assert good.read_bytes() == (tmp_path / "mirror" / name).read_bytes()


def test_a_garbled_http_answer_moves_on_to_the_next_mirror(tmp_path):
    import http.client

    body = b"the file"
    seen = []

    def fetch(url):
        seen.append(url)
        if url.startswith("http://portal/"):
            raise http.client.BadStatusLine("GARBAGE")  # not an OSError: a captive portal, a broken proxy
        if url.startswith("http://chunked/"):
            raise http.client.IncompleteRead(b"the f")
        return body

    sha = hashlib.sha256(body).hexdigest()
    got = download.download_file("f.gz", tmp_path, ["http://portal/", "http://chunked/", "http://good/"], sha,
                                 fetch=fetch)
    assert got.read_bytes() == body and len(seen) == 3
    with pytest.raises(DownloadError, match="BadStatusLine"):
        download.download_file("g.gz", tmp_path, ["http://portal/"], sha, fetch=fetch)


def test_offline_error_says_how_to_get_files(tiny_registry, monkeypatch):
    def offline(url):
        raise OSError("network is unreachable")

    monkeypatch.setattr(download, "fetch_url", offline)
    with pytest.raises(DownloadError, match="unreachable") as info:
        load_mnist()
    message = str(info.value)
    assert "root=" in message and "--data-dir" in message and "train-images-idx3-ubyte.gz" in message


def test_no_download_means_missing_file(tiny_registry):
    with pytest.raises(MissingFileError, match="train-images-idx3-ubyte.gz"):
        load_mnist(download=False)


def test_registered_sums_match_shared_readme():
    readme = SHARED / "README.md"
    if not readme.is_file():
        pytest.skip("the shared datasets folder is not present")
    text = readme.read_text()
    for spec in download.DATASETS.values():
        for digest in spec["files"].values():
            assert digest in text


def test_real_mnist_if_present():
    if not (SHARED / "mnist" / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("the shared MNIST files are not present")
    (x_train, y_train), (x_test, y_test) = load_mnist(SHARED)
    assert x_train.shape == (60000, 1, 28, 28) and x_test.shape == (10000, 1, 28, 28)
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9] and x_train.max() == 1.0


# ------------------------------------------------------------------------------------------------ fuzz
VALID = idx_bytes(tiny_split(2, 1)[0][:, :4, :3])
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _only_chainrule_errors(data: bytes, magic=None):
    try:
        parse_idx(data, "fuzz", magic)
    except ChainruleError:
        pass


@FUZZ
@given(st.binary(max_size=64))
def test_fuzz_random_bytes(data):
    _only_chainrule_errors(data)
    _only_chainrule_errors(bytes([0, 0, 8]) + data)


@FUZZ
@given(st.data())
def test_fuzz_mutated_idx_and_gzip(tmp_path, data):
    gz = data.draw(st.booleans())
    body = bytearray(gzip.compress(VALID, mtime=0) if gz else VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = data.draw(st.integers(0, max(len(body) - 1, 0)))
        if op == "flip" and body:
            body[pos] ^= data.draw(st.integers(1, 255))
        elif op == "cut":
            del body[pos:pos + data.draw(st.integers(1, 16))]
        else:
            body[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
    path = tmp_path / ("f.gz" if gz else "f")
    path.write_bytes(bytes(body))
    try:
        read_idx(path, magic=data.draw(st.sampled_from([None, 2051])))
    except ChainruleError:
        pass
