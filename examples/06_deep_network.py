"""A deep L-layer network, (Linear -> ReLU) x (L-1) -> Linear, on the 8x8 handwritten digits.

Forward: a[l] = relu(W[l] a[l-1] + b[l]); the last layer gives 10 logits and softmax cross-entropy.
Backward (done by autograd): dz[L] = softmax - onehot, then dW[l] = dz[l] a[l-1]^T / m,
da[l-1] = W[l]^T dz[l], dz[l-1] = da[l-1] * relu'(z[l-1]).

Run:  python examples/06_deep_network.py
"""

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim, train


def main() -> None:
    cr.manual_seed(0)
    (x_tr, y_tr), (x_te, y_te) = data.load_digits(flatten=True)
    sizes = [64, 128, 64, 32, 10]
    model = nn.models.mlp(sizes, activation="relu", init="he")
    print(f"layers {sizes}: L = {len(sizes) - 1}, {model.num_parameters():,} parameters")
    for name, p in model.named_parameters():
        print(f"  {name:<10} {p.shape}")
    opt = optim.Adam(model.parameters(), lr=0.002)
    history = train.fit(model, nn.CrossEntropyLoss(), opt, (x_tr, y_tr), epochs=8, batch_size=32, seed=0,
                        verbose=False)
    for r in history:
        print(f"epoch {r['epoch']}: loss {r['loss']:.4f}  training accuracy {r['accuracy']:.4f}")
    pred = train.predict(model, x_te).argmax(axis=1)
    print(f"test accuracy: {np.mean(pred == y_te):.4f}")


if __name__ == "__main__":
    main()
