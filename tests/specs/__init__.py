"""The table of op specifications that drives the generic op tests (tests/test_ops.py).

Each module in this package defines ``SPECS``, a list of :class:`OpSpec` rows, one per op (or per
interesting case of an op). A new op is one new row. The generic tests check, for every row:

* forward against a NumPy reference (``ref``), in float32 and float64;
* a float64 central-difference gradcheck of every differentiable input;
* forward and every input gradient against PyTorch (``torch_ref``), where torch is installed.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Arg:
    """One input of an op: a random float array of ``shape`` drawn from [low, high) (away from kinks if
    ``avoid`` is given), or a fixed value (``value``: labels, axes...) that gets no gradient."""

    shape: tuple = ()
    low: float = -2.0
    high: float = 2.0
    avoid: tuple = ()  # points the values keep at least 0.05 away from (kinks, poles)
    value: object = None
    grad: bool = True  # False: a float input that is not differentiated (e.g. targets)
    make: Callable | None = None  # rng -> array, for inputs that need structure (probabilities...)

    def draw(self, rng: np.random.Generator, dtype) -> object:
        if self.value is not None:
            return self.value
        if self.make is not None:
            return np.asarray(self.make(rng)).astype(dtype)
        x = rng.uniform(self.low, self.high, size=self.shape)
        for p in self.avoid:
            near = np.abs(x - p) < 0.05
            x[near] = p + np.where(x[near] >= p, 0.1, -0.1)
        return x.astype(dtype)

    @property
    def is_tensor(self) -> bool:
        return self.value is None


@dataclass
class OpSpec:
    """A row of the table.

    fn:        (*tensors_or_values) -> Tensor, the chainrule op under test
    args:      its inputs
    ref:       (*numpy arrays) -> numpy array, the reference forward (None: no NumPy reference)
    torch_ref: (torch, *torch tensors) -> torch tensor (None: no PyTorch counterpart)
    """

    name: str
    fn: Callable
    args: list
    ref: Callable | None = None
    torch_ref: Callable | None = None
    rtol: float = 1e-5
    atol: float = 1e-6
    gradcheck: bool = True
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return self.name


def all_specs() -> list:
    specs = []
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        specs.extend(importlib.import_module(f"{__name__}.{mod.name}").SPECS)
    return specs
