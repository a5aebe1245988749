"""Stateless differentiable functions, one file per family; imported as ``F``.

Each op is a :class:`chainrule.autograd.Function` whose forward and vector-Jacobian product sit side by
side, with the formula and its derivative in the docstring.
"""

from .arith import add, clip, div, maximum, minimum, mul, neg, pow, sub, where
from .elementwise import abs, astype, exp, log, relu, sigmoid, sqrt, tanh
from .linalg import linear, matmul
from .reduce import argmax, argmin, max, mean, min, sum, var
from .shape import (
    broadcast_to,
    concatenate,
    flatten,
    getitem,
    pad,
    reshape,
    squeeze,
    stack,
    swapaxes,
    transpose,
    unsqueeze,
)
