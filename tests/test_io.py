"""cr.save / cr.load: safetensors round trips, interoperability, corrupt files, fuzzing, kill-safety."""

import json
import math
import os
import signal
import struct
import subprocess
import sys
import tempfile
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from chainrule._atomic import atomic_write
from chainrule.errors import ArgumentError, ArgumentTypeError, DTypeError, FileFormatError, MissingFileError

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
          np.uint8, np.uint16, np.uint32, np.uint64, np.bool_]


def _same(a, b) -> bool:
    """Exact equality of trees: types, dtypes, shapes, NaN where NaN, the sign of zero."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (np.ndarray, np.generic)):
        return (a.dtype == b.dtype and np.shape(a) == np.shape(b)
                and np.array_equal(a, b, equal_nan=a.dtype.kind == "f") and a.tobytes() == b.tobytes())
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


# ------------------------------------------------------------------------------------------ round trips
def test_flat_round_trip_every_dtype(tmp_path):
    rng = np.random.default_rng(0)
    sd = {f"layer.{i}.{np.dtype(dt).name}": (rng.standard_normal((3, 2)) * 50).astype(dt) for i, dt in
          enumerate(DTYPES)}
    sd["scalar"] = np.array(2.5)
    sd["empty"] = np.zeros((0, 4), np.float32)
    sd["strided"] = np.arange(24.0).reshape(4, 6)[::2, ::3]
    sd["fortran"] = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3))
    sd["bigendian"] = np.arange(4, dtype=">f4")
    cr.save(sd, tmp_path / "m.safetensors")
    back = cr.load(tmp_path / "m.safetensors")
    assert list(back) == list(sd)
    for k, v in sd.items():
        assert back[k].shape == v.shape and back[k].dtype == v.dtype.newbyteorder("=") and back[k].flags.writeable
        np.testing.assert_array_equal(back[k], v)
    assert b"chainrule.tree" not in (tmp_path / "m.safetensors").read_bytes()  # plain safetensors


def test_model_state_dict_with_dotted_keys_comes_back_flat(tmp_path):
    net = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Linear(4, 2))
    cr.save(net.state_dict(), str(tmp_path / "net.safetensors"))
    back = cr.load(str(tmp_path / "net.safetensors"))
    assert list(back) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    net2 = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Linear(4, 2))
    net2.load_state_dict(back)
    assert all(np.array_equal(a, b) for a, b in zip(net.state_dict().values(), net2.state_dict().values()))


def test_nested_checkpoint_round_trip(tmp_path):
    w = cr.nn.Parameter(cr.tensor([1.0, 2.0]))
    opt = cr.optim.Adam([w], lr=0.01)
    (w * w).sum().backward()
    opt.step()
    ckpt = {"model": {"0.weight": w.data.copy(), "0": {"weight": np.ones(1)}}, "optimizer": opt.state_dict(),
            "epoch": 3, "best": math.inf, "note": "ok", "none": None, "flags": [True, 1, 2.5, "x", None],
            "pair": (1, (2.0, "b")), "np_scalar": np.float32(1.5), "tensor": cr.tensor([3.0]),
            "__metadata__": np.zeros(2)}
    cr.save(ckpt, tmp_path / "c.safetensors")
    back = cr.load(tmp_path / "c.safetensors")
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert list(back["optimizer"]["state"]) == [0] and back["optimizer"]["state"][0]["step"] == 1
    assert isinstance(back["tensor"], np.ndarray) and back["tensor"].tolist() == [3.0]
    ckpt["tensor"] = ckpt["tensor"].numpy()
    assert _same(back, ckpt)


def test_user_metadata(tmp_path):
    cr.save({"a": np.ones(2)}, tmp_path / "a.safetensors", metadata={"format": "np", "author": "me"})
    assert cr.io.load_metadata(tmp_path / "a.safetensors") == {"format": "np", "author": "me"}
    assert list(cr.load(tmp_path / "a.safetensors")) == ["a"]


scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64) | st.floats() | st.text(max_size=5))
arrays = st.sampled_from(DTYPES).flatmap(
    lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)))
np_scalars = st.sampled_from(DTYPES).map(lambda dt: np.dtype(dt).type(1))
leaves = arrays | scalars | np_scalars | st.lists(scalars, max_size=3)
keys = st.text(max_size=4) | st.integers(0, 20)
trees = st.recursive(leaves, lambda kids: st.dictionaries(keys, kids, max_size=4) | st.lists(kids, max_size=3)
                     | st.tuples(kids, kids), max_leaves=12)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(keys, trees, max_size=5) | st.dictionaries(st.text(max_size=4), arrays, max_size=4))
def test_round_trip_property(obj):
    # the format is under test here, not durability: skip the (slow) fsyncs
    with tempfile.TemporaryDirectory() as d, mock.patch("os.fsync"):
        path = os.path.join(d, "x.safetensors")
        cr.save(obj, path)
        assert _same(cr.load(path), obj)


# ------------------------------------------------------------------------------------------ interop
def test_interop_with_the_safetensors_package(tmp_path):
    stn = pytest.importorskip("safetensors.numpy")
    rng = np.random.default_rng(1)
    sd = {f"t{np.dtype(dt).name}": (rng.standard_normal((2, 3)) * 9).astype(dt) for dt in DTYPES}
    stn.save_file(sd, str(tmp_path / "theirs.safetensors"), metadata={"k": "v"})
    back = cr.load(tmp_path / "theirs.safetensors")
    assert set(back) == set(sd) and all(np.array_equal(back[k], sd[k]) for k in sd)
    assert cr.io.load_metadata(tmp_path / "theirs.safetensors") == {"k": "v"}
    cr.save(sd, tmp_path / "ours.safetensors")
    theirs = stn.load_file(str(tmp_path / "ours.safetensors"))
    assert set(theirs) == set(sd) and all(np.array_equal(theirs[k], sd[k]) and theirs[k].dtype == sd[k].dtype
                                          for k in sd)
    cr.save({"model": {"w": np.ones(3)}, "optimizer": {"state": {0: {"m": np.zeros(3)}}}, "epoch": 2},
            tmp_path / "nested.safetensors")
    theirs = stn.load_file(str(tmp_path / "nested.safetensors"))
    assert sorted(theirs) == ["model.w", "optimizer.state.0.m"]


# ------------------------------------------------------------------------------------------ bad files
def _raw(path, header, data=b"", n=None):
    hb = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(hb) if n is None else n) + hb + data)
    return path


T = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
BAD = {
    "empty": (b"", None, b""),
    "short": (None, None, b"\x01\x02\x03"),
    "absurd header length": (b"{}", 2**40, b""),
    "header past the end": (b"{}", 1000, b""),
    "not json": (b"{not json", None, b""),
    "not utf-8": (b'{"\xff\xfe": 1}', None, b""),
    "json list": (b"[1, 2]", None, b""),
    "deep json": (b"[" * 100000 + b"]" * 100000, None, b""),
    "entry not a dict": ({"a": [1, 2]}, None, b""),
    "unknown dtype": ({"a": {**T, "dtype": "BF16"}}, None, bytes(8)),
    "shape vs bytes": ({"a": {**T, "shape": [3]}}, None, bytes(8)),
    "negative dim": ({"a": {**T, "shape": [-2]}}, None, bytes(8)),
    "bool dim": ({"a": {**T, "shape": [True, 2]}}, None, bytes(8)),
    "huge dims": ({"a": {**T, "shape": [2**40, 2**40]}}, None, bytes(8)),
    "float offsets": ({"a": {**T, "data_offsets": [0.0, 8]}}, None, bytes(8)),
    "offsets past the data": ({"a": {**T, "data_offsets": [8, 16]}}, None, bytes(8)),
    "reversed offsets": ({"a": {**T, "data_offsets": [8, 0]}}, None, bytes(8)),
    "overlap": ({"a": T, "b": {**T, "data_offsets": [4, 12]}}, None, bytes(12)),
    "gap": ({"a": {**T, "shape": [1], "data_offsets": [0, 4]}, "b": {**T, "data_offsets": [8, 16]}}, None,
            bytes(16)),
    "data not covered": ({"a": T}, None, bytes(12)),
    "metadata not a dict": ({"__metadata__": [1]}, None, b""),
    "metadata not strings": ({"__metadata__": {"a": 1}}, None, b""),
    "tree not json": ({"__metadata__": {"chainrule.tree": "{"}}, None, b""),
    "tree names a missing tensor": ({"__metadata__": {"chainrule.tree": '{"__dict__":[["a",{"__tensor__":"x"}]]}'}},
                                    None, b""),
    "tree of unknown form": ({"__metadata__": {"chainrule.tree": '{"__dict__":[["a",{"what":1}]]}'}}, None, b""),
    "tree not a dict": ({"__metadata__": {"chainrule.tree": "[1]"}}, None, b""),
    "tree scalar not 0-d": ({"a": T, "__metadata__": {"chainrule.tree": '{"__dict__":[["a",{"__scalar__":"a"}]]}'}},
                            None, bytes(8)),
}


@pytest.mark.parametrize("case", list(BAD))
def test_corrupt_files_raise_file_format_error(case, tmp_path):
    header, n, data = BAD[case]
    path = tmp_path / "bad.safetensors"
    if header is None:
        path.write_bytes(data)
    else:
        _raw(path, header, data, n)
    with pytest.raises(FileFormatError) as e:
        cr.load(path)
    assert str(path) in str(e.value)


def test_truncated_valid_file(tmp_path):
    path = tmp_path / "t.safetensors"
    cr.save({"a": np.arange(100.0), "b": {"c": np.ones(3)}}, path)
    full = path.read_bytes()
    for cut in (0, 7, 8, 20, len(full) - 1):
        path.write_bytes(full[:cut])
        with pytest.raises(FileFormatError):
            cr.load(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(MissingFileError):
        cr.load(tmp_path / "nope.safetensors")
    with pytest.raises(FileFormatError):
        cr.load(tmp_path)
    with pytest.raises(MissingFileError):
        cr.save({"a": np.ones(1)}, tmp_path / "no" / "such" / "a.safetensors")


def test_bad_paths_are_clear_errors(tmp_path):
    sd = {"a": np.ones(2)}
    for bad in (None, 3, [str(tmp_path / "x")]):
        with pytest.raises(ArgumentTypeError, match="str, bytes or os.PathLike"):
            cr.load(bad)
        with pytest.raises(ArgumentTypeError, match="str, bytes or os.PathLike"):
            cr.save(sd, bad)
    cr.save(sd, tmp_path / "a.safetensors")
    with pytest.raises(MissingFileError, match="no such file"):  # a file used as a folder
        cr.load(tmp_path / "a.safetensors" / "b.safetensors")
    with pytest.raises(FileFormatError, match="cannot be read"):
        cr.load(tmp_path / ("x" * 300))


def test_a_name_as_long_as_the_folder_allows_can_be_saved(tmp_path):
    """The temporary file's name is cut so that it fits wherever the final name does (255 bytes here)."""
    name = "é" * ((os.pathconf(tmp_path, "PC_NAME_MAX") - 12) // 2) + ".safetensors"  # 2 bytes a letter
    cr.save({"a": np.ones(2)}, tmp_path / name)
    assert os.listdir(tmp_path) == [name] and cr.load(tmp_path / name)["a"].tolist() == [1.0, 1.0]


def test_bytes_paths_work_both_ways(tmp_path):
    path = os.fsencode(tmp_path / "a.safetensors")
    cr.save({"a": np.arange(3)}, path)
    np.testing.assert_array_equal(cr.load(path)["a"], np.arange(3))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_written_into_not_replaced(tmp_path):
    """A device or a pipe has no file to replace atomically: it is written straight into, as open() would
    (renaming a temporary file over /dev/null run as root would destroy the device)."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    cr.save({"a": np.arange(3)}, fifo)
    reader.join(timeout=30)
    assert fifo.is_fifo() and os.listdir(tmp_path) == ["pipe"]
    (tmp_path / "copy.safetensors").write_bytes(got[0])
    np.testing.assert_array_equal(cr.load(tmp_path / "copy.safetensors")["a"], np.arange(3))
    with pytest.raises(FileFormatError, match="not a regular file"):
        cr.load(fifo)


def test_saving_to_dev_null_keeps_it_a_device():
    import stat

    if not os.path.exists(os.devnull) or not os.access(os.devnull, os.W_OK):
        pytest.skip("no writable null device")
    cr.save({"a": np.ones(2)}, os.devnull)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_save_rejects_what_it_cannot_store(tmp_path):
    p = tmp_path / "x.safetensors"
    with pytest.raises(DTypeError, match="'a.b'"):
        cr.save({"a": {"b": np.ones(2, np.complex64)}}, p)
    with pytest.raises(DTypeError):
        cr.save({"a": np.array(["s"])}, p)
    with pytest.raises(ArgumentTypeError, match="set"):
        cr.save({"a": {1, 2}}, p)
    with pytest.raises(ArgumentTypeError):
        cr.save({(1, 2): np.ones(1)}, p)
    with pytest.raises(ArgumentTypeError):
        cr.save([np.ones(1)], p)
    with pytest.raises(ArgumentError):
        cr.save({"a": np.ones(1)}, p, metadata={"chainrule.tree": "x"})
    assert not p.exists()


# ------------------------------------------------------------------------------------------ fuzzing
@pytest.fixture(scope="module")
def fuzz_dir():
    with tempfile.TemporaryDirectory() as d:
        yield d


def _load_or_format_error(path):
    try:
        out = cr.load(path)
    except FileFormatError:
        return
    assert isinstance(out, dict)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_random_bytes(fuzz_dir, data):
    path = os.path.join(fuzz_dir, "r.safetensors")
    with open(path, "wb") as f:
        f.write(data)
    _load_or_format_error(path)


def _valid_bytes():
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "v.safetensors")
        cr.save({"model": {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(2, np.int64)},
                 "optimizer": {"state": {0: {"step": 2, "m": np.zeros(2)}}, "groups": [(0.9, 0.99)]},
                 "flag": np.array([True, False])}, p)
        with open(p, "rb") as f:
            return f.read()


VALID = _valid_bytes()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=6),
       st.integers(0, len(VALID)), st.binary(max_size=16))
def test_fuzz_mutated_valid_file(fuzz_dir, flips, cut, tail):
    b = bytearray(VALID)
    for i, v in flips:
        b[i] = v
    path = os.path.join(fuzz_dir, "m.safetensors")
    with open(path, "wb") as f:
        f.write(bytes(b[:cut]) + tail)
    _load_or_format_error(path)


json_values = st.recursive(st.none() | st.booleans() | st.integers(-5, 2**65) | st.floats() | st.text(max_size=4),
                           lambda k: st.lists(k, max_size=3) | st.dictionaries(st.text(max_size=3), k, max_size=3),
                           max_leaves=8)
entries = st.fixed_dictionaries({"dtype": st.sampled_from(["F32", "U8", "BOOL", "I64", "F8", 3]),
                                 "shape": st.lists(st.integers(-1, 2**63), max_size=3) | json_values,
                                 "data_offsets": st.lists(st.integers(-1, 40), max_size=3) | json_values})


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=3), entries | json_values, max_size=4), st.integers(0, 40),
       st.none() | json_values.map(json.dumps) | st.text(max_size=20))
def test_fuzz_structured_headers(fuzz_dir, header, data_len, tree):
    if tree is not None:
        header["__metadata__"] = {"chainrule.tree": tree}
    path = os.path.join(fuzz_dir, "h.safetensors")
    hb = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + bytes(range(data_len)))
    _load_or_format_error(path)


# ------------------------------------------------------------------------------------------ atomicity
def test_atomic_write_keeps_the_old_file_on_error(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(path, "w") as f:
            f.write("half")
            raise RuntimeError("boom")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["f.txt"]
    with atomic_write(path, "w") as f:
        f.write("new")
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["f.txt"]
    if os.name == "posix":
        umask = os.umask(0)
        os.umask(umask)
        assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(ArgumentError):
        with atomic_write(path, "a"):
            pass
    with pytest.raises(ArgumentError):
        with atomic_write(tmp_path, "w"):
            pass


@pytest.mark.skipif(os.name != "posix", reason="symbolic links and modes as on POSIX")
def test_save_writes_through_a_symlink_and_keeps_the_files_mode(tmp_path):
    """As open() would: the link stays a link and its target gets the new contents; the mode is kept."""
    (tmp_path / "store").mkdir()
    target, link = tmp_path / "store" / "m.safetensors", tmp_path / "latest.safetensors"
    cr.save({"w": np.zeros(2)}, target)
    os.symlink(os.path.join("store", "m.safetensors"), link)
    os.chmod(target, 0o640)
    cr.save({"w": np.ones(2)}, link)
    assert os.path.islink(link) and os.readlink(link) == os.path.join("store", "m.safetensors")
    np.testing.assert_array_equal(cr.load(target)["w"], np.ones(2))
    assert os.stat(target).st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path / "store")) == ["m.safetensors"]


_SAVER = """
import sys
import numpy as np
import chainrule as cr
big = {f"w{i}": np.zeros((512, 512)) for i in range(6)}  # 12 MB
v = 0
while True:
    v += 1
    for a in big.values():
        a.fill(v)
    print("saving", v, flush=True)
    cr.save({"model": big, "version": v}, sys.argv[1])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_save_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "src"))
    rng = np.random.default_rng(0)
    for k in range(5):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE, env=env)
        try:
            target = 2 + k % 2  # kill while version `target` is being written, so an older complete file exists
            while proc.stdout.readline().split() != [b"saving", str(target).encode()]:
                pass
            try:
                proc.wait(timeout=float(rng.uniform(0.0, 0.05)))
            except subprocess.TimeoutExpired:
                pass
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
        ckpt = cr.load(path)  # old or new, never a mixture
        v = ckpt["version"]
        assert v >= target - 1 and all(np.all(a == v) for a in ckpt["model"].values())


