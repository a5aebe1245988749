"""The data side of ``chainrule`` runs: load a run's dataset, and read new inputs for ``chainrule predict``.

Every dataset comes back as a :class:`RunData` with float32 inputs, labels (int64 class ids) or targets
(float64 of shape (N, 1), unscaled: the runner centres and scales them in float64), and the facts a run
folder's ``config.toml`` needs to rebuild the pipeline: input shape, number of outputs, class names, and
for CSV files the feature names and standardizer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._runconfig import NOISE, dataset_kind
from .errors import ArgumentError, DataError, FileFormatError, MissingFileError, ShapeError

_MAKERS = {"moons": "make_moons", "circles": "make_circles", "spirals": "make_spirals", "xor": "make_xor"}


@dataclass
class RunData:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str  # 'classification' or 'regression'
    classes: list = field(default_factory=list)  # class names as strings
    feature_names: list = field(default_factory=list)
    standardizer: dict | None = None  # {'mean': [...], 'scale': [...]} for CSV features
    y_test_units: np.ndarray | None = None  # regression: the float64 test targets in their own units

    @property
    def input_shape(self) -> tuple:
        return tuple(int(s) for s in self.x_train.shape[1:])

    @property
    def num_outputs(self) -> int:
        return len(self.classes) if self.task == "classification" else 1

    def meta(self) -> dict:
        """What ``config.toml`` records under [data] to rebuild the model and read new inputs."""
        m = {"task": self.task, "input_shape": list(self.input_shape), "num_outputs": self.num_outputs}
        if self.classes:
            m["classes"] = list(self.classes)
        if self.feature_names:
            m["feature_names"] = list(self.feature_names)
        if self.standardizer:
            m["standardizer_mean"] = list(self.standardizer["mean"])
            m["standardizer_scale"] = list(self.standardizer["scale"])
        return m


def _check_finite(name: str, *arrays) -> None:
    for a in arrays:
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise DataError(f"dataset {name}: the data holds NaN or inf values")


def _task_choice(d: dict) -> str | None:
    task = d.get("task")
    return None if task in (None, "auto") else task


def load_run_data(cfg: dict, run_meta: dict | None = None, whole_file: bool = False) -> RunData:
    """Load the dataset that ``cfg['data']`` describes, split into training and test parts.

    With ``run_meta`` (the [data] table of a trained run), a CSV file's columns are matched to the run's
    features by name, standardised with the run's statistics, and its labels matched to the run's classes
    by name. ``whole_file`` (a CSV file other than the run's own) puts every row into the test part.
    Regression targets come back as float64 (N, 1), unscaled.
    """
    from . import data

    d = cfg["data"]
    name = d["dataset"]
    kind = dataset_kind(name)
    seed = cfg.get("train", {}).get("seed", 0)
    task = _task_choice(run_meta if run_meta is not None else d)
    if run_meta is None and kind != "csv" and task == "regression":
        raise ArgumentError(f"[data] task = 'regression' needs a CSV dataset with a numeric target; {name} is a "
                            "classification dataset")
    if run_meta is not None:
        _check_kinds(run_meta, name, kind)
    if kind == "digits":
        (xt, yt), (xs, ys) = data.load_digits()
        out = RunData(xt, yt, xs, ys, "classification", [str(i) for i in range(10)])
    elif kind in ("mnist", "fashion-mnist"):
        loader = data.load_mnist if kind == "mnist" else data.load_fashion_mnist
        (xt, yt), (xs, ys) = loader(root=d.get("data_dir"))
        names = [str(i) for i in range(10)] if kind == "mnist" else list(data.FASHION_CLASSES)
        out = RunData(xt, yt, xs, ys, "classification", names)
    elif kind == "2d":
        maker = getattr(data, _MAKERS[name])
        x, y = maker(int(d.get("n", 1000)), float(d.get("noise", NOISE[name])), seed=int(seed))
        (xt, yt), (xs, ys) = data.train_val_split(x, y, val_fraction=float(d.get("test_fraction", 0.2)),
                                                  seed=int(seed), stratify=y)
        out = RunData(xt, yt, xs, ys, "classification", [str(c) for c in range(int(y.max()) + 1)],
                      ["x1", "x2"])
    elif run_meta is not None:
        return _as_run(d, run_meta, int(seed), whole_file)
    else:
        from .data.tabular import _load_table

        t = _load_table(Path(name).expanduser(), d["target"], float(d.get("test_fraction", 0.2)), int(seed), task,
                        tuple(d.get("ignore", ())))
        sd = t.standardizer.state_dict()
        out = RunData(t.x_train, t.y_train, t.x_test, t.y_test, t.task, [str(c) for c in t.classes],
                      list(t.feature_names), {"mean": sd["mean"].tolist(), "scale": sd["scale"].tolist()})
    _check_finite(name, out.x_train, out.x_test, out.y_train, out.y_test)
    if out.task == "classification" and out.num_outputs < 2:
        raise DataError(f"dataset {name}: classification needs at least 2 classes, found {out.num_outputs}")
    return out


def _check_kinds(meta: dict, name: str, kind: str) -> None:
    """A run's model can only read a dataset of the kind it was trained on (images, 2-D points, CSV rows)."""
    shape = tuple(meta["input_shape"])
    run_name = meta.get("dataset", "?")
    standardised = "standardizer_mean" in meta
    if kind == "csv":
        if len(shape) != 1:
            raise DataError(f"dataset {name} is a table (CSV file), but the run's model was trained on "
                            f"{run_name} and takes images of shape {shape}")
        if not standardised:
            raise DataError(f"dataset {name} is a CSV file, but the run was trained on {run_name} without a "
                            "standardizer for CSV features; evaluate it on a built-in 2-D set")
    elif standardised:
        raise DataError(f"dataset {name} is a built-in set, but the run was trained on the CSV file {run_name}; "
                        f"evaluate it on a CSV file with the columns {', '.join(meta.get('feature_names') or [])}")


def _as_run(d: dict, meta: dict, seed: int, whole_file: bool) -> RunData:
    """A CSV dataset expressed in a trained run's features, standardisation and classes."""
    from .data.tabular import _read_table, _split

    name = d["dataset"]
    path = Path(name).expanduser()
    names = list(meta.get("feature_names") or [])
    p = _read_table(path, d["target"], meta["task"], only=names)  # other columns are not read
    missing = [n for n in names if n not in p.names]
    if missing:  # extra columns are ignored, as predict ignores them
        raise DataError(f"dataset {name}: missing feature column(s) {', '.join(missing)}; the run's model needs "
                        f"the columns {', '.join(names)}")
    order = [p.names.index(n) for n in names]
    x = _standardised(p.x[:, order], meta, path)
    y = p.y
    classes = list(meta.get("classes") or [])
    if p.task == "classification":
        unknown = [str(c) for c in p.classes if str(c) not in classes]
        if unknown:
            raise DataError(f"dataset {name}: labels out of range: {', '.join(unknown[:5])} are not among the run's "
                            f"classes ({', '.join(classes)})")
        y = np.array([classes.index(str(c)) for c in p.classes], dtype=np.int64)[y]
    if whole_file:
        train, test = np.zeros(0, dtype=np.int64), np.arange(len(x))
    else:
        train, test = _split(p, path, float(d.get("test_fraction", 0.2)), seed)
    return RunData(x[train], y[train], x[test], y[test], p.task, classes if p.task == "classification" else [],
                   names, {"mean": list(meta["standardizer_mean"]), "scale": list(meta["standardizer_scale"])})


def check_compatible(run_meta: dict, rd: RunData, dataset: str) -> None:
    """A dataset evaluated with a run's model must have its input shape, task and class names."""
    want = tuple(run_meta["input_shape"])
    if rd.input_shape != want:
        raise ShapeError(f"dataset {dataset} has samples of shape {rd.input_shape}, but the run's model expects "
                         f"{want}")
    if run_meta["task"] != rd.task:
        raise DataError(f"dataset {dataset} is a {rd.task} task, but the run's model was trained for "
                        f"{run_meta['task']}")
    if rd.task == "classification":
        ours = list(run_meta.get("classes") or [])
        if ours and rd.classes and rd.classes != ours:
            raise DataError(f"dataset {dataset} has the classes ({_short(rd.classes)}), but the run's model was "
                            f"trained on the classes ({_short(ours)}); its labels cannot be compared")
        c = int(run_meta["num_outputs"])
        for y in (rd.y_train, rd.y_test):
            if len(y) and (y.min() < 0 or y.max() >= c):
                raise DataError(f"dataset {dataset}: labels out of range: found label {int(y.max())}, the run's "
                                f"model has {c} classes (0..{c - 1})")


def _short(names: list) -> str:
    return ", ".join(map(str, names[:6])) + (", ..." if len(names) > 6 else "")


# ------------------------------------------------------------------------------------- predict inputs
def _read_image(path: str, shape: tuple) -> np.ndarray:
    """A PNG as a float32 array of ``shape`` (C, H, W) in [0, 1], converted to grey and resized as needed."""
    c, h, w = shape
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        try:
            with Image.open(path) as im:
                im = im.convert("L" if c == 1 else "RGB")
                if im.size != (w, h):
                    im = im.resize((w, h), Image.BILINEAR)
                a = np.asarray(im, dtype=np.float32) / np.float32(255.0)
        except (OSError, ValueError) as e:
            raise FileFormatError(f"{path}: cannot read the image ({e})") from None
        return a.reshape(1, h, w) if c == 1 else a.transpose(2, 0, 1)
    try:
        import matplotlib.image as mpimg
    except ImportError:
        raise ArgumentError('reading PNG files needs Pillow or matplotlib: pip install "chainrule[plot]"') from None
    try:
        a = np.asarray(mpimg.imread(path), dtype=np.float32)
    except (OSError, ValueError, SyntaxError) as e:
        raise FileFormatError(f"{path}: cannot read the image ({e})") from None
    if a.ndim == 3:
        a = a[..., :3].mean(axis=2) if c == 1 else a[..., :3].transpose(2, 0, 1)
    if a.shape[-2:] != (h, w):
        raise ShapeError(f"{path}: image of size {a.shape[-2:]}, the model expects {h}x{w} (install Pillow to "
                         "resize automatically)")
    return a.reshape(shape)


def _read_npy(path: str, shape: tuple) -> np.ndarray:
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic != b"\x93NUMPY":
        raise FileFormatError(f"{path}: not a NumPy .npy file (it does not start with the .npy header)")
    try:
        a = np.load(path, allow_pickle=False)
    except ValueError as e:
        if "pickle" in str(e).lower() or "object" in str(e).lower():
            raise FileFormatError(f"{path}: the .npy file holds Python objects (dtype object); chainrule reads "
                                  "only numeric arrays") from None
        raise FileFormatError(f"{path}: not a readable .npy file ({e})") from None
    except (OSError, EOFError) as e:
        raise FileFormatError(f"{path}: not a readable .npy file ({e})") from None
    if a.dtype.kind not in "biuf":
        raise DataError(f"{path}: expected numbers, got an array of dtype {a.dtype}")
    if a.dtype == np.uint8 and len(shape) == 3:  # 8-bit images, as PNG files give them: scale to [0, 1]
        a = a.astype(np.float32) / np.float32(255.0)
    a = a.astype(np.float64 if a.dtype == np.float64 else np.float32)  # float64 kept for the standardizer
    if a.shape == shape or int(np.prod(a.shape)) == int(np.prod(shape)):
        return a.reshape(1, *shape)
    if a.ndim >= 2 and int(np.prod(a.shape[1:])) == int(np.prod(shape)):
        return a.reshape(len(a), *shape)
    raise ShapeError(f"{path}: array of shape {a.shape}, expected one sample of shape {shape} or a batch of "
                     f"shape (N, {', '.join(map(str, shape))})")


def _read_csv(path: str, meta: dict) -> np.ndarray:
    from .data.tabular import read_features

    names = list(meta.get("feature_names") or [])
    return read_features(path, names)


def _standardised(x: np.ndarray, meta: dict, path) -> np.ndarray:
    """Raw feature rows of a CSV-trained run (from a .csv or a .npy file) as its network saw them in training:
    standardised with its recorded statistics, as ``load_csv`` did (a DataError naming ``path`` for values
    that leave float32's range). Other runs' inputs are only cast to float32."""
    if "standardizer_mean" not in meta:
        return x.astype(np.float32)
    from .data.preprocessing import Standardizer
    from .data.tabular import _standardised as standardise

    scaler = Standardizer().load_state_dict({"mean": meta["standardizer_mean"], "scale": meta["standardizer_scale"]})
    return standardise(Path(path), scaler, x)[0]


def read_inputs(paths: list, meta: dict) -> np.ndarray:
    """New inputs for a run's model from .csv, .npy or .png files, as one float32 batch."""
    shape = tuple(int(s) for s in meta["input_shape"])
    parts = []
    for p in paths:
        p = os.fspath(p)
        if not os.path.isfile(p):
            raise MissingFileError(f"input file {p!r} does not exist")
        ext = os.path.splitext(p)[1].lower()
        if ext in (".csv", ".tsv", ".txt"):
            if len(shape) != 1:
                raise ArgumentError(f"{p}: CSV input needs a model trained on vectors; this run's model takes "
                                    f"images of shape {shape} (give .png or .npy files)")
            parts.append(_standardised(_read_csv(p, meta), meta, p))
        elif ext == ".npy":  # rows of raw feature values for a CSV-trained run, standardised as its CSV rows are
            parts.append(_standardised(_read_npy(p, shape), meta, p))
        elif ext == ".png":
            if len(shape) != 3:
                raise ArgumentError(f"{p}: PNG input needs a model trained on images; this run's model takes "
                                    f"vectors of {shape[0]} features (give a .csv or .npy file)")
            parts.append(_read_image(p, shape)[None])
        else:
            raise ArgumentError(f"{p}: unsupported input file type {ext or '(none)'!r}; expected .csv (.tsv, .txt), "
                                ".npy or .png")
    x = np.concatenate(parts)
    if not np.isfinite(x).all():
        raise DataError("the input holds NaN or inf values")
    return x
