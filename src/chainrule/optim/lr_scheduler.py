"""Learning-rate schedules: pure functions of the step, and classes that drive an optimizer with them.

Each schedule is first a plain function ``lr(t)`` (here ``linear_decay``, ``exponential_decay``,
``step_decay``, ``cosine_annealing``, ``linear_warmup``), so it can be plotted and tested on its own.
A scheduler class holds an optimizer and, at each ``step()``, moves every group's ``lr`` from the
schedule's value at t - 1 to its value at t, starting from the group's learning rate when the first
scheduler was made (``base_lr``, kept in the group as ``'initial_lr'``).
:class:`ReduceLROnPlateau` is the exception: it reacts to a monitored value, not to the step count
(it lives in ``plateau.py`` and is re-exported here; the argument and state-dict checks the schedulers
share are in ``_sched_checks.py``).

Schedulers chain, as PyTorch's do: each ``step()`` updates the lr the group holds now, so a manual change
of ``lr``, a :class:`ReduceLROnPlateau` or a second scheduler on the same optimizer all last. Where the lr
is still the schedule's own value at t - 1 (a scheduler used alone) it becomes exactly the value at t;
otherwise the schedule's step is applied to it: :class:`StepLR` multiplies it by ``gamma`` at each
multiple of ``step_size`` and :class:`CosineAnnealingLR` follows PyTorch's recursive form, both step for
step as PyTorch; the others multiply it by lr(t) / lr(t - 1) (and set lr(t) where lr(t - 1) is 0).

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.zeros(1))
>>> opt = cr.optim.SGD([w], lr=0.1)
>>> sched = LinearDecay(opt, lr_end=0.01, total_steps=3)
>>> [round(sched.get_last_lr()[0], 4)] + [round((sched.step(), sched.get_last_lr()[0])[1], 4) for _ in range(4)]
[0.1, 0.07, 0.04, 0.01, 0.01]
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, StateDictError
from ._sched_checks import _checked, _count, _fraction, _positive, _rates, _steps
from .optimizer import Optimizer, check_number
from .plateau import ReduceLROnPlateau


# ------------------------------------------------------------------------------- pure schedules
def linear_decay(t: int, lr_start: float, lr_end: float, total_steps: int) -> float:
    """lr(t) = lr_start - (lr_start - lr_end) * t / N for t < N, then lr_end.

    >>> linear_decay(5, 1.0, 0.0, 10)
    0.5
    """
    if t >= total_steps:
        return float(lr_end)
    return lr_start - (lr_start - lr_end) * t / total_steps


def exponential_decay(t: int, lr_start: float, lr_end: float, total_steps: int) -> float:
    """lr(t) = lr_start * ((lr_end / lr_start)^(1/N))^t for t < N, then lr_end.

    >>> round(exponential_decay(1, 1.0, 0.01, 2), 6)
    0.1
    """
    if t >= total_steps:
        return float(lr_end)
    return lr_start * ((lr_end / lr_start) ** (1.0 / total_steps)) ** t


def step_decay(t: int, lr_start: float, step_size: int, gamma: float = 0.1) -> float:
    """lr(t) = lr_start * gamma^floor(t / step_size).

    >>> step_decay(25, 1.0, 10, 0.5)
    0.25
    """
    return lr_start * gamma ** (t // step_size)


def cosine_annealing(t: int, lr_start: float, T_max: int, eta_min: float = 0.0) -> float:
    """lr(t) = eta_min + (lr_start - eta_min) * (1 + cos(pi * t / T_max)) / 2 (periodic past T_max, as PyTorch).

    >>> cosine_annealing(5, 1.0, 10)
    0.5
    """
    return eta_min + (lr_start - eta_min) * (1.0 + math.cos(math.pi * t / T_max)) / 2.0


def linear_warmup(t: int, lr: float, warmup_steps: int, start_factor: float = 0.1) -> float:
    """lr(t) = lr * (start_factor + (1 - start_factor) * min(t, W) / W): a ramp up to lr over W steps.

    >>> linear_warmup(5, 1.0, 10, 0.0), linear_warmup(50, 1.0, 10, 0.0)
    (0.5, 1.0)
    """
    if t >= warmup_steps:
        return float(lr)
    return lr * (start_factor + (1.0 - start_factor) * t / warmup_steps)


# ------------------------------------------------------------------------------- scheduler classes
class LRScheduler:
    """Base class: moves each param group's lr along ``lr_at(t, base_lr)`` at construction (t = 0) and every step.

    Attributes: ``optimizer``, ``base_lrs`` (each group's lr when the schedule began), ``last_epoch`` (t).
    A step applies :meth:`chain` to the lr the group holds, so schedulers compose (see the module's notes).
    """

    # the attributes a state dict keeps besides last_epoch and base_lrs, each with the check
    # check(owner, name, value) -> value that its constructor applies (load_state_dict applies it too)
    _hyper: dict = {}

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise ArgumentTypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        self.base_lrs = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = 0
        # for load_state_dict (see _restore_lrs): the lrs before and right after this t = 0 step, and whether
        # they are a resumed run's (the optimizer's state was loaded before this scheduler was made)
        self._built_on_loaded = optimizer._loaded
        self._lrs_before = self.get_last_lr()
        self._apply()
        self._start_lrs = self.get_last_lr()

    def lr_at(self, t: int, base_lr: float) -> float:  # pragma: no cover - subclasses override
        raise NotImplementedError

    def _prev(self, t: int, base_lr: float) -> float:
        """The schedule's value before step t (base_lr before t = 0)."""
        return self.lr_at(t - 1, base_lr) if t > 0 else float(base_lr)

    def chain(self, t: int, lr: float, base_lr: float) -> float:
        """The lr after step t for a group that holds ``lr``, which is not the schedule's own value at t - 1.

        Math: lr * lr_at(t) / lr_at(t - 1) (lr unchanged where the schedule holds still; lr_at(t) where
        lr_at(t - 1) = 0, as there is no ratio). Subclasses with a PyTorch namesake follow its rule.
        """
        prev, new = self._prev(t, base_lr), self.lr_at(t, base_lr)
        if new == prev:
            return lr
        if prev == 0:
            return new
        return lr * (new / prev)

    def _apply(self) -> None:
        t = self.last_epoch
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            lr = float(g["lr"])
            g["lr"] = self.lr_at(t, base) if lr == self._prev(t, base) else self.chain(t, lr, base)

    def step(self) -> None:
        """Advance one step (an epoch or a batch, as the caller decides) and update the learning rates."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list:
        """The learning rate of every param group, as last set."""
        return [float(g["lr"]) for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """``{'last_epoch': t, 'base_lrs': [...], <hyperparameters>}``: numbers only, for :func:`chainrule.save`."""
        d = {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}
        d.update({k: getattr(self, k) for k in self._hyper})
        return d

    def _check_state(self, state_dict, where: str | None = None) -> dict:
        """The state dict's values, each checked as the constructor checks it (see :func:`_checked`)."""
        where = where or f"{type(self).__name__}.load_state_dict"
        n = len(self.optimizer.param_groups)
        checks = {"last_epoch": _count, "base_lrs": lambda o, k, v: _rates(o, k, v, n), **self._hyper}
        return _checked(where, state_dict, checks)

    def load_state_dict(self, state_dict: dict) -> None:
        """Continue from a saved position: restores t, the base learning rates and the hyperparameters.

        The learning rate itself lives in the optimizer's state, as in PyTorch: load the optimizer's state
        dict too, before or after this scheduler is made, and the lr it restores (whatever other schedulers or
        manual changes made of it) is kept. Where the optimizer's state was never loaded, a group whose lr is
        still the one this scheduler set when it was made is set to the schedule's value at the restored step.

        Everything is checked before anything changes: a state dict that is not a dict, lacks a key, has
        a key this scheduler does not keep (another kind of scheduler's) or a value its constructor would
        refuse raises :class:`StateDictError` naming the scheduler and the key. PyTorch's state dicts of
        the same scheduler load (their bookkeeping entries ``_step_count``, ``_last_lr``... are ignored).
        """
        for k, v in self._check_state(state_dict).items():
            setattr(self, k, v)
        self._restore_lrs()

    def _restore_lrs(self) -> None:
        """The lrs after a load, where a group's lr is still the one this scheduler's t = 0 step set.

        Optimizer never loaded: the schedule's value at the restored step. Optimizer loaded before this
        scheduler was made: the lr before that t = 0 step (the saved run's lr, which e.g. a warm-up's t = 0
        step scaled). Loaded after: the lr it restored was not the one set at t = 0 and is kept.
        """
        loaded = self.optimizer._loaded
        for g, base, before, start in zip(self.optimizer.param_groups, self.base_lrs, self._lrs_before,
                                          self._start_lrs):
            if float(g["lr"]) != start:
                continue
            if not loaded:
                g["lr"] = self.lr_at(self.last_epoch, base)
            elif self._built_on_loaded:
                g["lr"] = before

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyper)
        return f"{type(self).__name__}({hp}, last_epoch={self.last_epoch})"


class LinearDecay(LRScheduler):
    """Decay linearly from the optimizer's lr to ``lr_end`` over ``total_steps`` steps, then hold.

    Math: lr(t) = lr_start - (lr_start - lr_end) * t / N for t < N;  lr(t) = lr_end for t >= N.
    """

    _hyper = {"lr_end": check_number, "total_steps": _steps}

    def __init__(self, optimizer: Optimizer, lr_end: float, total_steps: int) -> None:
        self.lr_end = check_number("LinearDecay", "lr_end", lr_end)
        self.total_steps = _steps("LinearDecay", "total_steps", total_steps)
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return linear_decay(t, base_lr, self.lr_end, self.total_steps)


class ExponentialDecay(LRScheduler):
    """Decay geometrically from the optimizer's lr to ``lr_end`` over ``total_steps`` steps, then hold.

    Math: lr(t) = lr_start * ((lr_end / lr_start)^(1/N))^t for t < N;  lr(t) = lr_end for t >= N.
    Both learning rates must be > 0.
    """

    _hyper = {"lr_end": _positive, "total_steps": _steps}

    def __init__(self, optimizer: Optimizer, lr_end: float, total_steps: int) -> None:
        self.lr_end = check_number("ExponentialDecay", "lr_end", lr_end)
        self.total_steps = _steps("ExponentialDecay", "total_steps", total_steps)
        if self.lr_end <= 0 or any(float(g["lr"]) <= 0 for g in optimizer.param_groups):
            raise ArgumentError("ExponentialDecay: the optimizer's lr and lr_end must both be > 0, got "
                                f"lr={[g['lr'] for g in optimizer.param_groups]}, lr_end={lr_end}")
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return exponential_decay(t, base_lr, self.lr_end, self.total_steps)

    def _check_state(self, state_dict, where: str | None = None) -> dict:
        where = where or "ExponentialDecay.load_state_dict"
        values = super()._check_state(state_dict, where)
        if any(lr <= 0 for lr in values["base_lrs"]):
            raise StateDictError(f"{where}: base_lrs must all be > 0, got {values['base_lrs']}")
        return values


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` steps.

    Math: lr(t) = lr_start * gamma^floor(t / step_size).
    """

    _hyper = {"step_size": _steps, "gamma": check_number}

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _steps("StepLR", "step_size", step_size)
        self.gamma = check_number("StepLR", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return step_decay(t, base_lr, self.step_size, self.gamma)

    def chain(self, t: int, lr: float, base_lr: float) -> float:
        """PyTorch's StepLR step: lr * gamma at every nonzero multiple of step_size, else lr."""
        return lr * self.gamma if t > 0 and t % self.step_size == 0 else lr


class CosineAnnealingLR(LRScheduler):
    """Follow half a cosine from the optimizer's lr down to ``eta_min`` over ``T_max`` steps.

    Math: lr(t) = eta_min + (lr_start - eta_min) * (1 + cos(pi * t / T_max)) / 2.
    """

    _hyper = {"T_max": _steps, "eta_min": check_number}

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = _steps("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = check_number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return cosine_annealing(t, base_lr, self.T_max, self.eta_min)

    def chain(self, t: int, lr: float, base_lr: float) -> float:
        """PyTorch's recursive CosineAnnealingLR step.

        Math: lr_t = eta_min + (lr - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t - 1) / T)), and where
        the denominator is 0 (t - 1 an odd multiple of T, the restart) lr_t = lr + (base_lr - eta_min) *
        (1 - cos(pi / T)) / 2. Both map lr_at(t - 1) to lr_at(t).
        """
        if t == 0:
            return lr
        T, low = self.T_max, self.eta_min
        if (t - 1 - T) % (2 * T) == 0:
            return lr + (base_lr - low) * (1.0 - math.cos(math.pi / T)) / 2.0
        return (1.0 + math.cos(math.pi * t / T)) / (1.0 + math.cos(math.pi * (t - 1) / T)) * (lr - low) + low


class LinearWarmup(LRScheduler):
    """Ramp the lr up linearly over ``warmup_steps`` steps, then hand over to ``after`` (or hold).

    Math: lr(t) = lr_start * (f + (1 - f) * t / W) for t < W (f = start_factor);
    then lr(t) = after.lr_at(t - W, lr_start), or lr_start when there is no ``after``.

    ``after`` is another scheduler built on the same optimizer, e.g.
    ``LinearWarmup(opt, 5, after=CosineAnnealingLR(opt, T_max=95))``; only the warm-up's ``step()`` is called.
    """

    _hyper = {"warmup_steps": _steps, "start_factor": _fraction}

    def __init__(self, optimizer: Optimizer, warmup_steps: int, start_factor: float = 0.1,
                 after: LRScheduler | None = None) -> None:
        self.warmup_steps = _steps("LinearWarmup", "warmup_steps", warmup_steps)
        self.start_factor = check_number("LinearWarmup", "start_factor", start_factor, 0.0, 1.0)
        if after is not None and (not isinstance(after, LRScheduler) or after.optimizer is not optimizer):
            raise ArgumentError("LinearWarmup: after must be a scheduler built on the same optimizer")
        self.after = after
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        if t < self.warmup_steps or self.after is None:
            return linear_warmup(t, base_lr, self.warmup_steps, self.start_factor)
        return self.after.lr_at(t - self.warmup_steps, base_lr)

    def chain(self, t: int, lr: float, base_lr: float) -> float:
        """The ratio rule during the warm-up (PyTorch's LinearLR step), then the ``after`` scheduler's rule."""
        if self.after is not None and t > self.warmup_steps:
            return self.after.chain(t - self.warmup_steps, lr, base_lr)
        return super().chain(t, lr, base_lr)

    def state_dict(self) -> dict:
        d = super().state_dict()
        if self.after is not None:
            d["after"] = self.after.state_dict()
        return d

    def _check_state(self, state_dict, where: str | None = None) -> dict:
        where = where or "LinearWarmup.load_state_dict"
        if self.after is None:
            return super()._check_state(state_dict, where)
        own = {k: v for k, v in state_dict.items() if k != "after"} if isinstance(state_dict, Mapping) else state_dict
        values = super()._check_state(own, where)
        if "after" not in state_dict:
            raise StateDictError(f"{where}: missing key 'after' (the state of the {type(self.after).__name__} "
                                 "that follows the warm-up)")
        after = self.after._check_state(state_dict["after"], f"{where}: 'after' ({type(self.after).__name__})")
        values["after"] = {k: after[k] for k in self.after._hyper}
        return values

    def load_state_dict(self, state_dict: dict) -> None:
        values = self._check_state(state_dict)
        for k, v in values.pop("after", {}).items():
            setattr(self.after, k, v)
        for k, v in values.items():
            setattr(self, k, v)
        self._restore_lrs()


class FunctionLR(LRScheduler):
    """Any schedule given as a function: lr(t) = fn(t, base_lr), which must be a finite number >= 0.

    Used alone it sets exactly fn(t, base_lr); chained with other changes of the lr, each step multiplies
    the current lr by fn(t, base_lr) / fn(t - 1, base_lr) (see the module's notes).

    >>> import chainrule as cr
    >>> opt = cr.optim.SGD([cr.nn.Parameter(cr.zeros(1))], lr=1.0)
    >>> s = FunctionLR(opt, lambda t, lr: lr / (1 + t)); s.step(); s.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer: Optimizer, fn) -> None:
        if not callable(fn):
            raise ArgumentTypeError(f"FunctionLR: fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        lr = self.fn(t, base_lr)
        if isinstance(lr, np.ndarray) and lr.ndim == 0:
            lr = lr.item()
        # a NaN, an inf, a negative or a non-number would reach the optimizer's every weight silently
        return check_number("FunctionLR", f"the learning rate fn({t}, {base_lr!r})", lr)


# ------------------------------------------------------------------------------- sampling, for plots
def sample_lr(schedule, steps: int, base_lr: float | None = None) -> np.ndarray:
    """The learning rate at t = 0, 1, ..., steps - 1, without touching any optimizer (for plotting).

    ``schedule`` is a scheduler built on an optimizer (its first group's base lr is used unless
    ``base_lr`` is given) or a function ``lr(t)``.

    >>> sample_lr(lambda t: linear_decay(t, 1.0, 0.0, 4), 6).tolist()
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    n = _steps("sample_lr", "steps", steps)
    if isinstance(schedule, LRScheduler):
        base = schedule.base_lrs[0] if base_lr is None else float(base_lr)
        return np.array([schedule.lr_at(t, base) for t in range(n)], dtype=np.float64)
    if isinstance(schedule, ReduceLROnPlateau):
        raise ArgumentError("sample_lr: ReduceLROnPlateau depends on the monitored values, not on the step")
    if callable(schedule):
        return np.array([float(schedule(t)) for t in range(n)], dtype=np.float64)
    raise ArgumentTypeError(f"sample_lr: expected a scheduler or a function lr(t), got {type(schedule).__name__}")


SCHEDULERS = {
    "linear": LinearDecay,
    "exponential": ExponentialDecay,
    "step": StepLR,
    "cosine": CosineAnnealingLR,
    "warmup": LinearWarmup,
    "plateau": ReduceLROnPlateau,
}
