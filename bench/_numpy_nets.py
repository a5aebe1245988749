"""Hand-written NumPy pieces for ``_numpy.py``: softmax cross-entropy, SGD with momentum, the CNN, the LSTM.

Plain textbook NumPy: convolution as im2col (a sliding-window view copied into columns) plus one matrix
product, max-pooling by reshaping into 2x2 blocks, the LSTM as a loop over the 28 time steps with
backpropagation through time. Layouts and gate order follow PyTorch.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

F32 = np.float32


def softmax_xent_grad(z, y):
    """dL/dz of the mean cross-entropy L = mean_n(-log softmax(z_n)[y_n]): (softmax(z) - onehot(y)) / N."""
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    p *= F32(1 / len(y))
    return p


class SGD:
    """PyTorch's SGD with momentum: v = mu v + g;  p = p - lr v."""

    def __init__(self, params, lr=0.05, momentum=0.9):
        self.params, self.lr, self.mu = params, F32(lr), F32(momentum)
        self.vel = [np.zeros_like(p) for p in params]

    def step(self, grads):
        for p, g, v in zip(self.params, grads, self.vel):
            v *= self.mu
            v += g
            p -= self.lr * v


def _uniform(rng, bound, shape):
    return rng.uniform(-bound, bound, shape).astype(F32)


# ------------------------------------------------------------------------------------------------ CNN
def conv3x3(x, w, b):
    """3x3 convolution, stride 1, padding 1. Returns y (N, O, H, W) and the columns backward needs."""
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = sliding_window_view(xp, (3, 3), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * 9)
    y = cols @ w.reshape(len(w), -1).T + b  # (N*H*W, O)
    return y.reshape(n, h, wd, -1).transpose(0, 3, 1, 2), cols


def conv3x3_backward(gy, cols, w, x_shape, need_gx=True):
    """dL/dW = G^T cols, dL/db = sum G, dL/dx = col2im(G W) (nine shifted adds)."""
    n, c, h, wd = x_shape
    g = gy.transpose(0, 2, 3, 1).reshape(n * h * wd, -1)
    gw = (g.T @ cols).reshape(w.shape)
    gb = g.sum(axis=0)
    if not need_gx:
        return None, gw, gb
    gcols = (g @ w.reshape(len(w), -1)).reshape(n, h, wd, c, 3, 3)
    gxp = np.zeros((n, c, h + 2, wd + 2), F32)
    for i in range(3):
        for j in range(3):
            gxp[:, :, i : i + h, j : j + wd] += gcols[..., i, j].transpose(0, 3, 1, 2)
    return gxp[:, :, 1:-1, 1:-1], gw, gb


