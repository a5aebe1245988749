"""Module, Parameter, Sequential and ModuleList: how networks hold their weights.

A module finds its parameters by walking its attributes (and lists, tuples and dicts of them), so a
layer never lists its parameters by hand. Names follow PyTorch (``0.weight``, ``layers.1.bias``,
``bn.running_mean``), so a PyTorch state dict loads into the same architecture.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import numpy as np

from ..autograd.tensor import Tensor, _as_array
from ..errors import ArgumentTypeError, ShapeError, StateDictError


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


_INTERNAL = frozenset({"training", "_buffer_names"})


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

    @staticmethod
    def _flatten(name: str, value) -> Iterator[tuple[str, object]]:
        """Walk lists, tuples and dicts, naming their items ``name.i`` / ``name.key``."""
        if isinstance(value, (Parameter, Module)):
            yield name, value
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                yield from Module._flatten(f"{name}.{i}", v)
        elif isinstance(value, dict):
            for k, v in value.items():
                yield from Module._flatten(f"{name}.{k}", v)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, value in self._members():
            for n, v in self._flatten(name, value):
                if isinstance(v, Module) and id(v) not in seen:
                    seen.add(id(v))
                    yield n, v

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module below it, depth first (iteratively)."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            kids = [(f"{name}.{n}" if name else n, c) for n, c in m.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for name, value in m._members():
                for n, v in self._flatten(name, value):
                    if isinstance(v, Parameter) and id(v) not in seen:
                        seen.add(id(v))
                        yield (f"{mname}.{n}" if mname else n), v

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def register_buffer(self, name: str, value) -> None:
        """Keep a non-learnable array (e.g. running statistics) in the state dict under ``name``."""
        setattr(self, name, None if value is None else np.asarray(value))
        if name not in self._buffer_names:
            self._buffer_names.append(name)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for mname, m in self.named_modules(prefix):
            for b in m._buffer_names:
                value = getattr(m, b)
                if value is not None:
                    yield (f"{mname}.{b}" if mname else b), value

    # ------------------------------------------------------------------------------ state
    def state_dict(self) -> OrderedDict:
        """Copies of every parameter and buffer, by dotted name (PyTorch's names and shapes)."""
        sd = OrderedDict()
        for mname, m in self.named_modules():
            pre = f"{mname}." if mname else ""
            for n, p in m.named_parameters(recurse=False):
                sd[pre + n] = p.data.copy()
            for b in m._buffer_names:
                value = getattr(m, b)
                if value is not None:
                    sd[pre + b] = np.array(value, copy=True)
        return sd

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy arrays into this module's parameters and buffers, in place.

        Values may be NumPy arrays, tensors or anything with ``.numpy()`` (a PyTorch tensor). With
        ``strict``, missing and unexpected keys are errors. Returns ``(missing, unexpected)``.
        """
        own = OrderedDict()
        for mname, m in self.named_modules():
            pre = f"{mname}." if mname else ""
            for n, p in m.named_parameters(recurse=False):
                own[pre + n] = (m, n, p)
            for b in m._buffer_names:
                if getattr(m, b) is not None:
                    own[pre + b] = (m, b, None)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise StateDictError(f"load_state_dict into {type(self).__name__}: " + " and ".join(parts))
        for key, (m, name, p) in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if hasattr(value, "detach") and not isinstance(value, Tensor):
                value = value.detach()
            value = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
            target = p.data if p is not None else getattr(m, name)
            if value.shape != target.shape:
                raise ShapeError(
                    f"load_state_dict into {type(self).__name__}: '{key}' has shape {value.shape}, "
                    f"expected {target.shape}"
                )
            if p is not None:
                np.copyto(p.data, value, casting="unsafe")
            elif target.ndim == 0:
                setattr(m, name, np.array(value, dtype=target.dtype))
            else:
                np.copyto(target, value, casting="unsafe")
        return missing, unexpected

    # ------------------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, flag: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def to(self, dtype) -> Module:
        """Convert every parameter and floating buffer to ``dtype`` (e.g. float64 for gradchecks)."""
        dt = np.dtype(dtype)
        for m in self.modules():
            for _, p in m.named_parameters(recurse=False):
                p.data = p.data.astype(dt)
                p.grad = None
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
        """Call ``fn(module)`` on every module, children first (e.g. a custom initialisation)."""
        for m in reversed(list(self.modules())):
            fn(m)
        return self

    def num_parameters(self) -> int:
        return int(sum(p.size for p in self.parameters()))

    # ------------------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        kids = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not kids:
            return head + ")"
        lines = [head]
        for name, m in kids:
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        n = self.num_parameters()
        return "\n".join(lines) + f"\n)  # {n:,} parameters"


_swapped: tuple = ()


def _relu_and_max_pool() -> tuple:
    """The classes nn.ReLU and nn.MaxPool2d (imported on first use: the layers import this module)."""
    global _swapped
    if not _swapped:
        from .layers.activation import ReLU
        from .layers.pool import MaxPool2d

        _swapped = (ReLU, MaxPool2d)
    return _swapped


class Sequential(Module):
    """Modules applied one after another; children are named 0, 1, 2, ... as in PyTorch.

    One reordering, invisible in the results: a ``ReLU`` directly followed by a ``MaxPool2d`` runs as
    the pooling first, then the ReLU. ReLU is nondecreasing, so max over a window of relu(x) equals
    relu of the max over x, and the gradient reaches the same element (or is 0 in both orders when the
    window's maximum is <= 0): outputs and gradients are the same to the bit. The ReLU then touches
    a quarter of the values (2x2 pooling); the benchmark's CNN step is 6-8% faster. Only these exact
    classes are swapped, not subclasses that might do something else.

    >>> from chainrule import nn
    >>> net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    >>> list(net.state_dict())
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise ArgumentTypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
        self.layers = list(modules)

    def _members(self):
        return ((str(i), m) for i, m in enumerate(self.layers))

    def forward(self, x):
        layers, i = self.layers, 0
        relu, max_pool = _relu_and_max_pool()
        while i < len(layers):
            m = layers[i]
            if type(m) is relu and i + 1 < len(layers) and type(layers[i + 1]) is max_pool:
                x = m(layers[i + 1](x))  # relu(max_pool(x)) == max_pool(relu(x)), bit for bit (see above)
                i += 2
                continue
            x = m(x)
            i += 1
        return x

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def append(self, m: Module) -> Sequential:
        self.layers.append(m)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are found; children are named 0, 1, 2, ..."""

    def __init__(self, modules=()):
        super().__init__()
        self.items = list(modules)

    def _members(self):
        return ((str(i), m) for i, m in enumerate(self.items))

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def append(self, m: Module) -> ModuleList:
        self.items.append(m)
        return self

    def extend(self, ms) -> ModuleList:
        self.items.extend(ms)
        return self
