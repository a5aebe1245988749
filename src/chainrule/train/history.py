"""History: one record per epoch (loss, metrics, validation loss and metrics, lr, time), saved as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import os

from .._atomic import atomic_write
from ..errors import ArgumentError, FileFormatError, MissingFileError


def _clean(v):
    """Plain JSON values: NumPy numbers become Python numbers, NaN and inf become None."""
    if hasattr(v, "item") and not isinstance(v, (list, dict)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class History:
    """The per-epoch records of a training run, in order.

    Each record is a dict such as ``{'epoch': 3, 'loss': 0.21, 'accuracy': 0.93, 'val_loss': 0.25,
    'val_accuracy': 0.91, 'lr': 0.01, 'time': 1.7}`` (epochs count from 1). ``history['loss']`` is the
    list of one key over the epochs (None where an epoch lacks it).

    >>> h = History([{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}])
    >>> h["loss"], len(h), h.last["epoch"]
    ([0.5, 0.25], 2, 2)
    """

    def __init__(self, records=None) -> None:
        self.records: list[dict] = [dict(r) for r in (records or [])]

    def append(self, record: dict) -> None:
        self.records.append(dict(record))

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def __getitem__(self, key):
        if isinstance(key, (int, slice)):
            return self.records[key]
        return [r.get(key) for r in self.records]

    def __contains__(self, key) -> bool:
        return any(key in r for r in self.records)

    def keys(self) -> list:
        """Every key that some record has, in order of first appearance."""
        out: dict = {}
        for r in self.records:
            out.update(dict.fromkeys(r))
        return list(out)

    @property
    def history(self) -> dict:
        """Keras-style ``{key: [value per epoch]}``."""
        return {k: self[k] for k in self.keys()}

    @property
    def last(self) -> dict | None:
        return self.records[-1] if self.records else None

    def best(self, monitor: str = "val_loss", mode: str = "min") -> dict | None:
        """The record with the lowest (mode 'min') or highest ('max') value of ``monitor``."""
        if mode not in ("min", "max"):
            raise ArgumentError(f"History.best: mode must be 'min' or 'max', got {mode!r}")
        rows = [r for r in self.records
                if isinstance(r.get(monitor), numbers.Real) and not math.isnan(float(r[monitor]))]
        if not rows:
            return None
        pick = min if mode == "min" else max
        return pick(rows, key=lambda r: r[monitor])

    def __repr__(self) -> str:
        return f"History({len(self)} epochs, keys={self.keys()})"

    # ------------------------------------------------------------------------------------ files
    def to_json(self, path) -> None:
        """Write ``{"epochs": [record, ...]}`` as JSON, one record a line, atomically (NaN and inf become null)."""
        text = json_text(self.records)
        with atomic_write(path, "w") as f:
            f.write(text)

    def to_csv(self, path) -> None:
        """Write one row per epoch with a header row of every key, atomically."""
        text = csv_text(self.records, self.keys())
        with atomic_write(path, "w", newline="") as f:
            f.write(text)

    @classmethod
    def from_json(cls, path) -> History:
        """Read a file written by :meth:`to_json` (a bare list of records is accepted too)."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            raise MissingFileError(f"no such history file: {path}") from None
        except (ValueError, RecursionError) as e:
            raise FileFormatError(f"{path} is not a JSON history file ({type(e).__name__}: {e})") from None
        rows = data.get("epochs") if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise FileFormatError(f"{path} is not a history file: expected {{'epochs': [{{...}}, ...]}}")
        return cls(rows)

    @classmethod
    def from_csv(cls, path) -> History:
        """Read a file written by :meth:`to_csv`; numbers come back as int or float, blanks as None."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8", newline="") as f:
                rows = list(csv.DictReader(f))
        except FileNotFoundError:
            raise MissingFileError(f"no such history file: {path}") from None
        except (csv.Error, UnicodeDecodeError) as e:
            raise FileFormatError(f"{path} is not a CSV history file ({e})") from None
        return cls([{k: _parse(v) for k, v in r.items() if k is not None} for r in rows])


JSON_HEAD, JSON_TAIL = '{"epochs": [\n', "\n]}\n"


def json_record(record: dict) -> str:
    """One record as a line of JSON (no newline), NaN and inf as null."""
    return json.dumps({k: _clean(v) for k, v in record.items()}, allow_nan=False)


def json_text(records) -> str:
    """The JSON file of :meth:`History.to_json`: ``{"epochs": [`` then one record a line, then ``]}``.

    One record a line lets :class:`~chainrule.train.JSONLogger` add a record by rewriting only the tail.

    >>> print(json_text([{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": float("nan")}]), end="")
    {"epochs": [
    {"epoch": 1, "loss": 0.5},
    {"epoch": 2, "loss": null}
    ]}
    """
    return JSON_HEAD + ",\n".join(json_record(r) for r in records) + JSON_TAIL


def csv_text(records, fieldnames: list, header: bool = True) -> str:
    """CSV lines of ``records`` under ``fieldnames`` (blank where a record lacks a key or holds NaN/inf)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fieldnames, lineterminator="\n")
    if header:
        w.writeheader()
    for r in records:
        w.writerow({k: ("" if _clean(v) is None else _clean(v)) for k, v in r.items()})
    return buf.getvalue()


def _parse(v):
    if v is None or v == "":
        return None
    for kind in (int, float):
        try:
            return kind(v)
        except ValueError:
            pass
    return v
