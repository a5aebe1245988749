"""Figures of a training run: loss and accuracy curves, decision boundaries, confusion matrices."""

from __future__ import annotations

import numbers
import os

import numpy as np

from .._atomic import user_path
from ..errors import ArgumentError, ArgumentTypeError, DataError, ShapeError
from ._mpl import check_png_path, finish, new_figure

# matplotlib's autoscaling overflows float64 on values near the largest float (1.8e308): such values are not drawn
_DRAWABLE = 1e300


def _history(history):
    from ..train.history import History

    if isinstance(history, History):
        return history
    if isinstance(history, (str, bytes, os.PathLike)):
        path = user_path(history, "plot_curves: history")
        if os.path.isdir(path):
            inner = os.path.join(path, "history.json")
            hint = f" (this folder has one: {inner!r})" if os.path.isfile(inner) else ""
            raise ArgumentError(f"plot_curves: {path!r} is a folder; expected the path of a history.json file{hint}")
        return History.from_json(path)
    records = history["epochs"] if isinstance(history, dict) and "epochs" in history else history
    if isinstance(records, (list, tuple)):
        for i, r in enumerate(records):
            if not isinstance(r, dict):
                raise ArgumentTypeError(f"plot_curves: record {i + 1} of {len(records)} is {r!r} "
                                        f"({type(r).__name__}); expected one dict per epoch, such as "
                                        "{'epoch': 1, 'loss': 0.5}")
        return History(records)
    raise ArgumentTypeError(f"plot_curves: expected a History, a history.json path or a list of records, "
                            f"got {type(history).__name__}")


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _numeric_keys(h) -> list:
    """The keys whose values are numbers (or None); keys with no number at all (notes, names) are skipped.

    A key that mixes numbers with other values is a DataError naming the key, the epoch and the value.
    """
    keep = []
    for key in h.keys():
        values = h[key]
        if not any(_is_number(v) for v in values):
            continue
        for i, v in enumerate(values):
            if v is not None and not _is_number(v):
                raise DataError(f"plot_curves: '{key}' holds a number in some epochs but {v!r} "
                                f"({type(v).__name__}) in record {i + 1} of {len(values)}; every value of a "
                                "plotted key must be a number or None")
        keep.append(key)
    return keep


