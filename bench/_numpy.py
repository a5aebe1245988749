"""Hand-written NumPy runner: ``python bench/_numpy.py --workload mlp_train ...``.

The textbook way to train these networks in plain NumPy: every forward and backward written out by hand,
no graph, no framework. ``mlp_gemm`` is not a network but a ceiling: the MLP training step's eight matrix
products alone (three forward, five backward, into preallocated outputs), so that its samples/s is the
most any NumPy-based MLP step could reach on this machine's BLAS (the "GEMM-only ceiling").

The CNN and the LSTM live in ``_numpy_nets.py``.
"""

from __future__ import annotations

import _common as C
import _numpy_nets as nets
import numpy as np

F32 = np.float32


class MLP:
    """784-512-512-10 with ReLU, PyTorch's default initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""

    def __init__(self, rng, sizes=(784, 512, 512, 10)):
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1 / np.sqrt(fan_in)
            self.params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(F32))
            self.params.append(rng.uniform(-bound, bound, fan_out).astype(F32))

    def forward(self, x):
        w1, b1, w2, b2, w3, b3 = self.params
        h1 = np.maximum(x @ w1.T + b1, 0)
        h2 = np.maximum(h1 @ w2.T + b2, 0)
        return h1, h2, h2 @ w3.T + b3

    def grads(self, x, y):
        """Forward, softmax cross-entropy and backward; returns the gradients in the order of params."""
        w1, b1, w2, b2, w3, b3 = self.params
        h1, h2, z = self.forward(x)
        gz = nets.softmax_xent_grad(z, y)  # dL/dz = (softmax(z) - onehot(y)) / N
        g2 = (gz @ w3) * (h2 > 0)  # dL/d(pre-activation 2); h2 > 0 exactly where the pre-activation is
        g1 = (g2 @ w2) * (h1 > 0)
        return [g1.T @ x, g1.sum(0), g2.T @ h1, g2.sum(0), gz.T @ h2, gz.sum(0)]


def _mlp_train(args):
    x, y, data = C.load_split(args, "train")
    get = C.batches(x.reshape(len(x), 784), y, args.batch)
    net = MLP(np.random.default_rng(args.seed))
    opt = nets.SGD(net.params)
    return "step", lambda i: opt.step(net.grads(*get(i))), data


def _mlp_infer(args):
    x, y, data = C.load_split(args, "test")
    get = C.batches(x.reshape(len(x), 784), y, args.batch)
    net = MLP(np.random.default_rng(args.seed))
    return "step", lambda i: net.forward(get(i)[0]), data


def _mlp_gemm(args):
    """The MLP step's GEMMs at batch 128, nothing else: forward X W1^T, H1 W2^T, H2 W3^T; backward
    dW3 = G3^T H2, dH2 = G3 W3, dW2 = G2^T H1, dH1 = G2 W2, dW1 = G1^T X (no dX: the input needs none)."""
    x, y, data = C.load_split(args, "train")
    get = C.batches(x.reshape(len(x), 784), y, args.batch)
    rng = np.random.default_rng(args.seed)
    n = args.batch
    w1, w2, w3 = (rng.standard_normal(s, dtype=F32) for s in ((512, 784), (512, 512), (10, 512)))
    h1, h2, z = np.empty((n, 512), F32), np.empty((n, 512), F32), np.empty((n, 10), F32)
    g1, g2, g3 = (rng.standard_normal(a.shape, dtype=F32) for a in (h1, h2, z))
    d1, d2, d3 = np.empty_like(w1), np.empty_like(w2), np.empty_like(w3)

    def step(i):
        xb = get(i)[0]
        np.matmul(xb, w1.T, out=h1)
        np.matmul(h1, w2.T, out=h2)
        np.matmul(h2, w3.T, out=z)
        np.matmul(g3.T, h2, out=d3)
        np.matmul(g3, w3, out=g2)
        np.matmul(g2.T, h1, out=d2)
        np.matmul(g2, w2, out=g1)
        np.matmul(g1.T, xb, out=d1)

    return "step", step, data


def _cnn_train(args):
    x, y, data = C.load_split(args, "train")
    get = C.batches(x, y, args.batch)
    net = nets.CNN(np.random.default_rng(args.seed))
    opt = nets.SGD(net.params)
    return "step", lambda i: opt.step(net.grads(*get(i))), data


def _cnn_infer(args):
    x, y, data = C.load_split(args, "test")
    get = C.batches(x, y, args.batch)
    net = nets.CNN(np.random.default_rng(args.seed))
    return "step", lambda i: net.forward(get(i)[0]), data


def _lstm_train(args):
    x, y, data = C.load_split(args, "train")
    get = C.batches(x.reshape(len(x), 28, 28), y, args.batch)
    net = nets.LSTMNet(np.random.default_rng(args.seed))
    opt = nets.SGD(net.params)
    return "step", lambda i: opt.step(net.grads(*get(i))), data


BUILDERS = {
    "mlp_train": _mlp_train,
    "mlp_infer": _mlp_infer,
    "mlp_gemm": _mlp_gemm,
    "cnn_train": _cnn_train,
    "cnn_infer": _cnn_infer,
    "lstm_train": _lstm_train,
}

if __name__ == "__main__":
    C.run("numpy", BUILDERS, np.__version__)
