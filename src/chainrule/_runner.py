"""``chainrule train / evaluate / predict``: build a run from its configuration, train it, save its folder.

A run folder holds ``model.safetensors`` (the weights, ``cr.save``), ``config.toml`` (everything needed to
rebuild the network and read new inputs), ``history.json`` and, with matplotlib, ``curves.png``. It is
written into a hidden temporary folder next to its final place and renamed into place at the end, so a
failed run leaves nothing behind and a reader never sees half a run folder. The final name is claimed
exclusively (``os.mkdir``) just before the rename; a default name taken by a run that finished first gets
a ``-2``, ``-3``... suffix.

Ctrl-C (and SIGTERM / SIGHUP, which the command line turns into ``_atomic.Interrupted``) never loses the
run: during an epoch the last complete epoch is saved with a checkpoint; after the last epoch the trained
run is saved (without a test result if the test pass was cut short); while the folder is being written
the signal waits until it is in place. The exit status is then 128 + the signal number (130 for Ctrl-C).

``chainrule train --resume RUN_DIR`` (:func:`resume_training`) continues such a run from its checkpoint
with the choices of its config.toml and publishes the result into RUN_DIR itself, replacing the
interrupted folder (see ``_atomic.replace_folder``); interrupted again, it saves a newer checkpoint there.
Resumed, the run equals an uninterrupted one bit for bit (fit seeds every epoch from (seed, epoch)); a
run cut short during its first epoch has no complete epoch to keep and starts again from the beginning.
"""

from __future__ import annotations

import datetime
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from . import config as tomlconfig
from ._atomic import exit_status, held_signals, numbered
from ._runconfig import dataset_kind, model_kwargs, validate
from ._rundata import RunData, load_run_data
from .errors import ArgumentError, ChainruleError, DataError, FileFormatError, MissingFileError


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
    """Regression targets are trained standardised; ``meta`` keeps the scale to report and predict in units.

    The mean and scale are taken in float64 and the targets cast to float32 only once centred, so large
    values (timestamps, prices in cents) keep their precision.
    """
    if rd.task != "regression":
        return
    y_tr, y_te = rd.y_train.astype(np.float64), rd.y_test.astype(np.float64)
    if "target_mean" not in meta:
        mean, std = float(y_tr.mean()), float(y_tr.std())
        if not (math.isfinite(mean) and math.isfinite(std)):
            raise DataError(f"the regression targets are too large to centre and scale (mean {mean}, standard "
                            f"deviation {std})")
        meta["target_mean"], meta["target_scale"] = mean, std if std > 0 else 1.0
    m, s = float(meta["target_mean"]), float(meta["target_scale"])
    if not (math.isfinite(m) and math.isfinite(s) and s > 0):
        raise DataError(f"target_mean / target_scale must be finite with a positive scale, got {m} / {s}")
    rd.y_test_units = y_te
    rd.y_train, rd.y_test = ((y_tr - m) / s).astype(np.float32), ((y_te - m) / s).astype(np.float32)


def _test_metrics(model, rd: RunData, meta: dict) -> dict:
    from . import train

    out = train.predict(model, rd.x_test)
    if rd.task == "classification":
        return {"test_accuracy": float(np.mean(out.argmax(axis=1) == rd.y_test))}
    pred = out.astype(np.float64) * float(meta["target_scale"]) + float(meta["target_mean"])
    return {"test_mse": float(np.mean((pred - rd.y_test_units) ** 2))}


def final_line(result: dict) -> str:
    if "test_accuracy" in result:
        return f"test accuracy: {result['test_accuracy']:.4f}"
    return f"test mse: {result['test_mse']:.4g}"


def format_value(v: float, digits: int = 9) -> str:
    """A predicted value with ``digits`` significant digits, without an exponent where that stays short."""
    v = float(v)
    if v != 0 and math.isfinite(v) and 1e-4 <= abs(v) < 1e16:
        return np.format_float_positional(v, precision=digits, unique=False, fractional=False, trim="-")
    return f"{v:.{digits}g}"


