"""Module and Parameter: how networks hold their weights (the containers are in :mod:`.containers`).

A module finds its parameters by walking its attributes (and lists, tuples and dicts of them), so a
layer never lists its parameters by hand. Names follow PyTorch (``0.weight``, ``layers.1.bias``,
``bn.running_mean``), so a PyTorch state dict loads into the same architecture.

The walk looks into a list, tuple or dict only when its first item (skipping a few ``None``) is a
module, a parameter or such a container: a module may keep data (a vocabulary of a million strings)
without every ``parameters()`` or ``zero_grad()`` reading it. The walk is iterative, so deep nesting
never hits Python's recursion limit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from itertools import islice

import numpy as np

from ..autograd.tensor import Tensor, _as_array
from ..errors import ArgumentError, ArgumentTypeError, DTypeError
from ._model_args import _device_or_dtype
from ._state import IncompatibleKeys, load_into


class Parameter(Tensor):
    """A tensor that is a learnable weight of a module: ``requires_grad`` is on by default.

    >>> import chainrule as cr
    >>> p = cr.nn.Parameter(cr.zeros(2, 3))
    >>> p.requires_grad, p.shape
    (True, (2, 3))
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(_as_array(data), requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


_INTERNAL = frozenset({"training", "_buffer_names", "_non_persistent"})
_CONTAINERS = (list, tuple, dict)
_PEEK = 8  # None items skipped when deciding whether a container is worth walking


def _worth_walking(c) -> bool:
    """Whether a list/tuple/dict may hold modules or parameters: its first non-None item (looked at
    through nested containers) is one. O(depth), whatever the container's length."""
    seen = set()
    while isinstance(c, _CONTAINERS):
        if id(c) in seen:  # a container that contains itself
            return False
        seen.add(id(c))
        items = iter(c.values()) if isinstance(c, dict) else iter(c)
        c = next((v for v in islice(items, _PEEK) if v is not None), None)
    return isinstance(c, (Module, Parameter))


def _walk_container(name: str, value) -> Iterator[tuple[str, object]]:
    """(dotted name, item) of every Module or Parameter in a container worth walking, in order."""
    stack, seen = [(name, value)], set()
    while stack:
        n, v = stack.pop()
        if isinstance(v, (Parameter, Module)):
            yield n, v
        elif isinstance(v, _CONTAINERS) and id(v) not in seen and _worth_walking(v):
            seen.add(id(v))
            items = v.items() if isinstance(v, dict) else enumerate(v)
            stack.extend(reversed([(f"{n}.{k}", x) for k, x in items]))


def _check_name(owner: str, what: str, name) -> None:
    if not isinstance(name, str):
        raise ArgumentTypeError(f"{owner}.{what}: name must be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise ArgumentError(f"{owner}.{what}: name must be non-empty and contain no '.', got {name!r}")


class Module:
    """Base class of every layer and network.

    Subclasses set their parameters, sub-modules and buffers as attributes in ``__init__`` (call
    ``super().__init__()`` first) and define ``forward``.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(4, 8)
    ...         self.out = nn.Linear(8, 2)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> [name for name, _ in TwoLayer().named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    def __init__(self) -> None:
        self.training = True
        self._buffer_names: list[str] = []
        self._non_persistent: set[str] = set()  # buffers left out of the state dict

    def __setattr__(self, name: str, value) -> None:
        """Set an attribute, refusing what would silently un-register a parameter, child or buffer (as PyTorch).

        A parameter may be replaced by a Parameter, a Module or None, a child module by a Module, a
        Parameter or None, a buffer by an array or None; anything else is an ``ArgumentTypeError`` (an array
        or a plain tensor in place of a weight would drop out of ``parameters()`` and the state dict, and
        never train). One exception: a tensor that requires grad may stand in for a parameter for a while,
        for a functional call such as a gradcheck of the weight (it is not registered: its caller owns it).
        """
        d = self.__dict__
        old = d.get(name)
        if value is not None and isinstance(old, (Parameter, Module)) and not isinstance(value, (Parameter, Module)):
            if isinstance(old, Module):
                raise ArgumentTypeError(f"{type(self).__name__}: cannot assign a {type(value).__name__} as child "
                                        f"module '{name}' (a Module or None expected)")
            if not (isinstance(value, Tensor) and value.requires_grad):
                raise ArgumentTypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} as parameter '{name}' (a "
                    f"Parameter or None expected); use nn.Parameter(values), or change it in place: "
                    f"{name}.data[...] = values")
        buffers = d.get("_buffer_names", ())
        if name in buffers:
            if isinstance(value, (Parameter, Module)):  # it takes the place of the buffer, as in PyTorch
                buffers.remove(name)
                d.get("_non_persistent", set()).discard(name)
            elif isinstance(value, (np.generic, int, float)):
                value = np.asarray(value)
            elif value is not None and not isinstance(value, np.ndarray):
                raise ArgumentTypeError(f"{type(self).__name__}: cannot assign a {type(value).__name__} as buffer "
                                        f"'{name}' (a NumPy array or None expected)")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        """Delete an attribute; a deleted buffer leaves the state dict too (as in PyTorch)."""
        object.__delattr__(self, name)
        d = self.__dict__
        if name in d.get("_buffer_names", ()):
            d["_buffer_names"].remove(name)
            d["_non_persistent"].discard(name)

    def forward(self, *args, **kwargs):  # pragma: no cover - subclasses define it
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------------------ the walk
    def _members(self) -> Iterator[tuple[str, object]]:
        """(name, value) of this module's own attributes that may hold parameters or modules."""
        d = self.__dict__
        if "_buffer_names" not in d:
            raise ArgumentTypeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        for name, value in d.items():
            if name not in _INTERNAL:
                yield name, value

    def _entries(self) -> Iterator[tuple[str, object]]:
        """(name, Module or Parameter) held directly by this module, duplicates included, in order."""
        for name, value in self._members():
            if isinstance(value, (Parameter, Module)):
                yield name, value
            elif isinstance(value, _CONTAINERS):
                yield from _walk_container(name, value)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for n, v in self._entries():
            if isinstance(v, Module) and id(v) not in seen:
                seen.add(id(v))
                yield n, v

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every module below it, depth first (iteratively).

        A module reached by several paths is listed once, under its first name, unless
        ``remove_duplicate=False`` (then under every path, as ``state_dict`` lists it).
        """
        seen: set = set()
        stack = [(prefix, self, frozenset())]
        while stack:
            name, m, above = stack.pop()
            if remove_duplicate:
                if id(m) in seen:
                    continue
                seen.add(id(m))
            elif id(m) in above:  # a module inside itself: stop the cycle
                continue
            yield name, m
            above = above if remove_duplicate else above | {id(m)}
            kids = [(f"{name}.{n}" if name else n, c, above) for n, c in m._entries() if isinstance(c, Module)]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Every parameter once (a shared one under its first name), with its dotted name."""
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for n, v in m._entries():
                if isinstance(v, Parameter) and id(v) not in seen:
                    seen.add(id(v))
                    yield (f"{mname}.{n}" if mname else n), v

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def register_buffer(self, name: str, value, persistent: bool = True) -> None:
        """Keep a non-learnable array (e.g. running statistics) under ``name``, in the state dict unless
        ``persistent=False`` (as in PyTorch: then ``to()`` and ``named_buffers()`` still see it).

        ``name`` may be registered again, but may not be another attribute (a child, a parameter).
        """
        where = type(self).__name__
        _check_name(where, "register_buffer", name)
        if not isinstance(persistent, (bool, np.bool_)):
            raise ArgumentTypeError(f"{where}.register_buffer: persistent must be True or False, got {persistent!r}")
        if name not in self._buffer_names and hasattr(self, name):
            raise ArgumentError(f"{where}.register_buffer: attribute '{name}' already exists "
                                f"(a {type(getattr(self, name)).__name__}); pick another name")
        setattr(self, name, None if value is None else np.asarray(value))
        if name not in self._buffer_names:
            self._buffer_names.append(name)
        non_persistent = self.__dict__.setdefault("_non_persistent", set())
        (non_persistent.discard if persistent else non_persistent.add)(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Set parameter ``name`` (or None, for an absent bias); it may replace a parameter, not another attribute."""
        where = type(self).__name__
        _check_name(where, "register_parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise ArgumentTypeError(f"{where}.register_parameter: '{name}' must be a Parameter or None, "
                                    f"got {type(param).__name__}")
        self._check_free(where, "register_parameter", name, Parameter)
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add the child ``module`` (or None) as attribute ``name``, as PyTorch's ``add_module``."""
        where = type(self).__name__
        _check_name(where, "add_module", name)
        if module is not None and not isinstance(module, Module):
            raise ArgumentTypeError(f"{where}.add_module: '{name}' must be a Module or None, "
                                    f"got {type(module).__name__}")
        self._check_free(where, "add_module", name, Module)
        setattr(self, name, module)

    def _check_free(self, where: str, method: str, name: str, kind: type) -> None:
        """``name`` may take a ``kind`` (Parameter or Module): it is unused, or holds None or one of that kind."""
        old = self.__dict__.get(name)
        if name in self._buffer_names or (hasattr(self, name) and not (
                name in self.__dict__ and (old is None or isinstance(old, kind)))):
            raise ArgumentError(f"{where}.{method}: attribute '{name}' already exists "
                                f"(a {type(getattr(self, name)).__name__}); pick another name")

    register_module = add_module

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, np.ndarray]]:
        """Every buffer (non-persistent ones too), with its dotted name; a shared array once unless told."""
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for b in m._buffer_names:
                value = getattr(m, b)
                if value is not None and not (remove_duplicate and id(value) in seen):
                    seen.add(id(value))
                    yield (f"{mname}.{b}" if mname else b), value

    def buffers(self, recurse: bool = True) -> Iterator[np.ndarray]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------------------ state
    def _state_entries(self) -> Iterator[tuple[str, Module, str, Parameter | None]]:
        """(key, module, attribute, parameter or None for a buffer) under every path, as PyTorch lists them."""
        for mname, m in self.named_modules(remove_duplicate=False):
            pre = f"{mname}." if mname else ""
            for n, v in m._entries():
                if isinstance(v, Parameter):
                    yield pre + n, m, n, v
            skip = m.__dict__.get("_non_persistent", ())
            for b in m._buffer_names:
                if getattr(m, b) is not None and b not in skip:
                    yield pre + b, m, b, None

    def state_dict(self) -> OrderedDict:
        """Copies of every parameter and buffer, by dotted name (PyTorch's names and shapes).

        A module used in several places (shared weights) is listed under each of its paths, as in PyTorch.
        """
        sd = OrderedDict()
        for key, m, name, p in self._state_entries():
            sd[key] = p.data.copy() if p is not None else np.array(getattr(m, name), copy=True)
        return sd

    def load_state_dict(self, state_dict: Mapping, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into this module's parameters and buffers, in place (all checked before any is written).

        Values may be NumPy arrays, tensors or anything with ``.numpy()`` (a PyTorch tensor). With
        ``strict``, missing and unexpected keys are errors. Returns ``IncompatibleKeys(missing_keys,
        unexpected_keys)``, a named tuple (so ``missing, unexpected = ...`` works too). Each copy is an
        in-place change: a graph built before the load refuses to back-propagate (``AutogradError``), as in PyTorch.
        """
        return load_into(self, state_dict, strict)

    # ------------------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and every module below it."""
        if not isinstance(mode, (bool, np.bool_)):
            raise ArgumentTypeError(f"{type(self).__name__}.train: mode must be True or False, got {mode!r}")
        mode = bool(mode)
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: set it to None (default) or, with ``set_to_none=False``, to zeros."""
        if not isinstance(set_to_none, (bool, np.bool_)):
            raise ArgumentTypeError(f"{type(self).__name__}.zero_grad: set_to_none must be True or False, "
                                    f"got {set_to_none!r}")
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            elif p.grad.flags.writeable:
                p.grad.fill(0)
            else:
                p.grad = np.zeros_like(p.grad)

    def requires_grad_(self, flag: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def to(self, *args, dtype=None, device=None) -> Module:
        """Convert every parameter and floating buffer to a floating ``dtype`` (e.g. float64 for gradchecks).

        Takes a dtype and/or a device, as PyTorch's ``.to`` does; chainrule runs on the CPU, so the device
        ``'cpu'`` (or a ``torch.device('cpu')``) is accepted and changes nothing, and any other is an error.

        >>> from chainrule import nn
        >>> nn.Linear(2, 1).to("cpu").to(np.float64).weight.dtype
        dtype('float64')
        """
        where = type(self).__name__
        given = [_device_or_dtype(where, a) for a in args if a is not None]
        if dtype is not None:
            given.append(("dtype", _device_or_dtype(where, dtype)[1]))
        if device is not None:
            given.append(_device_or_dtype(where, device))
        dt = None
        for kind, v in given:
            if kind == "device":
                if v.split(":")[0] != "cpu":
                    raise ArgumentError(f"{where}.to: chainrule runs on the CPU with NumPy; device {v!r} is not "
                                        "available (use 'cpu', or leave the device out)")
            elif v.kind != "f":
                raise DTypeError(f"{where}.to: parameters must be floating-point; got dtype {v} "
                                 "(use np.float32 or np.float64)")
            else:
                dt = v
        if dt is None:
            return self
        for m in self.modules():
            for _, p in m.named_parameters(recurse=False):
                p.data = p.data.astype(dt, copy=False)
                if p.grad is not None:  # kept, in the new dtype, as PyTorch does
                    p.grad = p.grad.astype(dt, copy=False)
            for b in m._buffer_names:
                v = getattr(m, b)
                if v is not None and v.dtype.kind == "f":
                    setattr(m, b, v.astype(dt))
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every module, in PyTorch's order: each child's subtree in turn, then the module.

        As in PyTorch, a module shared by two parents is visited under each (once per parent). The walk is
        iterative (no recursion limit); a module inside itself is not entered again.

        >>> from chainrule import nn
        >>> net = nn.Sequential(nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 2)), nn.Linear(1, 3))
        >>> seen = []
        >>> _ = net.apply(lambda m: seen.append(getattr(m, "out_features", type(m).__name__)))
        >>> seen
        [1, 2, 'Sequential', 3, 'Sequential']
        """
        stack, on_path = [(self, iter(list(self.children())))], {id(self)}
        while stack:
            m, kids = stack[-1]
            child = next(kids, None)
            if child is None:
                stack.pop()
                on_path.discard(id(m))
                fn(m)
            elif id(child) not in on_path:
                on_path.add(id(child))
                stack.append((child, iter(list(child.children()))))
        return self

    def num_parameters(self) -> int:
        return int(sum(p.size for p in self.parameters()))

    # ------------------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:  # every child position, a reused module included (as PyTorch prints it)
        kids = [(n, v) for n, v in self._entries() if isinstance(v, Module)]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not kids:
            return head + ")"
        lines = [head]
        for name, m in kids:
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        n = self.num_parameters()
        return "\n".join(lines) + f"\n)  # {n:,} parameters"


# The containers were first defined here; ``from chainrule.nn.module import Sequential`` keeps working.
from .containers import ModuleDict, ModuleList, Sequential  # noqa: E402

__all__ = ["Parameter", "Module", "IncompatibleKeys", "Sequential", "ModuleList", "ModuleDict"]
