"""Normalisation, dropout and embedding: batch_norm, layer_norm, dropout, embedding.

Batch and layer normalisation are each one fused op (formulas in their docstrings): written as a chain of
primitive ops the backward would build a dozen intermediate arrays; fused, its compact form needs only
``xhat`` and ``1 / sqrt(var + eps)`` saved from the forward.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_operand
from ..backend import get_generator
from ..errors import ArgumentError, ArgumentTypeError, DataError, DTypeError, ShapeError
from .linalg import layer_input
from .shape import add_rows


def _data(v):
    return v.data if isinstance(v, Tensor) else v


def _norm_input(x, ref, where: str):
    """The input of batch_norm / layer_norm: a floating input keeps its dtype (the statistics and weights are
    cast to it inside the op, so float64 NumPy statistics never upcast a float32 input); lists become the
    default dtype and integers the dtype of ``ref`` (the weight, or the running mean), as :func:`layer_input`.
    The layers cast their input to their weights' dtype before calling (the "compute in the weight's dtype" rule).
    Strings, objects and complex numbers are refused (by layer_input).
    """
    x = as_operand(x)
    return x if _data(x).dtype.kind == "f" else layer_input(x, ref, where)  # layer_input refuses non-numbers


def _check_eps(eps, where: str, positive: bool = False) -> float:
    """eps as a float: a finite number >= 0 (> 0 with ``positive``: batch statistics in training, as PyTorch)."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"{where}: eps must be a number, got {eps!r} ({type(eps).__name__})")
    if not (eps > 0 if positive else eps >= 0) or not np.isfinite(eps):
        need = "positive (> 0) in training" if positive else "non-negative (>= 0)"
        raise ArgumentError(f"{where}: eps must be finite and {need}: it is added to the variance before the "
                            f"square root, got {eps!r}")
    return float(eps)


# ----------------------------------------------------------------------------------------- batch norm
class BatchNorm(Function):
    """Batch normalisation over every axis but the channel axis 1, one fused op.

    Math
    ----
    Training (statistics of the batch, m = number of values per channel):
        mu = mean(x),  var = mean((x - mu)^2),  xhat = (x - mu) / sqrt(var + eps),  y = gamma * xhat + beta
        dL/dx = gamma / sqrt(var + eps) * (gy - mean(gy) - xhat * mean(gy * xhat))
        dL/dgamma = sum(gy * xhat),  dL/dbeta = sum(gy)
    Evaluation (running statistics, constants): xhat = (x - running_mean) / sqrt(running_var + eps)
        dL/dx = gy * gamma / sqrt(running_var + eps)
    Running statistics (training only, in place and in their own dtype, PyTorch's convention):
        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var  + momentum * var * m / (m - 1)   (unbiased)
        (skipped for a batch whose statistics are not finite: NaN or inf in x)
    Everything is computed in x's dtype: weights and statistics of another dtype are cast to it.
    float16 inputs are computed in float32 (statistics, running averages, gradients) and y is rounded
    to float16, as PyTorch does: float16 sums overflow past 65504 after a few hundred values.
    """

    def __init__(self, running_mean=None, running_var=None, training=False, momentum=0.1, eps=1e-5):
        self.running_mean, self.running_var = running_mean, running_var
        self.training, self.momentum, self.eps = training, momentum, eps

    def forward(self, x, gamma=None, beta=None):
        self.half = x.dtype == np.float16
        if self.half:  # float16 sums overflow past 65504: compute in float32 and round y to float16, as PyTorch
            x, gamma, beta = (None if v is None else v.astype(np.float32) for v in (x, gamma, beta))
        elif (gamma is not None and gamma.dtype != x.dtype) or (beta is not None and beta.dtype != x.dtype):
            gamma, beta = (None if v is None else v.astype(x.dtype, copy=False) for v in (gamma, beta))  # x's dtype
        axes = (0,) + tuple(range(2, x.ndim))
        pshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # (C,) -> broadcastable against x
        m = x.size // x.shape[1]
        self.axes, self.pshape, self.m = axes, pshape, m
        if self.training:
            mu = x.mean(axis=axes, keepdims=True)
            xc = x - mu
            var = _channel_dot(xc, xc).reshape(pshape) / m
            # a batch holding NaN or inf leaves the running statistics as they were (PyTorch would store NaN in
            # them and every later evaluation would be NaN): its output is NaN anyway, and fit stops on it
            if self.running_mean is not None and np.isfinite(var).all() and np.isfinite(mu).all():
                k = self.momentum
                self.running_mean *= 1 - k
                self.running_mean += k * mu.reshape(-1)
                self.running_var *= 1 - k
                self.running_var += (k * m / (m - 1)) * var.reshape(-1)
        else:
            mu = self.running_mean.reshape(pshape).astype(x.dtype, copy=False)
            var = self.running_var.reshape(pshape).astype(x.dtype, copy=False)
            xc = x - mu
        inv_std = 1 / np.sqrt(var + self.eps)
        xhat = xc
        xhat *= inv_std  # xc is a fresh array: normalise in place
        self.xhat, self.inv_std = xhat, inv_std
        self.gamma = None if gamma is None else gamma.reshape(pshape)
        y = xhat.copy() if self.gamma is None else xhat * self.gamma
        if beta is not None:
            y += beta.reshape(pshape)
        return y.astype(np.float16) if self.half else y

    def backward(self, gy):
        xhat, inv_std, m = self.xhat, self.inv_std, self.m
        if self.half:  # float32 like the forward; the engine rounds each gradient to its input's float16
            gy = gy.astype(np.float32)
        needs = self.needs_input_grad + (False,) * (3 - len(self.needs_input_grad))
        gx = ggamma = gbeta = None
        gy_xhat = sum_gy = None
        if needs[1] or (needs[0] and self.training):
            gy_xhat = _channel_dot(gy, xhat)
        if needs[2] or (needs[0] and self.training):
            sum_gy = np.sum(gy, axis=self.axes)
        if needs[0]:
            scale = inv_std if self.gamma is None else self.gamma * inv_std
            if self.training:  # (gy - mean(gy) - xhat * mean(gy * xhat)) * scale, in place on one new array
                gx = xhat * (gy_xhat.reshape(self.pshape) / -m)
                gx -= (sum_gy / m).reshape(self.pshape)
                gx += gy
                gx *= scale
            else:
                gx = gy * scale
        if needs[1]:
            ggamma = gy_xhat
        if needs[2]:
            gbeta = sum_gy
        return gx, ggamma, gbeta


