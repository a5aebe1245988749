"""The fused LSTM layer: a whole sequence of one LSTM layer (with PyTorch's optional projection) is one op.

The layout, the scratch pool, the single-exp sigmoid trick and the shape checks are those of
:mod:`chainrule.functional.recurrent` (described there), with helpers from ``_recurrent_base``; ``recurrent``
re-exports ``LSTMLayer`` and ``lstm_layer``.
"""

from __future__ import annotations

import numpy as np

from .._threads import join_parts, run_parts, split_bounds
from ._recurrent_base import _check, _RecurrentLayer, _scratch, _state_grad


class LSTMLayer(_RecurrentLayer):
    """One LSTM layer over a whole sequence; gate order i, f, g, o as in PyTorch.

    Math
    ----
    [zi, zf, zg, zo] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh = W [h_{t-1}; x_t; 1],  W = [W_hh, W_ih, b]
    i = sigmoid(zi),  f = sigmoid(zf),  g = tanh(zg),  o = sigmoid(zo)
    c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t),  y_t = h_t
    backward, t = T-1 .. 0 (dh^rec, dc^rec start at dL/dh_T, dL/dc_T):
        dh = gy_t + dh^rec,  dc = dc^rec + dh * o * (1 - tanh(c_t)^2)
        dzi = dc * g * i (1 - i),  dzf = dc * c_{t-1} * f (1 - f),  dzg = dc * i * (1 - g^2),
        dzo = dh * tanh(c_t) * o (1 - o)
        dc^rec = dc * f,  dh^rec = W_hh^T [dzi, dzf, dzg, dzo]
    dW = sum_t dz_t [h_{t-1}; x_t; 1]^T  (dW_hh, dW_ih and db_ih = db_hh in one product),  dx_t = W_ih^T dz_t
    The stacked input s_t = [h_{t-1}; x_t; 1] makes each step one product W s_t, bias included. The
    forward keeps the gates, c and tanh(c) of every step; each backward step first forms the factors
    that multiply dc and dh (m = [g i (1 - i), c_{t-1} f (1 - f), i (1 - g^2), tanh(c_t) o (1 - o)] and
    p = o (1 - tanh(c_t)^2)) in two small buffers that stay in cache, then a few products.
    With a projection W_hr (P, H) (PyTorch's ``proj_size`` P < H): r_t = o * tanh(c_t), h_t = W_hr r_t,
    so h, y and W_hh's columns have P rows; backward: dr = W_hr^T dh takes dh's place in dc and dzo,
    and dW_hr = sum_t dh_t r_t^T.
    """

    takes_none_grads = True  # an unread output sequence (a classifier reading h_n) costs nothing

    def __init__(self, batch_first=False):
        self.batch_first = batch_first

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None):
        H, P = w_hh.shape[0] // 4, w_hh.shape[1]  # P = H without a projection
        dt = np.result_type(x, w_ih)
        cols = [w_hh, w_ih] + ([] if b_ih is None else [(b_ih + b_hh)[:, None]])
        # inside, the gate rows are ordered i, f, o, g so that the three sigmoids are one block; they give
        # -zi, -zf, -zo (sigmoid(z) = 1 / (1 + exp(-z))) and zg
        rows = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]
        scale = np.full((4 * H, 1), -1, dtype=dt)
        scale[3 * H:] = 1
        w = np.concatenate(cols, axis=1).astype(dt, copy=False)[rows] * scale
        xt = x.swapaxes(0, 1) if self.batch_first else x  # (T, N, I), a view
        w_hr = None if w_hr is None else w_hr.astype(dt, copy=False)
        grad = any(self.needs_input_grad)
        T, n = xt.shape[:2]
        # the batch in one part, or two halves run at once on two cores (see chainrule._threads): samples
        # never mix in the recurrence, so each half is the same computation on fewer columns
        self.bounds = split_bounds(n, T, 4 * H * n)
        parts = run_parts(lambda lo, hi: _lstm_forward(w, xt[:, lo:hi], h0[lo:hi], c0[lo:hi], grad, dt, w_hr),
                          self.bounds)
        ax = 0 if self.batch_first else 1  # the batch axis of y
        ys = [s[:P, 1:].transpose(2, 1, 0) if self.batch_first else s[:P, 1:].transpose(1, 2, 0) for s, *_ in parts]
        y = ys[0] if len(parts) == 1 else np.concatenate(ys, axis=ax)
        h_n = np.concatenate([s[:P, T].T for s, *_ in parts])  # copies: before cs can go back to the pool
        c_n = np.concatenate([cs[-1].T for _, _, cs, _, _ in parts])
        if grad:
            self.parts = parts
            self.w_ih, self.w_hh, self.w_hr = w_ih, w_hh, w_hr
        else:
            for _, _, cs, tcs, _ in parts:
                _scratch.give(cs, tcs)
        return y, h_n, c_n

    def release(self) -> None:
        for _, a, cs, tcs, r in getattr(self, "parts", ()):
            _scratch.give(a, cs, tcs, r)
        self.parts = ()
        super().release()

    def backward(self, grads):
        gy, gh_n, gc_n = grads
        if gy is not None and self.batch_first:
            gy = gy.swapaxes(0, 1)  # (T, N, P)
        needs = self.needs_input_grad
        want_w = any(needs[3:])

        def part(k, lo, hi):
            s, a, cs, tcs, r = self.parts[k]
            return _lstm_backward(s, a, cs, tcs, self.w_hh, self.w_ih, None if gy is None else gy[:, lo:hi],
                                  None if gh_n is None else gh_n[lo:hi], None if gc_n is None else gc_n[lo:hi],
                                  needs[0], want_w, self.w_hr, r)

        outs = run_parts(part, [(k, lo, hi) for k, (lo, hi) in enumerate(self.bounds)])
        # the halves' input (T, n, I) and state gradients side by side, their weight gradients summed
        gx, dh0, dc0, gw, gw_hr = join_parts(outs, (1, 0, 0, None, None))
        if gx is not None and self.batch_first:
            gx = gx.swapaxes(0, 1)
        gw_ih = gw_hh = gb = None
        if gw is not None:
            P, I = self.w_hh.shape[1], self.w_ih.shape[1]
            gw_hh, gw_ih = gw[:, :P], gw[:, P:P + I]
            gb = gw[:, P + I] if gw.shape[1] > P + I else None
        return (gx, dh0, dc0, gw_ih, gw_hh, gb, gb) + ((gw_hr,) if len(needs) > 7 else ())


