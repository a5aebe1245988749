"""The fused GRU layer: r, z, n gates, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).

The layout, the single-exp gate trick and the shape of the backward are those of
:mod:`chainrule.functional.recurrent`, whose helpers this module shares.
"""

from __future__ import annotations

import numpy as np

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

    pooled = ("a", "k", "kn")
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
        xt = _time_major(x, self.batch_first)
        a = _project(xt, w_ih, bias, neg)
        w_hh_s = w_hh * neg[:, None]
        b_hn = None if b_hh is None else b_hh[2 * H:, None]
        T, _, N = a.shape
        dt = a.dtype
        grad = any(self.needs_input_grad)
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
        k = kn = None
        if grad:  # the backward's factors for every step at once, outside the recurrence
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
        if grad:
            self.xt, self.hs, self.a, self.k, self.kn, self.w_ih, self.w_hh = xt, hs, a, k, kn, w_ih, w_hh
        else:
            _scratch.give(a)
        return _outputs(hs, self.batch_first), hs[T].T.copy()

    def backward(self, grads):
        gy, gh_n = grads
        a, k, w_hh_t = self.a, self.k, self.w_hh.T
        T, H3, N = a.shape
        H = H3 // 3
        dhs = _columns(gy, self.batch_first, (T, H, N), a.dtype)  # becomes dh_t for every step
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
        np.multiply(dhs, self.kn, out=dz_x[:, 2 * H:])
        gx, gw_ih, gw_hh, gb_ih, gb_hh = _param_grads(self, dz_x, dz_h, self.needs_input_grad, self.w_ih)
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
