"""Argument and state-dict checks shared by the learning-rate schedulers (``lr_scheduler``, ``plateau``).

Each check is ``check(owner, name, value) -> value``: the value as a constructor keeps it, or an
ArgumentError naming the scheduler and the argument. :func:`_checked` applies a table of them to a
state dict, so that ``load_state_dict`` refuses a bad one before it changes anything.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, StateDictError
from .optimizer import check_number

# PyTorch's schedulers keep these bookkeeping entries too: a PyTorch state dict loads, and they are ignored
_TORCH_KEYS = frozenset({"_step_count", "_is_initial", "_get_lr_called_within_step", "_last_lr", "verbose",
                         "default_min_lr", "mode_worse"})


def _steps(owner: str, name: str, n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ArgumentError(f"{owner}: {name} must be a positive integer, got {n!r}")
    return int(n)


def _count(owner: str, name: str, n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ArgumentError(f"{owner}: {name} must be a non-negative integer, got {n!r}")
    return int(n)


def _positive(owner: str, name: str, v) -> float:
    v = check_number(owner, name, v)
    if v <= 0:
        raise ArgumentError(f"{owner}: {name} must be > 0, got {v!r}")
    return v


def _fraction(owner: str, name: str, v) -> float:
    return check_number(owner, name, v, 0.0, 1.0)


def _choice(*valid):
    def check(owner: str, name: str, v) -> str:
        if not isinstance(v, str) or v not in valid:
            raise ArgumentError(f"{owner}: {name} must be {' or '.join(map(repr, valid))}, got {v!r:.60}")
        return v
    return check


def _rates(owner: str, name: str, v, n: int) -> list:
    """A list of n learning rates (finite numbers >= 0), one per param group."""
    if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, (list, tuple, np.ndarray)) or np.ndim(v) != 1:
        raise ArgumentError(f"{owner}: {name} must be a list of learning rates, one per param group, got {v!r:.80}")
    rates = [check_number(owner, f"{name}[{i}]", x) for i, x in enumerate(v)]
    if len(rates) != n:
        raise ArgumentError(f"{owner}: {name} has {len(rates)} values for {n} param groups")
    return rates


def _checked(where: str, state_dict, checks: dict) -> dict:
    """Every key of ``checks`` present in ``state_dict`` (a dict) and valid, no key that is not (PyTorch's
    bookkeeping keys aside): the values as checked, or a StateDictError naming the scheduler and the key."""
    if not isinstance(state_dict, Mapping):
        raise StateDictError(f"{where}: expected a dict from state_dict(), got {type(state_dict).__name__} "
                             f"{state_dict!r:.60}")
    missing = [k for k in checks if k not in state_dict]
    unexpected = sorted(repr(k) for k in state_dict if k not in checks and k not in _TORCH_KEYS)
    if missing or unexpected:
        parts = ([f"missing key(s) {', '.join(map(repr, missing))}"] if missing else []) + \
            ([f"unexpected key(s) {', '.join(unexpected)}"] if unexpected else [])
        hint = (f" (this scheduler keeps {', '.join(map(repr, checks))}: is this the state dict of another kind "
                "of scheduler?)") if unexpected else ""
        raise StateDictError(f"{where}: {'; '.join(parts)}{hint}")
    try:
        return {k: check(where, k, state_dict[k]) for k, check in checks.items()}
    except (ArgumentError, ArgumentTypeError) as e:
        raise StateDictError(str(e)) from None