def relu_pool(x):
    """max-pool 2x2 of relu(x); returns y and the 2x2 blocks for backward."""
    n, c, h, w = x.shape
    blocks = np.maximum(x, 0).reshape(n, c, h // 2, 2, w // 2, 2)
    return blocks.max(axis=(3, 5)), blocks


def relu_pool_backward(gy, y, blocks):
    """The gradient goes to the block's maximum and through relu only where it is positive (ties of 0 get 0;
    ties of positive values, rare with real data, each get it)."""
    mask = (blocks == y[:, :, :, None, :, None]) & (blocks > 0)
    g = mask * gy[:, :, :, None, :, None]
    n, c, h2, _, w2, _ = blocks.shape
    return g.reshape(n, c, h2 * 2, w2 * 2)


class CNN:
    """Conv(1,32,3,p1)-ReLU-Pool2-Conv(32,64,3,p1)-ReLU-Pool2-Flatten-Linear(3136,128)-ReLU-Linear(128,10)."""

    def __init__(self, rng):
        b1, b2, b3, b4 = 1 / np.sqrt(9), 1 / np.sqrt(32 * 9), 1 / np.sqrt(3136), 1 / np.sqrt(128)
        self.params = [
            _uniform(rng, b1, (32, 1, 3, 3)), _uniform(rng, b1, 32),
            _uniform(rng, b2, (64, 32, 3, 3)), _uniform(rng, b2, 64),
            _uniform(rng, b3, (128, 3136)), _uniform(rng, b3, 128),
            _uniform(rng, b4, (10, 128)), _uniform(rng, b4, 10),
        ]  # fmt: skip

    def forward(self, x, keep=False):
        c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b = self.params
        a1, cols1 = conv3x3(x, c1w, c1b)
        p1, blk1 = relu_pool(a1)
        a2, cols2 = conv3x3(p1, c2w, c2b)
        p2, blk2 = relu_pool(a2)
        flat = p2.reshape(len(x), -1)
        h = np.maximum(flat @ f1w.T + f1b, 0)
        z = h @ f2w.T + f2b
        return (z, (cols1, p1, blk1, cols2, p2, blk2, flat, h)) if keep else z

    def grads(self, x, y):
        c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b = self.params
        z, (cols1, p1, blk1, cols2, p2, blk2, flat, h) = self.forward(x, keep=True)
        gz = softmax_xent_grad(z, y)
        gh = (gz @ f2w) * (h > 0)
        gp2 = (gh @ f1w).reshape(p2.shape)
        ga2 = relu_pool_backward(gp2, p2, blk2)
        gp1, gc2w, gc2b = conv3x3_backward(ga2, cols2, c2w, p1.shape)
        ga1 = relu_pool_backward(gp1, p1, blk1)
        _, gc1w, gc1b = conv3x3_backward(ga1, cols1, c1w, x.shape, need_gx=False)
        return [gc1w, gc1b, gc2w, gc2b, gh.T @ flat, gh.sum(0), gz.T @ h, gz.sum(0)]


# ----------------------------------------------------------------------------------------------- LSTM
def sigmoid(x):
    return F32(0.5) * (1 + np.tanh(F32(0.5) * x))  # = 1 / (1 + exp(-x)), without overflow


class LSTMNet:
    """LSTM(28 -> 128) over the rows, last hidden state -> Linear(128, 10). Gates i, f, g, o as in PyTorch:
    z = x_t Wih^T + h Whh^T + b;  c' = f c + i g;  h' = o tanh(c')."""

    def __init__(self, rng, d=28, hid=128, classes=10):
        k = 1 / np.sqrt(hid)
        self.hid = hid
        self.params = [
            _uniform(rng, k, (4 * hid, d)), _uniform(rng, k, (4 * hid, hid)),
            _uniform(rng, k, 4 * hid), _uniform(rng, k, 4 * hid),
            _uniform(rng, k, (classes, hid)), _uniform(rng, k, classes),
        ]  # fmt: skip

    def grads(self, x, y):
        wih, whh, bih, bhh, fw, fb = self.params
        n, t_len, d = x.shape
        hd = self.hid
        xs = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, N, D)
        zx = (xs.reshape(t_len * n, d) @ wih.T + (bih + bhh)).reshape(t_len, n, 4 * hd)
        h = np.zeros((n, hd), F32)
        c = np.zeros((n, hd), F32)
        hs, cs, gates, tcs = [], [], [], []
        for t in range(t_len):
            z = zx[t] + h @ whh.T
            a = np.empty_like(z)
            a[:, : 2 * hd] = sigmoid(z[:, : 2 * hd])
            a[:, 2 * hd : 3 * hd] = np.tanh(z[:, 2 * hd : 3 * hd])
            a[:, 3 * hd :] = sigmoid(z[:, 3 * hd :])
            i, f, g, o = a[:, :hd], a[:, hd : 2 * hd], a[:, 2 * hd : 3 * hd], a[:, 3 * hd :]
            hs.append(h)
            cs.append(c)
            c = f * c + i * g
            tc = np.tanh(c)
            h = o * tc
            gates.append(a)
            tcs.append(tc)
        logits = h @ fw.T + fb
        gl = softmax_xent_grad(logits, y)
        gh = gl @ fw
        gc = np.zeros_like(c)
        gwhh = np.zeros_like(whh)
        dz_all = np.empty((t_len, n, 4 * hd), F32)
        for t in reversed(range(t_len)):
            a, tc = gates[t], tcs[t]
            i, f, g, o = a[:, :hd], a[:, hd : 2 * hd], a[:, 2 * hd : 3 * hd], a[:, 3 * hd :]
            gc = gc + gh * o * (1 - tc * tc)
            dz = dz_all[t]
            dz[:, :hd] = gc * g * i * (1 - i)
            dz[:, hd : 2 * hd] = gc * cs[t] * f * (1 - f)
            dz[:, 2 * hd : 3 * hd] = gc * i * (1 - g * g)
            dz[:, 3 * hd :] = gh * tc * o * (1 - o)
            gc = gc * f
            gwhh += dz.T @ hs[t]
            gh = dz @ whh
        dz2 = dz_all.reshape(t_len * n, 4 * hd)
        gb = dz2.sum(axis=0)
        return [dz2.T @ xs.reshape(t_len * n, d), gwhh, gb, gb, gl.T @ h, gl.sum(0)]
