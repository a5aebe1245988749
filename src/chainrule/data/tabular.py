"""Tabular data from a CSV file with a header row: numeric features, one target column.

The target decides the task: integers or strings -> classification (labels mapped to 0..K-1 in sorted
order, the original values kept in ``classes``); real numbers -> regression (float32 targets of shape
(N, 1), ready for ``mse_loss`` against a ``Linear(..., 1)`` output). Features are standardised with
statistics of the training split only. The field separator is sniffed from the header line (',', ';' or
a tab). Files are parsed column-wise by ``np.loadtxt`` (no Python string per cell), quoted fields included;
files with a bad value, a ragged row or a separator inside quotes go through the standard library's ``csv``
module, whose errors name the line.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._files import read_bytes
from ..backend import check_seed
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
    standardizer : the fitted :class:`Standardizer` (:meth:`read_features` applies it to new rows)
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

    def read_features(self, path: str | os.PathLike) -> np.ndarray:
        """The rows of another CSV file, ready for the model trained on this data: its columns named in
        ``feature_names`` (in any order; others, the target included, are ignored), standardised with the
        training statistics, as float32 of shape (N, D).

        Raises MissingFileError, FileFormatError, or DataError (a missing feature column, a non-numeric,
        NaN or infinite value), each naming the file and, for a bad value, its line.

        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "train.csv").write_text("a,b,kind\\n1,2,x\\n2,1,y\\n3,3,x\\n4,0,y\\n0,5,x\\n")
        >>> _ = (d / "new.csv").write_text("b,a\\n2,1\\n0,4\\n")  # no target column, columns swapped
        >>> data = load_csv(d / "train.csv", target="kind", test_fraction=0.4)
        >>> x = data.read_features(d / "new.csv")
        >>> x.shape, x.dtype
        ((2, 2), dtype('float32'))
        """
        path = Path(os.fspath(path)).expanduser()
        return _standardised(path, self.standardizer, read_features(path, list(self.feature_names)))[0]


_DELIMITERS = (",", ";", "\t")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


@dataclass
class _Table:
    """A decoded CSV file: its text, header row, the header's line number and the field separator."""

    path: Path
    text: str
    header: list[str]
    header_line: int
    delimiter: str


def _sniff(line: str) -> str:
    """The field separator of a header line: ',' if it holds one, else ';' or a tab, whichever it holds more;
    separators inside double quotes ("price, EUR";b;y) do not count."""
    line = re.sub(r'"[^"]*"', "", line)  # a quoted name with "" inside leaves two quoted pieces: removed too
    if "," in line:
        return ","
    counts = {d: line.count(d) for d in _DELIMITERS[1:]}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _lines(text: str):
    """The lines of ``text`` with their endings, without copying it (``io.StringIO`` holds 4 bytes a character)."""
    if text.count("\r") != text.count("\r\n"):  # old Mac line ends: let io split them
        yield from io.StringIO(text, newline="")
        return
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        yield text[start:end]
        start = end