def _channel_dot(a, b):
    """sum over every axis but the channel axis 1 of a * b, without building a * b."""
    letters = "abcdefgh"[: a.ndim]
    return np.einsum(f"{letters},{letters}->b", a, b)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5, *, _layer: str = "batch_norm"):
    """Batch normalisation of ``x`` per channel (axis 1), one fused op.

    Math
    ----
    Per channel, over the m values of the other axes (N, and L or H and W); gy = dL/dy:
    training:    mu = mean(x),  var = mean((x - mu)^2)   (biased; the running variance gets var * m / (m - 1))
    evaluation:  mu = running_mean,  var = running_var    (constants)
    xhat = (x - mu) / sqrt(var + eps),   y = weight * xhat + bias
    dL/dx = weight / sqrt(var + eps) * (gy - mean(gy) - xhat * mean(gy * xhat))   (training)
    dL/dx = weight / sqrt(var + eps) * gy                                          (evaluation)
    dL/dweight = sum(gy * xhat),   dL/dbias = sum(gy)
    running_mean = (1 - momentum) * running_mean + momentum * mu   (training, in place; running_var alike)

    Parameters
    ----------
    x : Tensor, shape (N, C), (N, C, L) or (N, C, H, W)
        Normalised over N (and L, or H and W) for every channel. A floating x keeps its dtype: the
        statistics and weights are cast to it. Lists become the default dtype and integer arrays the
        weight's dtype.
    running_mean, running_var : ndarray of shape (C,) or None
        Running statistics: updated in place (in their own dtype) when ``training``, used instead of the
        batch's when not. ``None`` (both) means the batch statistics are always used and nothing is tracked.
    weight, bias : Tensor of shape (C,), optional
        gamma and beta.
    training : bool
        Use (and track) batch statistics; otherwise normalise with the running statistics.
    momentum : float in [0, 1]
        Weight of the new batch in the running averages. (``nn.BatchNorm1d(momentum=None)`` keeps the
        cumulative average: it counts the batches and passes momentum = 1 / count.)
    eps : float
        Added to the variance before the square root: > 0 in training, >= 0 in evaluation (as PyTorch).

    >>> import chainrule as cr, chainrule.functional as F, numpy as np
    >>> x = cr.tensor([[1.0, 10.0], [3.0, 30.0]])
    >>> rm, rv = np.zeros(2, np.float32), np.ones(2, np.float32)
    >>> F.batch_norm(x, rm, rv, training=True).numpy().round(3)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> rm
    array([0.2, 2. ], dtype=float32)
    >>> x = cr.tensor([[1.0, 10.0], [3.0, 30.0]], requires_grad=True)
    >>> F.batch_norm(x, np.zeros(2), np.full(2, 4.0)).sum().backward()  # evaluation: dL/dx = 1 / sqrt(4 + eps)
    >>> x.grad.round(3)
    array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    """
    x = _norm_input(x, weight if weight is not None else running_mean, _layer)
    xs = np.shape(_data(x))
    if len(xs) < 2:
        raise ShapeError(f"{_layer}: input must have shape (N, C, ...) with a channel axis 1, got {xs}")
    c = xs[1]
    for name, v in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if v is not None and np.shape(_data(v)) != (c,):
            raise ShapeError(f"{_layer}: input {xs} has {c} channels (axis 1), but {name} has shape "
                             f"{np.shape(_data(v))}, expected ({c},)")
    if (running_mean is None) != (running_var is None):
        raise ArgumentError(f"{_layer}: give both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise ArgumentError(f"{_layer}: evaluation (training=False) needs running_mean and running_var")
    if training and xs[0] * int(np.prod(xs[2:])) <= 1:
        raise ShapeError(f"{_layer}: training needs more than one value per channel to take a variance, "
                         f"got input of shape {xs}")
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.integer, np.floating)):
        hint = (" (the cumulative average of momentum=None needs a batch count: nn.BatchNorm1d/2d(momentum=None) "
                "keeps one)" if momentum is None else "")
        raise ArgumentTypeError(f"{_layer}: momentum must be a number in [0, 1], got {momentum!r}{hint}")
    if not 0.0 <= momentum <= 1.0:
        raise ArgumentError(f"{_layer}: momentum must be in [0, 1], got {momentum}")
    eps = _check_eps(eps, _layer, positive=bool(training))
    rm = None if running_mean is None else _data(running_mean)
    rv = None if running_var is None else _data(running_var)
    for name, v in (("running_mean", rm), ("running_var", rv)):
        if v is not None and not (isinstance(v, np.ndarray) and v.dtype.kind == "f"):
            raise DTypeError(f"{_layer}: {name} must be a floating NumPy array (updated in place), got "
                             f"{type(v).__name__}" + (f" of dtype {v.dtype}" if isinstance(v, np.ndarray) else ""))
    inputs = [x] + ([weight, bias] if bias is not None else [weight] if weight is not None else [])
    return BatchNorm.apply(*inputs, running_mean=rm, running_var=rv, training=bool(training),
                           momentum=float(momentum), eps=eps)


