"""The Optimizer base class: parameter groups, per-parameter state and state dicts, as in PyTorch.

An optimizer holds ``param_groups``, a list of dicts, each with a ``'params'`` list and its own
hyperparameters (``lr``, ``momentum``...), and ``state``, a dict from parameter to that parameter's
running statistics (momentum buffer, Adam's moments, step count). ``state_dict()`` has PyTorch's
structure: parameters are replaced by their position across all groups, so it can be saved with
:func:`chainrule.save` and loaded into a fresh optimizer over a fresh copy of the network.

Updates are in place and allocation-free in steady state: each parameter gets scratch buffers of its
shape once, and every step writes through ``out=``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import foreign_array
from ..errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError, StateDictError


def check_number(owner: str, name: str, value, low: float = 0.0, high: float = math.inf,
                 high_open: bool = False) -> float:
    """``value`` as a finite float in [low, high] (or [low, high)), else an ArgumentError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentError(f"{owner}: {name} must be a number, got {type(value).__name__} {value!r}")
    v = float(value)
    ok = low <= v < high if high_open else low <= v <= high
    if not ok or not math.isfinite(v):
        bracket = ")" if high_open else "]"
        raise ArgumentError(f"{owner}: {name} must be in [{low}, {high}{bracket}, got {value!r}")
    return v


