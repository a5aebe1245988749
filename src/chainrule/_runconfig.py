"""The configuration of a ``chainrule train`` run: its schema, its defaults and how they are merged.

A run is described by five TOML tables (every key optional); command-line options override the file::

    [data]       dataset, target, task, ignore, data_dir, test_fraction, val_fraction, n, noise
    [model]      name, hidden, activation, init, dropout, batchnorm, channels, num_blocks, num_layers
    [optimizer]  name, lr, momentum, weight_decay
    [schedule]   name, lr_end, step_size, gamma
    [train]      epochs, batch_size, seed

Defaults depend on the dataset (see :data:`DATASET_DEFAULTS`): with no options at all, a run trains a
batch-normalised ReLU MLP on the embedded digits with Adam and a cosine schedule.

A run folder's ``config.toml`` adds what chainrule found out about the data under [data] (the keys of
:data:`DATA_META`: task, input shape, classes, standardizer...) and the tables [run] and [result]. Given
back to ``--config``, such a file is read as the run's choices only: those facts are dropped (the task is
kept when the dataset stays the same). In a hand-written file they are unknown keys, except ``task``
(auto, classification or regression).
"""

from __future__ import annotations

import copy
import math
import os

from .errors import ArgumentError, ArgumentTypeError, FileFormatError
from .nn.models import ACTIVATIONS, INITS, MODEL_NAMES

BUILTIN_DATASETS = ("digits", "mnist", "fashion-mnist", "moons", "circles", "spirals", "xor")
TWO_D = ("moons", "circles", "spirals", "xor")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
SCHEDULES = ("none", "linear", "exponential", "step", "cosine")
TASKS = ("auto", "classification", "regression")

_INT, _NUM, _STR, _BOOL = (int,), (int, float), (str,), (bool,)
_INTLIST, _STRLIST = "int-list", "str-list"
SCHEMA = {
    "data": {"dataset": _STR, "target": _STR, "task": _STR, "data_dir": _STR, "test_fraction": _NUM,
             "val_fraction": _NUM, "n": _INT, "noise": _NUM, "ignore": _STRLIST},
    "model": {"name": _STR, "hidden": _INTLIST, "activation": _STR, "init": _STR, "dropout": _NUM,
              "batchnorm": _BOOL, "channels": _INTLIST, "num_blocks": _INT, "num_layers": _INT},
    "optimizer": {"name": _STR, "lr": _NUM, "momentum": _NUM, "weight_decay": _NUM},
    "schedule": {"name": _STR, "lr_end": _NUM, "step_size": _INT, "gamma": _NUM},
    "train": {"epochs": _INT, "batch_size": _INT, "seed": _INT},
}

# Per-dataset defaults, chosen so that a bare `chainrule train --dataset X` trains well in seconds.
_IMAGE = {"model": {"name": "mlp"}, "optimizer": {"name": "adam", "lr": 0.002},
          "schedule": {"name": "cosine"}, "train": {"epochs": 20, "batch_size": 32}}
DATASET_DEFAULTS = {
    "digits": _IMAGE,
    "mnist": {**_IMAGE, "train": {"epochs": 3, "batch_size": 64}, "optimizer": {"name": "adam", "lr": 0.001}},
    "fashion-mnist": {**_IMAGE, "train": {"epochs": 3, "batch_size": 64},
                      "optimizer": {"name": "adam", "lr": 0.001}},
    "2d": {"model": {"name": "mlp"}, "optimizer": {"name": "adam", "lr": 0.01}, "schedule": {"name": "none"},
           "train": {"epochs": 60, "batch_size": 32}},
    "csv": {"model": {"name": "mlp"}, "optimizer": {"name": "adam", "lr": 0.003}, "schedule": {"name": "cosine"},
            "train": {"epochs": 40, "batch_size": 32}},
}
NOISE = {"moons": 0.2, "circles": 0.1, "spirals": 0.05, "xor": 0.1}
# Model options the command fills in (per dataset kind and model) when the file and command line leave them out.
_MLP = {"mlp": {"hidden": [512, 256], "batchnorm": True, "dropout": 0.1}}
MODEL_DEFAULTS = {"digits": _MLP, "mnist": _MLP, "fashion-mnist": _MLP, "csv": {"mlp": {"hidden": [64, 64]}},
                  "2d": {"mlp": {"hidden": [64, 64]}}}
OPTIMIZER_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "rmsprop": 0.001, "adam": 0.002, "adamw": 0.002}


