"""Tabular data from a CSV file with a header row: numeric features, one target column.

The target decides the task: integers or strings -> classification (labels mapped to 0..K-1 in sorted
order, the original values kept in ``classes``); real numbers -> regression (float32 targets of shape
(N, 1), ready for ``mse_loss`` against a ``Linear(..., 1)`` output). Features are standardised with
statistics of the training split only. Parsed with the standard library's ``csv`` module.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._files import read_bytes
from ..errors import ArgumentError, ArgumentTypeError, DataError, FileFormatError
from .dataset import split_indices
from .preprocessing import Standardizer

_F32_MAX = float(np.finfo(np.float32).max)


@dataclass
class TabularData:
    """A CSV file split into standardised training and test arrays.

    Attributes
    ----------
    x_train, x_test : float32 arrays of shape (N, D), standardised with the training statistics
    y_train, y_test : int64 (N,) class ids for classification; float32 (N, 1) for regression
    task : 'classification' or 'regression'
    classes : the original label of each class id (ints or strings); empty for regression
    feature_names : the D feature column names, in file order
    target : the target column's name
    standardizer : the fitted :class:`Standardizer` (apply it to new rows before predicting)
    path : the file read
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    classes: tuple
    feature_names: tuple[str, ...]
    target: str
    standardizer: Standardizer = field(repr=False)
    path: str = ""

    @property
    def num_features(self) -> int:
        return len(self.feature_names)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def _read_rows(path: Path) -> tuple[list[str], list[list[str]], list[int], int]:
    """Header, data rows, their line numbers and the header's line number; structural checks only."""
    raw = read_bytes(path, "CSV file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise FileFormatError(f"{path}, line {line}: not valid UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise FileFormatError(f"{path}: the file is empty; expected a header row naming the columns, then data rows")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, lines = [], []
    try:
        for row in reader:
            if row:  # blank lines are skipped
                rows.append([v.strip() for v in row])
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise FileFormatError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None
    if not rows:
        raise FileFormatError(f"{path}: the file holds no rows; expected a header row naming the columns")
    header, header_line = rows[0], lines[0]
    if all(_is_float(v) for v in header):
        raise FileFormatError(f"{path}, line {header_line}: no header row: the first row holds only numbers "
                              f"({', '.join(header[:5])}); the first row must name the columns")
    for i, name in enumerate(header):
        if not name:
            raise FileFormatError(f"{path}, line {header_line}: column {i + 1} of the header has no name")
        if name in header[:i]:
            raise FileFormatError(f"{path}, line {header_line}: the column name {name!r} appears twice")
    for row, line in zip(rows[1:], lines[1:]):
        if len(row) != len(header):
            raise DataError(f"{path}, line {line}: ragged row: {len(row)} fields, but the header has "
                            f"{len(header)} columns")
    return header, rows[1:], lines[1:], header_line


def _is_float(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _is_int(v: str) -> bool:
    try:
        int(v)
    except ValueError:
        return False
    return True


def _parse_features(path: Path, names: list[str], cells: list[list[str]], lines: list[int]) -> np.ndarray:
    try:
        x = np.array(cells, dtype=np.str_).astype(np.float64)
    except (ValueError, OverflowError):
        x = None
    if x is None:  # find the first bad cell for the message
        for row, line in zip(cells, lines):
            for name, v in zip(names, row):
                if not _is_float(v):
                    what = "an empty field (missing value)" if not v else f"the non-numeric value {v!r}"
                    raise DataError(f"{path}, line {line}: feature column {name!r} holds {what}; "
                                    f"features must be numbers")
        x = np.array([[float(v) for v in row] for row in cells], dtype=np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{path}, line {lines[r]}: feature column {names[c]!r} holds {cells[r][c]!r} "
                        f"(NaN or infinite); remove or fill such values first")
    return x


def _parse_target(path: Path, name: str, values: list[str], lines: list[int], task: str | None):
    for v, line in zip(values, lines):
        if not v:
            raise DataError(f"{path}, line {line}: the target column {name!r} is empty (missing label)")
        if _is_float(v) and not math.isfinite(float(v)):
            raise DataError(f"{path}, line {line}: the target column {name!r} holds {v!r} (NaN or infinite)")
    numeric = all(_is_float(v) for v in values)
    if task is None:
        task = "regression" if numeric and not all(_is_int(v) for v in values) else "classification"
    if task == "regression":
        if not numeric:
            line, v = next((ln, v) for v, ln in zip(values, lines) if not _is_float(v))
            raise DataError(f"{path}, line {line}: regression target {name!r} holds the non-numeric value {v!r}")
        y = np.array([float(v) for v in values], dtype=np.float64)
        if np.abs(y).max() > _F32_MAX:
            raise DataError(f"{path}: the target column {name!r} holds values beyond the float32 range")
        return task, y.astype(np.float32).reshape(-1, 1), ()
    if all(_is_int(v) for v in values):
        keys = [int(v) for v in values]
    elif numeric:
        keys = [float(v) for v in values]
    else:
        keys = values
    classes = tuple(sorted(set(keys)))
    index = {c: i for i, c in enumerate(classes)}
    return task, np.array([index[k] for k in keys], dtype=np.int64), classes


def load_csv(path: str | os.PathLike, target: str, test_fraction: float = 0.2, seed: int | None = 0,
             task: str | None = None) -> TabularData:
    """Load a CSV file with a header row into standardised training and test arrays.

    Parameters
    ----------
    path : path
        UTF-8 CSV file; the first non-blank row names the columns; blank lines are skipped.
    target : str
        Name of the label column; every other column is a numeric feature.
    test_fraction : float in (0, 1)
        Share of rows held out for testing (stratified by class for classification).
    seed : int or None
        Seed of the split.
    task : {'classification', 'regression'}, optional
        Override the guess (integers or strings -> classification, real numbers -> regression).

    Returns
    -------
    TabularData
        Classification: y int64 (N,) in 0..K-1, ``classes[k]`` the original label of class k.
        Regression: y float32 (N, 1), unscaled.

    Raises
    ------
    MissingFileError, FileFormatError (empty file, no header, bad encoding), DataError (missing target
    column, ragged rows, non-numeric or NaN/inf values, too few rows), each naming the file and line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "iris.csv"
    >>> _ = p.write_text("a,b,kind\\n1,2,x\\n2,1,y\\n3,3,x\\n4,0,y\\n0,5,x\\n")
    >>> d = load_csv(p, target="kind", test_fraction=0.4)
    >>> d.task, d.classes, d.x_train.shape, d.y_test.dtype
    ('classification', ('x', 'y'), (3, 2), dtype('int64'))
    """
    if not isinstance(target, str):
        raise ArgumentTypeError(f"load_csv: target must be a column name (str), got {type(target).__name__}")
    if task not in (None, "classification", "regression"):
        raise ArgumentError(f"load_csv: task must be 'classification', 'regression' or None, got {task!r}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ArgumentError(f"load_csv: test_fraction must lie strictly between 0 and 1, got {test_fraction!r}")
    path = Path(os.fspath(path)).expanduser()
    header, rows, lines, header_line = _read_rows(path)
    if target not in header:
        raise DataError(f"{path}: no target column {target!r}; the columns are: {', '.join(header)}")
    t = header.index(target)
    names = header[:t] + header[t + 1:]
    if not names:
        raise DataError(f"{path}: the only column is the target {target!r}; expected feature columns too")
    if len(rows) < 2:
        raise DataError(f"{path}: too few rows to split into training and test sets: {len(rows)} data row(s) "
                        f"after the header on line {header_line}, need at least 2")
    x = _parse_features(path, names, [r[:t] + r[t + 1:] for r in rows], lines)
    task, y, classes = _parse_target(path, target, [r[t] for r in rows], lines, task)
    train, test = split_indices(len(rows), test_fraction, seed, y if task == "classification" else None,
                                where="load_csv")
    scaler = Standardizer()
    try:
        scaler.fit(x[train])
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    with np.errstate(over="ignore", invalid="ignore"):
        x_train, x_test = scaler.transform(x[train]), scaler.transform(x[test])
    for part in (x_train, x_test):
        if not (np.isfinite(part).all() and np.abs(part).max(initial=0.0) <= _F32_MAX):
            raise DataError(f"{path}: feature values too large to standardise in float32")
    return TabularData(x_train.astype(np.float32), y[train], x_test.astype(np.float32), y[test], task, classes,
                       tuple(names), target, scaler, str(path))
