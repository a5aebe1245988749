"""Batch normalisation on and off: the same deep sigmoid network trains much faster with it.

BatchNorm normalises each unit's pre-activation over the mini-batch, z_hat = (z - mean) / sqrt(var + eps),
then rescales it, y = gamma z_hat + beta. Inputs to every layer keep a stable scale, so the sigmoids do not
saturate and a larger learning rate can be used. In evaluation mode the running averages of mean and var,
collected during training, replace the batch statistics.

Run:  python examples/10_batch_norm.py
"""

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim, train


def main() -> None:
    (x_tr, y_tr), (x_te, y_te) = data.load_digits(flatten=True)
    sizes = [64, 64, 64, 64, 64, 64, 10]
    print(f"network {sizes} with sigmoid hidden layers, SGD lr 0.5, 5 epochs")
    for bn in (False, True):
        cr.manual_seed(0)
        model = nn.models.mlp(sizes, activation="sigmoid", init="xavier", batchnorm=bn)
        opt = optim.SGD(model.parameters(), lr=0.5)
        h = train.fit(model, nn.CrossEntropyLoss(), opt, (x_tr, y_tr), epochs=5, batch_size=64, seed=0,
                      verbose=False)
        acc = np.mean(train.predict(model, x_te).argmax(axis=1) == y_te)
        print(f"batch norm {'on ' if bn else 'off'}: training accuracy per epoch {np.round(h['accuracy'], 3)}, "
              f"test accuracy {acc:.3f}")
        if bn:
            bn1 = model[1]
            print(f"  first BatchNorm1d: running mean of 3 units {bn1.running_mean[:3].round(3)}, "
                  f"running var {bn1.running_var[:3].round(3)}, gamma {bn1.weight.numpy()[:3].round(3)}")


if __name__ == "__main__":
    main()