def _lstm_forward(w, x, h0, c0, grad, dt, w_hr=None):
    """The recurrence over x (T, n, I) from h0 (n, P) and c0 (n, H), with the joined, scaled weights w.

    Returns (s, a, cs, tcs, r): the stacked inputs s (K, T+1, n), the gates a (T, 4H, n) (None without
    ``grad``), the cells cs = c_0 .. c_T (T+1, H, n) and tcs = tanh(c_1) .. tanh(c_T) (T, H, n) (pooled
    arrays: the caller gives them back) and, with a projection w_hr (P, H) and ``grad``, r (H, T, n),
    every step's o * tanh(c_t) (else None).
    """
    T, n, I = x.shape
    H4, K = w.shape
    H = H4 // 4
    P = H if w_hr is None else w_hr.shape[0]
    # s[:, t] = s_t = [h_{t-1}; x_t; 1], steps side by side along axis 1, so that s[:, :T] is also the
    # (K, T*n) matrix of the weight gradient; s[:P, 1:] are the outputs
    s = np.empty((K, T + 1, n), dtype=dt)
    s[:P, 0] = h0.T
    s[P:P + I, :T] = x.transpose(2, 0, 1)
    s[P:, T] = 0
    s[P + I:, :T] = 1
    a = _scratch.take((T, H4, n), dt)  # the gates of every step
    cs = _scratch.take((T + 1, H, n), dt)  # c_0 .. c_T
    tcs = _scratch.take((T, H, n), dt)  # tanh(c_1) .. tanh(c_T)
    r = None if w_hr is None else _scratch.take((H, T, n), dt)  # r_t = o * tanh(c_t), steps side by side
    cs[0] = c0.T
    ig = np.empty((H, n), dtype=dt)
    # exp(-z) overflows to inf for z < -88 (float32): sigmoid = 1 / (1 + inf) = 0 is then exact
    with np.errstate(over="ignore"):
        for t in range(T):
            z = np.matmul(w, s[:, t], out=a[t])  # -zi, -zf, -zo, zg
            sig = z[:3 * H]
            np.exp(sig, out=sig)
            sig += 1
            np.divide(1, sig, out=sig)  # i, f, o = sigmoid(z)
            i, f, o, g = z[:H], z[H:2 * H], z[2 * H:3 * H], z[3 * H:]
            np.tanh(g, out=g)
            c = np.multiply(f, cs[t], out=cs[t + 1])
            np.multiply(i, g, out=ig)
            c += ig
            tc = np.tanh(c, out=tcs[t])
            if w_hr is None:
                np.multiply(o, tc, out=s[:H, t + 1])  # h_t = o * tanh(c_t)
            else:
                np.matmul(w_hr, np.multiply(o, tc, out=r[:, t]), out=s[:P, t + 1])  # h_t = W_hr (o * tanh(c_t))
    if not grad:
        _scratch.give(a, r)
        a = r = None
    return s, a, cs, tcs, r


