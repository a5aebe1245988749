"""chainrule: deep learning from first principles on NumPy.

>>> import chainrule as cr
>>> x = cr.tensor([0.5, -1.0], requires_grad=True)
>>> y = (x.tanh() * 3).sum()
>>> y.backward()
>>> x.grad.round(4)
array([2.3593, 1.2599], dtype=float32)
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import errors  # noqa: I001 - import order matters: the autograd core before the ops
from .autograd import (
    Function,
    GradcheckReport,
    Tensor,
    detect_anomaly,
    enable_grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
)
from .backend import get_default_dtype, manual_seed, set_default_dtype
from .creation import arange, eye, from_numpy, full, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .errors import (
    ArgumentError,
    ArgumentTypeError,
    AutogradError,
    ChainruleError,
    DataError,
    DownloadError,
    DTypeError,
    FileFormatError,
    GradcheckError,
    IndexOutOfRangeError,
    MissingFileError,
    NonFiniteError,
    NoSuchKeyError,
    ShapeError,
    StateDictError,
)
from .functional.arith import clip, maximum, minimum, where
from .functional.elementwise import abs, exp, log, relu, sigmoid, sqrt, tanh
from .functional.linalg import matmul
from .functional.reduce import argmax, argmin, max, mean, min, sum, var
from .functional.shape import (
    broadcast_to,
    concatenate,
    flatten,
    pad,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)


def __getattr__(name: str):
    # Subpackages and file I/O are loaded on first use, keeping `import chainrule` light.
    import importlib

    if name in ("nn", "optim", "data", "train", "viz", "functional", "io"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".io", __name__), name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