# ----------------------------------------------------------------------------------------- layer norm
class LayerNorm(Function):
    """Layer normalisation over the last k axes (``normalized_shape``), one fused op.

    Math
    ----
    For each sample (the leading axes), over its last k axes with m values:
        mu = mean(x),  var = mean((x - mu)^2),  xhat = (x - mu) / sqrt(var + eps),  y = gamma * xhat + beta
        g = gy * gamma
        dL/dx = 1 / sqrt(var + eps) * (g - mean(g) - xhat * mean(g * xhat))
        dL/dgamma = sum over the leading axes of gy * xhat,  dL/dbeta = sum over the leading axes of gy
    Computed in x's dtype: weights of another dtype are cast to it.
    """

    def __init__(self, k=1, eps=1e-5):
        self.k, self.eps = k, eps

    def forward(self, x, gamma=None, beta=None):
        self.half = x.dtype == np.float16
        if self.half:  # float16 squares and sums overflow: compute in float32 and round y to float16, as PyTorch
            x, gamma, beta = (None if v is None else v.astype(np.float32) for v in (x, gamma, beta))
        elif (gamma is not None and gamma.dtype != x.dtype) or (beta is not None and beta.dtype != x.dtype):
            gamma, beta = (None if v is None else v.astype(x.dtype, copy=False) for v in (gamma, beta))  # x's dtype
        axes = tuple(range(x.ndim - self.k, x.ndim))
        mu = x.mean(axis=axes, keepdims=True)
        xhat = x - mu
        var = np.mean(xhat * xhat, axis=axes, keepdims=True)
        inv_std = 1 / np.sqrt(var + self.eps)
        xhat *= inv_std
        self.xhat, self.inv_std, self.axes, self.gamma = xhat, inv_std, axes, gamma
        y = xhat if gamma is None else xhat * gamma
        if beta is not None:
            y = y + beta
        if self.half:
            return y.astype(np.float16)
        return y.copy() if y is xhat else y

    def backward(self, gy):
        xhat, axes = self.xhat, self.axes
        if self.half:
            gy = gy.astype(np.float32)
        needs = self.needs_input_grad + (False,) * (3 - len(self.needs_input_grad))
        lead = tuple(range(xhat.ndim - self.k))
        gx = ggamma = gbeta = None
        if needs[0]:
            g = gy if self.gamma is None else gy * self.gamma
            gx = g - g.mean(axis=axes, keepdims=True)
            gx -= xhat * np.mean(g * xhat, axis=axes, keepdims=True)
            gx *= self.inv_std
        if needs[1]:
            ggamma = np.sum(gy * xhat, axis=lead)
        if needs[2]:
            gbeta = np.sum(gy, axis=lead)
        return gx, ggamma, gbeta


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5, *, _layer: str = "layer_norm"):
    """Layer normalisation over the trailing axes ``normalized_shape``, one fused op.

    Math
    ----
    For each sample, over the m values of its trailing ``normalized_shape`` axes; gy = dL/dy:
    mu = mean(x),  var = mean((x - mu)^2),  xhat = (x - mu) / sqrt(var + eps),  y = weight * xhat + bias
    g = gy * weight,   dL/dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)
    dL/dweight = sum over the leading axes of gy * xhat,   dL/dbias = sum over the leading axes of gy

    Parameters
    ----------
    x : Tensor, shape (..., *normalized_shape). A floating x keeps its dtype (the weights are cast to it);
        lists become the default dtype, integers the weight's
    normalized_shape : int or tuple of ints
        The trailing shape to normalise over.
    weight, bias : Tensor of shape ``normalized_shape``, optional
        gamma and beta.
    eps : float >= 0
        Added to the variance before the square root.

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.layer_norm(cr.tensor([[1.0, 2.0, 3.0]]), 3).numpy().round(3)
    array([[-1.225,  0.   ,  1.225]], dtype=float32)
    >>> w = cr.ones(3, requires_grad=True)
    >>> F.layer_norm(cr.tensor([[1.0, 2.0, 3.0]]), 3, w).sum().backward()
    >>> w.grad.round(3)   # dL/dweight = xhat
    array([-1.225,  0.   ,  1.225], dtype=float32)
    """
    ns = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    x = _norm_input(x, weight, _layer)
    xs = np.shape(_data(x))
    k = len(ns)
    if k == 0 or len(xs) < k or tuple(xs[len(xs) - k:]) != ns:
        raise ShapeError(f"{_layer}: input of shape {xs} must end in normalized_shape {ns}")
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and np.shape(_data(v)) != ns:
            raise ShapeError(f"{_layer}: {name} has shape {np.shape(_data(v))}, expected {ns}")
    inputs = [x] + ([weight, bias] if bias is not None else [weight] if weight is not None else [])
    return LayerNorm.apply(*inputs, k=k, eps=_check_eps(eps, _layer))


