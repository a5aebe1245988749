"""Callbacks for :func:`chainrule.train.fit`: early stopping and checkpoints (CSV/JSON logs: :mod:`.loggers`).

A callback subclasses :class:`Callback` and overrides the hooks it needs. Before training, ``fit`` sets
``model``, ``optimizer``, ``scheduler``, ``history`` and ``params`` (``epochs``, ``initial_epoch``, ``seed``,
``batch_size``, ``do_validation``) on it. ``on_train_end`` runs after the last epoch, after an early stop,
and also when fit stops on a NaN or inf (before the NonFiniteError reaches the caller). Setting
``self.stop_training = True`` in a hook ends training after the epoch.
"""

from __future__ import annotations

import math
import os
import string

import numpy as np

from ..errors import ArgumentError, NonFiniteError

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


def check_monitor(owner: str, monitor: str, params: dict, fallback: bool = False) -> None:
    """Refuse at the start of fit a monitor that no epoch's logs will hold: the names fit logs are known once
    the metrics are (not when fit picks them at the first batch), so 'val_acc' fails now, not after an epoch."""
    names = params.get("metrics")
    if names is None:
        return
    base = ["loss", *names]
    keys = ["epoch", *base, "lr", "time"] + ([f"val_{n}" for n in base] if params.get("do_validation") else [])
    if monitor in keys or (fallback and monitor.startswith("val_") and monitor[4:] in keys):
        return
    raise ArgumentError(f"{owner}: monitor {monitor!r} will not be in the epoch's logs, which will hold "
                        f"{', '.join(k for k in keys if k != 'epoch')}")


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
        check_monitor("EarlyStopping", self.monitor, self.params)
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


_MODEL_SUFFIXES = (".pt", ".pth", ".h5", ".hdf5", ".keras", ".ckpt", ".npz", ".npy", ".bin", ".pkl", ".pickle",
                   ".safetensor", ".st", ".onnx")
_BASE_KEYS = ("epoch", "loss", "lr", "time")
_TEMPLATE_HINT = ("a file path may name the epoch's logs in braces, as Keras' ModelCheckpoint does: "
                  "'ck_{epoch:02d}-{val_loss:.3f}.safetensors'; write {{ and }} for a literal brace")


def _template_fields(path: str) -> list[str]:
    """The names of the ``{fields}`` of a checkpoint file path; an ArgumentError for a malformed template."""
    try:
        parsed = list(string.Formatter().parse(path))
    except ValueError as e:
        raise ArgumentError(f"ModelCheckpoint: path {path!r} is not a valid template ({e}); {_TEMPLATE_HINT}") from None
    names = []
    for _, name, spec, _conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or "{" in (spec or ""):  # {} or {1} (positional), {a.b}, {a[0]}, nested
            raise ArgumentError(f"ModelCheckpoint: path {path!r} has the field {{{name}}}, which names no log key; "
                                f"{_TEMPLATE_HINT}")
        names.append(name)
    try:  # the format specs, with values of the types fit logs: the epoch an int, everything else a float
        path.format(**{n: 1 if n == "epoch" else 0.5 for n in names})
    except (ValueError, TypeError) as e:
        raise ArgumentError(f"ModelCheckpoint: path {path!r} cannot be formatted with the epoch (an int) and the "
                            f"logs (floats): {e}; {_TEMPLATE_HINT}") from None
    return names


