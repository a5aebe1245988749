"""Fused recurrent layers: a whole sequence of one RNN, LSTM or GRU layer is one op.

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

Layout seen from outside: x is (T, N, I), or (N, T, I) with ``batch_first``; h0 and c0 are (N, H);
weights are PyTorch's: W_ih (G*H, I), W_hh (G*H, H), biases (G*H,).
"""

from __future__ import annotations

import threading

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..errors import ArgumentError, ShapeError


class _Scratch:
    """A small pool of large scratch arrays, reused from one call to the next.

    A fresh multi-megabyte NumPy array gets new pages from the operating system, and the first write
    to each 4 KiB page is a page fault: in the LSTM benchmark that cost a fifth of the run time. The
    recurrent ops take their big internal arrays (never one they return) from here and give them
    back once the backward is done with them, so a training loop touches the same memory every step.
    The lock makes the pool safe for models run from several threads at once.
    """

    def __init__(self, per_shape: int = 4, shapes: int = 24):
        self.per_shape, self.shapes = per_shape, shapes
        self.free: dict = {}
        self.lock = threading.Lock()

    def take(self, shape, dtype) -> np.ndarray:
        with self.lock:
            arrays = self.free.get((tuple(shape), np.dtype(dtype)))
            a = arrays.pop() if arrays else None
        return np.empty(shape, dtype=dtype) if a is None else a

    def give(self, *arrays) -> None:
        with self.lock:
            for a in arrays:
                if a is None:
                    continue
                kept = self.free.setdefault((a.shape, a.dtype), [])
                if len(kept) < self.per_shape:
                    kept.append(a)
            while len(self.free) > self.shapes:  # forget the oldest shapes (e.g. other sequence lengths)
                del self.free[next(iter(self.free))]


_scratch = _Scratch()


class _RecurrentLayer(Function):
    """Base of the fused layers: the saved scratch arrays named in ``pooled`` go back to the pool on release."""

    pooled: tuple = ()

    def release(self) -> None:
        _scratch.give(*(getattr(self, name, None) for name in self.pooled))
        super().release()


def _sigmoid_of_negated(u):
    """Turn u = -z into sigmoid(z) = 1 / (1 + exp(-z)), in place.

    For z < -88 (float32) exp overflows to inf and the result is exactly 0, as it should be: callers
    silence the overflow warning (``np.errstate(over="ignore")``) instead of clipping u, a pass saved.
    """
    np.exp(u, out=u)
    u += 1
    return np.divide(1, u, out=u)


def _time_major(x, batch_first):
    """x as a contiguous (T, N, I) array."""
    return np.ascontiguousarray(x.swapaxes(0, 1)) if batch_first else np.ascontiguousarray(x)


def _project(xt, w_ih, bias, scale=None):
    """(scale * W_ih) x_t + scale * bias for every step at once: shape (T, G*H, N)."""
    if scale is not None:
        w_ih = w_ih * scale[:, None]
        bias = None if bias is None else bias * scale
    a = _scratch.take((xt.shape[0], w_ih.shape[0], xt.shape[1]), np.result_type(xt, w_ih))
    np.matmul(w_ih, xt.transpose(0, 2, 1), out=a)
    if bias is not None:
        a += bias[:, None]
    return a


def _outputs(hs, batch_first):
    """The outputs y_t = h_t from the stored states hs (T+1, H, N): a (T, N, H) or (N, T, H) view."""
    return hs[1:].transpose(2, 0, 1) if batch_first else hs[1:].transpose(0, 2, 1)


def _columns(gy, batch_first, shape, dtype):
    """dL/dy in the inside layout: a contiguous (T, H, N) scratch array (the caller may write into it).

    ``gy`` None (nobody used the output sequence, as in a classifier that reads only h_n) gives zeros.
    """
    out = _scratch.take(shape, dtype)
    if gy is None:
        out.fill(0)
    else:
        np.copyto(out, gy.transpose(1, 2, 0) if batch_first else gy.transpose(0, 2, 1))
    return out


