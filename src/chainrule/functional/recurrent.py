"""Fused recurrent layers: a whole sequence of one RNN, LSTM or GRU layer is one op.

This module holds the RNN and re-exports the LSTM (``lstm.py``); the GRU is in ``gru.py`` and what the three
share (scratch pool, base class, layout helpers, checks) in ``_recurrent_base.py``.

Recorded step by step, an LSTM over T steps would put ~15 T ops in the graph. Fused, the forward loops
over time only, and everything that does not depend on the recurrence is done for all steps at once:

* each step is one matrix product for all gates, plus elementwise work; the input part W_ih x_t is
  computed for every step up front (RNN, GRU), or joined to the step's product as
  [W_hh, W_ih, b] [h_{t-1}; x_t; 1] (LSTM: one product per step, bias included);
* the gates' local derivatives, which the backward needs at every step, are formed where they cost
  least (measured): for all steps at once in a few big NumPy calls (the RNN at the start of its
  backward, the GRU after its forward loop), or, for the LSTM, one step at a time inside the backward
  loop, in two small buffers that stay in cache;
* the backward loops over time in reverse, computing only the recurrence; the gradients of W_ih, W_hh,
  the biases and the input are then single big matrix products over all steps.

Inside, per-step arrays are stored transposed, features x batch: the gates are W h with h of
shape (H, N), so that each gate is one contiguous (H, N) block and every elementwise op runs on
contiguous memory (NumPy is several times slower on strided column slices).

Sigmoid gates use sigmoid(z) = 1 / (1 + exp(-z)): one ``np.exp`` over the block of an LSTM's three
sigmoid gates (the LSTM keeps its gate rows inside in the order i, f, o, g for that, with the factor -1
folded into the weight rows, exact), ``np.tanh`` for the tanh gate and tanh(c). Where exp(-z) overflows
(z < -88 in float32), sigmoid(z) = 1 / (1 + inf) = 0 is exact, so the LSTM lets it overflow with the
warning silenced; the GRU clips the exponent at 80 instead (sigmoid(-80) < 2e-35, zero for any purpose).
tanh is not computed as 2 sigmoid(2z) - 1, though one exp pass would then serve every gate (about 4%
faster): its absolute error of ~6e-8 is a large relative error on small activations (tanh(1e-6) 7% off
in float32, and below 5e-8 exactly 0), where ``np.tanh`` is as accurate as PyTorch.

The three run big batches as two halves side by side on two cores (:mod:`chainrule._threads`): their
exp and tanh work, single-core in NumPy, is about half of every step.

Layout seen from outside: x is (T, N, I), or (N, T, I) with ``batch_first``; h0 and c0 are (N, H);
weights are PyTorch's: W_ih (G*H, I), W_hh (G*H, H), biases (G*H,).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _threads
from .._threads import join_parts, run_parts, split_bounds
from ..errors import ArgumentError
from ._recurrent_base import (
    _check,
    _columns,
    _outputs,
    _param_grads,
    _project,
    _RecurrentLayer,
    _scratch,
    _state_grad,
    _time_major,
)
from .lstm import LSTMLayer, _lstm_backward, _lstm_forward, lstm_layer  # noqa: F401 - re-exported


class RNNLayer(_RecurrentLayer):
    """One Elman RNN layer over a whole sequence.

    Math
    ----
    h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),  act = tanh or relu;  y_t = h_t
    backward, t = T-1 .. 0:  dh_t = gy_t + dh_{t+1}^rec,  dz_t = dh_t * act'(z_t)
        (tanh: 1 - h_t^2,  relu: [h_t > 0]),  dh_t^rec = W_hh^T dz_t
    dW_ih = sum_t dz_t x_t^T,  dW_hh = sum_t dz_t h_{t-1}^T,  db = sum_t dz_t,  dx_t = W_ih^T dz_t,  dh0 = dh_0^rec
    """

    takes_none_grads = True  # backward gets None for an output that received no gradient

    def __init__(self, nonlinearity="tanh", batch_first=False):
        self.nonlinearity, self.batch_first = nonlinearity, batch_first

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
        bias = None if b_ih is None else b_ih + b_hh
        bf, H = self.batch_first, w_hh.shape[0]
        T, N = (x.shape[1], x.shape[0]) if bf else x.shape[:2]
        # the batch in one part, or two halves run at once on two cores (see chainrule._threads)
        self.bounds = split_bounds(N, T, H * N, min_step=_threads.MIN_STEP_RNN)
        parts = run_parts(lambda lo, hi: _rnn_forward(x[lo:hi] if bf else x[:, lo:hi], h0[lo:hi], w_ih, bias, w_hh,
                                                      self.nonlinearity, bf), self.bounds)
        if len(parts) == 1:
            y, h_n = _outputs(parts[0].hs, bf), parts[0].hs[T].T.copy()
        else:
            y = np.concatenate([_outputs(p.hs, bf) for p in parts], axis=0 if bf else 1)
            h_n = np.concatenate([p.hs[T].T for p in parts])
        self.parts, self.w_ih, self.w_hh = parts, w_ih, w_hh
        return y, h_n

    def backward(self, grads):
        gy, gh_n = grads
        bf = self.batch_first

        def part(p, lo, hi):
            gyp = None if gy is None else gy[lo:hi] if bf else gy[:, lo:hi]
            return _rnn_backward(p, self.w_ih, self.w_hh, gyp, None if gh_n is None else gh_n[lo:hi],
                                 self.needs_input_grad, self.nonlinearity)

        outs = run_parts(part, [(p, lo, hi) for p, (lo, hi) in zip(self.parts, self.bounds)])
        # the halves' input and state gradients side by side, their weight gradients summed
        return join_parts(outs, (0 if bf else 1, 0, None, None, None, None))


class _Part(NamedTuple):
    """What one batch part keeps for the backward (``_param_grads`` reads xt, hs and batch_first)."""

    xt: np.ndarray  # the inputs, (T, n, I) contiguous
    hs: np.ndarray  # h_0 .. h_T, (T+1, H, n)
    batch_first: bool


def _rnn_forward(x, h0, w_ih, bias, w_hh, nonlinearity, batch_first):
    """The recurrence over one batch part x ((T, n, I), or (n, T, I) with ``batch_first``) from h0 (n, H)."""
    xt = _time_major(x, batch_first)
    a = _project(xt, w_ih, bias)
    T, H, N = a.shape
    hs = np.empty((T + 1, H, N), dtype=a.dtype)  # h_0 .. h_T, each (H, N)
    hs[0] = h0.T
    with np.errstate(over="ignore"):  # in tanh, exp(-2z) = inf gives -1 exactly
        for t in range(T):
            z = np.matmul(w_hh, hs[t], out=hs[t + 1])
            z += a[t]
            if nonlinearity == "tanh":
                np.tanh(z, out=z)
            else:
                np.maximum(z, 0, out=z)
    _scratch.give(a)
    return _Part(xt, hs, batch_first)


def _rnn_backward(p, w_ih, w_hh, gy, gh_n, needs, nonlinearity):
    """Back through time over one part: (dL/dx, dL/dh0 (n, H), dW_ih, dW_hh, db_ih, db_hh), each None
    where not needed (dL/dh0 always comes); gy (the part's dL/dy in the user's layout) and gh_n (n, H)
    may be None (no gradient reached that output)."""
    h, w_hh_t = p.hs[1:], w_hh.T
    deriv = 1 - h * h if nonlinearity == "tanh" else (h > 0).astype(h.dtype)  # act'(z_t) from h_t
    dz = _columns(gy, p.batch_first, h.shape, h.dtype)  # becomes dz_t for every step
    dh_rec = _state_grad(gh_n, h.shape[1:], h.dtype)
    for t in range(h.shape[0] - 1, -1, -1):
        d = dz[t]
        d += dh_rec
        d *= deriv[t]
        dh_rec = w_hh_t @ d
    gx, gw_ih, gw_hh, gb_ih, gb_hh = _param_grads(p, dz, dz, needs, w_ih)
    _scratch.give(dz)
    return gx, dh_rec.T, gw_ih, gw_hh, gb_ih, gb_hh


# ------------------------------------------------------------------------------------------ functions
def rnn_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity: str = "tanh", batch_first: bool = False):
    """One Elman RNN layer over a sequence, fused; returns ``(y, h_n)``; see :class:`RNNLayer`.

    Parameters
    ----------
    x : Tensor, shape (T, N, I), or (N, T, I) with ``batch_first``
    h0 : Tensor of shape (N, H), or None for zeros
    w_ih, w_hh : Tensor, shapes (H, I) and (H, H)
    b_ih, b_hh : Tensor of shape (H,), optional
    nonlinearity : 'tanh' or 'relu'

    >>> import chainrule as cr
    >>> from chainrule.functional.recurrent import rnn_layer
    >>> y, h = rnn_layer(cr.randn(5, 2, 3), None, cr.randn(4, 3), cr.randn(4, 4))
    >>> y.shape, h.shape
    ((5, 2, 4), (2, 4))
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ArgumentError(f"rnn_layer: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    (h0,) = _check("rnn_layer", 1, x, [("h0", h0)], w_ih, w_hh, b_ih, b_hh, batch_first)
    return RNNLayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity, batch_first=batch_first)
