"""The gradient-descent update of a single sigmoid unit (the perceptron of the notes), by hand and by autograd.

For p = sigmoid(w . x + b) and the cross-entropy loss L = -(y log p + (1 - y) log(1 - p)),
    dL/dw = (p - y) x,   dL/db = p - y,
and one step of gradient descent with learning rate alpha is  w <- w - alpha dL/dw,  b <- b - alpha dL/db.

Run:  python examples/03_gradient_descent.py
"""

import numpy as np

import chainrule as cr
import chainrule.functional as F


def main() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-1, 0.6, (50, 2)), rng.normal(1, 0.6, (50, 2))])
    y = np.repeat([0.0, 1.0], 50)
    w, b, alpha = np.zeros(2), 0.0, 0.5

    # check the hand-written gradient against autograd once
    wt, bt = cr.tensor(w, requires_grad=True), cr.tensor(np.array(b), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(cr.tensor(x) @ wt + bt, y)
    loss.backward()
    p = 1 / (1 + np.exp(-(x @ w + b)))
    print("dL/dw by hand:", ((p - y) @ x / len(y)).round(6), " by autograd:", wt.grad.round(6))

    for step in range(31):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        if step % 5 == 0:
            acc = np.mean((p > 0.5) == y)
            print(f"step {step:2d}  loss {loss:.4f}  accuracy {acc:.2f}  w = {w.round(3)}  b = {b:.3f}")
        w = w - alpha * (p - y) @ x / len(y)  # the update rule
        b = b - alpha * np.mean(p - y)


if __name__ == "__main__":
    main()
