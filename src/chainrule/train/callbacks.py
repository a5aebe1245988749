"""Callbacks for :func:`chainrule.train.fit`: early stopping, checkpoints and CSV/JSON logs.

A callback subclasses :class:`Callback` and overrides the hooks it needs. Before training, ``fit`` sets
``model``, ``optimizer``, ``scheduler``, ``history`` and ``params`` (``epochs``, ``initial_epoch``, ``seed``,
``batch_size``, ``do_validation``) on it. ``on_train_end`` runs after the last epoch, after an early stop,
and also when fit stops on a NaN or inf (before the NonFiniteError reaches the caller). Setting
``self.stop_training = True`` in a hook ends training after the epoch.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..errors import ArgumentError, NonFiniteError
from .history import History

_MAX_WORDS = ("acc", "f1", "precision", "recall", "r2", "auc")


class Callback:
    """Base class: every hook does nothing.

    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, epoch, logs):
    ...         print(epoch, round(logs["loss"], 2))
    """

    model = optimizer = scheduler = history = None
    params: dict = {}
    stop_training = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_batch_end(self, step: int, logs: dict | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        pass

    def on_train_end(self, logs: dict | None = None) -> None:
        pass


def _mode(owner: str, monitor: str, mode: str) -> str:
    if mode == "auto":
        return "max" if any(w in monitor for w in _MAX_WORDS) else "min"
    if mode not in ("min", "max"):
        raise ArgumentError(f"{owner}: mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


def _monitored(owner: str, monitor: str, logs: dict, fallback: bool = False) -> tuple[str, float]:
    """(key, value) of the monitored quantity in an epoch's logs; 'val_x' falls back to 'x' if asked."""
    key = monitor
    if key not in logs and fallback and key.startswith("val_") and key[4:] in logs:
        key = key[4:]
    if key not in logs or logs[key] is None:
        raise ArgumentError(
            f"{owner}: monitor '{monitor}' is not in the epoch's logs (keys: {', '.join(logs)}); "
            "pass val_data to fit, or monitor a training quantity such as 'loss'"
        )
    return key, float(logs[key])


