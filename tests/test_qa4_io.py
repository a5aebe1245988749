"""QA regressions for cr.save / cr.load: duplicate header keys, unreadable files, NUL paths, a trailing
separator, deep nesting, the header size limit shared with the safetensors library."""

import json
import os
import struct

import numpy as np
import pytest

import chainrule as cr
import chainrule.io as crio
from chainrule._files import read_bytes
from chainrule.errors import ArgumentError, FileFormatError

T = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


def _raw(path, header: bytes, data=b""):
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


def _nested_dicts(depth):
    obj = inner = {}
    for _ in range(depth):
        inner["k"] = {}
        inner = inner["k"]
    inner["w"] = np.ones(2)
    return obj


def test_a_tensor_named_twice_in_the_header_is_refused_not_silently_the_last(tmp_path):
    entry = json.dumps(T)
    path = _raw(tmp_path / "dup.safetensors", f'{{"a":{entry},"a":{entry.replace("F32", "I32")}}}'.encode(), bytes(8))
    with pytest.raises(FileFormatError, match="'a' twice") as e:
        cr.load(path)
    assert str(path) in str(e.value)
    path = _raw(tmp_path / "dupmeta.safetensors", b'{"__metadata__":{"x":"1"},"__metadata__":{"x":"2"}}')
    with pytest.raises(FileFormatError, match="twice"):
        crio.load_metadata(path)


def test_an_unreadable_file_is_a_file_format_error_naming_it(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    cr.save({"a": np.ones(2)}, path)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(crio, "open", refuse, raising=False)  # root ignores chmod 000; fake it
    for read in (cr.load, crio.load_metadata):
        with pytest.raises(FileFormatError, match="cannot be read") as e:
            read(path)
        assert str(path) in str(e.value) and "Permission denied" in str(e.value)


def test_a_path_with_a_nul_character_is_an_argument_error():
    for read in (cr.load, crio.load_metadata, lambda p: cr.save({"a": np.ones(1)}, p)):
        for bad in ("a\0b.safetensors", b"a\0b.safetensors"):
            with pytest.raises(ArgumentError, match="NUL"):
                read(bad)
    with pytest.raises(FileFormatError, match="CSV file"):
        read_bytes("a\0b.csv", "CSV file")


def test_a_path_ending_in_a_separator_is_not_written_as_a_file(tmp_path):
    with pytest.raises(ArgumentError, match="separator"):
        cr.save({"a": np.ones(1)}, str(tmp_path / "run") + os.sep)
    assert os.listdir(tmp_path) == []


def test_deep_nesting_is_refused_clearly_and_what_is_saved_loads_from_a_deep_stack(tmp_path):
    path = tmp_path / "deep.safetensors"
    cr.save({"a": np.zeros(1)}, path)
    with pytest.raises(ArgumentError, match="nested more than 64"):  # was a bare RecursionError from json
        cr.save({"a": _nested_dicts(400)}, path)
    with pytest.raises(ArgumentError, match="nested more than 64"):
        cr.save({"a": _nested_dicts(200)}, path)  # was saved, then refused by load from a deep stack
    assert list(cr.load(path)) == ["a"] and os.listdir(tmp_path) == ["deep.safetensors"]

    cr.save({"a": _nested_dicts(62)}, path)  # 64 dicts, the outer one included

    def load_from(depth):
        return load_from(depth - 1) if depth else cr.load(path)

    inner = load_from(300)["a"]
    for _ in range(62):
        inner = inner["k"]
    np.testing.assert_array_equal(inner["w"], np.ones(2))


def test_save_refuses_a_header_no_reader_accepts_and_keeps_the_old_file(tmp_path, monkeypatch):
    assert crio._MAX_HEADER == 100_000_000  # the safetensors library refuses anything longer
    path = tmp_path / "ckpt.safetensors"
    cr.save({"a": np.zeros(1)}, path)
    monkeypatch.setattr(crio, "_MAX_HEADER", 4000)  # stands for 100 MB: a history of 15 million floats
    with pytest.raises(ArgumentError, match="header"):
        cr.save({"history": [0.5] * 2000}, path)
    assert list(cr.load(path)) == ["a"] and os.listdir(tmp_path) == ["ckpt.safetensors"]
    cr.save({"history": [0.5] * 200}, path)
    assert cr.load(path)["history"] == [0.5] * 200


def test_a_numpy_string_is_saved_as_a_string(tmp_path):
    path = tmp_path / "c.safetensors"
    labels = np.array(["adam", "sgd"])
    cr.save({"optimizer": labels[0], "names": list(labels)}, path)
    back = cr.load(path)
    assert back == {"optimizer": "adam", "names": ["adam", "sgd"]} and type(back["optimizer"]) is str


def test_a_name_the_safetensors_library_cannot_read_is_refused(tmp_path):
    path = tmp_path / "s.safetensors"
    for obj, meta in (
        ({"w\udc80": np.ones(1)}, None),
        ({"w": np.ones(1)}, {"k": "\ud800"}),
        ({"m": {"w\udc80": np.ones(1)}}, None),
    ):
        with pytest.raises(ArgumentError, match="not valid Unicode"):
            cr.save(obj, path, metadata=meta)
    assert not path.exists()
    cr.save({"tree": {"key \udc80": "value \ud800"}}, path)  # inside the tree's JSON text: escaped, fine
    assert cr.load(path) == {"tree": {"key \udc80": "value \ud800"}}
    stn = pytest.importorskip("safetensors.numpy")
    assert stn.load_file(str(path)) == {}
