"""History: records, JSON/CSV files (atomic, NaN-safe) and reading them back."""

import json
import math

import numpy as np
import pytest

from chainrule.errors import FileFormatError, MissingFileError
from chainrule.train import History


def _history():
    return History([{"epoch": 1, "loss": 0.5, "accuracy": 0.8, "lr": 0.1, "time": 1.25},
                    {"epoch": 2, "loss": np.float32(0.25), "accuracy": 0.9, "val_loss": math.nan, "lr": 0.05,
                     "time": 1.0}])


def test_access():
    h = _history()
    assert len(h) == 2 and h["loss"] == [0.5, np.float32(0.25)] and h["val_loss"] == [None, h[1]["val_loss"]]
    assert h.keys() == ["epoch", "loss", "accuracy", "lr", "time", "val_loss"]
    assert h.best("loss")["epoch"] == 2 and h.best("accuracy", mode="max")["epoch"] == 2
    assert h.best("missing") is None and "val_loss" in h and h.history["epoch"] == [1, 2]
    assert "2 epochs" in repr(h)


def test_json_round_trip(tmp_path):
    h = _history()
    h.to_json(tmp_path / "h.json")
    raw = json.loads((tmp_path / "h.json").read_text())  # strict JSON: NaN became null
    assert raw["epochs"][1]["val_loss"] is None and isinstance(raw["epochs"][1]["loss"], float)
    back = History.from_json(tmp_path / "h.json")
    assert back["loss"] == [0.5, 0.25] and back["val_loss"] == [None, None]
    assert History.from_json(tmp_path / "h.json").records == back.records
    (tmp_path / "list.json").write_text(json.dumps([{"epoch": 1}]))
    assert History.from_json(tmp_path / "list.json")["epoch"] == [1]


def test_csv_round_trip(tmp_path):
    h = _history()
    h.to_csv(tmp_path / "h.csv")
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,lr,time,val_loss" and lines[2].endswith(",")
    back = History.from_csv(tmp_path / "h.csv")
    assert back["epoch"] == [1, 2] and back["loss"] == [0.5, 0.25] and back["val_loss"] == [None, None]


def test_bad_files(tmp_path):
    with pytest.raises(MissingFileError):
        History.from_json(tmp_path / "none.json")
    with pytest.raises(MissingFileError):
        History.from_csv(tmp_path / "none.csv")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(FileFormatError):
        History.from_json(tmp_path / "bad.json")
    (tmp_path / "odd.json").write_text('{"epochs": 3}')
    with pytest.raises(FileFormatError):
        History.from_json(tmp_path / "odd.json")