class _Best:
    """Tracks the best value of a monitored quantity."""

    def __init__(self, mode: str, min_delta: float = 0.0) -> None:
        self.mode, self.min_delta = mode, abs(float(min_delta))
        self.value = math.inf if mode == "min" else -math.inf

    def improves(self, v: float) -> bool:
        if math.isnan(v):
            return False
        if self.mode == "min":
            return v < self.value - self.min_delta
        return v > self.value + self.min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the model gets back, when training ends, the weights of its best epoch
    (also when fit stops on a NaN or inf loss). After training: ``best`` (value), ``best_epoch``,
    ``stopped_epoch`` (None when it did not stop) and ``restored_epoch`` (None when nothing was restored).
    A validation ``monitor`` ('val_...') needs ``val_data`` in fit: without it fit fails before training.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, mode: str = "auto",
                 restore_best_weights: bool = False) -> None:
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ArgumentError(f"EarlyStopping: patience must be a non-negative integer, got {patience!r}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.mode = _mode("EarlyStopping", monitor, mode)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs=None) -> None:
        if self.monitor.startswith("val_") and self.params.get("do_validation") is False:
            raise ArgumentError(f"EarlyStopping: monitor '{self.monitor}' needs validation data; pass val_data to "
                                f"fit, or monitor a training quantity such as '{self.monitor[4:]}'")
        self._best = _Best(self.mode, self.min_delta)
        self.best, self.best_epoch, self.stopped_epoch = self._best.value, None, None
        self.restored_epoch = None
        self.wait = 0
        self._weights = None

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        _, v = _monitored("EarlyStopping", self.monitor, logs)
        if self._best.improves(v):
            self._best.value = self.best = v
            self.best_epoch, self.wait = epoch, 0
            if self.restore_best_weights:
                self._weights = self.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stop_training = True
            self.stopped_epoch = epoch

    def on_train_end(self, logs=None) -> None:
        if self.restore_best_weights and self._weights is not None:
            self.model.load_state_dict(self._weights)
            self.restored_epoch = self.best_epoch


def _check_finite_weights(model, where: str) -> None:
    for name, p in model.named_parameters():
        if not np.isfinite(p.data).all():
            raise NonFiniteError(f"{where}: parameter '{name}' holds NaN or inf; not saving over good checkpoints")


class ModelCheckpoint(Callback):
    """Save ``{"model", "optimizer", "scheduler", "epoch", "seed", "logs", "monitor", "best"}`` with ``cr.save``.

    ``path_or_dir`` is a folder (created if needed), holding ``last.safetensors`` written every ``every``
    epochs and, with ``save_best``, ``best.safetensors`` written when ``monitor`` improves; or a file
    path ending in ``.safetensors`` (it may contain ``{epoch}``), written every ``every`` epochs, or only
    on improvement with ``save_best``. When ``monitor`` is a validation quantity and fit has no
    validation data, the training quantity of the same name is monitored instead ('val_loss' -> 'loss').
    Weights holding NaN or inf are never saved. Resume with :func:`load_checkpoint`.
    """

    def __init__(self, path_or_dir, every: int = 1, save_best: bool = True, monitor: str = "val_loss",
                 mode: str = "auto") -> None:
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ArgumentError(f"ModelCheckpoint: every must be a positive integer, got {every!r}")
        self.path = os.fspath(path_or_dir)
        self.is_dir = not self.path.endswith(".safetensors")
        self.every, self.save_best, self.monitor = int(every), bool(save_best), monitor
        self.mode = _mode("ModelCheckpoint", monitor, mode)
        self.last_path = self.best_path = None

    def on_train_begin(self, logs=None) -> None:
        self._best = _Best(self.mode)
        if self.is_dir:
            os.makedirs(self.path, exist_ok=True)
            best = os.path.join(self.path, "best.safetensors")
            if self.params.get("initial_epoch", 0) > 0 and os.path.exists(best):
                from ..io import load

                saved = load(best).get("best")
                if isinstance(saved, (int, float)):
                    self._best.value = float(saved)

    def _payload(self, epoch: int, logs: dict, key: str, value: float | None) -> dict:
        ckpt = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "epoch": int(epoch),
                "seed": self.params.get("seed"), "monitor": key, "best": value,
                "logs": {k: v for k, v in logs.items() if isinstance(v, (int, float, str)) or v is None}}
        if self.scheduler is not None:
            ckpt["scheduler"] = self.scheduler.state_dict()
        return ckpt

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        from ..io import save

        periodic = epoch % self.every == 0
        improved = False
        key, value = self.monitor, None
        if self.save_best:
            key, value = _monitored("ModelCheckpoint", self.monitor, logs, fallback=True)
            improved = self._best.improves(value)
            if improved:
                self._best.value = value
        if not (periodic or improved):
            return
        _check_finite_weights(self.model, "ModelCheckpoint")
        ckpt = self._payload(epoch, logs, key, self._best.value if self.save_best else None)
        if self.is_dir:
            if periodic:
                self.last_path = os.path.join(self.path, "last.safetensors")
                save(ckpt, self.last_path)
            if improved:
                self.best_path = os.path.join(self.path, "best.safetensors")
                save(ckpt, self.best_path)
        elif (improved if self.save_best else periodic):
            path = self.path.format(epoch=epoch) if "{" in self.path else self.path
            save(ckpt, path)
            self.last_path = path
            if improved:
                self.best_path = path


def load_checkpoint(path, model=None, optimizer=None, scheduler=None) -> dict:
    """Load a checkpoint written by :class:`ModelCheckpoint` (or any dict with these keys) into fresh objects.

    Restores ``model``, ``optimizer`` and ``scheduler`` when given, and returns the whole checkpoint
    dict; resume with ``fit(..., initial_epoch=ckpt["epoch"], seed=ckpt["seed"])``.
    """
    from ..errors import StateDictError
    from ..io import load

    ckpt = load(path)
    for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is None:
            continue
        if name not in ckpt:
            raise StateDictError(f"load_checkpoint: {os.fspath(path)} has no '{name}' entry (keys: {list(ckpt)})")
        obj.load_state_dict(ckpt[name])
    return ckpt


class _FileLogger(Callback):
    _write = "to_csv"
    _read = "from_csv"

    def __init__(self, path, append: bool = False) -> None:
        self.path, self.append = os.fspath(path), bool(append)

    def on_train_begin(self, logs=None) -> None:
        self._rows = []
        if self.append and os.path.exists(self.path):
            start = self.params.get("initial_epoch", 0)
            old = getattr(History, self._read)(self.path).records
            self._rows = [r for r in old if not isinstance(r.get("epoch"), int) or r["epoch"] <= start]

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self._rows.append(dict(logs))
        getattr(History(self._rows), self._write)(self.path)


class CSVLogger(_FileLogger):
    """Rewrite ``path`` (atomically) after every epoch with one CSV row per epoch so far.

    With ``append``, rows already in the file up to fit's ``initial_epoch`` are kept (for resuming).
    """


class JSONLogger(_FileLogger):
    """Rewrite ``path`` (atomically) after every epoch with the history so far as JSON (``History.to_json``).

    With ``append``, records already in the file up to fit's ``initial_epoch`` are kept (for resuming).
    """

    _write = "to_json"
    _read = "from_json"