def dataset_kind(name: str) -> str:
    """'digits', 'mnist', 'fashion-mnist', '2d' or 'csv'."""
    if name in TWO_D:
        return "2d"
    if name in BUILTIN_DATASETS:
        return name
    if name.lower().endswith((".csv", ".tsv", ".txt")) or os.sep in name or "/" in name or os.path.isfile(name):
        return "csv"  # a table of any name that exists: the separator is found from the header (, ; tab |)
    raise ArgumentError(f"unknown dataset {name!r}; valid datasets: {', '.join(BUILTIN_DATASETS)}, "
                        "or a path to a CSV file (.csv, .tsv or any existing file, with --target COLUMN)")


def _check_value(section: str, key: str, value, kind) -> object:
    where = f"[{section}] {key}"
    if kind == _STRLIST:
        if not (isinstance(value, list) and all(isinstance(v, str) and v for v in value)):
            raise ArgumentTypeError(f"{where} must be a list of column names, got {value!r}")
        return value
    if kind == _INTLIST:
        if isinstance(value, bool):
            raise ArgumentTypeError(f"{where} must be an integer or a list of integers, got {value!r}")
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in items):
            raise ArgumentError(f"{where} must be a positive integer or a list of them, got {value!r}")
        return value
    if kind is _NUM and isinstance(value, bool) or kind is _INT and isinstance(value, bool):
        raise ArgumentTypeError(f"{where} must be a number, got {value!r}")
    if not isinstance(value, kind):
        want = {_INT: "an integer", _NUM: "a number", _STR: "a string", _BOOL: "true or false"}[kind]
        raise ArgumentTypeError(f"{where} must be {want}, got {value!r}")
    return value


def validate(cfg: dict, source: str = "config", run_folder: bool = False) -> dict:
    """Check a run configuration's tables, keys, types and ranges; raise ArgumentError naming the key.

    ``run_folder``: the file is a run folder's config.toml, whose [data] also holds :data:`DATA_META`
    (checked by :func:`validate_run_meta`).
    """
    if not isinstance(cfg, dict):
        raise ArgumentTypeError(f"{source}: expected tables, got {type(cfg).__name__}")
    for section, table in cfg.items():
        if section in ("run", "result"):  # written by chainrule itself, ignored on input
            continue
        if section not in SCHEMA:
            raise ArgumentError(f"{source}: unknown table [{section}]; valid tables: {', '.join(SCHEMA)}")
        if not isinstance(table, dict):
            raise ArgumentError(f"{source}: {section} must be a table ([{section}]), got {table!r}")
        for key, value in table.items():
            if run_folder and section == "data" and key in DATA_META:
                continue
            if key not in SCHEMA[section]:
                raise ArgumentError(f"{source}: unknown key {key!r} in [{section}]; valid keys: "
                                    f"{', '.join(SCHEMA[section])}")
            try:
                _check_value(section, key, value, SCHEMA[section][key])
            except (ArgumentError, ArgumentTypeError) as e:
                if not run_folder:
                    raise
                raise type(e)(f"{source}: {e}") from None
    if not run_folder:
        _check_names(cfg)
        _check_ranges(cfg)
    else:  # the [data] facts are checked by validate_run_meta
        choices = {**cfg, "data": {k: v for k, v in cfg.get("data", {}).items() if k not in DATA_META}}
        try:
            _check_names(choices)
            _check_ranges(choices)
        except ArgumentError as e:
            raise ArgumentError(f"{source}: {e}") from None
    if "name" in cfg.get("model", {}):
        check_model(cfg["model"], source)
    return cfg


# what `chainrule train` records under [data] about the data it found (not choices a user makes)
DATA_META = ("task", "input_shape", "num_outputs", "classes", "feature_names", "standardizer_mean",
             "standardizer_scale", "target_mean", "target_scale")

# the options each model takes, and what each must be
_POS_INT = "a positive integer"
_INT_OR_LIST = "a positive integer or a list of them"
_MODEL_OPTIONS = {
    "logreg": {},
    "shallow": {"hidden": _POS_INT, "activation": None, "init": None},
    "mlp": {"hidden": _INT_OR_LIST, "activation": None, "init": None, "dropout": None, "batchnorm": None},
    "cnn": {"channels": "a list of 2 positive integers", "hidden": _INT_OR_LIST},
    "lstm": {"hidden": _POS_INT, "num_layers": _POS_INT},
    "resnet": {"channels": _POS_INT, "hidden": _POS_INT, "num_blocks": _POS_INT},
}