def _series(values) -> np.ndarray:
    """float64 values, None as NaN (a gap in the line); an int too large for a float becomes inf."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if v is not None:
            try:
                out[i] = float(v)
            except OverflowError:
                out[i] = np.inf if v > 0 else -np.inf
    return out


def _beyond(v: np.ndarray) -> np.ndarray:
    """Where v is infinite or too large for matplotlib to draw (NaN, a missing value, is not counted)."""
    return ~(np.abs(v) <= _DRAWABLE) & ~np.isnan(v)


def plot_curves(history, path=None):
    """Training (and validation) loss, then every metric, then the learning rate, per epoch.

    ``history`` is a :class:`chainrule.train.History`, the path of a ``history.json``, or a list of records.
    Keys whose values are not numbers (a note, a name) are left out; a key mixing numbers and other values
    is a DataError. Infinite values and values beyond +-1e300 (a diverged run) are not drawn; the panel's
    title says how many were left out.
    """
    path = check_png_path(path) if path is not None else None
    h = _history(history)
    if not len(h):
        raise ArgumentError("plot_curves: the history has no epochs")
    keys = _numeric_keys(h)
    # one panel per quantity, training and validation together ('val_f1' alone still gets an 'f1' panel)
    bases = list(dict.fromkeys(k[4:] if k.startswith("val_") else k for k in keys if k not in ("epoch", "lr", "time")))
    bases.sort(key=lambda b: b != "loss")  # the loss first
    panels = bases + (["lr"] if "lr" in keys else [])
    if not panels:
        raise DataError(f"plot_curves: the history has no numeric quantity to plot (keys: {', '.join(h.keys())})")
    fig, ax = new_figure(1, len(panels), figsize=(4.4 * len(panels), 3.8))
    epochs = np.arange(1.0, len(h) + 1)
    if "epoch" in keys:
        given = _series(h["epoch"])
        if _beyond(given).any():
            i = int(np.flatnonzero(_beyond(given))[0])
            raise DataError(f"plot_curves: record {i + 1} of {len(h)} has epoch {h['epoch'][i]!r}; epochs must be "
                            f"finite numbers within +-{_DRAWABLE:g}")
        epochs = np.where(np.isnan(given), epochs, given)  # a record without an epoch: its position

    def series(key):
        """The values of ``key`` with those too large to draw as NaN (a gap), and how many those were."""
        v = _series(h[key])
        out = _beyond(v)
        v[out] = np.nan
        return v, int(out.sum())

    for a, key in zip(ax[0], panels):
        left_out = 0
        if key == "lr":
            v, left_out = series("lr")
            a.plot(epochs, v, color="C2", lw=1.8)
            title = "learning rate"
        else:
            for k, style, label in ((key, "o-", "training"), ("val_" + key, "s--", "validation")):
                if k in keys:
                    v, n = series(k)
                    left_out += n
                    a.plot(epochs, v, style, ms=3, lw=1.6, label=label)
            title = key.replace("_", " ")
            a.legend(fontsize=8)
        if left_out:
            title += f" ({left_out} value{'s' if left_out > 1 else ''} too large to draw)"
        a.set(title=title, xlabel="epoch")
        a.grid(alpha=0.3)
    return finish(fig, path)


def _points(x, y) -> tuple[np.ndarray, np.ndarray]:
    """x as a float array of shape (N, 2) and y as int labels of shape (N,), or a ShapeError / DataError."""
    from ..autograd.tensor import Tensor

    x, y = (a.data if isinstance(a, Tensor) else a for a in (x, y))
    try:
        x, y = np.asarray(x), np.asarray(y)
    except (ValueError, TypeError) as e:
        raise DataError(f"plot_decision_boundary: x and y must be arrays of numbers ({e})") from None
    if x.ndim != 2 or x.shape[1] != 2:
        raise ShapeError(f"plot_decision_boundary: x must have shape (N, 2), got {x.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1 or len(y) != len(x):
        raise ShapeError(f"plot_decision_boundary: x has {len(x)} points (shape {x.shape}) but y has shape "
                         f"{y.shape}; y must hold one class label per point, shape ({len(x)},)")
    if len(x) == 0:
        raise DataError("plot_decision_boundary: x has no points")
    if x.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        raise DataError(f"plot_decision_boundary: x and y must hold numbers, got dtypes {x.dtype} and {y.dtype}")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        i, j = np.argwhere(~np.isfinite(x))[0]
        raise DataError(f"plot_decision_boundary: x holds {x[i, j]} at point {i} (column {j}); every point must be "
                        "finite to be drawn")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
        raise DataError("plot_decision_boundary: y must hold class labels (whole numbers), got values such as "
                        f"{y[~(np.isfinite(y) & (y == np.round(y)))][0]!r}")
    if y.min() < 0:
        raise DataError(f"plot_decision_boundary: class labels must be >= 0, got {y.min()}")
    return x, y.astype(np.int64)


MAX_RESOLUTION = 2000  # 4 million grid points; finer than the figure's pixels


def _check_resolution(resolution) -> int:
    """The grid's points per axis: an int from 2 (contours need a 2 x 2 grid) to MAX_RESOLUTION."""
    if isinstance(resolution, (bool, np.bool_)) or not isinstance(resolution, (int, np.integer)):
        raise ArgumentTypeError(f"plot_decision_boundary: resolution must be an int (grid points per axis), got "
                                f"{resolution!r} ({type(resolution).__name__})")
    if not 2 <= resolution <= MAX_RESOLUTION:
        raise ArgumentError(f"plot_decision_boundary: resolution must be from 2 to {MAX_RESOLUTION} grid points "
                            f"per axis, got {resolution}")
    return int(resolution)


def _classes(out: np.ndarray) -> np.ndarray:
    """Predicted classes from a model's outputs: argmax of (N, C) logits, or logit > 0 for one column."""
    return out.argmax(axis=1) if out.ndim == 2 and out.shape[1] > 1 else (out.reshape(-1) > 0).astype(np.int64)


