"""Rows for the activations: sigmoid tanh relu (re-exported), leaky_relu, elu, gelu, softplus, softmax,
log_softmax and logsumexp."""

import math

import numpy as np

import chainrule.functional as F

from . import Arg, OpSpec

A = Arg
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(a, axis=-1):
    s = a - a.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def _logsumexp(a, axis=-1, keepdims=False):
    m = a.max(axis=axis, keepdims=True)
    y = m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))
    return y if keepdims else (y.reshape(()) if axis is None else np.squeeze(y, axis=axis))


def _gelu_tanh(a):
    return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))


SPECS = [
    # the re-exported elementwise activations, reached through F
    OpSpec("F.sigmoid_wide", F.sigmoid, [A((4, 5), low=-30, high=30)], lambda a: 0.5 * (1 + np.tanh(a / 2)),
           lambda t, a: t.sigmoid(a)),
    OpSpec("F.tanh", F.tanh, [A((3, 4))], np.tanh, lambda t, a: t.tanh(a)),
    OpSpec("F.relu", F.relu, [A((3, 4), avoid=(0.0,))], lambda a: np.maximum(a, 0), lambda t, a: t.relu(a)),
    # piecewise
    OpSpec("leaky_relu", F.leaky_relu, [A((3, 4), avoid=(0.0,))], lambda a: np.where(a > 0, a, 0.01 * a),
           lambda t, a: t.nn.functional.leaky_relu(a)),
    OpSpec("leaky_relu_0.2", lambda a: F.leaky_relu(a, negative_slope=0.2), [A((2, 3, 2), avoid=(0.0,))],
           lambda a: np.where(a > 0, a, 0.2 * a), lambda t, a: t.nn.functional.leaky_relu(a, 0.2)),
    OpSpec("elu", F.elu, [A((3, 4), low=-4, high=3, avoid=(0.0,))], lambda a: np.where(a > 0, a, np.expm1(a)),
           lambda t, a: t.nn.functional.elu(a)),
    OpSpec("elu_alpha", lambda a: F.elu(a, alpha=0.5), [A((5,), low=-4, high=3, avoid=(0.0,))],
           lambda a: np.where(a > 0, a, 0.5 * np.expm1(a)), lambda t, a: t.nn.functional.elu(a, alpha=0.5)),
    # smooth
    OpSpec("gelu", F.gelu, [A((3, 4), low=-3, high=3)], lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2))),
           lambda t, a: t.nn.functional.gelu(a)),
    OpSpec("gelu_wide", F.gelu, [A((6, 7), low=-6, high=6)], lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2))),
           lambda t, a: t.nn.functional.gelu(a), atol=1e-9),
    OpSpec("gelu_tanh", lambda a: F.gelu(a, approximate="tanh"), [A((3, 4), low=-4, high=4)], _gelu_tanh,
           lambda t, a: t.nn.functional.gelu(a, approximate="tanh")),
    OpSpec("softplus", F.softplus, [A((3, 4), low=-5, high=5)], lambda a: np.logaddexp(0, a),
           lambda t, a: t.nn.functional.softplus(a)),
    OpSpec("softplus_wide", F.softplus, [A((4, 4), low=-40, high=40)], lambda a: np.logaddexp(0, a),
           lambda t, a: t.nn.functional.softplus(a)),
    # softmax family
    OpSpec("softmax", F.softmax, [A((3, 5), low=-4, high=4)], _softmax, lambda t, a: t.softmax(a, dim=-1)),
    OpSpec("softmax_axis0", lambda a: F.softmax(a, axis=0), [A((4, 3), low=-4, high=4)],
           lambda a: _softmax(a, 0), lambda t, a: t.softmax(a, dim=0)),
    OpSpec("softmax_3d_axis1", lambda a: F.softmax(a, axis=1), [A((2, 4, 3), low=-4, high=4)],
           lambda a: _softmax(a, 1), lambda t, a: t.softmax(a, dim=1)),
    OpSpec("softmax_1d", F.softmax, [A((6,), low=-4, high=4)], _softmax, lambda t, a: t.softmax(a, dim=0)),
    # a 0-d tensor is one single-element row: softmax 1, log_softmax 0, gradients 0 (as PyTorch)
    OpSpec("softmax_0d", F.softmax, [A(())], np.ones_like, lambda t, a: t.softmax(a, dim=-1)),
    OpSpec("softmax_0d_axis0", lambda a: F.softmax(a, axis=0), [A(())], np.ones_like,
           lambda t, a: t.softmax(a, dim=0)),
    OpSpec("log_softmax_0d", F.log_softmax, [A(())], np.zeros_like, lambda t, a: t.log_softmax(a, dim=-1)),
    OpSpec("log_softmax", F.log_softmax, [A((3, 5), low=-4, high=4)], _log_softmax,
           lambda t, a: t.log_softmax(a, dim=-1)),
    OpSpec("log_softmax_axis0", lambda a: F.log_softmax(a, axis=0), [A((4, 3), low=-4, high=4)],
           lambda a: _log_softmax(a, 0), lambda t, a: t.log_softmax(a, dim=0)),
    OpSpec("log_softmax_3d_axis1", lambda a: F.log_softmax(a, axis=1), [A((2, 4, 3), low=-4, high=4)],
           lambda a: _log_softmax(a, 1), lambda t, a: t.log_softmax(a, dim=1)),
    OpSpec("logsumexp", F.logsumexp, [A((3, 5), low=-4, high=4)], _logsumexp,
           lambda t, a: t.logsumexp(a, dim=-1)),
    OpSpec("logsumexp_keepdims", lambda a: F.logsumexp(a, axis=0, keepdims=True), [A((4, 3), low=-4, high=4)],
           lambda a: _logsumexp(a, 0, True), lambda t, a: t.logsumexp(a, dim=0, keepdim=True)),
    OpSpec("logsumexp_tuple", lambda a: F.logsumexp(a, axis=(0, 2)), [A((2, 3, 4), low=-4, high=4)],
           lambda a: _logsumexp(a, (0, 2)), lambda t, a: t.logsumexp(a, dim=(0, 2))),
    OpSpec("logsumexp_all", lambda a: F.logsumexp(a, axis=None), [A((3, 4), low=-4, high=4)],
           lambda a: _logsumexp(a, None), lambda t, a: t.logsumexp(a, dim=(0, 1))),
]


