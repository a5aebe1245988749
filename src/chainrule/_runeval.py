"""``chainrule evaluate / predict``: reuse a finished run folder (its config.toml and trained weights).

A run's own dataset is scored on its test split (the same split as in training); another CSV file on
every row. ``predict`` reads new inputs the way the run read its data (the same columns, standardisation
and class names) and prints one line per sample.
"""

from __future__ import annotations

import copy
import os

import numpy as np

from . import config as tomlconfig
from ._runconfig import dataset_kind, validate, validate_run_meta
from ._rundata import check_compatible, load_run_data, read_inputs
from ._runner import _loss, _normalise_targets, _test_metrics, build_model, final_line, format_value, value_digits
from .errors import ArgumentError, FileFormatError, MissingFileError, NonFiniteError


def load_run(run_dir: str):
    """(config, model with its trained weights) of a run folder; its config.toml is checked key by key."""
    from .io import load

    if not os.path.isdir(run_dir):
        what = "is a file, not a run folder" if os.path.exists(run_dir) else "does not exist"
        raise MissingFileError(f"run folder {run_dir!r} {what}")
    for name in ("config.toml", "model.safetensors"):
        if not os.path.isfile(os.path.join(run_dir, name)):
            raise MissingFileError(f"{run_dir!r} is not a run folder: it has no {name}")
    source = os.path.join(run_dir, "config.toml")
    cfg = tomlconfig.load(source)
    if not isinstance(cfg.get("data"), dict) or not isinstance(cfg.get("model"), dict) or \
            "name" not in cfg["model"]:
        raise FileFormatError(f"{source}: needs a [data] table and a [model] table with a name; it was not "
                              "written by chainrule train")
    cfg = validate(cfg, source, run_folder=True)
    validate_run_meta(cfg["data"], source)
    model = build_model(cfg, cfg["data"])
    weights = os.path.join(run_dir, "model.safetensors")
    model.load_state_dict(load(weights))
    for name, p in model.named_parameters():
        if not np.isfinite(p.data).all():
            raise NonFiniteError(f"{weights}: parameter {name!r} holds NaN or infinite values; the model is "
                                 "broken (a run that diverged?) and cannot be evaluated or used")
    model.eval()
    return cfg, model


def _same_dataset(name: str, run_dataset: str) -> bool:
    if name == run_dataset:
        return True
    if dataset_kind(name) != "csv" or dataset_kind(run_dataset) != "csv":
        return False
    a, b = os.path.abspath(os.path.expanduser(name)), os.path.abspath(os.path.expanduser(run_dataset))
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def evaluate_run(run_dir: str, dataset: str | None = None, target: str | None = None,
                 data_dir: str | None = None) -> list[str]:
    """Lines to print: the test loss and the test accuracy (or mse) of a run, on its dataset or another.

    The run's own dataset gives its test split; another CSV file is scored on every row.
    """
    from . import train

    cfg, model = load_run(run_dir)
    meta = cfg["data"]
    ev = copy.deepcopy(cfg)
    whole = False
    if dataset is not None and not _same_dataset(dataset, meta["dataset"]):
        kind = dataset_kind(dataset)
        ev["data"] = {"dataset": dataset, "test_fraction": meta.get("test_fraction", 0.2)}
        if kind == "csv":
            if target is None and "target" not in meta:
                raise ArgumentError(f"dataset {dataset!r} is a CSV file: name its label column with --target COLUMN")
            ev["data"]["target"] = target or meta["target"]
            whole = True
        elif kind in ("mnist", "fashion-mnist") and meta.get("data_dir"):
            ev["data"]["data_dir"] = meta["data_dir"]
    kind = dataset_kind(ev["data"]["dataset"])
    if target is not None:
        if kind != "csv":
            raise ArgumentError(f"--target names the label column of a CSV file; dataset {ev['data']['dataset']} "
                                "has its own labels")
        ev["data"]["target"] = target
    if data_dir is not None:
        if kind not in ("mnist", "fashion-mnist"):
            raise ArgumentError(f"--data-dir is the folder of the MNIST / Fashion-MNIST files; dataset "
                                f"{ev['data']['dataset']} does not read one")
        ev["data"]["data_dir"] = data_dir
    rd = load_run_data(ev, run_meta=meta, whole_file=whole)
    check_compatible(meta, rd, ev["data"]["dataset"])
    _normalise_targets(rd, dict(meta))
    loss = train.evaluate(model, _loss(rd.task), (rd.x_test, rd.y_test), metrics=())["loss"]
    result = _test_metrics(model, rd, meta)
    what = "cross-entropy" if rd.task == "classification" else "mse of the standardised targets"
    return _unfinished(cfg) + [f"test samples: {len(rd.x_test)}", f"test loss ({what}): {loss:.4f}",
                               final_line(result)]


def _unfinished(cfg: dict) -> list[str]:
    """A line saying so when the run did not finish training (Ctrl-C'd or killed): its scores are not final."""
    run = cfg.get("run", {})
    status = run.get("status", "complete")
    if status == "complete":
        return []
    done, epochs = run.get("epochs_completed", "?"), cfg.get("train", {}).get("epochs", "?")
    return [f"note: this run is {status} after {done} of {epochs} epochs (continue it with train --resume); "
            "these scores are not its final ones"]


def _one_line(name: str) -> str:
    """A class name as printed by predict, one line per sample: control characters (a newline in a quoted
    CSV label) written as escapes."""
    return name if name.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def predict_run(run_dir: str, inputs: list) -> list[str]:
    """One line per input sample: the predicted class name, or the predicted value for regression."""
    from . import train

    cfg, model = load_run(run_dir)
    meta = cfg["data"]
    x = read_inputs(inputs, meta)
    out = train.predict(model, x)
    if meta["task"] == "classification":
        names = meta.get("classes") or [str(i) for i in range(int(meta["num_outputs"]))]
        return [_one_line(str(names[i])) for i in out.argmax(axis=1)]
    mean, scale = float(meta.get("target_mean", 0.0)), float(meta.get("target_scale", 1.0))
    digits = value_digits(mean, scale)
    return [format_value(v, digits) for v in out[:, 0].astype(np.float64) * scale + mean]
