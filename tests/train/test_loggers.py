"""CSVLogger / JSONLogger: one small write per epoch, valid files, Keras's append (QA2 practice #5, #6)."""

import csv
import json
import os

import numpy as np
import pytest

from chainrule import nn, optim, train
from chainrule.errors import ArgumentError, MissingFileError


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def _fit(callbacks, epochs=3, **kw):
    x, y = _data()
    model = nn.Linear(3, 2)
    return train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=epochs,
                     callbacks=callbacks, verbose=False, **kw)


class _Inspect(train.Callback):
    """After the logger: the file's inode and whether it parses, every epoch."""

    def __init__(self, path, parse):
        self.path, self.parse, self.inodes, self.lengths = path, parse, [], []

    def on_epoch_end(self, epoch, logs):
        self.inodes.append(os.stat(self.path).st_ino)
        self.lengths.append(len(self.parse(self.path)))


def _csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _json_rows(path):
    with open(path) as f:
        return json.load(f)["epochs"]


@pytest.mark.parametrize("logger,parse", [(train.CSVLogger, _csv_rows), (train.JSONLogger, _json_rows)])
def test_each_epoch_adds_to_the_file_instead_of_rewriting_it(tmp_path, logger, parse):
    path = tmp_path / "log"
    path.write_text("old contents")
    spy = _Inspect(path, parse)
    h = _fit([logger(path), spy], epochs=6)
    assert spy.lengths == [1, 2, 3, 4, 5, 6]  # complete after every epoch
    assert len(set(spy.inodes)) == 1, "epochs 2.. must add to the file written at epoch 1, not replace it"
    back = train.History.from_csv(path) if logger is train.CSVLogger else train.History.from_json(path)
    assert back["epoch"] == h["epoch"] and back["loss"] == pytest.approx(h["loss"], rel=1e-12)


@pytest.mark.parametrize("logger", [train.CSVLogger, train.JSONLogger])
def test_append_keeps_the_earlier_sessions_rows(tmp_path, logger):
    path = tmp_path / "log"
    read = train.History.from_csv if logger is train.CSVLogger else train.History.from_json
    for _ in range(2):
        _fit([logger(path, append=True)])
    assert read(path)["epoch"] == [1, 2, 3, 1, 2, 3]  # Keras: the log grows
    _fit([logger(path, append=True)], epochs=5, initial_epoch=3)  # resuming after epoch 3: nothing dropped
    assert read(path)["epoch"] == [1, 2, 3, 1, 2, 3, 4, 5]
    _fit([logger(path, append=True)], epochs=4, initial_epoch=2)  # resumed after epoch 2: 3, 4, 5 are redone
    assert read(path)["epoch"] == [1, 2, 1, 2, 3, 4]
    _fit([logger(path)], epochs=2)  # no append: a new log
    assert read(path)["epoch"] == [1, 2]


def test_csv_header_grows_when_a_key_appears(tmp_path):
    class AddKey(train.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch >= 3:
                logs["extra"] = epoch * 10

    path = tmp_path / "log.csv"
    _fit([AddKey(), train.CSVLogger(path)], epochs=4)
    rows = _csv_rows(path)
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "lr", "time", "extra"]
    assert [r["extra"] for r in rows] == ["", "", "30", "40"]


@pytest.mark.parametrize("logger,parse", [(train.CSVLogger, _csv_rows), (train.JSONLogger, _json_rows)])
def test_a_file_changed_under_the_logger_is_written_whole(tmp_path, logger, parse):
    path = tmp_path / "log"

    class Meddle(train.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 2:
                os.remove(path)
            if epoch == 4:
                path.write_text("garbage")

    _fit([logger(path), Meddle()], epochs=6)
    assert [int(r["epoch"]) for r in parse(path)] == [1, 2, 3, 4, 5, 6]


def test_an_earlier_history_json_is_taken_over(tmp_path):
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"epochs": [{"epoch": 1, "loss": 1.0}]}, indent=4))  # another layout
    _fit([train.JSONLogger(path, append=True)], epochs=3, initial_epoch=1)
    assert [r["epoch"] for r in _json_rows(path)] == [1, 2, 3]


def test_paths_are_checked_before_training(tmp_path):
    with pytest.raises(ArgumentError, match="is a folder"):
        train.CSVLogger(tmp_path)
    with pytest.raises(MissingFileError, match="folder .* does not exist"):
        _fit([train.JSONLogger(tmp_path / "none" / "log.json")])
