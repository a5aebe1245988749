"""Containers: Sequential, ModuleList and ModuleDict, with PyTorch's child names and methods.

Their children are named like PyTorch's: ``0, 1, 2, ...`` (or the names given in an ``OrderedDict``) for
a Sequential, the positions for a ModuleList, the keys for a ModuleDict, so state dict keys are
``'2.weight'``, ``'blocks.0.bias'``, ``'heads.cls.weight'`` in both frameworks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from ..errors import ArgumentError, ArgumentTypeError, IndexOutOfRangeError, NoSuchKeyError
from .module import Module, _check_name

_swapped: tuple = ()


def _relu_and_max_pool() -> tuple:
    """The classes nn.ReLU and nn.MaxPool2d (imported on first use: the layers import this module)."""
    global _swapped
    if not _swapped:
        from .layers.activation import ReLU
        from .layers.pool import MaxPool2d

        _swapped = (ReLU, MaxPool2d)
    return _swapped


def _module(owner: str, m, what: str) -> Module:
    if not isinstance(m, Module):
        raise ArgumentTypeError(f"{owner}: {what} must be a Module, got {type(m).__name__}")
    return m


def _index(owner: str, i, n: int, insert: bool = False) -> int:
    """A list position from an int index (negative counts from the end), else an IndexError naming it."""
    if isinstance(i, bool) or not hasattr(i, "__index__"):
        raise ArgumentTypeError(f"{owner}: indices must be integers or slices, got {type(i).__name__}")
    i = i.__index__()
    hi = n if insert else n - 1
    if not -n <= i <= hi:
        raise IndexOutOfRangeError(f"{owner}: index {i} is out of range for {n} modules")
    return i + n if i < 0 else i


class Sequential(Module):
    """Modules applied one after another; children are named 0, 1, 2, ... as in PyTorch.

    ``Sequential(OrderedDict(fc=nn.Linear(2, 3), act=nn.ReLU()))`` names them instead (keys
    ``fc.weight``, and ``seq.fc`` reaches the child). A slice keeps the children's names (``net[1:]`` of
    three layers has keys ``'2.weight'``, as in PyTorch); ``insert``, ``del`` and ``pop`` renumber the
    children 0, 1, 2, ... as PyTorch does.

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
    >>> list(net[1:].state_dict())
    ['2.weight', '2.bias']
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name in modules[0]:
                _check_name("Sequential", "__init__", name)
            keys, modules = list(modules[0].keys()), tuple(modules[0].values())
        else:
            if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
                modules = tuple(modules[0])
            keys = [str(i) for i in range(len(modules))]
        for i, m in enumerate(modules):
            _module("Sequential", m, f"item {i}")
        self.layers = list(modules)
        self._keys = keys

    @classmethod
    def _of(cls, keys: list, layers: list) -> Sequential:
        seq = cls.__new__(cls)
        Module.__init__(seq)
        seq.layers, seq._keys = list(layers), list(keys)
        return seq

    def _members(self):
        return zip(self._keys, self.layers)

    def __getattr__(self, name: str):  # only called when normal lookup fails: a named child
        d = self.__dict__
        keys = d.get("_keys")
        if keys is not None and name in keys:
            return d["layers"][keys.index(name)]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def forward(self, x):
        layers, i = self.layers, 0
        relu, max_pool = _relu_and_max_pool()
        while i < len(layers):
            m = layers[i]
            if (type(m) is relu and i + 1 < len(layers) and type(layers[i + 1]) is max_pool
                    and not layers[i + 1].ceil_mode):  # (ceil_mode's extra windows may hold no input)
                x = m(layers[i + 1](x))  # relu(max_pool(x)) == max_pool(relu(x)), bit for bit (see above)
                i += 2
                continue
            x = m(x)
            i += 1
        return x

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential._of(self._keys[i], self.layers[i])
        return self.layers[_index("Sequential", i, len(self.layers))]

    def __setitem__(self, i, m) -> None:
        self.layers[_index("Sequential", i, len(self.layers))] = _module("Sequential", m, "the new item")

    def __delitem__(self, i) -> None:
        if isinstance(i, slice):
            del self.layers[i]
        else:
            del self.layers[_index("Sequential", i, len(self.layers))]
        self._keys = [str(k) for k in range(len(self.layers))]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def append(self, m: Module) -> Sequential:
        """Add ``m`` at the end, named by its position (or the next free number)."""
        _module("Sequential.append", m, "the argument")
        k = len(self.layers)
        while str(k) in self._keys:
            k += 1
        self.layers.append(m)
        self._keys.append(str(k))
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for m in list(modules):
            self.append(m)
        return self

    def insert(self, index: int, m: Module) -> Sequential:
        """Put ``m`` before position ``index``; the children are then numbered 0, 1, 2, ..."""
        _module("Sequential.insert", m, "the argument")
        self.layers.insert(_index("Sequential.insert", index, len(self.layers), insert=True), m)
        self._keys = [str(k) for k in range(len(self.layers))]
        return self

    def pop(self, i=-1) -> Module:
        m = self[i]
        del self[i]
        return m

    def add_module(self, name: str, module: Module) -> None:
        """Add ``module`` at the end under ``name``, or replace the child already named so (as PyTorch)."""
        _check_name("Sequential", "add_module", name)
        _module("Sequential.add_module", module, f"'{name}'")
        if name in self._keys:
            self.layers[self._keys.index(name)] = module
        elif name in self.__dict__ or hasattr(type(self), name):
            raise ArgumentError(f"Sequential.add_module: attribute '{name}' already exists; pick another name")
        else:
            self.layers.append(module)
            self._keys.append(name)

    register_module = add_module


