"""What the fused recurrent layers (RNN in ``recurrent.py``, LSTM in ``lstm.py``, GRU in ``gru.py``) share:
the scratch-array pool, the base op class, layout helpers, the weight-gradient products and the
argument checks. The design is described in :mod:`chainrule.functional.recurrent`.
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
