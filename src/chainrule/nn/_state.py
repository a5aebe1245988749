"""Loading a state dict into a module: :meth:`Module.load_state_dict`'s checks and in-place copies.

Every value is read, checked and converted before anything is written, so a bad state dict leaves the
module as it was. The copies are in place (the parameters keep their identity, so an optimizer built
on them keeps working), and each one counts as an in-place change of the parameter: a graph built
before the load can no longer back-propagate (``backward`` raises ``AutogradError``, as PyTorch does,
instead of computing a gradient from weights the forward never used).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, StateDictError
from ._model_args import _loadable


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns: the keys it missed and the ones it did not know."""

    missing_keys: list
    unexpected_keys: list


def load_into(module, state_dict: Mapping, strict: bool = True) -> IncompatibleKeys:
    """Copy ``state_dict``'s arrays into ``module``'s parameters and buffers, in place (see the module docstring)."""
    where = type(module).__name__
    if not isinstance(state_dict, Mapping):
        raise ArgumentTypeError(f"load_state_dict into {where}: expected a mapping of names to arrays "
                                f"(e.g. model.state_dict() or cr.load(path)), got {type(state_dict).__name__}")
    own = OrderedDict((key, (m, name, p)) for key, m, name, p in module._state_entries())
    # a buffer a module lists in _optional_state may be absent (PyTorch's BatchNorm loads checkpoints saved
    # before num_batches_tracked existed): it keeps its value and is not reported missing
    missing = [k for k, (m, name, _) in own.items()
               if k not in state_dict and name not in getattr(m, "_optional_state", ())]
    unexpected = [k for k in state_dict if k not in own]
    if strict and (missing or unexpected):
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected}")
        raise StateDictError(f"load_state_dict into {where}: " + " and ".join(parts))
    values = {}
    for key, (m, name, p) in own.items():  # read, check and convert every value before changing anything
        if key in state_dict:
            target = p.data if p is not None else getattr(m, name)
            values[key] = _loadable(where, key, state_dict[key], target)
            if not target.flags.writeable and not (p is None and target.ndim == 0):
                raise ArgumentError(f"load_state_dict into {where}: '{key}' is held in a read-only array "
                                    f"(shape {target.shape}); it cannot be loaded in place")
    for key, value in values.items():
        m, name, p = own[key]
        if p is None:
            target = getattr(m, name)
            if target.ndim == 0:
                setattr(m, name, value.copy())
            else:
                np.copyto(target, value)
        else:
            np.copyto(p.data, value)
            p._version += 1  # an in-place change: a graph that saved p cannot back-propagate any more
    return IncompatibleKeys(missing, unexpected)