def plot_decision_boundary(model, x, y, path=None, title: str = "decision boundary", resolution: int = 300, *,
                           classes=None, feature_names=None, to_model=None):
    """The regions a trained model assigns to each class over the plane, with the points (x, y) on top.

    Parameters
    ----------
    model : nn.Module taking (N, 2) inputs and giving (N, C) logits (or (N, 1) for two classes)
    x : array of shape (N, 2), in the units the axes show (finite)
    y : int array of shape (N,)
    resolution : grid points per axis, 2 to 2000; the model is evaluated on resolution**2 points
    classes : names of the classes for the legend (default "class 0", "class 1", ...)
    feature_names : the two axis labels (default "x1", "x2")
    to_model : a function taking points (M, 2) of the plane to the model's inputs, such as a
        standardisation (default: the points themselves)
    """
    from ..train import predict

    path = check_png_path(path) if path is not None else None
    resolution = _check_resolution(resolution)
    x, y = _points(x, y)
    if feature_names is not None and len(feature_names) != 2:
        raise ArgumentError(f"plot_decision_boundary: feature_names must name the 2 axes, got {list(feature_names)}")
    to_model = to_model or (lambda p: p)
    pad = 0.15 * (x.max(axis=0) - x.min(axis=0)) + 1e-3
    lo, hi = x.min(axis=0) - pad, x.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(x.dtype if x.dtype.kind == "f" else np.float32)
    out = predict(model, to_model(grid), batch_size=8192)
    labels = _classes(out)
    k = int(max(labels.max(), y.max())) + 1
    names = [f"class {c}" for c in range(k)] if classes is None else [str(c) for c in classes]
    if len(names) < k:
        raise ArgumentError(f"plot_decision_boundary: classes names {len(names)} classes, but the labels and the "
                            f"model's predictions reach class {k - 1}")
    fig, ax = new_figure(1, 1, figsize=(5.6, 5))
    a = ax[0, 0]
    from matplotlib.colors import ListedColormap

    colors = [f"C{i}" for i in range(k)]
    a.contourf(gx, gy, labels.reshape(gx.shape), levels=np.arange(k + 1) - 0.5, cmap=ListedColormap(colors),
               alpha=0.25)
    a.contour(gx, gy, labels.reshape(gx.shape), levels=np.arange(k) + 0.5, colors="0.3", linewidths=0.8)
    for c in range(k):
        m = y == c
        a.scatter(x[m, 0], x[m, 1], s=12, color=colors[c], edgecolors="white", linewidths=0.3, label=names[c])
    acc = float(np.mean(_classes(predict(model, to_model(x.astype(grid.dtype)))) == y))
    xlabel, ylabel = ("x1", "x2") if feature_names is None else map(str, feature_names)
    a.set(title=f"{title} (accuracy {acc:.3f})", xlabel=xlabel, ylabel=ylabel)
    a.legend(fontsize=8, loc="best")
    return finish(fig, path)


def _counts(cm) -> np.ndarray:
    """cm as a square, non-empty array of finite, non-negative numbers, or a ShapeError / DataError."""
    from ..autograd.tensor import Tensor

    try:
        cm = np.asarray(cm.data if isinstance(cm, Tensor) else cm)
    except (ValueError, TypeError) as e:  # ragged rows
        raise DataError(f"plot_confusion_matrix: expected a square matrix of counts ({e})") from None
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ShapeError(f"plot_confusion_matrix: expected a square matrix, got shape {cm.shape}")
    if cm.shape[0] == 0:
        raise DataError("plot_confusion_matrix: the matrix is 0x0 (no classes); a confusion matrix needs at least "
                        "one class to be drawn")
    if cm.dtype.kind == "O":  # numbers in an object array (from a list of mixed types) are fine; others are not
        for (i, j), v in np.ndenumerate(cm):
            if not isinstance(v, numbers.Real):
                raise DataError(f"plot_confusion_matrix: cell ({i}, {j}) is {v!r} ({type(v).__name__}); every cell "
                                "must be a count (a number)")
        cm = cm.astype(np.float64)
    if cm.dtype.kind not in "biuf":
        raise DataError(f"plot_confusion_matrix: expected a matrix of counts (numbers), got dtype {cm.dtype}")
    for bad, why in ((~np.isfinite(cm), "finite"), (cm < 0, "non-negative")):
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise DataError(f"plot_confusion_matrix: cell ({i}, {j}) is {cm[i, j]}; every count must be {why}")
    return cm


def _cell_text(v, whole_numbers: bool) -> str:
    """A cell's count in full; a fraction (a normalised matrix) or a huge float to 3 significant digits."""
    if whole_numbers or (float(v).is_integer() and abs(v) < 1e15):
        return str(int(v))
    return f"{float(v):.3g}"