def _make_folder(folder: str, path: str) -> None:
    """``os.makedirs(folder)``; an ArgumentError naming ``path`` when a part of ``folder`` is a file."""
    if not folder or os.path.isdir(folder):
        return
    try:
        os.makedirs(folder, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        part = folder
        while part and not os.path.exists(part):
            part = os.path.dirname(part)
        raise ArgumentError(f"ModelCheckpoint: cannot make the folder {folder!r} for {path!r}: {part!r} is a file, "
                            "not a folder") from None


class ModelCheckpoint(Callback):
    """Save ``{"model", "optimizer", "scheduler", "epoch", "seed", "logs", "monitor", "best"}`` with ``cr.save``.

    ``path_or_dir`` is either

    - a folder (a path that does not end in ``.safetensors``; created if needed), holding
      ``last.safetensors``, written every ``every`` epochs, and with ``save_best`` ``best.safetensors``,
      written when ``monitor`` improves; or
    - a file path ending in ``.safetensors``, written every ``every`` epochs, or only on improvement with
      ``save_best``; its folder is created if needed. Like Keras' ModelCheckpoint, it may name the epoch
      and its logs in braces: ``"ck_{epoch:02d}-{val_loss:.3f}.safetensors"`` (any key of the epoch's
      record: ``epoch``, ``loss``, ``lr``, ``time``, the metrics, and with validation data ``val_loss``
      and ``val_<metric>``); ``{{`` and ``}}`` are literal braces.

    The path is checked when the callback is made (a malformed template, an existing file given as a
    folder, a ``.pt``/``.h5``/... name) and when training begins (keys the epoch's logs will not hold,
    a folder that cannot be made), with an ArgumentError naming it, before any epoch is trained.
    When ``monitor`` is a validation quantity and fit has no validation data, the training quantity of
    the same name is monitored instead ('val_loss' -> 'loss'). Weights holding NaN or inf are never
    saved. Resume with :func:`load_checkpoint`.

    >>> ModelCheckpoint("ck_{epoch:02d}-{val_loss:.2f}.safetensors").path_for(3, {"val_loss": 0.12345})
    'ck_03-0.12.safetensors'
    """

    def __init__(self, path_or_dir, every: int = 1, save_best: bool = True, monitor: str = "val_loss",
                 mode: str = "auto") -> None:
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ArgumentError(f"ModelCheckpoint: every must be a positive integer, got {every!r}")
        self.path = os.fspath(path_or_dir)
        self.is_dir = not self.path.endswith(".safetensors")
        self.fields: list[str] = []
        if self.is_dir:
            if os.path.exists(self.path) and not os.path.isdir(self.path):
                raise ArgumentError(f"ModelCheckpoint: {self.path!r} is an existing file, not a folder; a path that "
                                    "does not end in '.safetensors' names a folder for best.safetensors and "
                                    "last.safetensors: give a folder, or a file path ending in '.safetensors'")
            suffix = os.path.splitext(self.path)[1].lower()
            if suffix in _MODEL_SUFFIXES and not os.path.isdir(self.path):
                raise ArgumentError(f"ModelCheckpoint: {self.path!r} looks like a file name, but checkpoints are "
                                    f"safetensors files, not {suffix}: end it in '.safetensors' to write one file, "
                                    "or give a folder (best.safetensors and last.safetensors go inside)")
        else:
            self.fields = _template_fields(self.path)
            if os.path.isdir(self.path.format(**{n: 1 if n == "epoch" else 0.5 for n in self.fields})):
                raise ArgumentError(f"ModelCheckpoint: {self.path!r} is a folder; a path ending in '.safetensors' "
                                    "names the checkpoint file")
        self.every, self.save_best, self.monitor = int(every), bool(save_best), monitor
        self.mode = _mode("ModelCheckpoint", monitor, mode)
        self.last_path = self.best_path = None

    def _check_fields(self) -> None:
        """Every field of the file path is a key of the epoch's logs, as far as fit's ``params`` tell."""
        if not self.fields or not self.params:
            return
        metrics = self.params.get("metrics")
        names = list(_BASE_KEYS) + (["accuracy", "mse"] if metrics is None else list(metrics))  # None: undecided
        if self.params.get("do_validation"):
            names += ["val_" + n for n in names if n not in ("epoch", "lr", "time")]
        for field in self.fields:
            if field not in names:
                why = (" (validation keys need val_data in fit)"
                       if field.startswith("val_") and not self.params.get("do_validation") else "")
                raise ArgumentError(f"ModelCheckpoint: path {self.path!r} names {{{field}}}, but the epoch's logs "
                                    f"will not hold '{field}'{why}; they hold: {', '.join(names)}")

    def path_for(self, epoch: int, logs: dict) -> str:
        """The file this callback writes for ``epoch`` with ``logs`` (file mode; the template filled in)."""
        try:
            return self.path.format(**{**logs, "epoch": int(epoch)})
        except KeyError as e:
            raise ArgumentError(f"ModelCheckpoint: path {self.path!r} names {{{e.args[0]}}}, which is not in the "
                                f"epoch's logs (keys: {', '.join(['epoch', *logs])})") from None
        except (ValueError, TypeError) as e:
            raise ArgumentError(f"ModelCheckpoint: path {self.path!r} cannot be formatted with epoch {epoch}'s "
                                f"logs: {e}") from None

    def on_train_begin(self, logs=None) -> None:
        if self.save_best:
            check_monitor("ModelCheckpoint", self.monitor, self.params, fallback=True)
        self._best = _Best(self.mode)
        if not self.is_dir:
            self._check_fields()
            folder = os.path.dirname(self.path)
            if not _template_fields(folder):  # a folder without fields is made now; one with fields per save
                _make_folder(folder.format(), self.path)
            if not self.fields:  # one fixed file: a resumed run must beat the best it holds
                self._resume_best(self.path)
            return
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ArgumentError(f"ModelCheckpoint: {self.path!r} is an existing file, not a folder; give a folder, "
                                "or a file path ending in '.safetensors'")
        _make_folder(self.path, self.path)
        self._resume_best(os.path.join(self.path, "best.safetensors"))

    def _resume_best(self, best: str) -> None:
        """When fit resumes (initial_epoch > 0), start from the best value the existing checkpoint recorded."""
        if self.save_best and self.params.get("initial_epoch", 0) > 0 and os.path.exists(best):
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
            path = self.path_for(epoch, logs)
            if self.fields:
                _make_folder(os.path.dirname(path), self.path)
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
