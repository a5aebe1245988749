"""Greedy layer-wise unsupervised pre-training with autoencoders, then supervised fine-tuning.

Each autoencoder learns to reconstruct its input through a narrower code, h = sigmoid(W x + b),
x_hat = W' h + b', without labels; the next one is trained on the codes of the previous. Their encoders
then initialise a deep network, which is fine-tuned with labels. Here with few labels (200 digits).

Run:  python examples/13_autoencoder_pretraining.py
"""

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim, train


def finetune(model, x, y, x_te, y_te):
    opt = optim.Adam(model.parameters(), lr=0.003)
    train.fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=30, batch_size=32, seed=0, verbose=False, metrics=())
    return np.mean(train.predict(model, x_te).argmax(axis=1) == y_te)


def main() -> None:
    (x_tr, y_tr), (x_te, y_te) = data.load_digits(flatten=True)
    sizes = [64, 48, 32]
    print(f"pre-training autoencoders {sizes} on all {len(x_tr)} training digits (no labels):")
    cr.manual_seed(0)
    aes = nn.models.pretrain_layerwise(x_tr, sizes, activation="sigmoid", epochs=20, lr=1.0)
    codes = x_tr
    with cr.no_grad():
        for ae in aes:
            err = float(((ae(cr.tensor(codes)) - cr.tensor(codes)) ** 2).mean().item())
            print(f"  autoencoder {ae.decoder.out_features}->{ae.decoder.in_features}: reconstruction mse {err:.4f} "
                  f"(predicting the mean gives {codes.var(axis=0).mean():.4f})")
            codes = ae.encode(cr.tensor(codes)).numpy()

    few = np.random.default_rng(0).choice(len(x_tr), 200, replace=False)
    results = {}
    for pretrained in (False, True):
        cr.manual_seed(1)
        model = nn.models.mlp([*sizes, 10], activation="sigmoid", init="xavier")
        if pretrained:  # copy each encoder's Linear into the network's hidden layers (Sequential indices 0, 2)
            for i, ae in enumerate(aes):
                model[2 * i].load_state_dict(ae.encoder[0].state_dict())
        results[pretrained] = finetune(model, x_tr[few], y_tr[few], x_te, y_te)
    print(f"fine-tuned on 200 labelled digits: test accuracy {results[False]:.3f} from random weights, "
          f"{results[True]:.3f} after pre-training")


if __name__ == "__main__":
    main()
