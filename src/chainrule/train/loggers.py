"""CSVLogger and JSONLogger: the History of a run, written to a file as training goes.

How the files are written, and why: a log grows by one record per epoch, and small models are trained
for thousands of epochs, so an epoch must cost the same whatever the number of epochs before it. Both
loggers therefore write the whole file once (atomically: a temporary file renamed over the old one) and
then add each epoch as one small write:

- CSV: one line appended per epoch (Keras's CSVLogger does the same);
- JSON: the file is ``{"epochs": [`` then one record a line, then ``]}``; an epoch overwrites the closing
  ``]}`` with ``,`` + its record + ``]}``, so the file is complete JSON after every epoch.

Each update is one small write of a few hundred bytes, flushed to the operating system when the epoch
ends: a crash of the process keeps every finished epoch and never leaves half a record. There is no
fsync per epoch (a power cut may cost the last epochs); a file that is not as the logger left it
(removed, edited, replaced) is written again in whole, atomically, instead of being appended to.
The whole file is also rewritten, once, when a record brings a key the CSV header lacks.
"""

from __future__ import annotations

import csv
import os

from .._atomic import atomic_write
from ..errors import ArgumentError, MissingFileError
from .callbacks import Callback
from .history import JSON_HEAD, JSON_TAIL, History, csv_text, json_record, json_text


def _stat(path: str):
    """What identifies the file's state: (inode, size, modification time); None when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class _FileLogger(Callback):
    _read = "from_csv"

    def __init__(self, path, append: bool = False) -> None:
        self.path, self.append = os.fspath(path), bool(append)
        if os.path.isdir(self.path):
            raise ArgumentError(f"{type(self).__name__}: {self.path!r} is a folder; expected the path of a file")

    def on_train_begin(self, logs=None) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise MissingFileError(f"{type(self).__name__}: cannot write {self.path}: the folder {folder} does not "
                                   "exist")
        self._rows: list[dict] = []
        self._state = None  # the file's _stat as this logger last left it; None: write it whole next time
        if self.append and os.path.exists(self.path):
            old = getattr(History, self._read)(self.path).records
            start = self.params.get("initial_epoch", 0)
            # resuming after epoch `start`: the epochs after it are trained again, so their old rows go
            self._rows = [r for r in old if start == 0 or not isinstance(r.get("epoch"), int) or r["epoch"] <= start]
            if len(self._rows) == len(old) and self._can_grow():
                self._state = _stat(self.path)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        row = dict(logs)
        self._rows.append(row)
        if self._state is not None and _stat(self.path) == self._state:
            try:
                if self._add(row):
                    self._state = _stat(self.path)
                    return
            except OSError:
                pass  # e.g. a full disk: the atomic rewrite below either works or raises naming the file
        with atomic_write(self.path, "w", newline="") as f:
            f.write(self._text(self._rows))
        self._state = _stat(self.path)

    def _can_grow(self) -> bool:
        """Whether the existing file can take rows as it is (after ``_rows`` was read from it)."""
        raise NotImplementedError

    def _add(self, row: dict) -> bool:
        """Add ``row`` (already the last of ``_rows``) to the file; False when the whole file must be written."""
        raise NotImplementedError

    def _text(self, rows: list[dict]) -> str:
        raise NotImplementedError


class CSVLogger(_FileLogger):
    """Write the epochs' logs to a CSV file: a header row of the keys, then one row per epoch.

    The first epoch writes the file whole (atomically, replacing an old one); each later epoch appends
    its row, so an epoch costs the same after 10 epochs or 10,000 (see :mod:`chainrule.train.loggers`).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file; its folder must exist.
    append : bool
        Keep the rows already in the file and add this run's after them (Keras's meaning), instead of
        replacing the file. When fit resumes (``initial_epoch`` > 0), rows of the epochs after
        ``initial_epoch`` are dropped, since the resumed run trains those epochs again.

    >>> import os, tempfile, numpy as np
    >>> from chainrule import nn, optim, train
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> m = nn.Linear(2, 1); x = np.zeros((4, 2), np.float32); y = np.zeros((4, 1), np.float32)
    >>> for _ in range(2):
    ...     _ = train.fit(m, nn.MSELoss(), optim.SGD(m.parameters(), lr=0.1), (x, y), epochs=2, verbose=False,
    ...                   callbacks=[train.CSVLogger(path, append=True)])
    >>> train.History.from_csv(path)["epoch"]
    [1, 2, 1, 2]
    """

    _read = "from_csv"

    def on_train_begin(self, logs=None) -> None:
        self._header: list[str] | None = None
        super().on_train_begin(logs)

    def _can_grow(self) -> bool:
        with open(self.path, "rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() == 0:
                return False
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                return False
        with open(self.path, encoding="utf-8", newline="") as f:
            self._header = next(csv.reader(f), None)
        return bool(self._header)

    def _add(self, row: dict) -> bool:
        if self._header is None or not set(row) <= set(self._header):
            return False  # a new key: the header changes, the file is written whole
        with open(self.path, "a", encoding="utf-8", newline="") as f:
            f.write(csv_text([row], self._header, header=False))
        return True

    def _text(self, rows: list[dict]) -> str:
        self._header = History(rows).keys()
        return csv_text(rows, self._header)


class JSONLogger(_FileLogger):
    """Write the epochs' logs to a JSON file, ``{"epochs": [record, ...]}`` as ``History.to_json`` writes it.

    The file is complete JSON after every epoch. The first epoch writes it whole (atomically); each later
    epoch replaces only its closing ``]}`` with the new record and a new ``]}`` (one record a line), so an
    epoch costs the same after 10 epochs or 10,000. Why not JSON Lines: the file stays one JSON document
    that ``json.load`` and :meth:`History.from_json` read, as the CLI's ``history.json`` is; why not a
    rewrite per epoch: its cost grows with the epochs (see :mod:`chainrule.train.loggers`).

    Parameters
    ----------
    path : str or os.PathLike
        The JSON file; its folder must exist.
    append : bool
        Keep the records already in the file and add this run's (Keras's meaning); when fit resumes
        (``initial_epoch`` > 0), records of the epochs after ``initial_epoch`` are dropped.

    >>> import json, os, tempfile, numpy as np
    >>> from chainrule import nn, optim, train
    >>> path = os.path.join(tempfile.mkdtemp(), "log.json")
    >>> m = nn.Linear(2, 1); x = np.zeros((4, 2), np.float32); y = np.zeros((4, 1), np.float32)
    >>> _ = train.fit(m, nn.MSELoss(), optim.SGD(m.parameters(), lr=0.1), (x, y), epochs=3, verbose=False,
    ...               callbacks=[train.JSONLogger(path)])
    >>> [r["epoch"] for r in json.load(open(path))["epochs"]]
    [1, 2, 3]
    """

    _read = "from_json"

    def _can_grow(self) -> bool:
        head, tail = JSON_HEAD.encode(), JSON_TAIL.encode()
        with open(self.path, "rb") as f:
            start = f.read(len(head))
            f.seek(0, os.SEEK_END)
            if f.tell() < len(head) + len(tail):
                return False
            f.seek(-len(tail), os.SEEK_END)
            return start == head and f.read() == tail and len(self._rows) > 0

    def _add(self, row: dict) -> bool:
        data = (",\n" + json_record(row) + JSON_TAIL).encode()  # ASCII: json.dumps escapes the rest
        with open(self.path, "r+b") as f:
            f.seek(-len(JSON_TAIL), os.SEEK_END)
            f.write(data)
        return True

    def _text(self, rows: list[dict]) -> str:
        return json_text(rows)