def plot_confusion_matrix(cm, path=None, classes=None, title: str = "confusion matrix"):
    """A confusion matrix (rows: true class, columns: predicted class) with its counts written in the cells.

    The counts must be finite and non-negative; fractions (a normalised matrix) are written to 3 digits.
    """
    path = check_png_path(path) if path is not None else None
    cm = _counts(cm)
    k = cm.shape[0]
    names = [str(c) for c in (classes if classes is not None else range(k))]
    if len(names) != k:
        raise ShapeError(f"plot_confusion_matrix: {len(names)} class names for a {k}x{k} matrix")
    size = min(3 + 0.45 * k, 10)
    fig, ax = new_figure(1, 1, figsize=(size + 1, size))
    a = ax[0, 0]
    c = cm.astype(np.float64)
    if c.max() > 0:  # scaled to at most 1 first, so that the sums of counts near 1e308 cannot overflow
        c = c / c.max()
    rows = c.sum(axis=1, keepdims=True)
    frac = np.divide(c, rows, out=np.zeros(c.shape, dtype=np.float64), where=rows > 0)
    im = a.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(im, ax=a, shrink=0.8, label="fraction of the true class")
    if k <= 30:
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    a.text(j, i, _cell_text(cm[i, j], cm.dtype.kind in "biu"), ha="center", va="center", fontsize=8,
                           color="white" if frac[i, j] > 0.5 else "black")
    a.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right" if
                 max(map(len, names)) > 2 else "center", fontsize=8)
    a.set_yticks(range(k), names, fontsize=8)
    acc = np.trace(c) / c.sum() if c.sum() > 0 else 0.0
    a.set(xlabel="predicted class", ylabel="true class", title=f"{title} (accuracy {acc:.4f})")
    return finish(fig, path)


# ------------------------------------------------------------------------------------------ run folders
def plot_run_confusion(run_dir: str, path=None):
    """The confusion matrix of a ``chainrule train`` run on its test split."""
    from .._rundata import load_run_data
    from .._runeval import load_run
    from ..train import metrics, predict

    run_dir = user_path(run_dir, "plot_run_confusion: run_dir")
    path = check_png_path(path) if path is not None else None
    cfg, model = load_run(run_dir)
    meta = cfg["data"]
    if meta["task"] != "classification":
        raise ArgumentError(f"plot confusion: run {run_dir!r} is a regression run; a confusion matrix needs classes")
    rd = load_run_data(cfg, run_meta=meta)
    pred = predict(model, rd.x_test).argmax(axis=1)
    cm = metrics.confusion_matrix(rd.y_test, pred, num_classes=int(meta["num_outputs"]))
    return plot_confusion_matrix(cm, path, meta.get("classes"), title=f"{meta['dataset']} test set")


def plot_run_boundary(run_dir: str | None, path=None):
    """The decision boundary of a run trained on a 2-D set; without a run, of a small net trained on moons."""
    from .._rundata import load_run_data

    path = check_png_path(path) if path is not None else None
    if run_dir is None:
        return _quick_boundary(path)
    from .._runeval import load_run

    run_dir = user_path(run_dir, "plot_run_boundary: run_dir")
    cfg, model = load_run(run_dir)
    meta = cfg["data"]
    if tuple(meta["input_shape"]) != (2,) or meta["task"] != "classification":
        raise ArgumentError(f"plot boundary: run {run_dir!r} was trained on {meta['dataset']} (inputs of shape "
                            f"{tuple(meta['input_shape'])}); a decision boundary needs a 2-D classification set")
    rd = load_run_data(cfg, run_meta=meta)
    x, named = rd.x_test, {}
    if rd.standardizer:  # a CSV run: draw in the file's own units and names, standardise on the way in
        mean, scale = np.asarray(rd.standardizer["mean"]), np.asarray(rd.standardizer["scale"])
        x = x * scale + mean
        named = dict(classes=rd.classes, feature_names=rd.feature_names,
                     to_model=lambda p: ((p - mean) / scale).astype(np.float32))
    return plot_decision_boundary(model, x, rd.y_test, path,
                                  title=f"{cfg['model']['name']} on {meta['dataset']} (test points)", **named)


def _quick_boundary(path):
    from .. import data, nn, optim, train
    from ..nn.models import mlp

    x, y = data.make_moons(600, noise=0.2, seed=0)
    model = mlp([2, 32, 32, 2], activation="tanh", init="xavier", generator=np.random.default_rng(0))
    opt = optim.Adam(model.parameters(), lr=0.02)
    train.fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=60, batch_size=64, seed=0, verbose=False,
              metrics=(), progress=False)
    return plot_decision_boundary(model, x, y, path, title="tanh MLP 2-32-32-2 on moons")