def _lstm_backward(s, a, cs, tcs, w_hh, w_ih, gy, gh_n, gc_n, want_x, want_w, w_hr=None, r=None):
    """Back through time: dL/dx (T, n, I) or None, dL/dh0 (n, P), dL/dc0 (n, H), [dW_hh, dW_ih, db] or None
    and, with a projection w_hr, dW_hr (else None).

    gy (T, n, P), gh_n (n, P) and gc_n (n, H) may each be None (no gradient reached that output).
    """
    T, H4, n = a.shape
    H = H4 // 4
    P = w_hh.shape[1]
    dt = a.dtype
    gyt = None
    if gy is not None:
        gyt = _scratch.take((T, P, n), dt)
        np.copyto(gyt, gy.transpose(0, 2, 1))
    # dz[:, t] is step t's (4H, n) block; laid out (4H, T, n), dz is also the (4H, T*n) matrix of the
    # weight gradient, with every step's columns side by side
    dz = _scratch.take((H4, T, n), dt)
    dhs = None if w_hr is None else _scratch.take((P, T, n), dt)  # dL/dh_t of every step, for dW_hr
    w_hh_t = w_hh.T
    dh_rec = _state_grad(gh_n, (P, n), dt)
    dc = np.array(_state_grad(gc_n, (H, n), dt), order="C")  # a copy: dc is updated in place
    # this step's factors, in buffers reused every step (they stay in cache: computing all steps' factors
    # at once in the forward was slower, and took 9 MB more)
    m, p = np.empty((H4, n), dtype=dt), np.empty((H, n), dtype=dt)
    mif, mg, mo = m[:2 * H], m[2 * H:3 * H], m[3 * H:]
    for t in range(T - 1, -1, -1):
        if w_hr is None:
            dh = dh_rec if gyt is None else np.add(gyt[t], dh_rec, out=gyt[t])
        else:  # dr = W_hr^T dh takes dh's place below; dh is kept for dW_hr
            dh = dhs[:, t]
            if gyt is None:
                np.copyto(dh, dh_rec)
            else:
                np.add(gyt[t], dh_rec, out=dh)
            dh = w_hr.T @ dh
        at, tc = a[t], tcs[t]
        i, f, o, g = at[:H], at[H:2 * H], at[2 * H:3 * H], at[3 * H:]  # the inside order (dz keeps PyTorch's)
        np.multiply(tc, tc, out=p)
        p *= o
        np.subtract(o, p, out=p)  # o (1 - tanh(c_t)^2)
        p *= dh
        dc += p  # dc = dc^rec + dh * o (1 - tanh(c_t)^2)
        # a sigmoid's derivative s (1 - s), written s - s*s: two passes either way
        np.multiply(at[:2 * H], at[:2 * H], out=mif)
        np.subtract(at[:2 * H], mif, out=mif)
        mif[:H] *= g  # g i (1 - i)
        mif[H:] *= cs[t]  # c_{t-1} f (1 - f)
        np.multiply(g, g, out=mg)
        mg *= i
        np.subtract(i, mg, out=mg)  # i (1 - g^2)
        np.multiply(o, o, out=mo)
        np.subtract(o, mo, out=mo)
        mo *= tc  # tanh(c_t) o (1 - o)
        dzt = dz[:, t]
        np.multiply(m[:3 * H].reshape(3, H, n), dc, out=dzt[:3 * H].reshape(3, H, n))  # dzi, dzf, dzg
        np.multiply(mo, dh, out=dzt[3 * H:])  # dzo
        dc *= f  # dc^rec = dc * f
        dh_rec = w_hh_t @ dzt
    _scratch.give(gyt)
    dzs = dz.reshape(H4, T * n)
    gx = (dzs.T @ w_ih).reshape(T, n, w_ih.shape[1]) if want_x else None  # n may be 0 (an empty batch)
    gw = gw_hr = None
    if want_w:
        K = s.shape[0]
        gw = dzs @ s[:, :T].reshape(K, T * n).T  # [dW_hh, dW_ih, db]
        if w_hr is not None:
            gw_hr = dhs.reshape(P, T * n) @ r.reshape(H, T * n).T  # sum_t dh_t r_t^T
    _scratch.give(dz, dhs)
    return gx, dh_rec.T, dc.T, gw, gw_hr