def _state_grad(g, shape, dtype):
    """dL/dh_n (or dL/dc_n) in the inside layout (H, N); zeros when it got no gradient (None)."""
    return np.zeros(shape, dtype=dtype) if g is None else g.T


def _side_by_side(a):
    """(T, R, N) -> (R, T*N) scratch copy: every step's columns side by side, for one matrix product."""
    T, R, N = a.shape
    out = _scratch.take((R, T * N), a.dtype)
    np.copyto(out.reshape(R, T, N), a.transpose(1, 0, 2))
    return out


def _param_grads(self, dz_x, dz_h, needs, w_ih):
    """dL/dx, dL/dW_ih, dL/dW_hh, dL/db_ih, dL/db_hh from every step's pre-activation gradients (T, G*H, N).

    dz_x are the gradients of the input side W_ih x_t + b_ih, dz_h those of the hidden side W_hh h + b_hh
    (the same array except in the GRU). dW = sum_t dz_t (G*H, N) @ [x_t or h_{t-1}] (N, .) is one product
    once the steps are laid side by side: dz as (G*H, T*N).
    """
    T, G, N = dz_x.shape
    xt, hs = self.xt, self.hs
    dzx = _side_by_side(dz_x)
    dzh = dzx if dz_h is dz_x else _side_by_side(dz_h)
    gx = gw_ih = gw_hh = gb_ih = gb_hh = None
    if needs[0]:
        gx = (dzx.T @ w_ih).reshape(T, N, w_ih.shape[1])  # sizes spelled out: N may be 0 (an empty batch)
        gx = gx.swapaxes(0, 1) if self.batch_first else gx
    if needs[-4]:
        gw_ih = dzx @ xt.reshape(T * N, xt.shape[2])
    if needs[-3]:
        hp = _scratch.take((T, N, hs.shape[1]), hs.dtype)  # h_{t-1} for every step, as rows
        np.copyto(hp, hs[:-1].transpose(0, 2, 1))
        gw_hh = dzh @ hp.reshape(T * N, hp.shape[2])
        _scratch.give(hp)
    if needs[-2]:
        gb_ih = dzx.sum(axis=1)
    if needs[-1]:
        gb_hh = dzh.sum(axis=1)
    _scratch.give(dzx, None if dzh is dzx else dzh)
    return gx, gw_ih, gw_hh, gb_ih, gb_hh


# ------------------------------------------------------------------------------------------------ RNN
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
        xt = _time_major(x, self.batch_first)
        a = _project(xt, w_ih, None if b_ih is None else b_ih + b_hh)
        T, H, N = a.shape
        hs = np.empty((T + 1, H, N), dtype=a.dtype)  # h_0 .. h_T, each (H, N)
        hs[0] = h0.T
        with np.errstate(over="ignore"):  # in tanh, exp(-2z) = inf gives -1 exactly
            for t in range(T):
                z = np.matmul(w_hh, hs[t], out=hs[t + 1])
                z += a[t]
                if self.nonlinearity == "tanh":
                    np.tanh(z, out=z)
                else:
                    np.maximum(z, 0, out=z)
        _scratch.give(a)
        self.xt, self.hs, self.w_ih, self.w_hh = xt, hs, w_ih, w_hh
        return _outputs(hs, self.batch_first), hs[T].T.copy()

    def backward(self, grads):
        gy, gh_n = grads
        h, w_hh_t = self.hs[1:], self.w_hh.T
        deriv = 1 - h * h if self.nonlinearity == "tanh" else (h > 0).astype(h.dtype)  # act'(z_t) from h_t
        dz = _columns(gy, self.batch_first, h.shape, h.dtype)  # becomes dz_t for every step
        dh_rec = _state_grad(gh_n, h.shape[1:], h.dtype)
        for t in range(h.shape[0] - 1, -1, -1):
            d = dz[t]
            d += dh_rec
            d *= deriv[t]
            dh_rec = w_hh_t @ d
        gx, gw_ih, gw_hh, gb_ih, gb_hh = _param_grads(self, dz, dz, self.needs_input_grad, self.w_ih)
        _scratch.give(dz)
        return gx, dh_rec.T, gw_ih, gw_hh, gb_ih, gb_hh