# -------------------------------------------------------------------------------------------- dropout
class Dropout(Function):
    """Inverted dropout: keep each value with probability 1 - p and scale the kept ones by 1 / (1 - p).

    Math
    ----
    mask_i ~ Bernoulli(1 - p),  m_i = mask_i / (1 - p),  y = x * m  (so E[y] = x);  dL/dx = dL/dy * m
    """

    def __init__(self, m=None):
        self.m = m

    def forward(self, x):
        return x * self.m

    def backward(self, gy):
        return gy * self.m


def dropout(x, p: float = 0.5, training: bool = True, generator=None):
    """Zero each value with probability ``p`` and scale the rest by 1 / (1 - p); identity in evaluation.

    Math
    ----
    mask_i ~ Bernoulli(1 - p),   y_i = x_i * mask_i / (1 - p)   (so E[y] = x);   y = x in evaluation
    dL/dx_i = dL/dy_i * mask_i / (1 - p)   (the forward's mask)

    The mask is drawn from chainrule's seeded generator (``cr.manual_seed``) unless ``generator`` (a seed
    or a NumPy Generator) is given.

    Parameters
    ----------
    x : Tensor, any shape
    p : float in [0, 1]
        The probability of dropping a value.
    training : bool
        Drop only in training; otherwise return ``x`` unchanged.

    >>> import chainrule as cr, chainrule.functional as F
    >>> y = F.dropout(cr.ones(1000), p=0.5, generator=0)
    >>> sorted(set(y.numpy().tolist())), abs(float(y.mean().item()) - 1) < 0.1
    ([0.0, 2.0], True)
    >>> x = cr.ones(6, requires_grad=True)
    >>> F.dropout(x, p=0.5, generator=0).sum().backward()
    >>> sorted(set(x.grad.tolist()))   # dL/dx = mask / (1 - p)
    [0.0, 2.0]
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    x = as_operand(x)  # a Python list becomes an array of the default dtype
    if not training or p == 0:
        return x
    xd = _data(x)
    if not isinstance(xd, np.ndarray) or xd.dtype.kind != "f":
        got = f"dtype {xd.dtype} with shape {xd.shape}" if isinstance(xd, np.ndarray) else type(xd).__name__
        raise DTypeError(f"dropout: expected a floating-point tensor, got {got}")
    if p == 1:
        m = np.zeros(xd.shape, dtype=xd.dtype)
    else:
        u = get_generator(generator).random(xd.shape, dtype=np.float64 if xd.dtype == np.float64 else np.float32)
        m = (u >= p).astype(xd.dtype)
        m *= xd.dtype.type(1 / (1 - p))
    return Dropout.apply(x, m=m)


# ------------------------------------------------------------------------------------------ embedding
class Embedding(Function):
    """Look up rows of a weight table: y[..., :] = W[ids[...], :].

    Math
    ----
    y = W[ids];  dL/dW[v] = sum over the positions j with ids[j] = v of dL/dy[j]   (rows never looked up: 0)

    The sum over repeated ids is ``shape.add_rows``: the ids sorted once, runs of equal ids added by one
    ``np.add.reduceat`` (1.1-5x faster than ``np.add.at`` for rows of 32 numbers or more).
    """

    def __init__(self, padding_idx=None):
        self.padding_idx = padding_idx

    def forward(self, ids, w):
        self.ids, self.wshape = ids, w.shape
        return w[ids]

    def backward(self, gy):
        ids = self.ids.reshape(-1)
        gw = add_rows(ids, gy.reshape(ids.size, self.wshape[1]), self.wshape[0])  # (no -1: ids may be empty)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return None, gw


def embedding(ids, weight, padding_idx: int | None = None, *, _layer: str = "embedding"):
    """Rows of ``weight`` picked by integer ``ids``: output shape ``ids.shape + (embedding_dim,)``.

    Math
    ----
    y[..., :] = weight[ids[...], :]
    dL/dweight[v] = sum of dL/dy[j] over the positions j with ids[j] = v   (0 for rows never looked up
    and for ``padding_idx``); the ids get no gradient

    Parameters
    ----------
    ids : integer array or Tensor of any shape, values in [0, num_embeddings)
    weight : Tensor, shape (num_embeddings, embedding_dim)
    padding_idx : int in [-num_embeddings, num_embeddings), optional
        The row at this index gets no gradient (a negative index counts from the end, as in PyTorch).

    >>> import chainrule as cr, chainrule.functional as F, numpy as np
    >>> w = cr.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    >>> F.embedding(np.array([2, 0, 2]), w).sum().backward()
    >>> w.grad
    array([[1., 1.],
           [0., 0.],
           [2., 2.]])
    """
    ws = np.shape(_data(weight))
    if len(ws) != 2:
        raise ShapeError(f"{_layer}: weight must have shape (num_embeddings, embedding_dim), got {ws}")
    if padding_idx is not None:  # checked here, not at backward where it is used
        if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
            raise ArgumentTypeError(f"{_layer}: padding_idx must be an int or None, got {padding_idx!r}")
        if not -ws[0] <= padding_idx < ws[0]:
            raise ArgumentError(f"{_layer}: padding_idx must be within num_embeddings: in [-{ws[0]}, {ws[0]}), "
                                f"got {padding_idx} (weight shape {ws})")
        padding_idx = int(padding_idx) % ws[0]
    ids_arr = np.asarray(_data(ids))
    if ids_arr.dtype.kind not in "iu":
        raise DTypeError(f"{_layer}: ids must be integers, got dtype {ids_arr.dtype}")
    if ids_arr.size:
        lo, hi = int(ids_arr.min()), int(ids_arr.max())
        if lo < 0 or hi >= ws[0]:
            bad = lo if lo < 0 else hi
            raise DataError(f"{_layer}: id {bad} is out of range: ids must be in [0, {ws[0]}) "
                            f"(num_embeddings={ws[0]})")
    return Embedding.apply(ids_arr, weight, padding_idx=padding_idx)
