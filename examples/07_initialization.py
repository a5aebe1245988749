"""Why initialisation matters: zeros never break the symmetry; the scale of random weights decides the signal.

A 5-layer tanh network on the digits, initialised five ways (zeros, N(0, 0.01^2), N(0, 1), Xavier, He).
For each: the std of every layer's activations at the start, whether the hidden units of the first layer
differ after training, and the accuracy reached. With zeros every unit of a layer computes the same thing
and gets the same gradient, so they stay identical forever (here the gradient of every hidden weight is
even exactly zero).

Run:  python examples/07_initialization.py
"""

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim, train


def activation_stds(model, x):
    stds, h = [], cr.tensor(x)
    with cr.no_grad():
        for layer in model:
            h = layer(h)
            if isinstance(layer, nn.Tanh):
                stds.append(float(h.numpy().std()))
    return stds


def main() -> None:
    (x_tr, y_tr), (x_te, y_te) = data.load_digits(flatten=True)
    sizes = [64, 64, 64, 64, 64, 10]
    print(f"network {sizes}, tanh hidden layers")
    schemes = [("zeros", {}), ("normal", {"init_std": 0.01}), ("normal", {"init_std": 1.0}), ("xavier", {}),
               ("he", {})]
    for scheme, kw in schemes:
        cr.manual_seed(0)
        model = nn.models.mlp(sizes, activation="tanh", init=scheme, **kw)
        label = scheme if not kw else f"N(0, {kw['init_std']}^2)"
        stds = activation_stds(model, x_tr[:500])
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        train.fit(model, nn.CrossEntropyLoss(), opt, (x_tr, y_tr), epochs=4, batch_size=64, seed=0, verbose=False,
                  metrics=())
        w1 = model[0].weight.numpy()
        distinct = len(np.unique(w1.round(6), axis=0))
        acc = np.mean(train.predict(model, x_te).argmax(axis=1) == y_te)
        print(f"{label:<13} activation std per layer at init: {np.round(stds, 3)}")
        print(f"{'':<13} distinct hidden units in layer 1 after training: {distinct} of {w1.shape[0]};  "
              f"test accuracy {acc:.3f}")


if __name__ == "__main__":
    main()
