"""Vanishing gradients: per-layer gradient norms of deep sigmoid, ReLU and residual networks, and RNN vs LSTM.

Backpropagation multiplies by W^T and by the activation's derivative at every layer. sigmoid' <= 0.25, so
through 20 sigmoid layers the gradient shrinks by orders of magnitude before it reaches the first layers;
ReLU with He initialisation keeps its scale; a residual block adds the identity, dL/dx = dL/dy (I + dF/dx),
so the gradient has a path that does not shrink. Through time the same happens to a plain RNN, while an
LSTM's cell state c_t = f * c_(t-1) + i * g carries the gradient along as long as the forget gate f stays
near 1.

Run:  python examples/08_vanishing_gradients.py
"""

import numpy as np

import chainrule as cr
from chainrule import data, nn


def layer_grad_norms(model, x, y, skip=()):
    model.zero_grad()
    nn.CrossEntropyLoss()(model(cr.tensor(x)), y).backward()
    return [float(np.linalg.norm(p.grad)) for name, p in model.named_parameters()
            if name.endswith("weight") and not name.endswith(skip)]


def show(name, norms):
    picks = [0, len(norms) // 4, len(norms) // 2, 3 * len(norms) // 4, len(norms) - 1]
    cells = "  ".join(f"layer {i + 1:2d}: {norms[i]:.1e}" for i in picks)
    print(f"{name:<22} {cells}   first/last = {norms[0] / norms[-1]:.1e}")


def main() -> None:
    (x, y), _ = data.load_digits(flatten=True)
    x, y = x[:256], y[:256]
    depth, width = 20, 32  # the residual MLP gets depth blocks
    sizes = [64] + [width] * depth + [10]
    print(f"gradient norm ||dL/dW|| per layer, {depth} hidden layers of {width} units, one batch of 256 digits")
    cr.manual_seed(0)
    show("sigmoid, Xavier", layer_grad_norms(nn.models.mlp(sizes, activation="sigmoid", init="xavier"), x, y))
    cr.manual_seed(0)
    show("ReLU, He", layer_grad_norms(nn.models.mlp(sizes, activation="relu", init="he"), x, y))
    cr.manual_seed(0)
    res = nn.models.ResidualMLP(64, width, 10, num_blocks=depth)
    # one weight per depth: the stem, each block's output layer (it sits on the residual stream), the head
    show("residual MLP, ReLU", layer_grad_norms(res, x, y, skip=".0.weight"))

    print("\ngradient norm ||dL/dx_t|| of the loss on the last step with respect to each input step, 60 steps")
    rng = np.random.default_rng(0)
    seq = rng.standard_normal((32, 60, 1)).astype(np.float32)
    target = (seq[:, 0, 0] > 0).astype(np.int64)  # the label depends on the first step only
    for kind in ("RNN", "LSTM"):
        cr.manual_seed(0)
        rnn = getattr(nn, kind)(1, 32, batch_first=True)
        if kind == "LSTM":  # the usual trick: start the forget gate near 1 (gate order i, f, g, o)
            rnn.bias_ih_l0.data[32:64] = 2.0
        head = nn.Linear(32, 2)
        xt = cr.tensor(seq, requires_grad=True)
        out, _ = rnn(xt)
        nn.CrossEntropyLoss()(head(out[:, -1, :]), target).backward()
        g = np.linalg.norm(xt.grad[:, :, 0], axis=0)
        steps = [0, 15, 30, 45, 59]
        print(f"{kind:<5}", "  ".join(f"t={t:2d}: {g[t]:.1e}" for t in steps), f"  first/last = {g[0] / g[-1]:.1e}")


if __name__ == "__main__":
    main()