# ----------------------------------------------------------------------------------------------- LSTM
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

    pooled = ("a", "cs", "tcs", "r")
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
        s, a, cs, tcs, r = _lstm_forward(w, xt, h0, c0, any(self.needs_input_grad), dt, w_hr)
        c_n = cs[-1].T.copy()  # before cs can go back to the pool
        if a is None:
            _scratch.give(cs, tcs)
        else:
            self.s, self.a, self.cs, self.tcs, self.r = s, a, cs, tcs, r
            self.w_ih, self.w_hh, self.w_hr = w_ih, w_hh, w_hr
        T = xt.shape[0]
        y = s[:P, 1:].transpose(2, 1, 0) if self.batch_first else s[:P, 1:].transpose(1, 2, 0)
        return y, s[:P, T].T.copy(), c_n

    def backward(self, grads):
        gy, gh_n, gc_n = grads
        if gy is not None and self.batch_first:
            gy = gy.swapaxes(0, 1)  # (T, N, P)
        needs = self.needs_input_grad
        gx, dh0, dc0, gw, gw_hr = _lstm_backward(self.s, self.a, self.cs, self.tcs, self.w_hh, self.w_ih, gy, gh_n,
                                                 gc_n, needs[0], any(needs[3:]), self.w_hr, self.r)
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
def _shape(v):
    return np.shape(v.data if isinstance(v, Tensor) else v)


def _check(layer, gates, x, states, w_ih, w_hh, b_ih, b_hh, batch_first, w_hr=None):
    """Check shapes; returns the states, zeros for None. With a projection w_hr (P, H) (LSTM only),
    weight_hh is (4H, P) and the states named h0 have P columns."""
    xs = _shape(x)
    if len(xs) != 3:
        raise ShapeError(f"{layer}: input must be 3-D ({'(N, T, I)' if batch_first else '(T, N, I)'}), got {xs}")
    ws_ih, ws_hh = _shape(w_ih), _shape(w_hh)
    if w_hr is None:
        if len(ws_hh) != 2 or ws_hh[0] != gates * ws_hh[1]:
            raise ShapeError(f"{layer}: weight_hh must have shape ({gates}*H, H), got {ws_hh}")
        H = P = ws_hh[1]
    else:
        ws_hr = _shape(w_hr)
        if len(ws_hr) != 2 or not 0 < ws_hr[0] < ws_hr[1]:
            raise ShapeError(f"{layer}: weight_hr must have shape (P, H) with 0 < P < H, got {ws_hr}")
        P, H = ws_hr
        if ws_hh != (gates * H, P):
            raise ShapeError(f"{layer}: with weight_hr of shape {ws_hr}, weight_hh must have shape "
                             f"({gates * H}, {P}), got {ws_hh}")
    if ws_ih != (gates * H, xs[2]):
        raise ShapeError(f"{layer}: input has {xs[2]} features (last axis of {xs}), but weight_ih has shape "
                         f"{ws_ih}, expected ({gates * H}, {xs[2]})")
    if (b_ih is None) != (b_hh is None):
        raise ArgumentError(f"{layer}: give both biases or neither")
    for name, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if b is not None and _shape(b) != (gates * H,):
            raise ShapeError(f"{layer}: {name} has shape {_shape(b)}, expected ({gates * H},)")
    N, T = (xs[0], xs[1]) if batch_first else (xs[1], xs[0])
    if T == 0:
        raise ShapeError(f"{layer}: the sequence is empty (input shape {xs})")
    dtype = np.result_type(x.dtype if hasattr(x, "dtype") else np.float32, w_ih.dtype)
    out = []
    for name, s in states:
        cols = P if name == "h0" else H
        if s is None:
            s = np.zeros((N, cols), dtype=dtype)
        elif _shape(s) != (N, cols):
            what = "proj_size" if cols != H else "hidden_size"
            raise ShapeError(f"{layer}: {name} has shape {_shape(s)}, expected (batch, {what}) = {(N, cols)}")
        out.append(s)
    return out


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
