"""Stateless differentiable functions, one file per family; imported as ``F``.

Each op is a :class:`chainrule.autograd.Function` whose forward and vector-Jacobian product sit side by
side, with the formula and its derivative in the docstring.
"""

from .activations import elu, gelu, leaky_relu, log_softmax, logsumexp, one_hot, softmax, softplus
from .arith import add, clip, div, maximum, minimum, mul, neg, pow, sub, where
from .conv import conv2d
from .elementwise import abs, astype, exp, log, relu, sigmoid, sqrt, tanh
from .linalg import linear, matmul
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .norm import batch_norm, dropout, embedding, layer_norm
from .penalties import l1_penalty, l2_penalty
from .pool import avg_pool2d, max_pool2d
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