def _softplus(a, beta=1.0, threshold=20.0):
    """PyTorch's softplus: log(1 + exp(beta a)) / beta, and a itself where beta a > threshold."""
    return np.where(beta * a > threshold, a, np.logaddexp(0, beta * a) / beta)


SPECS += [
    # softplus's beta and threshold (linear above threshold / beta), kept off the switch point
    OpSpec("softplus_beta", lambda a: F.softplus(a, beta=2.0), [A((3, 4), low=-5, high=5)],
           lambda a: _softplus(a, 2.0), lambda t, a: t.nn.functional.softplus(a, beta=2.0)),
    OpSpec("softplus_threshold", lambda a: F.softplus(a, beta=0.5, threshold=1.0),
           [A((4, 4), low=-6, high=6, avoid=(2.0,))], lambda a: _softplus(a, 0.5, 1.0),
           lambda t, a: t.nn.functional.softplus(a, beta=0.5, threshold=1.0)),
    OpSpec("softplus_negative_beta", lambda a: F.softplus(a, beta=-1.5, threshold=3.0),
           [A((3, 4), low=-5, high=5, avoid=(-2.0,))], lambda a: _softplus(a, -1.5, 3.0),
           lambda t, a: t.nn.functional.softplus(a, beta=-1.5, threshold=3.0)),
    OpSpec("softplus_default_threshold", F.softplus, [A((4, 5), low=15, high=30, avoid=(20.0,))],
           _softplus, lambda t, a: t.nn.functional.softplus(a)),
]