def value_digits(mean: float, scale: float) -> int:
    """Significant digits for printing a regression run's predictions: 9, plus one per power of ten by
    which the targets' mean exceeds their spread (timestamps near 1.7e9 that vary by tens of seconds
    need 17 digits to show the seconds), at most 17 (float64's limit)."""
    ratio = abs(mean) / scale if scale > 0 else 0.0
    return int(min(17, 9 + max(0, math.ceil(math.log10(ratio))) if ratio > 1 else 9))


# ------------------------------------------------------------------------------------------ the folder
def _run_name(cfg: dict) -> str:
    ds = cfg["data"]["dataset"]
    if dataset_kind(ds) == "csv":
        ds = os.path.splitext(os.path.basename(ds))[0] or "csv"
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{ds}-{cfg['model']['name']}-{stamp}"


@dataclass
class _Out:
    """Where a run goes: ``base`` (numbered ``base-2``, ``base-3``... on collision), a temporary folder."""

    base: str
    number: int
    tmp: str
    explicit: bool  # --out was given
    reuse_empty: bool  # --out was an empty folder before training
    replace: bool = False  # a resumed run: ``base`` is the interrupted run's folder, replaced at the end

    @property
    def final(self) -> str:
        return numbered(self.base, self.number)


def _prepare_out(out: str | None, cfg: dict) -> _Out:
    """The run's place and a temporary folder next to it; an unusable --out is a bad input (ArgumentError)."""
    base = os.path.abspath(out if out else os.path.join("runs", _run_name(cfg)))
    number, reuse_empty = 1, False
    if out:
        if os.path.exists(base) and not (os.path.isdir(base) and not os.listdir(base)):
            raise ArgumentError(f"--out {base}: already exists and is not an empty folder; choose a new folder")
        reuse_empty = os.path.isdir(base)
    else:
        while os.path.lexists(numbered(base, number)):  # a run started in the same second
            number += 1
    parent = os.path.dirname(base)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(base)}.tmp-", dir=parent)
    except OSError as e:
        why = f"{e.strerror}: {e.filename}" if e.strerror and e.filename else str(e)
        raise ArgumentError(f"--out {base}: cannot create the run folder there ({why})") from None
    return _Out(base, number, tmp, bool(out), reuse_empty)


def _publish(out: _Out) -> str:
    from ._atomic import publish_folder, replace_folder

    if out.replace:
        return replace_folder(out.tmp, out.base)
    return publish_folder(out.tmp, out.base, out.number, out.reuse_empty)


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
def run_training(cfg: dict, out: str | None, echo=print, resume: tuple | None = None) -> int:
    """Train the run ``cfg`` describes and write its folder; return the exit status.

    0 when done; 128 + the signal's number after Ctrl-C / SIGTERM / SIGHUP (the run saved all the same);
    2 when an explicit ``--out`` was taken by something else during training (the run is saved next to it).
    ``resume``: (run folder, its checkpoint dict), from :func:`resume_training`.
    """
    from . import data

    rd = load_run_data(cfg)
    meta = rd.meta()
    for key in ("dataset", "data_dir"):  # so that evaluate and predict work from any folder
        value = cfg["data"].get(key)
        if value and (key == "data_dir" or dataset_kind(value) == "csv"):
            cfg["data"][key] = os.path.abspath(os.path.expanduser(value))
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
    _check_batch_size(model, int(cfg["train"]["batch_size"]), cfg["model"]["name"])
    optimizer = build_optimizer(cfg, model.parameters())
    scheduler = build_scheduler(cfg, optimizer, epochs)
    cfg["data"].update(meta)
    tomlconfig.check_storable(cfg)
    start = (0, None, None)
    if resume is not None:
        start = _restore(resume, model, optimizer, scheduler)
        where = _prepare_replace(resume[0])
    else:
        where = _prepare_out(out, cfg)
    try:
        return _train_and_save(cfg, rd, meta, model, optimizer, scheduler, (x_tr, y_tr), val, where, echo, *start)
    finally:
        if os.path.isdir(where.tmp):  # failed or interrupted before its folder was in place
            shutil.rmtree(where.tmp, ignore_errors=True)


