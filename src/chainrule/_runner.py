"""``chainrule train / evaluate / predict``: build a run from its configuration, train it, save its folder.

A run folder holds ``model.safetensors`` (the weights, ``cr.save``), ``config.toml`` (everything needed to
rebuild the network and read new inputs), ``history.json`` and, with matplotlib, ``curves.png``. It is
written into a hidden temporary folder next to its final place and renamed into place at the end, so a
failed run leaves nothing behind and a reader never sees half a run folder.
"""

from __future__ import annotations

import copy
import datetime
import os
import shutil
import signal
import sys
import tempfile
import time

import numpy as np

from . import config as tomlconfig
from ._runconfig import dataset_kind, model_kwargs, validate
from ._rundata import RunData, check_compatible, load_run_data, read_inputs
from .errors import ArgumentError, ChainruleError, DataError, MissingFileError


class RunFailure(Exception):
    """Training started but did not finish (e.g. the loss diverged): exit status 1, not a bad input."""


# ------------------------------------------------------------------------------------------ building
def build_model(cfg: dict, meta: dict):
    from .nn.models import get_model

    return get_model(cfg["model"]["name"], meta["input_shape"], int(meta["num_outputs"]), **model_kwargs(cfg))


def build_optimizer(cfg: dict, params):
    from . import optim

    o = cfg["optimizer"]
    name, lr, wd = o["name"], float(o["lr"]), float(o.get("weight_decay", 0.0))
    if name in ("sgd", "momentum", "nesterov"):
        momentum = float(o.get("momentum", 0.0 if name == "sgd" else 0.9))
        o["momentum"] = momentum
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=name == "nesterov", weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        o["weight_decay"] = float(o.get("weight_decay", 0.01))
        return optim.AdamW(params, lr=lr, weight_decay=o["weight_decay"])
    return optim.Adam(params, lr=lr, weight_decay=wd)


def build_scheduler(cfg: dict, optimizer, epochs: int):
    """The per-epoch schedule named in [schedule]; missing settings are filled in (and recorded) in ``cfg``."""
    from .optim import lr_scheduler as S

    s, lr = cfg["schedule"], float(cfg["optimizer"]["lr"])
    name = s["name"]
    if name == "none":
        return None
    if name in ("linear", "exponential"):
        s.setdefault("lr_end", lr / 100)
        cls = S.LinearDecay if name == "linear" else S.ExponentialDecay
        return cls(optimizer, lr_end=float(s["lr_end"]), total_steps=epochs)
    if name == "step":
        s.setdefault("step_size", max(1, epochs // 3))
        s.setdefault("gamma", 0.1)
        return S.StepLR(optimizer, step_size=int(s["step_size"]), gamma=float(s["gamma"]))
    return S.CosineAnnealingLR(optimizer, T_max=epochs)


def _loss(task: str):
    from . import nn

    return nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()


def _normalise_targets(rd: RunData, meta: dict) -> None:
    """Regression targets are trained standardised; ``meta`` keeps the scale to report and predict in units."""
    if rd.task != "regression":
        return
    if "target_mean" not in meta:
        mean, std = float(rd.y_train.mean()), float(rd.y_train.std())
        meta["target_mean"], meta["target_scale"] = mean, std if std > 0 else 1.0
    m, s = np.float32(meta["target_mean"]), np.float32(meta["target_scale"])
    rd.y_train, rd.y_test = (rd.y_train - m) / s, (rd.y_test - m) / s


def _test_metrics(model, rd: RunData, meta: dict) -> dict:
    from . import train

    out = train.predict(model, rd.x_test)
    if rd.task == "classification":
        return {"test_accuracy": float(np.mean(out.argmax(axis=1) == rd.y_test))}
    s = float(meta["target_scale"])
    return {"test_mse": float(np.mean((out.astype(np.float64) - rd.y_test) ** 2) * s * s)}


def final_line(result: dict) -> str:
    if "test_accuracy" in result:
        return f"test accuracy: {result['test_accuracy']:.4f}"
    return f"test mse: {result['test_mse']:.4g}"


# ------------------------------------------------------------------------------------------ the folder
def _run_name(cfg: dict) -> str:
    ds = cfg["data"]["dataset"]
    if dataset_kind(ds) == "csv":
        ds = os.path.splitext(os.path.basename(ds))[0] or "csv"
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{ds}-{cfg['model']['name']}-{stamp}"


def _prepare_out(out: str | None, cfg: dict) -> tuple[str, str]:
    """(final path, temporary folder next to it); an unusable --out is a bad input (ArgumentError)."""
    final = os.path.abspath(out if out else os.path.join("runs", _run_name(cfg)))
    if os.path.exists(final) and not (os.path.isdir(final) and not os.listdir(final)):
        raise ArgumentError(f"--out {final}: already exists and is not an empty folder; choose a new folder")
    parent = os.path.dirname(final)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(final)}.tmp-", dir=parent)
    except OSError as e:
        why = f"{e.strerror}: {e.filename}" if e.strerror and e.filename else str(e)
        raise ArgumentError(f"--out {final}: cannot create the run folder there ({why})") from None
    return final, tmp


def _publish(tmp: str, final: str) -> None:
    from ._atomic import _UMASK

    os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp made it private; give it a plain mkdir's permissions
    if os.path.isdir(final):
        os.rmdir(final)  # checked empty before training
    os.rename(tmp, final)


def _snapshot_callback():
    from .train import Callback

    class Snapshot(Callback):
        """Copies of the weights and optimizer state at the end of every epoch, for a consistent Ctrl-C checkpoint."""

        checkpoint = None

        def on_epoch_end(self, epoch: int, logs: dict) -> None:
            self.checkpoint = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                               "epoch": int(epoch), "seed": self.params.get("seed")}
            if self.scheduler is not None:
                self.checkpoint["scheduler"] = self.scheduler.state_dict()

    return Snapshot()


