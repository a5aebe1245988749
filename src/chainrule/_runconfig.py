"""The configuration of a ``chainrule train`` run: its schema, its defaults and how they are merged.

A run is described by five TOML tables (every key optional); command-line options override the file::

    [data]       dataset, target, data_dir, test_fraction, val_fraction, n, noise
    [model]      name, hidden, activation, init, dropout, batchnorm, channels, num_blocks, num_layers
    [optimizer]  name, lr, momentum, weight_decay
    [schedule]   name, lr_end, step_size, gamma
    [train]      epochs, batch_size, seed

Defaults depend on the dataset (see :data:`DATASET_DEFAULTS`): with no options at all, a run trains a
batch-normalised ReLU MLP on the embedded digits with Adam and a cosine schedule.
"""

from __future__ import annotations

import copy
import os

from .errors import ArgumentError, ArgumentTypeError
from .nn.models import ACTIVATIONS, INITS, MODEL_NAMES

BUILTIN_DATASETS = ("digits", "mnist", "fashion-mnist", "moons", "circles", "spirals", "xor")
TWO_D = ("moons", "circles", "spirals", "xor")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
SCHEDULES = ("none", "linear", "exponential", "step", "cosine")

_INT, _NUM, _STR, _BOOL = (int,), (int, float), (str,), (bool,)
_INTLIST = "int-list"
SCHEMA = {
    "data": {"dataset": _STR, "target": _STR, "data_dir": _STR, "test_fraction": _NUM, "val_fraction": _NUM,
             "n": _INT, "noise": _NUM},
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
    if name.lower().endswith(".csv") or os.sep in name or "/" in name:
        return "csv"
    raise ArgumentError(f"unknown dataset {name!r}; valid datasets: {', '.join(BUILTIN_DATASETS)}, "
                        "or a path to a .csv file (with --target COLUMN)")


def _check_value(section: str, key: str, value, kind) -> object:
    where = f"[{section}] {key}"
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


def validate(cfg: dict, source: str = "config") -> dict:
    """Check a run configuration's tables, keys, types and ranges; raise ArgumentError naming the key."""
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
            if key not in SCHEMA[section] and not (section == "data" and key in _DATA_META):
                raise ArgumentError(f"{source}: unknown key {key!r} in [{section}]; valid keys: "
                                    f"{', '.join(SCHEMA[section])}")
            if key in SCHEMA[section]:
                _check_value(section, key, value, SCHEMA[section][key])
    _check_names(cfg)
    _check_ranges(cfg)
    return cfg


_DATA_META = ("task", "input_shape", "num_outputs", "classes", "feature_names", "standardizer_mean",
              "standardizer_scale", "target_mean", "target_scale")


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


def resolve(file_cfg: dict | None, overrides: dict) -> dict:
    """The full configuration of a run: dataset defaults < the TOML file < command-line ``overrides``.

    >>> cfg = resolve(None, {"data": {"dataset": "moons"}, "train": {"epochs": 3}})
    >>> cfg["model"]["name"], cfg["train"]["epochs"], cfg["optimizer"]["lr"]
    ('mlp', 3, 0.01)
    """
    file_cfg = validate(copy.deepcopy(file_cfg or {}), "config file")
    overrides = validate(overrides, "command line")
    chosen = _merge(file_cfg, overrides)
    dataset = chosen.get("data", {}).get("dataset", "digits")
    kind = dataset_kind(dataset)
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
    if kind == "csv" and "target" not in cfg["data"]:
        raise ArgumentError(f"dataset {dataset!r} is a CSV file: name its label column with --target COLUMN")
    if kind in ("mnist", "fashion-mnist") and "data_dir" not in cfg["data"]:
        cfg["data"]["data_dir"] = None
    return cfg


def model_kwargs(cfg: dict) -> dict:
    """The keyword arguments for :func:`chainrule.nn.models.get_model` from the [model] table."""
    return {k: v for k, v in cfg["model"].items() if k != "name"}