def _check_batch_size(model, batch_size: int, name: str) -> None:
    from .train._data import batchnorm_training

    if batch_size < 2 and batchnorm_training(model):
        raise ArgumentError(f"batch size {batch_size} cannot train model {name!r}: it holds batch normalisation, "
                            "which takes a variance over each batch; use a batch size of 2 or more")


def _train_and_save(cfg, rd, meta, model, optimizer, scheduler, train_xy, val, where: _Out, echo,
                    initial: int = 0, history=None, start_ckpt: dict | None = None) -> int:
    from . import train

    seed, epochs = int(cfg["train"]["seed"]), int(cfg["train"]["epochs"])
    history = train.History() if history is None else history
    n_val = 0 if val is None else len(val[0])
    resuming = f" (resumed after epoch {initial})" if initial else ""
    echo(f"training {cfg['model']['name']} ({model.num_parameters():,} parameters) on {cfg['data']['dataset']}: "
         f"{len(train_xy[0])} train / {n_val} validation / {len(rd.x_test)} test samples, {epochs} epochs"
         f"{resuming}")
    if rd.task == "regression":
        echo("loss and val_loss: the mse of the standardised targets; the test mse at the end is in the target's "
             "own units")
    cfg["run"] = {"chainrule_version": _version(), "created": datetime.datetime.now().isoformat(timespec="seconds"),
                  "status": "running"}
    if where.replace:
        cfg["run"]["resumed_after_epoch"] = initial
    start = time.perf_counter()
    snapshot = _snapshot_callback()
    trained = False
    try:
        # a diverging run overflows: fit stops it with one clear error, so NumPy's warnings would be noise
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            train.fit(model, _loss(rd.task), optimizer, train_xy, val, epochs=epochs,
                      batch_size=int(cfg["train"]["batch_size"]), scheduler=scheduler,
                      metrics=("accuracy",) if rd.task == "classification" else (), seed=seed, history=history,
                      callbacks=[snapshot], initial_epoch=initial)
        trained = True
        result = _test_metrics(model, rd, meta)
    except KeyboardInterrupt as e:
        with held_signals():  # a second Ctrl-C must not break the save
            if trained:
                done = len(history)
                what = f"after the last epoch ({done}), during the test evaluation"
            else:
                done = snapshot.checkpoint["epoch"] if snapshot.checkpoint else initial
                history.records = history.records[:done]
                what = f"after epoch {done}" if done else "during the first epoch (weights part-way through it)"
            cfg["run"].update(status="interrupted", epochs_completed=done)
            ckpt = snapshot.checkpoint or (start_ckpt if done else None)
            ckpt = ckpt or {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": done,
                            "seed": seed}
            path = _save(where, cfg, model, history, ckpt)
        moved = _moved_note(where, path)
        print(f"chainrule: interrupted {what}; checkpoint saved to {path} (checkpoint.safetensors, "
              f"model.safetensors){moved}", file=sys.stderr, flush=True)
        return exit_status(e)
    except ChainruleError as e:
        if trained:
            raise
        raise RunFailure(f"training failed: {e}") from None
    result["train_seconds"] = round(time.perf_counter() - start, 3)
    cfg["run"].update(status="complete", epochs_completed=len(history))
    cfg["result"] = result
    with held_signals() as held:
        path = _save(where, cfg, model, history)
    echo(f"run saved to {path}")
    echo(final_line(result))
    if held.signum is not None:
        print(f"chainrule: interrupted while saving; the run is complete and saved to {path}"
              f"{_moved_note(where, path)}", file=sys.stderr, flush=True)
        return 128 + int(held.signum)
    if path != where.final and where.explicit:
        print(f"chainrule: error: --out {where.final}: was created by something else during training; the run "
              f"was saved to {path} instead", file=sys.stderr, flush=True)
        return 2
    return 0


def _save(where: _Out, cfg: dict, model, history, checkpoint: dict | None = None) -> str:
    """Write the run into its temporary folder and publish it; an OSError names the final path, not the temporary."""
    try:
        _write_run(where.tmp, cfg, model, history, checkpoint)
    except OSError as e:
        if type(e) is OSError and e.filename and str(e.filename).startswith(where.tmp):
            raise OSError(e.errno, e.strerror, where.final + str(e.filename)[len(where.tmp):]) from None
        raise
    return _publish(where)


