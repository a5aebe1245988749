"""The fused GRU layer: r, z, n gates, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).

The layout, the single-exp gate trick and the shape of the backward are those of
:mod:`chainrule.functional.recurrent`, whose helpers this module shares. Big batches run as two halves
side by side on two cores (:mod:`chainrule._threads`), as in :mod:`chainrule.functional.lstm`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._threads import join_parts, run_parts, split_bounds
from ._recurrent_base import (
    _check,
    _columns,
    _outputs,
    _param_grads,
    _project,
    _RecurrentLayer,
    _scratch,
    _sigmoid_of_negated,
    _state_grad,
    _time_major,
)


# ------------------------------------------------------------------------------------------------ GRU
class GRULayer(_RecurrentLayer):
    """One GRU layer over a whole sequence; gate order r, z, n as in PyTorch.

    Math
    ----
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    hn = W_hn h + b_hn,  n = tanh(W_in x + b_in + r * hn),  h_t = (1 - z) * n + z * h_{t-1}
    backward, t = T-1 .. 0 (dh^rec starts at dL/dh_T), with dh = gy_t + dh^rec:
        dzn = dh * (1 - z) (1 - n^2),  dzz = dh * (h_{t-1} - n) z (1 - z),  dzr = dzn * hn * r (1 - r)
        input side: [dzr, dzz, dzn];  hidden side: [dzr, dzz, dzn * r]
        dh^rec = dh * z + W_hh^T [dzr, dzz, dzn * r]
    Every step's gradient is dh times factors k that the forward stores.
    """

    takes_none_grads = True  # backward gets None for an output that received no gradient

    def __init__(self, batch_first=False):
        self.batch_first = batch_first

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
        H = w_hh.shape[1]
        neg = np.ones(3 * H, dtype=w_ih.dtype)
        neg[:2 * H] = -1  # the r and z rows give -z
        bias = None
        if b_ih is not None:  # b_hr, b_hz join the input side; b_hn stays inside r * (...)
            bias = b_ih.copy()
            bias[:2 * H] += b_hh[:2 * H]
            bias *= neg
        w_ih_s, w_hh_s = w_ih * neg[:, None], w_hh * neg[:, None]
        b_hn = None if b_hh is None else b_hh[2 * H:, None]
        bf, grad = self.batch_first, any(self.needs_input_grad)
        T, N = (x.shape[1], x.shape[0]) if bf else x.shape[:2]
        # the batch in one part, or two halves run at once on two cores (see chainrule._threads): samples
        # never mix in the recurrence, so each half is the same computation on fewer columns
        self.bounds = split_bounds(N, T, 3 * H * N)
        parts = run_parts(lambda lo, hi: _gru_forward(x[lo:hi] if bf else x[:, lo:hi], h0[lo:hi], w_ih_s, bias,
                                                      w_hh_s, b_hn, bf, grad), self.bounds)
        if len(parts) == 1:
            y, h_n = _outputs(parts[0].hs, bf), parts[0].hs[T].T.copy()
        else:
            y = np.concatenate([_outputs(p.hs, bf) for p in parts], axis=0 if bf else 1)
            h_n = np.concatenate([p.hs[T].T for p in parts])
        if grad:
            self.parts, self.w_ih, self.w_hh = parts, w_ih, w_hh
        return y, h_n

    def release(self) -> None:
        for p in getattr(self, "parts", ()):
            _scratch.give(p.a, p.k, p.kn)
        self.parts = ()
        super().release()

    def backward(self, grads):
        gy, gh_n = grads
        bf, needs = self.batch_first, self.needs_input_grad

        def part(p, lo, hi):
            gyp = None if gy is None else gy[lo:hi] if bf else gy[:, lo:hi]
            return _gru_backward(p, self.w_ih, self.w_hh, gyp, None if gh_n is None else gh_n[lo:hi], needs)

        outs = run_parts(part, [(p, lo, hi) for p, (lo, hi) in zip(self.parts, self.bounds)])
        # the halves' input and state gradients side by side, their weight gradients summed
        return join_parts(outs, (0 if bf else 1, 0, None, None, None, None))


class _Part(NamedTuple):
    """What one batch part keeps for the backward (``_param_grads`` reads xt, hs and batch_first)."""

    xt: np.ndarray  # the inputs, (T, n, I) contiguous
    hs: np.ndarray  # h_0 .. h_T, (T+1, H, n)
    a: np.ndarray | None  # r, z, n of every step, (T, 3H, n), pooled
    k: np.ndarray | None  # hidden-side factors, (T, 3H, n), pooled
    kn: np.ndarray | None  # input-side factor of dzn, (T, H, n), pooled
    batch_first: bool


def _gru_forward(x, h0, w_ih_s, bias_s, w_hh_s, b_hn, batch_first, grad):
    """The recurrence over one batch part x ((T, n, I), or (n, T, I) with ``batch_first``) from h0 (n, H).

    w_ih_s, bias_s and w_hh_s have their r and z rows negated (they give -z); b_hn is (H, 1) or None.
    Returns a :class:`_Part`; a, k and kn are pooled arrays (the caller gives them back), None without ``grad``.
    """
    xt = _time_major(x, batch_first)
    a = _project(xt, w_ih_s, bias_s)
    T, H3, N = a.shape
    H = H3 // 3
    dt = a.dtype
    hs = np.empty((T + 1, H, N), dtype=dt)
    hs[0] = h0.T
    # the hidden side W_hh h + b_hh of every step, kept for the backward's factors (one buffer without grad)
    hws = _scratch.take((T, 3 * H, N), dt) if grad else np.empty((1, 3 * H, N), dtype=dt)
    with np.errstate(over="ignore"):  # exp = inf gives sigmoid = 0, tanh = -1 exactly
        for t in range(T):
            hw = np.matmul(w_hh_s, hs[t], out=hws[t if grad else 0])
            rz, n = a[t, :2 * H], a[t, 2 * H:]
            rz += hw[:2 * H]
            _sigmoid_of_negated(rz)
            r, z = rz[:H], rz[H:]
            hn = hw[2 * H:]
            if b_hn is not None:
                hn += b_hn
            n += r * hn
            np.tanh(n, out=n)
            h = hs[t + 1]
            np.subtract(hs[t], n, out=h)  # h_t = n + z * (h_{t-1} - n)
            h *= z
            h += n
    if not grad:
        _scratch.give(a)
        return _Part(xt, hs, None, None, None, batch_first)
    # the backward's factors for every step at once, outside the recurrence
    k = _scratch.take((T, 3 * H, N), dt)  # hidden side: [dzr, dzz, dzn * r] = dh * k
    kn = _scratch.take((T, H, N), dt)  # input side: dzn = dh * kn
    r, z, n, hn = a[:, :H], a[:, H:2 * H], a[:, 2 * H:], hws[:, 2 * H:]
    kr, kz, knr = k[:, :H], k[:, H:2 * H], k[:, 2 * H:]
    np.multiply(z, z, out=kn)
    np.subtract(z, kn, out=kn)  # z (1 - z), for a moment
    np.subtract(hs[:-1], n, out=kz)
    kz *= kn  # (h_{t-1} - n) z (1 - z)
    np.multiply(n, n, out=kn)
    kn -= 1
    np.subtract(z, 1, out=knr)
    kn *= knr  # (n^2 - 1)(z - 1) = (1 - z)(1 - n^2)
    np.multiply(kn, r, out=knr)  # kn * r
    np.subtract(1, r, out=kr)
    kr *= knr
    kr *= hn  # kn * hn * r (1 - r)
    _scratch.give(hws)
    return _Part(xt, hs, a, k, kn, batch_first)


def _gru_backward(p, w_ih, w_hh, gy, gh_n, needs):
    """Back through time over one part: (dL/dx, dL/dh0 (n, H), dW_ih, dW_hh, db_ih, db_hh), each None
    where not needed (dL/dh0 always comes); gy (the part's dL/dy in the user's layout) and gh_n (n, H)
    may be None (no gradient reached that output)."""
    a, k, w_hh_t = p.a, p.k, w_hh.T
    T, H3, N = a.shape
    H = H3 // 3
    dhs = _columns(gy, p.batch_first, (T, H, N), a.dtype)  # becomes dh_t for every step
    dz_h = _scratch.take((T, 3 * H, N), dhs.dtype)
    dh_rec = _state_grad(gh_n, (H, N), a.dtype)
    for t in range(T - 1, -1, -1):
        dh = dhs[t]
        dh += dh_rec
        np.multiply(k[t].reshape(3, H, N), dh, out=dz_h[t].reshape(3, H, N))
        dh_rec = w_hh_t @ dz_h[t]
        dh_rec += dh * a[t, H:2 * H]
    dz_x = _scratch.take(dz_h.shape, dz_h.dtype)
    dz_x[:, :2 * H] = dz_h[:, :2 * H]
    np.multiply(dhs, p.kn, out=dz_x[:, 2 * H:])
    gx, gw_ih, gw_hh, gb_ih, gb_hh = _param_grads(p, dz_x, dz_h, needs, w_ih)
    _scratch.give(dhs, dz_h, dz_x)
    return gx, dh_rec.T, gw_ih, gw_hh, gb_ih, gb_hh


def gru_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, batch_first: bool = False):
    """One GRU layer over a sequence, fused; returns ``(y, h_n)``; see :class:`GRULayer`.

    Parameters
    ----------
    x : Tensor, shape (T, N, I), or (N, T, I) with ``batch_first``
    h0 : Tensor of shape (N, H), or None for zeros
    w_ih, w_hh : Tensor, shapes (3H, I) and (3H, H), gates r, z, n
    b_ih, b_hh : Tensor of shape (3H,), optional

    >>> import chainrule as cr
    >>> from chainrule.functional.gru import gru_layer
    >>> y, h = gru_layer(cr.randn(2, 5, 3), None, cr.randn(12, 3), cr.randn(12, 4), batch_first=True)
    >>> y.shape, h.shape
    ((2, 5, 4), (2, 4))
    """
    (h0,) = _check("gru_layer", 3, x, [("h0", h0)], w_ih, w_hh, b_ih, b_hh, batch_first)
    return GRULayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, batch_first=batch_first)