def check_flag(owner: str, name: str, value) -> bool:
    """``value`` as a bool if it is True or False (NumPy's too), else an ArgumentTypeError naming it.

    A truthy string such as ``'no'`` or a number is refused: it would silently switch the option on.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{owner}: {name} must be True or False, got {type(value).__name__} {value!r:.60}")
    return bool(value)


def _is_index(k) -> bool:
    """A parameter index of a state dict: an int (or a digit string, as some formats give keys)."""
    if isinstance(k, str):
        return k.isdigit()
    return isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 0


class Optimizer:
    """Base class of the optimizers: param groups, state, ``zero_grad`` and state dicts.

    Subclasses pass their hyperparameter defaults, check one group in ``_check_group``, say how many
    scratch arrays a parameter needs in ``_n_scratch`` and update one parameter's array in place in
    ``_update(w, g, group, state, scratch)``.

    Parameters
    ----------
    params : iterable of Parameter, or of dicts
        The tensors to optimise, or dicts ``{'params': [...], 'lr': ...}`` giving groups their own
        hyperparameters (missing ones take the defaults).
    defaults : dict
        The hyperparameters of a group that does not set them.
    """

    _n_scratch = 1

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state: dict = {}
        self.param_groups: list[dict] = []
        self._scratch: dict = {}
        self._loaded = False  # set by load_state_dict: the lrs are a run's, which schedulers must keep
        if isinstance(params, (Tensor, dict)):
            raise ArgumentTypeError(
                f"{type(self).__name__}: params must be an iterable of tensors or of dicts, got a single "
                f"{type(params).__name__}; wrap it in a list"
            )
        try:
            groups = list(params)
        except TypeError:
            raise ArgumentTypeError(
                f"{type(self).__name__}: params must be an iterable of tensors or dicts, got {type(params).__name__}"
            ) from None
        if not groups:
            raise ArgumentError(f"{type(self).__name__}: got an empty parameter list (did the model have none?)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # ------------------------------------------------------------------------------------ groups
    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (unset ones take the defaults)."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise ArgumentTypeError(f"{name}: a param group must be a dict with a 'params' entry, got {group!r}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ArgumentError(f"{name}: a param group has an empty 'params' list")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise ArgumentTypeError(f"{name}: parameters must be tensors, got {type(p).__name__}")
            if p.dtype.kind != "f":
                raise ArgumentTypeError(f"{name}: parameters must be floating-point, got dtype {p.dtype}")
            if id(p) in seen:
                raise ArgumentError(f"{name}: a parameter appears more than once (in one group or across groups)")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ArgumentError(f"{name}: unknown hyperparameters {sorted(unknown)} in a param group; "
                                f"known: {sorted(self.defaults)}")
        new = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}, "params": params}
        self._check_group(new)
        self.param_groups.append(new)

    def _check_group(self, group: dict) -> None:
        check_number(type(self).__name__, "lr", group["lr"])

    def _params(self) -> list:
        return [p for g in self.param_groups for p in g["params"]]

    # ------------------------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set them to None (default) or fill them with zeros in place."""
        set_to_none = check_flag(f"{type(self).__name__}.zero_grad", "set_to_none", set_to_none)
        for p in self._params():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.fill(0)

    def _buffers(self, p: Tensor, n: int) -> list:
        """``n`` scratch arrays shaped like ``p``, allocated once and reused every step."""
        bufs = self._scratch.get(id(p))
        if bufs is None or len(bufs) < n or bufs[0].shape != p.data.shape or bufs[0].dtype != p.data.dtype:
            bufs = [np.empty_like(p.data) for _ in range(n)]
            self._scratch[id(p)] = bufs
        return bufs

    def step(self) -> None:
        """Update every parameter that has a gradient, in place (parameters whose grad is None are skipped)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if type(g) is not np.ndarray or g.dtype != p.data.dtype:
                    g = self._as_grad(p, g)
                if g.shape != p.data.shape:
                    raise ShapeError(f"{type(self).__name__}.step: a parameter of shape {p.shape} has a gradient "
                                     f"of shape {g.shape}")
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = self._init_state(p, group)
                self._update(p.data, g, group, state, self._buffers(p, self._n_scratch))
                p._version += 1  # an in-place change: a graph that saved p cannot back-propagate any more

    def _as_grad(self, p: Tensor, g) -> np.ndarray:
        return grad_array(f"{type(self).__name__}.step", p, g)

    def _init_state(self, p: Tensor, group: dict) -> dict:  # pragma: no cover - subclasses override
        return {}

    def _update(self, w: np.ndarray, g: np.ndarray, group: dict, state: dict, scratch: list) -> None:
        raise NotImplementedError  # pragma: no cover - subclasses override

    # ------------------------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict:
        """``{'state': {index: {name: array or int}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Indices number the parameters across all groups in order; arrays are copies.
        """
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {}
        for p, s in self.state.items():
            state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
        state = dict(sorted(state.items()))
        groups = []
        for g in self.param_groups:
            d = {k: v for k, v in g.items() if k != "params"}
            d.update(self._fixed_flags)  # recorded, so that another optimizer type refuses the state at load
            d["params"] = [index[id(p)] for p in g["params"]]
            groups.append(d)
        return {"state": state, "param_groups": groups}

    # the per-parameter state entries this optimizer keeps: all it may hold, and those a step needs
    _state_keys: frozenset = frozenset()
    # PyTorch's flags that this optimizer has fixed: a PyTorch state dict saved with another value is refused
    # at load, rather than run the other way silently (minimising what was maximised, L2 for AdamW's decay)
    _fixed_flags: dict = {"maximize": False}

    def _required_state(self, group: dict) -> tuple:
        return ()

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and per-parameter state saved by :meth:`state_dict`.

        The optimizer must have been built over the same parameters (same groups, counts and shapes).
        A PyTorch optimizer's state dict of the same kind loads too. Everything is checked before
        anything changes: a malformed state dict, or one saved by another kind of optimizer (whose
        per-parameter state lacks what this one needs), raises :class:`StateDictError`.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        if (not isinstance(state_dict, Mapping) or "state" not in state_dict
                or "param_groups" not in state_dict):
            got = f"a dict with keys {sorted(map(str, state_dict))}" if isinstance(state_dict, Mapping) else \
                f"a {type(state_dict).__name__}"
            raise StateDictError(f"{where}: expected a dict with 'state' and 'param_groups' (from "
                                 f"optimizer.state_dict()), got {got}")
        saved, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved, (list, tuple)) or not all(isinstance(g, Mapping) for g in saved):
            raise StateDictError(f"{where}: 'param_groups' must be a list of dicts, got {type(saved).__name__}")
        if not isinstance(saved_state, Mapping):
            raise StateDictError(f"{where}: 'state' must be a dict from parameter index to a dict of arrays, "
                                 f"got {type(saved_state).__name__}")
        if len(saved) != len(self.param_groups):
            raise StateDictError(f"{where}: the state dict has {len(saved)} param groups, "
                                 f"this optimizer has {len(self.param_groups)}")
        params = self._params()
        by_saved_index = {}
        for i, (g, sg) in enumerate(zip(self.param_groups, saved)):
            idxs = sg.get("params")
            if not isinstance(idxs, (list, tuple)) or not all(_is_index(k) for k in idxs):
                raise StateDictError(f"{where}: param group {i} must have a 'params' list of parameter indices, "
                                     f"got {idxs!r:.80}")
            if len(idxs) != len(g["params"]):
                raise StateDictError(f"{where}: param group {i} has {len(idxs)} parameters "
                                     f"in the state dict, {len(g['params'])} here")
            for p, idx in zip(g["params"], idxs):
                if int(idx) in by_saved_index:
                    raise StateDictError(f"{where}: parameter index {int(idx)} is listed twice in 'param_groups'")
                by_saved_index[int(idx)] = p
        for i, sg in enumerate(saved):
            for k, runs_with in self._fixed_flags.items():
                if k in sg and bool(sg[k]) != runs_with:
                    raise StateDictError(f"{where}: param group {i} was saved with {k}={sg[k]!r}, a PyTorch "
                                         f"option that {name} does not take (it always runs with {k}={runs_with}); "
                                         f"was it saved by another optimizer type?")
        new_groups = []
        for g, sg in zip(self.param_groups, saved):
            ng = dict(g)
            for k, v in sg.items():
                if k in self.defaults or k == "initial_lr":
                    ng[k] = tuple(v) if isinstance(v, list) else v
            self._check_group(ng)
            new_groups.append(ng)
        group_of = {id(p): ng for ng in new_groups for p in ng["params"]}
        new_state = {}
        for key, s in saved_state.items():
            p = by_saved_index.get(int(key)) if _is_index(key) else None
            if p is None:
                raise StateDictError(f"{where}: state for parameter {key!r}, which no group "
                                     f"lists (there are {len(params)} parameters)")
            if not isinstance(s, Mapping):
                raise StateDictError(f"{where}: the state of parameter {key} must be a dict, got {type(s).__name__}")
            foreign = sorted(str(k) for k in s if k not in self._state_keys)
            lacking = [k for k in self._required_state(group_of[id(p)]) if s.get(k) is None]
            if foreign or lacking:
                what = f"has {foreign}, which {name} does not keep" if foreign else f"lacks {lacking}"
                if foreign and lacking:
                    what += f", and lacks {lacking}"
                raise StateDictError(f"{where}: the state of parameter {key} {what}; was it saved by another "
                                     f"optimizer type? ({name} keeps {sorted(self._state_keys)})")
            new_state[p] = {k: self._restore(k, v, p) for k, v in s.items()}
        for g, ng in zip(self.param_groups, new_groups):
            g.update(ng)
        self.state = new_state
        self._loaded = True

    def _restore(self, key: str, v, p: Tensor):
        v = foreign_array(v)  # a PyTorch tensor as an array
        if key == "step":
            a = np.asarray(v)
            if a.size != 1 or a.dtype.kind not in "iuf":
                raise StateDictError(f"{type(self).__name__}.load_state_dict: state 'step' must be a number, "
                                     f"got {type(v).__name__} {v!r:.60}")
            return int(a.item()) if not isinstance(v, int) else v
        if v is None:
            return None
        a = np.asarray(v)
        if a.dtype.kind not in "iufb":
            raise StateDictError(f"{type(self).__name__}.load_state_dict: state '{key}' must be an array, "
                                 f"got {type(v).__name__}")
        if a.shape != p.shape:
            raise ShapeError(f"{type(self).__name__}.load_state_dict: state '{key}' has shape {a.shape}, "
                             f"its parameter has {p.shape}")
        return a.astype(p.dtype, copy=True)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            hp = ", ".join(f"{k}={v}" for k, v in g.items() if k != "params")
            lines.append(f"  group {i}: {len(g['params'])} tensors, {hp}")
        return "\n".join(lines) + "\n)"


def grad_array(owner: str, p: Tensor, g) -> np.ndarray:
    """A gradient set by hand (a Tensor, a list, another float dtype) as an array of the parameter's dtype,
    so that an optimizer's state keeps the parameter's dtype (PyTorch refuses such a .grad outright)."""
    a = np.asarray(g.data if isinstance(g, Tensor) else g)
    if a.dtype.kind not in "iuf":
        raise DTypeError(f"{owner}: a parameter of dtype {p.dtype} has a gradient of dtype {a.dtype}; expected "
                         "numbers")
    return a.astype(p.data.dtype, copy=False)


def as_param_list(params: Iterable | Tensor) -> list:
    """A list of tensors from one tensor or an iterable of them (for the clipping helpers)."""
    if isinstance(params, Tensor):
        return [params]
    try:
        out = list(params)
    except TypeError:
        raise ArgumentTypeError(f"expected a tensor or an iterable of tensors (model.parameters()), got "
                                f"{type(params).__name__}") from None
    bad = [type(t).__name__ for t in out if not isinstance(t, Tensor)]
    if bad:
        raise ArgumentTypeError(f"expected tensors (model.parameters()), got an iterable holding {bad[0]}")
    return out
