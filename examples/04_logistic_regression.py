"""Logistic regression on a real binary task: handwritten 0s versus 1s (or any CSV file with two classes).

The model is one Linear(64, 1) layer; the sigmoid is fused into the loss (BCEWithLogitsLoss) for stability.

Run:  python examples/04_logistic_regression.py
      python examples/04_logistic_regression.py --csv FILE.csv --target COLUMN
"""

import argparse

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim, train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", help="a CSV file with a header row")
    ap.add_argument("--target", help="its label column (two classes)")
    args = ap.parse_args()
    if args.csv and not args.target:
        ap.error("--csv needs --target COLUMN: the name of the label column (two classes)")
    if args.target and not args.csv:
        ap.error("--target names a column of the --csv file; give --csv FILE too")
    cr.manual_seed(0)
    if args.csv:
        d = data.load_csv(args.csv, args.target)
        if d.num_classes != 2:
            ap.error(f"{args.csv}: column {args.target!r} has {d.num_classes} classes, logistic regression needs 2")
        x_tr, y_tr, x_te, y_te = d.x_train, d.y_train, d.x_test, d.y_test
        print(f"{args.csv}: classes {d.classes}, {len(x_tr)} training and {len(x_te)} test rows")
    else:
        (x_tr, y_tr), (x_te, y_te) = data.load_digits(flatten=True)
        keep_tr, keep_te = y_tr < 2, y_te < 2
        x_tr, y_tr, x_te, y_te = x_tr[keep_tr], y_tr[keep_tr], x_te[keep_te], y_te[keep_te]
        print(f"digits 0 vs 1: {len(x_tr)} training and {len(x_te)} test images of 8x8 = 64 pixels")
    y_tr = y_tr.astype(np.float32).reshape(-1, 1)
    y_te = y_te.astype(np.float32).reshape(-1, 1)

    model = nn.models.logistic_regression(x_tr.shape[1], num_classes=2)
    opt = optim.SGD(model.parameters(), lr=0.5)
    history = train.fit(model, nn.BCEWithLogitsLoss(), opt, (x_tr, y_tr), epochs=10, batch_size=32, seed=0,
                        verbose=False)
    print("training loss per epoch:", np.round(history["loss"], 4))
    logits = train.predict(model, x_te)
    acc = float(np.mean((logits > 0) == (y_te > 0.5)))
    print(f"test accuracy: {acc:.4f}")
    w = model.weight.numpy().reshape(-1)
    print(f"{len(w)} weights and one bias; largest |w| = {np.abs(w).max():.3f}")


if __name__ == "__main__":
    main()