def _pos_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def check_model(m: dict, source: str = "config") -> None:
    """The [model] options of the model ``m['name']``: known to that model, of the shape it needs."""
    name = m["name"]
    allowed = _MODEL_OPTIONS.get(name)
    if allowed is None:
        return  # an unknown name is reported by _check_names
    for key, value in m.items():
        if key == "name":
            continue
        if key not in allowed:
            valid = ", ".join(allowed) or "none"
            raise ArgumentError(f"{source}: [model] {key} does not apply to the model {name}; its options: {valid}")
        want = allowed[key]
        if want is None:
            continue
        if want == _POS_INT:
            ok = _pos_int(value)
        elif want == _INT_OR_LIST:
            ok = _pos_int(value) or (isinstance(value, list) and all(_pos_int(v) for v in value))
        else:  # cnn channels
            ok = isinstance(value, list) and len(value) == 2 and all(_pos_int(v) for v in value)
        if not ok:
            raise ArgumentError(f"{source}: [model] {key} for {name} must be {want}, got {value!r}")


def validate_run_meta(d: dict, source: str) -> None:
    """Check what a run folder's config.toml records about its data; FileFormatError naming the key."""
    def bad(key, want):
        raise FileFormatError(f"{source}: [data] {key} must be {want}, got {d.get(key)!r}")

    def is_num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    for key in ("dataset", "task", "input_shape", "num_outputs"):
        if key not in d:
            raise FileFormatError(f"{source}: [data] has no {key!r}; it was not written by chainrule train")
    if d["task"] not in ("classification", "regression"):
        bad("task", "'classification' or 'regression'")
    shape = d["input_shape"]
    if not (isinstance(shape, list) and len(shape) in (1, 3) and all(_pos_int(v) for v in shape)):
        bad("input_shape", "a list of 1 or 3 positive integers")
    k = d["num_outputs"]
    if not _pos_int(k) or (d["task"] == "regression" and k != 1) or (d["task"] == "classification" and k < 2):
        bad("num_outputs", "1 for regression, the number of classes (at least 2) for classification")
    if "classes" in d:
        c = d["classes"]
        if not (isinstance(c, list) and all(isinstance(v, str) for v in c)):
            bad("classes", "a list of strings")
        if d["task"] == "classification" and len(c) != k:
            bad("classes", f"a list of num_outputs = {k} names")
    width = shape[0] if len(shape) == 1 else None
    for key in ("feature_names", "standardizer_mean", "standardizer_scale"):
        if key not in d:
            continue
        v = d[key]
        kind = "strings" if key == "feature_names" else "finite numbers"
        ok = isinstance(v, list) and all(isinstance(x, str) if key == "feature_names" else is_num(x) for x in v)
        if not ok or width is None or len(v) != width:
            bad(key, f"a list of {width if width else 'as many'} {kind} (one per input feature)")
        if key == "standardizer_scale" and not all(x > 0 for x in v):
            bad(key, "a list of positive numbers")
    if ("standardizer_mean" in d) != ("standardizer_scale" in d):
        bad("standardizer_scale" if "standardizer_mean" in d else "standardizer_mean", "present with its pair")
    for key in ("target_mean", "target_scale"):
        if key in d and not (is_num(d[key]) and (key == "target_mean" or d[key] > 0)):
            bad(key, "a finite number" + (" above 0" if key == "target_scale" else ""))


def _check_names(cfg: dict) -> None:
    def get(s, k):
        return cfg.get(s, {}).get(k)

    checks = [("model", "name", MODEL_NAMES, "model"), ("optimizer", "name", OPTIMIZERS, "optimizer"),
              ("schedule", "name", SCHEDULES, "schedule"), ("model", "activation", ACTIVATIONS, "activation"),
              ("model", "init", INITS, "init")]
    for section, key, valid, what in checks:
        v = get(section, key)
        if v is not None and v not in valid:
            raise ArgumentError(f"unknown {what} {v!r}; valid {what}s: {', '.join(valid)}")
    if get("data", "dataset") is not None:
        dataset_kind(get("data", "dataset"))