def _prepare_replace(run_dir: str) -> _Out:
    """A temporary folder next to the interrupted run ``run_dir``, which the resumed run replaces."""
    base = os.path.abspath(run_dir)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(base)}.tmp-", dir=os.path.dirname(base))
    return _Out(base, 1, tmp, False, False, replace=True)


def _restore(resume: tuple, model, optimizer, scheduler) -> tuple:
    """(epochs done, their History, the checkpoint) of an interrupted run, its state loaded into the objects.

    A checkpoint of epoch 0 (cut short in the first epoch) holds part-way weights: the run starts again.
    """
    from .errors import StateDictError
    from .train import History

    run_dir, ckpt = resume
    initial = int(ckpt["epoch"])
    if initial == 0:
        return 0, None, None
    where = os.path.join(run_dir, "checkpoint.safetensors")
    for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None and name not in ckpt:
            raise StateDictError(f"{where}: has no '{name}' entry (keys: {list(ckpt)}); it does not match the "
                                 "run's config.toml")
        if obj is not None:
            obj.load_state_dict(ckpt[name])
    history = History.from_json(os.path.join(run_dir, "history.json"))
    if len(history) < initial:
        raise FileFormatError(f"{run_dir}/history.json: {len(history)} epochs, but the checkpoint is of epoch "
                              f"{initial}")
    history.records = history.records[:initial]
    return initial, history, ckpt


def resume_training(run_dir: str, epochs: int | None = None, echo=print) -> int:
    """Continue the interrupted run in ``run_dir`` from its checkpoint (``chainrule train --resume``).

    ``epochs`` may raise the run's total; the learning-rate schedule keeps the length it was built with.
    The finished (or again interrupted) run replaces ``run_dir``. Returns the exit status as
    :func:`run_training` does.
    """
    from ._runconfig import DATA_META
    from .io import load

    source = os.path.join(run_dir, "config.toml")
    if not os.path.isdir(run_dir):
        what = "is a file, not a run folder" if os.path.exists(run_dir) else "run folder does not exist"
        raise MissingFileError(f"--resume {run_dir}: {what}")
    if not os.path.isfile(source):
        raise MissingFileError(f"--resume {run_dir}: not a run folder (it has no config.toml)")
    path = os.path.join(run_dir, "checkpoint.safetensors")
    if not os.path.isfile(path):
        raise ArgumentError(f"--resume {run_dir}: has no checkpoint.safetensors; it is a complete run, with "
                            "nothing to resume")
    cfg = tomlconfig.load(source)
    if not all(isinstance(cfg.get(k), dict) for k in ("data", "model", "optimizer", "schedule", "train")):
        raise FileFormatError(f"{source}: needs the tables [data], [model], [optimizer], [schedule] and [train]; "
                              "it was not written by chainrule train")
    cfg = validate(cfg, source, run_folder=True)
    ckpt = load(path)
    if "epoch" not in ckpt:
        raise FileFormatError(f"{path}: has no 'epoch' entry; it was not written by chainrule train")
    done, total = int(ckpt["epoch"]), int(cfg["train"]["epochs"])
    if epochs is not None:
        if epochs < max(total, done):
            raise ArgumentError(f"--epochs {epochs}: a resumed run can only keep or raise its total of {total} "
                                f"epochs ({done} done)")
        cfg["train"]["epochs"] = epochs
    for key in ("run", "result"):
        cfg.pop(key, None)
    for key in DATA_META:  # found again from the data, exactly as the first time
        if key != "task":
            cfg["data"].pop(key, None)
    return run_training(cfg, None, echo, resume=(os.path.abspath(run_dir), ckpt))


def _moved_note(where: _Out, path: str) -> str:
    if path == where.final or not where.explicit:
        return ""
    return f"; --out {where.final} was created by something else during training"


def _version() -> str:
    from . import __version__

    return __version__