def _open_table(path: Path) -> _Table:
    """Read, decode and check the header of a CSV file; the separator is sniffed from the header line."""
    raw = read_bytes(path, "CSV file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise FileFormatError(f"{path}, line {line}: not valid UTF-8 text ({exc.reason} at byte {exc.start})") from None
    del raw
    if not text.strip():
        raise FileFormatError(f"{path}: the file is empty; expected a header row naming the columns, then data rows")
    first = next(line for line in _lines(text) if line.strip())
    delimiter = _sniff(first)
    reader = csv.reader(_lines(text), delimiter=delimiter)
    header = None
    try:
        for row in reader:
            if row:
                header = [v.strip() for v in row]
                break
    except csv.Error as exc:
        raise FileFormatError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None
    if header is None:
        raise FileFormatError(f"{path}: the file holds no rows; expected a header row naming the columns")
    header_line = reader.line_num
    if all(_is_float(v) for v in header):
        raise FileFormatError(f"{path}, line {header_line}: no header row: the first row holds only numbers "
                              f"({', '.join(header[:5])}); the first row must name the columns")
    seen: set[str] = set()  # a set, not header[:i]: a wide table (80,000 columns) is checked in linear time
    for i, name in enumerate(header):
        if not name:
            raise FileFormatError(f"{path}, line {header_line}: column {i + 1} of the header has no name")
        if name in seen:
            raise FileFormatError(f"{path}, line {header_line}: the column name {name!r} appears twice")
        seen.add(name)
    return _Table(path, text, header, header_line, delimiter)


def _rows(table: _Table) -> tuple[list[list[str]], list[int]]:
    """The data rows (values stripped, blank lines skipped) and their line numbers; ragged rows are an error."""
    path, header = table.path, table.header
    reader = csv.reader(_lines(table.text), delimiter=table.delimiter)
    rows, lines = [], []
    try:
        for row in reader:
            if row and reader.line_num > table.header_line:
                rows.append([v.strip() for v in row])
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise FileFormatError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            hint = ""
            if table.delimiter == "," and len(row) > len(header) and any(";" in v for v in row):
                hint = "; the file looks semicolon-separated: its header must use ';' too"
            elif table.delimiter == "," and len(row) > len(header):
                hint = ("; numbers written with a decimal comma (1,5) split into two fields: use a decimal "
                        "point (1.5)")
            raise DataError(f"{path}, line {line}: ragged row: {len(row)} fields, but the header has "
                            f"{len(header)} columns{hint}")
    return rows, lines


def _read_rows(path: Path) -> tuple[list[str], list[list[str]], list[int], int]:
    """Header, data rows, their line numbers and the header's line number; structural checks only."""
    table = _open_table(path)
    rows, lines = _rows(table)
    return table.header, rows, lines, table.header_line


def _fast_columns(table: _Table, feature_idx: list[int], target_idx: int | None):
    """(features float64 (N, D), target strings (N,) or None) parsed by NumPy without a Python string per cell.

    None when the file needs the careful path (which names the line in its errors): stray carriage returns,
    a bad value, a ragged row, a separator inside quotes. Quoted fields (R's ``write.csv`` quotes strings)
    are read here, by ``quotechar='"'`` with the ``csv`` module's rules ("" in quotes is one quote).
    """
    text, d = table.text, table.delimiter
    if text.count("\r") != text.count("\r\n"):
        return None
    body = 0  # where the data rows start
    for _ in range(table.header_line):
        body = text.find("\n", body) + 1
        if body == 0:
            return None
    if text.find("\x00", body) >= 0:
        return None
    quoted = text.find('"', body) >= 0
    kw = {"delimiter": d, "skiprows": table.header_line, "comments": None, "quotechar": '"' if quoted else None,
          "encoding": "utf-8-sig"}
    ncol = len(table.header)
    try:  # NumPy reads the file again in chunks: cheaper than any copy of the text
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = np.loadtxt(table.path, dtype=np.float64, usecols=feature_idx, ndmin=2, **kw)
            y = None
            if target_idx is not None:
                y = np.loadtxt(table.path, dtype=np.str_, usecols=[target_idx], ndmin=1, **kw)
    except (ValueError, IndexError, TypeError, OSError):
        return None
    if len(x) == 0 or x.shape[1] != len(feature_idx) or (y is not None and len(y) != len(x)):
        return None
    # every column was read from every row; with this many separators in all, no row has more (or quotes hold one)
    if text.count(d, body) != (ncol - 1) * len(x):
        return None
    if not np.isfinite(x).all():
        return None
    if y is not None:
        y = np.char.strip(y)
    return x, y


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


def _parse_features(path: Path, names: list[str], cells: list[list[str]], lines: list[int],
                    delimiter: str = ",") -> np.ndarray:
    """Float64 features from rows of strings, one column at a time; errors name the line and column."""
    x = np.empty((len(cells), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        try:
            x[:, j] = np.array([row[j] for row in cells], dtype=np.float64)
            continue
        except (ValueError, OverflowError):
            pass
        for row, line in zip(cells, lines):
            v = row[j]
            if not _is_float(v):
                what = "an empty field (missing value)" if not v else f"the non-numeric value {v!r}"
                hint = ""
                if _DECIMAL_COMMA.fullmatch(v):
                    hint = " (a decimal comma? write numbers with a decimal point, e.g. 1.5)"
                elif v:
                    hint = (f"; if it is not a feature (an id, a name), leave it out: --ignore {name} (ignore= in "
                            "load_csv)")
                raise DataError(f"{path}, line {line}: feature column {name!r} holds {what}; "
                                f"features must be numbers{hint}")
        x[:, j] = [float(row[j]) for row in cells]
    bad = ~np.isfinite(x)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{path}, line {lines[r]}: feature column {names[c]!r} holds {cells[r][c]!r} "
                        f"(NaN or infinite); remove or fill such values first")
    return x


# an integer target guessed as classes, with more distinct values than this and than half its rows, is refused
# as probably a quantity (see _parse_target)
_MANY_CLASSES = 20


def _parse_target(path: Path, name: str, values, lines: list[int] | None, task: str | None):
    """(task, y, classes): float64 (N, 1) targets for regression, int64 class ids for classification."""
    values = np.asarray(values, dtype=np.str_) if len(values) else np.zeros(0, dtype="<U1")

    def line_of(i: int):
        return lines[i] if lines is not None else "?"

    empty = np.flatnonzero(values == "")
    if len(empty):
        raise DataError(f"{path}, line {line_of(empty[0])}: the target column {name!r} is empty (missing label)")
    try:
        f = values.astype(np.float64)
        numeric = True
    except (ValueError, OverflowError):
        f, numeric = None, False
    uniq, inverse = np.unique(values, return_inverse=True)
    if not numeric:  # a mix of words and numbers: the numbers must still be finite
        for u in uniq:
            if _is_float(u) and not math.isfinite(float(u)):
                i = int(np.flatnonzero(values == u)[0])
                raise DataError(f"{path}, line {line_of(i)}: the target column {name!r} holds {str(u)!r} "
                                f"(NaN or infinite)")
    elif not np.isfinite(f).all():
        i = int(np.flatnonzero(~np.isfinite(f))[0])
        raise DataError(f"{path}, line {line_of(i)}: the target column {name!r} holds {str(values[i])!r} "
                        f"(NaN or infinite)")
    ints = numeric and all(_is_int(u) for u in uniq)
    if task is None:
        words = [u for u in uniq if not _is_float(u)]
        if words and len(words) < len(uniq):  # numbers with a stray word ("NA", "?"): a missing value, not a class
            i = int(np.flatnonzero(values == words[0])[0])
            raise DataError(f"{path}, line {line_of(i)}: the target column {name!r} holds numbers and the word "
                            f"{str(words[0])!r}; remove or fill that row, or ask for classification (--task "
                            "classification, task='classification') if the words are classes too")
        task = "regression" if numeric and not ints else "classification"
        if ints and len(uniq) > max(_MANY_CLASSES, len(values) // 2):
            # whole numbers, nearly all different (a price, a count): classes with one sample each teach nothing
            raise DataError(f"{path}: the target column {name!r} holds whole numbers with {len(uniq)} distinct values "
                            f"in {len(values)} rows, too many to be classes; if it is a quantity, ask for "
                            "regression (--task regression, task='regression'); if these are classes, ask for "
                            "classification")
    if task == "regression":
        if not numeric:
            i = next(i for i, v in enumerate(values) if not _is_float(v))
            raise DataError(f"{path}, line {line_of(i)}: regression target {name!r} holds the non-numeric value "
                            f"{str(values[i])!r}")
        if np.abs(f).max(initial=0.0) > _F32_MAX:
            raise DataError(f"{path}: the target column {name!r} holds values beyond the float32 range")
        return task, f.reshape(-1, 1), ()
    if ints:
        keys = [int(u) for u in uniq]
    elif numeric:
        keys = [float(u) for u in uniq]
    else:
        keys = [str(u) for u in uniq]
    classes = tuple(sorted(set(keys)))
    index = {c: i for i, c in enumerate(classes)}
    ids = np.array([index[k] for k in keys], dtype=np.int64)
    return task, ids[inverse.reshape(-1)], classes


@dataclass
class _Parsed:
    """A CSV file parsed but not split: raw float64 features and the target."""

    x: np.ndarray
    y: np.ndarray
    task: str
    classes: tuple
    names: list[str]
    header_line: int


def _read_table(path: Path, target: str, task: str | None, ignore=(), only=None) -> _Parsed:
    """Parse a CSV file into raw float64 features (file order) and its target (see :func:`load_csv`).

    The features are every column but the target and those in ``ignore`` (which must exist), or, with
    ``only``, the columns named there that the file has (a trained run's features; the caller checks that
    none is missing). Columns left out are never parsed: they may hold words (ids, names, notes).
    """
    table = _open_table(path)
    header = table.header
    if target not in header:
        hint = ""
        if len(header) == 1 and any(c in header[0] for c in ";\t|"):
            hint = "; is the file separated by another character? chainrule reads ',', ';' or tab separators"
        raise DataError(f"{path}: no target column {target!r}; the columns are: {', '.join(header)}{hint}")
    t = header.index(target)
    unknown = [c for c in ignore if c not in header]
    if unknown:
        raise DataError(f"{path}: cannot ignore column(s) {', '.join(unknown)}: no such column; the columns are: "
                        f"{', '.join(header)}")
    if target in ignore:
        raise DataError(f"{path}: the target column {target!r} cannot also be ignored")
    feature_idx = [i for i, c in enumerate(header) if i != t and c not in ignore and (only is None or c in only)]
    names = [header[i] for i in feature_idx]
    if not names:
        raise DataError(f"{path}: no feature columns besides the target {target!r}"
                        + (f" and the ignored {', '.join(ignore)}" if ignore else "") + "; expected some")
    fast = _fast_columns(table, feature_idx, t)
    if fast is not None and len(fast[0]) >= 2:
        x, values = fast
        try:
            task_, y, classes = _parse_target(path, target, values, None, task)
            return _Parsed(x, y, task_, classes, names, table.header_line)
        except DataError:
            pass  # the careful path below names the line
    rows, lines = _rows(table)
    if not rows:  # one row is enough to score a file; _split asks for two to make training and test sets
        raise DataError(f"{path}: no data rows after the header on line {table.header_line}")
    x = _parse_features(path, names, [[r[i] for i in feature_idx] for r in rows], lines, table.delimiter)
    task_, y, classes = _parse_target(path, target, [r[t] for r in rows], lines, task)
    return _Parsed(x, y, task_, classes, names, table.header_line)


def read_features(path, names: list[str]) -> np.ndarray:
    """The columns ``names`` of a CSV file (any order, extra columns ignored) as raw float64 (N, D) features."""
    path = Path(os.fspath(path)).expanduser()
    table = _open_table(path)
    column = {name: i for i, name in enumerate(table.header)}  # names are unique (checked by _open_table)
    missing = [n for n in names if n not in column]
    if missing:
        raise DataError(f"{path}: missing feature column(s) {', '.join(missing)}; the model needs the "
                        f"columns {', '.join(names)}")
    idx = [column[n] for n in names]
    fast = _fast_columns(table, idx, None)
    if fast is not None:
        return fast[0]
    rows, lines = _rows(table)
    if not rows:
        raise DataError(f"{path}: no data rows after the header")
    return _parse_features(path, list(names), [[r[i] for i in idx] for r in rows], lines, table.delimiter)


def load_csv(path: str | os.PathLike, target: str, test_fraction: float = 0.2, seed: int | None = 0,
             task: str | None = None, ignore=()) -> TabularData:
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
        Seed of the split; None draws it from chainrule's global generator (``cr.manual_seed``).
    task : {'classification', 'regression'}, optional
        Override the guess (integers or strings -> classification, real numbers -> regression).
    ignore : str or sequence of str
        Columns that are not features (an id, a name, a free-text note): never read, never used.

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
    check_seed(seed, "load_csv")
    ignore = column_names(ignore, "load_csv: ignore")
    path = Path(os.fspath(path)).expanduser()
    d = _load_table(path, target, test_fraction, seed, task, ignore)
    if d.task == "regression":
        d = dataclasses.replace(d, y_train=d.y_train.astype(np.float32), y_test=d.y_test.astype(np.float32))
    return d


def _split(p: _Parsed, path: Path, test_fraction: float, seed) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) row indices of a parsed file, stratified by class for classification."""
    n = len(p.x)
    if n < 2:
        raise DataError(f"{path}: too few rows to split into training and test sets: {n} data row(s) "
                        f"after the header on line {p.header_line}, need at least 2")
    return split_indices(n, test_fraction, seed, p.y if p.task == "classification" else None, where="load_csv")


def column_names(v, where: str) -> tuple:
    """Column names given as one str or a sequence of str, as a tuple (an ArgumentTypeError otherwise)."""
    names = (v,) if isinstance(v, str) else v
    try:
        names = tuple(names)
    except TypeError:
        names = None
    if names is None or not all(isinstance(c, str) and c for c in names):
        raise ArgumentTypeError(f"{where} must be a column name or a list of column names, got {v!r}")
    return names


def _load_table(path: Path, target: str, test_fraction: float, seed, task: str | None, ignore=()) -> TabularData:
    """:func:`load_csv` with float64 regression targets (the command line centres them in float64)."""
    p = _read_table(path, target, task, ignore)
    train, test = _split(p, path, test_fraction, seed)
    x = p.x
    scaler = Standardizer()
    try:
        scaler.fit(x[train])
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    x_train, x_test = _standardised(path, scaler, x[train], x[test])
    return TabularData(x_train, p.y[train], x_test, p.y[test], p.task, p.classes, tuple(p.names), target, scaler,
                       str(path))


def _standardised(path: Path, scaler: Standardizer, *parts: np.ndarray) -> list[np.ndarray]:
    """The float64 feature blocks standardised by the fitted ``scaler``, as float32; a DataError naming the
    file if a value leaves float32's range."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = [scaler.transform(part) for part in parts]
    for part in out:
        if not (np.isfinite(part).all() and np.abs(part).max(initial=0.0) <= _F32_MAX):
            raise DataError(f"{path}: feature values too large to standardise in float32")
    return [part.astype(np.float32) for part in out]
