"""ReduceLROnPlateau: lower the learning rate when a monitored value stops improving.

Unlike the schedules of :mod:`chainrule.optim.lr_scheduler` (which re-exports it), it reacts to the value
passed to ``step(metrics)`` (e.g. the validation loss), not to the step count, so it has no ``lr(t)``.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import foreign_array
from ..errors import ArgumentError, ArgumentTypeError
from ._sched_checks import _checked, _choice, _count, _rates
from .optimizer import Optimizer, check_number


def _metric_value(metrics) -> float:
    """The monitored value of ReduceLROnPlateau.step as a float, else an ArgumentTypeError naming it."""
    v = foreign_array(metrics)  # a chainrule or PyTorch tensor as an array
    if not isinstance(v, (bool, np.bool_, str, bytes)) and hasattr(v, "__array__") or isinstance(v, np.generic):
        a = np.asarray(v)
        if a.size == 1 and a.ndim <= 1 and a.dtype.kind in "iuf":
            return float(a.reshape(()))
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    shape = f" of shape {np.shape(v)}" if hasattr(v, "shape") else ""
    raise ArgumentTypeError(f"ReduceLROnPlateau.step: metrics must be a real number (e.g. the validation loss), "
                            f"got {type(v).__name__}{shape} {v!r:.60}")


class ReduceLROnPlateau:
    """Multiply the lr by ``factor`` when a monitored value has stopped improving for ``patience`` steps.

    Math: with best the best value so far, a value v improves when (mode 'min', threshold_mode 'rel')
    v < best * (1 - threshold) ('abs': v < best - threshold; mode 'max' mirrors both). After more than
    ``patience`` steps without improvement, lr = max(lr * factor, min_lr), then ``cooldown`` steps pass
    before bad steps are counted again. PyTorch's rule, step for step.

    >>> import chainrule as cr
    >>> opt = cr.optim.SGD([cr.nn.Parameter(cr.zeros(1))], lr=1.0)
    >>> s = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    >>> for loss in [1.0, 1.0, 1.0, 1.0]:
    ...     s.step(loss)
    >>> s.get_last_lr()
    [0.5]
    """

    _hyper = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lrs", "eps")
    _counters = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch")

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr=0.0,
                 eps: float = 1e-8) -> None:
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise ArgumentTypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")
        if mode not in ("min", "max"):
            raise ArgumentError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ArgumentError(f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.factor = check_number(name, "factor", factor, 0.0, 1.0, high_open=True)
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ArgumentError(f"{name}: patience must be a non-negative integer, got {patience!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, (int, np.integer)) or cooldown < 0:
            raise ArgumentError(f"{name}: cooldown must be a non-negative integer, got {cooldown!r}")
        n = len(optimizer.param_groups)
        mins = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        if len(mins) != n:
            raise ArgumentError(f"{name}: min_lr has {len(mins)} values for {n} param groups")
        self.min_lrs = [check_number(name, "min_lr", m) for m in mins]
        self.optimizer, self.mode, self.threshold_mode = optimizer, mode, threshold_mode
        self.patience, self.cooldown = int(patience), int(cooldown)
        self.threshold = check_number(name, "threshold", threshold)
        self.eps = check_number(name, "eps", eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0

    def is_better(self, value: float, best: float) -> bool:
        if self.mode == "min":
            bound = best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold
            return value < bound
        bound = best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        return value > bound

    def step(self, metrics) -> None:
        """Record this step's monitored value (e.g. the validation loss) and reduce the lr if it plateaued.

        ``metrics`` is a real number: a Python or NumPy number, a 0-d array or a one-element tensor.
        """
        value = _metric_value(metrics)
        self.last_epoch += 1
        if self.is_better(value, self.best):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for g, low in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(g["lr"])
                new = max(old * self.factor, low)
                if old - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    def get_last_lr(self) -> list:
        return [float(g["lr"]) for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in (*self._hyper, *self._counters)}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the settings and the counters saved by :meth:`state_dict`.

        Everything is checked before anything changes, as the constructor checks it: a state dict that is
        not a dict, lacks a key, has a key this scheduler does not keep or holds a bad value raises
        :class:`StateDictError` naming the key. A PyTorch ReduceLROnPlateau's state dict loads too.
        """
        n = len(self.optimizer.param_groups)

        def best(owner, name, v):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or math.isnan(v):
                raise ArgumentError(f"{owner}: {name} must be a number (inf before the first step), got {v!r:.60}")
            return float(v)

        checks = {"mode": _choice("min", "max"), "threshold_mode": _choice("rel", "abs"),
                  "factor": lambda o, k, v: check_number(o, k, v, 0.0, 1.0, high_open=True), "patience": _count,
                  "threshold": check_number, "cooldown": _count, "min_lrs": lambda o, k, v: _rates(o, k, v, n),
                  "eps": check_number, "best": best, "num_bad_epochs": _count, "cooldown_counter": _count,
                  "last_epoch": _count}
        for k, v in _checked("ReduceLROnPlateau.load_state_dict", state_dict, checks).items():
            setattr(self, k, v)

    def __repr__(self) -> str:
        return f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor}, patience={self.patience})"