def _write_run(folder: str, cfg: dict, model, history, checkpoint: dict | None = None) -> None:
    from .io import save

    if checkpoint is not None:  # an interrupted run: the last complete epoch, with what is needed to resume
        model.load_state_dict(checkpoint["model"])
        save(checkpoint, os.path.join(folder, "checkpoint.safetensors"))
    save(model.state_dict(), os.path.join(folder, "model.safetensors"))
    tomlconfig.dump(cfg, os.path.join(folder, "config.toml"))
    history.to_json(os.path.join(folder, "history.json"))
    if len(history):
        from .viz import PlotDependencyError, plot_curves

        try:
            plot_curves(history, os.path.join(folder, "curves.png"))
        except PlotDependencyError:  # matplotlib is not installed: the curves are optional
            pass


# ------------------------------------------------------------------------------------------ train
def run_training(cfg: dict, out: str | None, echo=print) -> int:
    """Train the run ``cfg`` describes and write its folder; return the exit status (0, or 130 on Ctrl-C)."""
    from . import data, train

    rd = load_run_data(cfg)
    meta = rd.meta()
    for key in ("dataset", "data_dir"):  # so that evaluate and predict work from any folder
        value = cfg["data"].get(key)
        if value and (key == "data_dir" or dataset_kind(value) == "csv"):
            cfg["data"][key] = os.path.abspath(value)
    _normalise_targets(rd, meta)
    seed = int(cfg["train"]["seed"])
    epochs = int(cfg["train"]["epochs"])
    val_fraction = float(cfg["data"].get("val_fraction", 0.0))
    x_tr, y_tr, val = rd.x_train, rd.y_train, None
    if val_fraction > 0 and len(x_tr) >= 20:
        strat = y_tr if rd.task == "classification" else None
        (x_tr, y_tr), val = data.train_val_split(x_tr, y_tr, val_fraction=val_fraction, seed=seed, stratify=strat)
    from .backend import manual_seed

    manual_seed(seed)
    model = build_model(cfg, meta)
    optimizer = build_optimizer(cfg, model.parameters())
    scheduler = build_scheduler(cfg, optimizer, epochs)
    cfg["data"].update(meta)
    final, tmp = _prepare_out(out, cfg)
    history = train.History()
    n_val = 0 if val is None else len(val[0])
    echo(f"training {cfg['model']['name']} ({model.num_parameters():,} parameters) on {cfg['data']['dataset']}: "
         f"{len(x_tr)} train / {n_val} validation / {len(rd.x_test)} test samples, {epochs} epochs")
    cfg["run"] = {"chainrule_version": _version(), "created": datetime.datetime.now().isoformat(timespec="seconds"),
                  "status": "running"}
    start = time.perf_counter()
    snapshot = _snapshot_callback()
    try:
        train.fit(model, _loss(rd.task), optimizer, (x_tr, y_tr), val, epochs=epochs,
                  batch_size=int(cfg["train"]["batch_size"]), scheduler=scheduler,
                  metrics=("accuracy",) if rd.task == "classification" else (), seed=seed, history=history,
                  callbacks=[snapshot])
    except KeyboardInterrupt:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the save
        try:
            done = snapshot.checkpoint["epoch"] if snapshot.checkpoint else 0
            history.records = history.records[:done]
            cfg["run"].update(status="interrupted", epochs_completed=done)
            ckpt = snapshot.checkpoint or {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                           "epoch": 0, "seed": seed}
            _write_run(tmp, cfg, model, history, ckpt)
            _publish(tmp, final)
        finally:
            signal.signal(signal.SIGINT, previous)
        what = f"after epoch {done}" if done else "during the first epoch (weights part-way through it)"
        print(f"chainrule: interrupted {what}; checkpoint saved to {final} (checkpoint.safetensors, model.safetensors)",
              file=sys.stderr, flush=True)
        return 130
    except ChainruleError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RunFailure(f"training failed: {e}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        result = _test_metrics(model, rd, meta)
        result["train_seconds"] = round(time.perf_counter() - start, 3)
        cfg["run"].update(status="complete", epochs_completed=len(history))
        cfg["result"] = result
        _write_run(tmp, cfg, model, history)
        _publish(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    echo(f"run saved to {final}")
    echo(final_line(result))
    return 0


def _version() -> str:
    from . import __version__

    return __version__


# ------------------------------------------------------------------------------------------ reuse a run
def load_run(run_dir: str):
    """(config, model with its trained weights) of a run folder."""
    from .io import load

    if not os.path.isdir(run_dir):
        raise MissingFileError(f"run folder {run_dir!r} does not exist")
    for name in ("config.toml", "model.safetensors"):
        if not os.path.isfile(os.path.join(run_dir, name)):
            raise MissingFileError(f"{run_dir!r} is not a run folder: it has no {name}")
    cfg = validate(tomlconfig.load(os.path.join(run_dir, "config.toml")), f"{run_dir}/config.toml")
    d = cfg.get("data", {})
    for key in ("dataset", "task", "input_shape", "num_outputs"):
        if key not in d:
            raise DataError(f"{run_dir}/config.toml: [data] has no {key!r}; it was not written by chainrule train")
    if "name" not in cfg.get("model", {}):
        raise DataError(f"{run_dir}/config.toml: [model] has no 'name'; it was not written by chainrule train")
    model = build_model(cfg, d)
    model.load_state_dict(load(os.path.join(run_dir, "model.safetensors")))
    model.eval()
    return cfg, model


def evaluate_run(run_dir: str, dataset: str | None = None, target: str | None = None,
                 data_dir: str | None = None) -> list[str]:
    """Lines to print: the test loss and the test accuracy (or mse) of a run, on its dataset or another."""
    from . import train

    cfg, model = load_run(run_dir)
    meta = cfg["data"]
    ev = copy.deepcopy(cfg)
    if dataset is not None and dataset != meta["dataset"]:
        ev["data"] = {"dataset": dataset, "test_fraction": meta.get("test_fraction", 0.2)}
        if dataset_kind(dataset) == "csv":
            if target is None and "target" not in meta:
                raise ArgumentError(f"dataset {dataset!r} is a CSV file: name its label column with --target COLUMN")
            ev["data"]["target"] = target or meta["target"]
    if target is not None:
        ev["data"]["target"] = target
    if data_dir is not None:
        ev["data"]["data_dir"] = data_dir
    rd = load_run_data(ev, run_meta=meta)
    check_compatible(meta, rd, ev["data"]["dataset"])
    _normalise_targets(rd, dict(meta))
    loss = train.evaluate(model, _loss(rd.task), (rd.x_test, rd.y_test), metrics=())["loss"]
    result = _test_metrics(model, rd, meta)
    return [f"test samples: {len(rd.x_test)}", f"test loss: {loss:.4f}", final_line(result)]


def predict_run(run_dir: str, inputs: list) -> list[str]:
    """One line per input sample: the predicted class name, or the predicted value for regression."""
    from . import train

    cfg, model = load_run(run_dir)
    meta = cfg["data"]
    x = read_inputs(inputs, meta)
    out = train.predict(model, x)
    if meta["task"] == "classification":
        names = meta.get("classes") or [str(i) for i in range(int(meta["num_outputs"]))]
        return [str(names[i]) for i in out.argmax(axis=1)]
    y = out[:, 0].astype(np.float64) * float(meta.get("target_scale", 1.0)) + float(meta.get("target_mean", 0.0))
    return [f"{v:.6g}" for v in y]