class ModuleList(Module):
    """A list of modules whose parameters are found; children are named 0, 1, 2, ...

    >>> from chainrule import nn
    >>> blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    >>> type(blocks[1:]).__name__, list(blocks[1:].state_dict())[:2]
    ('ModuleList', ['0.weight', '0.bias'])
    """

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        if isinstance(modules, Module) or not isinstance(modules, Iterable):
            raise ArgumentTypeError(f"ModuleList: expected an iterable of modules, got {type(modules).__name__}")
        self.items = [_module("ModuleList", m, f"item {i}") for i, m in enumerate(modules)]

    def _members(self):
        return ((str(i), m) for i, m in enumerate(self.items))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ModuleList(self.items[i])
        return self.items[_index("ModuleList", i, len(self.items))]

    def __setitem__(self, i, m) -> None:
        self.items[_index("ModuleList", i, len(self.items))] = _module("ModuleList", m, "the new item")

    def __delitem__(self, i) -> None:
        if isinstance(i, slice):
            del self.items[i]
        else:
            del self.items[_index("ModuleList", i, len(self.items))]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.items)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, m: Module) -> ModuleList:
        self.items.append(_module("ModuleList.append", m, "the argument"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) or not isinstance(modules, Iterable):
            raise ArgumentTypeError(f"ModuleList.extend: expected an iterable of modules, got {type(modules).__name__}")
        new = [_module("ModuleList.extend", m, f"item {i}") for i, m in enumerate(modules)]
        self.items.extend(new)
        return self

    def insert(self, index: int, m: Module) -> ModuleList:
        _module("ModuleList.insert", m, "the argument")
        self.items.insert(_index("ModuleList.insert", index, len(self.items), insert=True), m)
        return self

    def pop(self, i=-1) -> Module:
        return self.items.pop(_index("ModuleList.pop", i, len(self.items)))

    def add_module(self, name: str, module: Module) -> None:
        """Replace the child at position ``name`` ('0', '1', ...), or append it when ``name`` is ``str(len(self))``."""
        _check_name("ModuleList", "add_module", name)
        n = len(self.items)
        if not (name.isdigit() and int(name) <= n and name == str(int(name))):
            raise ArgumentError(f"ModuleList.add_module: children are named by position; name must be one of "
                                f"'0' .. '{n}' (a position, or '{n}' to append), got {name!r}")
        if int(name) == n:
            self.append(module)
        else:
            self[int(name)] = module

    register_module = add_module


class ModuleDict(Module):
    """Modules by name, as PyTorch's ModuleDict: state dict keys are ``'<key>.<parameter>'``.

    Keys are non-empty strings without '.'; the order is the order of insertion.

    >>> from chainrule import nn
    >>> heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 2)})
    >>> list(heads.keys()), list(heads.state_dict())[:2]
    (['cls', 'box'], ['cls.weight', 'cls.bias'])
    >>> heads["cls"].out_features, "box" in heads, len(heads)
    (3, True, 2)
    """

    def __init__(self, modules: Mapping | Iterable | None = None):
        super().__init__()
        self._dict: OrderedDict[str, Module] = OrderedDict()
        if modules is not None:
            self.update(modules)

    def _members(self):
        return iter(self._dict.items())

    def __getitem__(self, key: str) -> Module:
        try:
            return self._dict[key]
        except (KeyError, TypeError):
            raise NoSuchKeyError(f"ModuleDict: no module named {key!r}; keys: {list(self._dict)}") from None

    def __setitem__(self, key: str, m: Module) -> None:
        _check_name("ModuleDict", "__setitem__", key)
        self._dict[key] = _module("ModuleDict", m, f"the value of {key!r}")

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 - the clear KeyError
        del self._dict[key]

    def __len__(self) -> int:
        return len(self._dict)

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __contains__(self, key) -> bool:
        return key in self._dict

    def keys(self):
        return self._dict.keys()

    def items(self):
        return self._dict.items()

    def values(self):
        return self._dict.values()

    def pop(self, key: str) -> Module:
        m = self[key]
        del self._dict[key]
        return m

    def clear(self) -> None:
        self._dict.clear()

    def add_module(self, name: str, module: Module) -> None:
        """``self[name] = module``, PyTorch's other spelling."""
        self[name] = module

    register_module = add_module

    def update(self, modules: Mapping | Iterable) -> None:
        """Add (or replace) modules from a mapping or an iterable of (key, module) pairs."""
        if isinstance(modules, Mapping):
            pairs = list(modules.items())
        elif isinstance(modules, Iterable) and not isinstance(modules, (str, Module)):
            pairs = []
            for j, item in enumerate(modules):
                if not isinstance(item, (tuple, list)) or len(item) != 2:
                    raise ArgumentTypeError(f"ModuleDict.update: item {j} should be a (key, module) pair, "
                                            f"got {type(item).__name__}")
                pairs.append(tuple(item))
        else:
            raise ArgumentTypeError(f"ModuleDict: expected a mapping or (key, module) pairs, "
                                    f"got {type(modules).__name__}")
        for key, m in pairs:  # check everything first: a failed update changes nothing
            _check_name("ModuleDict", "update", key)
            _module("ModuleDict", m, f"the value of {key!r}")
        for key, m in pairs:
            self._dict[key] = m

    def extra_repr(self) -> str:
        return "" if self._dict else "{}"


__all__ = ["Sequential", "ModuleList", "ModuleDict"]
