"""Shared by the MNIST examples (11, 12): the command line, the data, the training run and the report.

Each example builds its network and calls :func:`train_and_report`; everything MNIST-specific lives here.
"""

import argparse
import os
import time

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim, train


def train_and_report(doc: str, build, lr: float, batch_size: int = 64) -> None:
    """Parse --data-dir/--train-size/--epochs, train ``build()`` with Adam(lr) and print the test accuracy.

    Without a data folder (flag or CHAINRULE_DATA_DIR) it prints a "skipped:" line: examples never download.
    """
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
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
    model = build()
    print(model)
    opt = optim.Adam(model.parameters(), lr=lr)
    start = time.perf_counter()
    train.fit(model, nn.CrossEntropyLoss(), opt, (x_tr, y_tr), epochs=args.epochs, batch_size=batch_size, seed=0)
    acc = np.mean(train.predict(model, x_te).argmax(axis=1) == y_te)
    print(f"trained on {len(x_tr)} images in {time.perf_counter() - start:.1f}s; "
          f"test accuracy on {len(x_te)} images: {acc:.4f}")