def test_a_folder_that_refuses_the_temporary_file_is_reported_with_the_callers_path(tmp_path, monkeypatch):
    """A read-only folder fails at the temporary file; the error names the file the caller asked for."""
    import chainrule._atomic as atomic

    def refuse(prefix, suffix, dir):  # noqa: A002 - tempfile's own name
        raise PermissionError(13, "Permission denied", os.path.join(dir, prefix + "x1y2" + suffix))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as e:
        cr.save({"w": np.zeros(2)}, tmp_path / "m.safetensors")
    assert e.value.filename == str(tmp_path / "m.safetensors") and ".tmp" not in str(e.value)


def test_a_write_removes_what_a_killed_writer_left_an_hour_ago(tmp_path):
    """kill -9 during a save leaves `.name.XXXX.tmp`; the next save of that file removes it once stale."""
    stale, fresh = tmp_path / ".m.safetensors.ab12cd.tmp", tmp_path / ".m.safetensors.ef34gh.tmp"
    other, mine = tmp_path / ".n.safetensors.ab12cd.tmp", tmp_path / "notes.tmp"
    for p in (stale, fresh, other, mine):
        p.write_bytes(b"x" * 10)
    old = os.path.getmtime(stale) - 2 * 3600
    for p in (stale, other, mine):
        os.utime(p, (old, old))
    cr.save({"w": np.zeros(2)}, tmp_path / "m.safetensors")
    assert not stale.exists()
    assert fresh.exists() and other.exists() and mine.exists()  # a write in progress; other files' leftovers