def _check_ranges(cfg: dict) -> None:
    def bad(where, v, want):
        raise ArgumentError(f"{where} must be {want}, got {v!r}")

    d, t, o, s, m = (cfg.get(k, {}) for k in ("data", "train", "optimizer", "schedule", "model"))
    for key in ("epochs", "batch_size"):
        if key in t and t[key] < 1:
            bad(f"[train] {key}", t[key], "at least 1")
    if "seed" in t and t["seed"] < 0:
        bad("[train] seed", t["seed"], "a non-negative integer")
    if "lr" in o and not (o["lr"] > 0 and o["lr"] < float("inf")):
        bad("[optimizer] lr", o["lr"], "a positive number")
    for key in ("momentum", "weight_decay"):
        if key in o and not 0 <= o[key] < float("inf"):
            bad(f"[optimizer] {key}", o[key], "a non-negative number")
    if "momentum" in o and o["momentum"] >= 1:
        bad("[optimizer] momentum", o["momentum"], "in [0, 1)")
    if "test_fraction" in d and not 0 < d["test_fraction"] < 1:
        bad("[data] test_fraction", d["test_fraction"], "in (0, 1)")
    if "val_fraction" in d and not 0 <= d["val_fraction"] < 1:
        bad("[data] val_fraction", d["val_fraction"], "in [0, 1)")
    if "n" in d and d["n"] < 10:
        bad("[data] n", d["n"], "at least 10")
    if "noise" in d and not 0 <= d["noise"] < float("inf"):
        bad("[data] noise", d["noise"], "a non-negative number")
    if "task" in d and d["task"] not in TASKS:
        bad("[data] task", d["task"], "one of " + ", ".join(TASKS))
    for key in ("num_blocks", "num_layers"):
        if key in m and m[key] < 1:
            bad(f"[model] {key}", m[key], "at least 1")
    if "dropout" in m and not 0 <= m["dropout"] < 1:
        bad("[model] dropout", m["dropout"], "in [0, 1)")
    if "lr_end" in s and not s["lr_end"] > 0:
        bad("[schedule] lr_end", s["lr_end"], "a positive number")
    if "step_size" in s and s["step_size"] < 1:
        bad("[schedule] step_size", s["step_size"], "at least 1")
    if "gamma" in s and not 0 < s["gamma"] <= 1:
        bad("[schedule] gamma", s["gamma"], "in (0, 1]")


def _merge(base: dict, top: dict) -> dict:
    out = copy.deepcopy(base)
    for section, table in top.items():
        if isinstance(table, dict):
            out.setdefault(section, {}).update({k: v for k, v in table.items() if v is not None})
    return out


def resolve(file_cfg: dict | None, overrides: dict, notes: list | None = None) -> dict:
    """The full configuration of a run: dataset defaults < the TOML file < command-line ``overrides``.

    A run folder's config.toml (it has a [run] table) gives only its choices (see the module docstring).
    Options that do not apply are dropped: a file's [model] / [optimizer] / [schedule] settings when the
    command line picks another model / optimizer / schedule (a line about it is appended to ``notes``),
    and the file's ``target`` / ``data_dir`` / ``n`` / ``noise`` for datasets that take none; the same
    options given on the command line are an error.

    >>> cfg = resolve(None, {"data": {"dataset": "moons"}, "train": {"epochs": 3}})
    >>> cfg["model"]["name"], cfg["train"]["epochs"], cfg["optimizer"]["lr"]
    ('mlp', 3, 0.01)
    """
    file_cfg = copy.deepcopy(file_cfg or {})
    overrides = validate(overrides, "command line")
    if isinstance(file_cfg, dict) and "run" in file_cfg:  # a run folder's config.toml
        _strip_run_facts(file_cfg, "dataset" in overrides.get("data", {}))
    file_cfg = validate(file_cfg, "config file")
    _drop_overridden(file_cfg, overrides, notes if notes is not None else [])
    chosen = _merge(file_cfg, overrides)
    dataset = chosen.get("data", {}).get("dataset", "digits")
    kind = dataset_kind(dataset)
    _check_applies(chosen, overrides, dataset, kind)
    base = _merge({k: {} for k in SCHEMA}, DATASET_DEFAULTS[kind])
    base["data"].update({"dataset": dataset, "test_fraction": 0.2, "val_fraction": 0.1})
    base["train"]["seed"] = 0
    if kind == "2d":
        base["data"].update({"n": 1000, "noise": NOISE[dataset]})
    # an optimizer chosen without a learning rate gets that optimizer's default rate
    if "name" in chosen.get("optimizer", {}) and "lr" not in chosen["optimizer"]:
        base["optimizer"]["lr"] = OPTIMIZER_LR[chosen["optimizer"]["name"]]
    cfg = _merge(base, chosen)
    for key, value in MODEL_DEFAULTS[kind].get(cfg["model"]["name"], {}).items():
        cfg["model"].setdefault(key, value)
    check_model(cfg["model"])
    if kind == "csv" and "target" not in cfg["data"]:
        raise ArgumentError(f"dataset {dataset!r} is a CSV file: name its label column with --target COLUMN")
    if kind in ("mnist", "fashion-mnist") and "data_dir" not in cfg["data"]:
        cfg["data"]["data_dir"] = None
    return cfg


