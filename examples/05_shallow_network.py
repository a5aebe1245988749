"""The shallow network of the notes, Linear -> tanh -> Linear (-> sigmoid), on a 2-D set logistic regression cannot fit.

A straight line cannot separate the two moons; one hidden layer of tanh units bends the boundary.
Training uses the logits with BCEWithLogitsLoss (the sigmoid is inside the loss, for stability).

Run:  python examples/05_shallow_network.py [--plot boundary.png]
"""

import argparse

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim, train


def fit_and_score(model, x_tr, y_tr, x_te, y_te, lr, epochs):
    opt = optim.Adam(model.parameters(), lr=lr)
    train.fit(model, nn.BCEWithLogitsLoss(), opt, (x_tr, y_tr), epochs=epochs, batch_size=32, seed=0, verbose=False,
              metrics=())
    return float(np.mean((train.predict(model, x_te) > 0) == (y_te > 0.5)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plot", help="also draw the shallow network's decision boundary into this PNG")
    args = ap.parse_args()
    cr.manual_seed(0)
    x, y = data.make_moons(600, noise=0.15, seed=0)
    (x_tr, y_tr), (x_te, y_te) = data.train_val_split(x, y, val_fraction=0.25, seed=0)
    y_tr, y_te = y_tr.astype(np.float32)[:, None], y_te.astype(np.float32)[:, None]

    logreg = nn.models.logistic_regression(2, num_classes=2)
    acc = fit_and_score(logreg, x_tr, y_tr, x_te, y_te, lr=0.05, epochs=40)
    print(f"logistic regression (a straight boundary): test accuracy {acc:.3f}")

    for hidden in (2, 4, 16):
        net = nn.models.shallow_net(2, hidden=hidden, out_features=1, activation="tanh")
        acc = fit_and_score(net, x_tr, y_tr, x_te, y_te, lr=0.03, epochs=80)
        print(f"shallow net, {hidden:2d} tanh units:            test accuracy {acc:.3f}")
    print("probabilities of the first 3 test points:",
          cr.sigmoid(cr.tensor(train.predict(net, x_te[:3]))).numpy().ravel().round(3), "labels", y_te[:3].ravel())
    if args.plot:
        from chainrule import viz

        viz.plot_decision_boundary(net, x_te, y_te.ravel().astype(int), args.plot, title="shallow tanh net, 16 units")
        print("wrote", args.plot)


if __name__ == "__main__":
    main()
