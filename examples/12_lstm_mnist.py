"""An LSTM reads each MNIST digit row by row (28 time steps of 28 pixels) and classifies its last state.

At each step the gates decide what to forget (f), what to write (i, g) and what to show (o):
    c_t = f * c_(t-1) + i * g,   h_t = o * tanh(c_t)
and the final h_28 goes through a Linear layer to 10 logits. Needs the MNIST IDX files (no download here):

Run:  python examples/12_lstm_mnist.py --data-dir /path/to/datasets [--train-size 10000] [--epochs 2]
"""

import argparse
import os
import time

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim, train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("CHAINRULE_DATA_DIR"),
                    help="folder with the MNIST IDX .gz files (or with an mnist/ subfolder)")
    ap.add_argument("--train-size", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    if not args.data_dir:
        print("skipped: this example needs MNIST; pass --data-dir DIR (a folder holding the MNIST IDX files)")
        return
    (x_tr, y_tr), (x_te, y_te) = data.load_mnist(args.data_dir, download=False)
    x_tr, y_tr = x_tr[:args.train_size], y_tr[:args.train_size]
    x_te, y_te = x_te[:2000], y_te[:2000]
    cr.manual_seed(0)
    model = nn.models.LSTMClassifier(input_size=28, hidden_size=64, num_classes=10)
    print(model)
    opt = optim.Adam(model.parameters(), lr=0.005)
    start = time.perf_counter()
    train.fit(model, nn.CrossEntropyLoss(), opt, (x_tr, y_tr), epochs=args.epochs, batch_size=64, seed=0)
    acc = np.mean(train.predict(model, x_te).argmax(axis=1) == y_te)
    print(f"trained on {len(x_tr)} images in {time.perf_counter() - start:.1f}s; "
          f"test accuracy on {len(x_te)} images: {acc:.4f}")


if __name__ == "__main__":
    main()