def _strip_run_facts(file_cfg: dict, new_dataset: bool) -> None:
    """Reduce a run folder's config.toml to the choices of that run."""
    file_cfg.pop("run", None)
    file_cfg.pop("result", None)
    d = file_cfg.get("data")
    if isinstance(d, dict):
        keep_task = not new_dataset and d.get("task") in TASKS
        for key in DATA_META:
            if key != "task" or not keep_task:
                d.pop(key, None)


_OPTIMIZER_KEYS = {"sgd": ("momentum",), "momentum": ("momentum",), "nesterov": ("momentum",)}
_SCHEDULE_KEYS = {"linear": ("lr_end",), "exponential": ("lr_end",), "step": ("step_size", "gamma")}


def _drop_overridden(file_cfg: dict, overrides: dict, notes: list) -> None:
    """A model / optimizer / schedule named on the command line replaces the file's one with its settings."""
    for section in ("model", "optimizer", "schedule"):
        ours, theirs = file_cfg.get(section, {}), overrides.get(section, {})
        if "name" not in ours or "name" not in theirs or ours["name"] == theirs["name"]:
            continue
        if section == "model":
            drop = [k for k in ours if k != "name"]
        elif section == "optimizer":
            keep = ("name", "weight_decay", *_OPTIMIZER_KEYS.get(theirs["name"], ()))
            drop = [k for k in ours if k not in keep and not (k == "lr" and "lr" in theirs)]
        else:
            keep = ("name", *_SCHEDULE_KEYS.get(theirs["name"], ()))
            drop = [k for k in ours if k not in keep]
        for k in drop:
            del ours[k]
        if drop:
            notes.append(f"--{section} {theirs['name']} replaces the config file's {ours['name']}; its "
                         f"[{section}] settings {', '.join(drop)} are not used")


def _check_applies(chosen: dict, overrides: dict, dataset: str, kind: str) -> None:
    """Data options that the dataset does not use: an error on the command line, dropped from a file."""
    d, flags = chosen.setdefault("data", {}), overrides.get("data", {})
    if kind != "csv" and "target" in flags:
        raise ArgumentError(f"--target names the label column of a CSV file; dataset {dataset} has its own labels")
    if kind not in ("mnist", "fashion-mnist") and "data_dir" in flags:
        raise ArgumentError(f"--data-dir is the folder of the MNIST / Fashion-MNIST files; dataset {dataset} "
                            "does not read one")
    if kind != "csv" and d.get("task") == "regression":
        raise ArgumentError(f"task regression needs a CSV file with a numeric target; {dataset} is a "
                            "classification dataset")
    if kind != "csv" and "ignore" in flags:
        raise ArgumentError(f"--ignore names columns of a CSV file; dataset {dataset} has none")
    unused = {"target": kind != "csv", "ignore": kind != "csv", "data_dir": kind not in ("mnist", "fashion-mnist"),
              "n": kind != "2d", "noise": kind != "2d"}
    for key, drop in unused.items():
        if drop:
            d.pop(key, None)


def rebase_paths(file_cfg: dict, folder: str) -> dict:
    """A TOML file's relative ``dataset`` (a CSV path) and ``data_dir`` taken relative to the file's folder."""
    d = file_cfg.get("data") if isinstance(file_cfg, dict) else None
    if not isinstance(d, dict):
        return file_cfg
    for key in ("dataset", "data_dir"):
        v = d.get(key)
        if not isinstance(v, str) or not v or os.path.isabs(os.path.expanduser(v)):
            continue
        if key == "dataset" and v in BUILTIN_DATASETS:
            continue
        d[key] = os.path.join(folder, os.path.expanduser(v)) if folder else v
    return file_cfg


def model_kwargs(cfg: dict) -> dict:
    """The keyword arguments for :func:`chainrule.nn.models.get_model` from the [model] table."""
    kw = {k: v for k, v in cfg["model"].items() if k != "name"}
    if cfg["model"]["name"] == "cnn" and isinstance(kw.get("hidden"), int):
        kw["hidden"] = [kw["hidden"]]
    return kw