# ------------------------------------------------------------------------------------------ functions
def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, batch_first: bool = False, w_hr=None):
    """One LSTM layer over a sequence, fused; returns ``(y, h_n, c_n)``; see :class:`LSTMLayer`.

    Parameters
    ----------
    x : Tensor, shape (T, N, I), or (N, T, I) with ``batch_first``
    h0, c0 : Tensor of shape (N, H) (h0: (N, P) with a projection), or None for zeros
    w_ih, w_hh : Tensor, shapes (4H, I) and (4H, H) ((4H, P) with a projection), gates i, f, g, o
    b_ih, b_hh : Tensor of shape (4H,), optional
    w_hr : Tensor of shape (P, H), P < H, optional: the projection h_t = W_hr (o * tanh(c_t))
        (PyTorch's ``proj_size``); y and h_n then have P features

    >>> import chainrule as cr
    >>> from chainrule.functional.recurrent import lstm_layer
    >>> y, h, c = lstm_layer(cr.randn(5, 2, 3), None, None, cr.randn(16, 3), cr.randn(16, 4))
    >>> y.shape, h.shape, c.shape
    ((5, 2, 4), (2, 4), (2, 4))
    >>> y, h, c = lstm_layer(cr.randn(5, 2, 3), None, None, cr.randn(16, 3), cr.randn(16, 2), w_hr=cr.randn(2, 4))
    >>> y.shape, h.shape, c.shape
    ((5, 2, 2), (2, 2), (2, 4))
    """
    h0, c0 = _check("lstm_layer", 4, x, [("h0", h0), ("c0", c0)], w_ih, w_hh, b_ih, b_hh, batch_first, w_hr)
    if w_hr is None:
        return LSTMLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_first=batch_first)
    return LSTMLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_first=batch_first)
