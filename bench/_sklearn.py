"""scikit-learn runner (the MLP only): ``python bench/_sklearn.py --workload mlp_train ...``.

``MLPClassifier(hidden_layer_sizes=(512, 512), solver="sgd", momentum=0.9, nesterovs_momentum=False,
batch_size=128, learning_rate_init=0.05)`` on float32 input: the same network (ReLU is its default
activation), loss, optimizer and batches as the other runners. ``alpha=0`` turns off its default L2
penalty (the others have none) and ``shuffle=False`` keeps the batch order the harness gives it. One
timed chunk is one ``partial_fit`` call over ``steps * 128`` samples, which it cuts into batches of 128.
"""

from __future__ import annotations

import warnings

import _common as C
import numpy as np
import sklearn
from sklearn.neural_network import MLPClassifier


def _model(args) -> MLPClassifier:
    return MLPClassifier(
        hidden_layer_sizes=(512, 512), solver="sgd", momentum=C.MOMENTUM, nesterovs_momentum=False,
        batch_size=C.TRAIN_BATCH, learning_rate_init=C.LR, alpha=0.0, shuffle=False, random_state=args.seed,
    )  # fmt: skip


def _train(args):
    x, y, data = C.load_split(args, "train")
    x = x.reshape(len(x), 784)
    clf = _model(args)
    classes = np.arange(10)
    nb = len(x) // args.batch

    def chunk(first, n):
        # batches first .. first+n-1, cycling like the other runners; contiguous runs are views
        done = 0
        while done < n:
            b = (first + done) % nb
            take = min(n - done, nb - b)
            lo, hi = b * args.batch, (b + take) * args.batch
            clf.partial_fit(x[lo:hi], y[lo:hi], classes=classes)
            done += take

    return "chunk", chunk, data


def _infer(args):
    x, y, data = C.load_split(args, "test")
    x = x.reshape(len(x), 784)
    clf = _model(args)
    clf.partial_fit(x[: C.TRAIN_BATCH], y[: C.TRAIN_BATCH], classes=np.arange(10))  # one step: weights exist
    get = C.batches(x, y, args.batch)

    def step(i):
        clf.predict_proba(get(i)[0])

    return "step", step, data


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # partial_fit's convergence chatter
    C.run("sklearn", {"mlp_train": _train, "mlp_infer": _infer}, sklearn.__version__)
