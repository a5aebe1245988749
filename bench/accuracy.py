"""Accuracy at benchmark speed: train the benchmark's networks on the real data and record test accuracy.

    python bench/accuracy.py --data-dir ../shared/datasets      # writes bench/ACCURACY.md and ACCURACY.json
    python bench/accuracy.py --quick                            # a smoke test on tiny random data

``bench/run.py`` puts the figures of ``ACCURACY.json`` into ``RESULTS.md`` (``run.py --accuracy`` runs them
again first).

The networks are those of ``bench/_chainrule.py`` (the MLP 784-512-512-10 and the small CNN), trained
with chainrule's own ``train.fit``: SGD with momentum 0.9, batch 128, cross-entropy, the learning rate
decayed linearly (the notes' α_t = α_0 − (α_0 − α_N)·t/N, one step per epoch). Every hyperparameter is
written next to its figure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _chainrule as R  # noqa: E402  (the benchmark's networks)
import _report  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.functional as F  # noqa: E402
from chainrule import data, optim, train  # noqa: E402

#: name -> (dataset, network, epochs, lr start, lr end, target accuracy)
RUNS = {
    "MNIST MLP": ("mnist", "mlp", 10, 0.05, 0.001, 0.982),
    "MNIST CNN": ("mnist", "cnn", 5, 0.05, 0.001, 0.990),
    "Fashion-MNIST CNN": ("fashion-mnist", "cnn", 10, 0.05, 0.001, 0.910),
}


def _data(name: str, root, quick: bool):
    if quick:
        rng = np.random.default_rng(0)
        x = rng.random((256, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, 256)
        return (x[:192], y[:192]), (x[192:], y[192:])
    load = data.load_mnist if name == "mnist" else data.load_fashion_mnist
    return load(root, download=False)


def run(name: str, root, quick: bool, seed: int = 0) -> dict:
    dataset, net, epochs, lr0, lr1, target = RUNS[name]
    (x_tr, y_tr), (x_te, y_te) = _data(dataset, root, quick)
    if net == "mlp":
        x_tr, x_te = x_tr.reshape(len(x_tr), -1), x_te.reshape(len(x_te), -1)
    epochs = 1 if quick else epochs
    cr.manual_seed(seed)
    model = R.mlp() if net == "mlp" else R.cnn()
    opt = optim.SGD(model.parameters(), lr=lr0, momentum=0.9)
    sched = optim.lr_scheduler.LinearDecay(opt, lr_end=lr1, total_steps=max(epochs - 1, 1))
    start = time.perf_counter()
    train.fit(model, F.cross_entropy, opt, (x_tr, y_tr), epochs=epochs, batch_size=128, scheduler=sched,
              seed=seed, verbose=not quick, progress=False)
    seconds = time.perf_counter() - start
    acc = float(np.mean(train.predict(model, x_te, batch_size=1000).argmax(axis=1) == y_te))
    hyper = (f"SGD momentum 0.9, batch 128, lr {lr0} -> {lr1} linear decay per epoch, {epochs} epochs, "
             f"seed {seed}, PyTorch-default init")
    return dict(name=name, accuracy=acc, target=target, seconds=seconds, hyper=hyper, train=len(x_tr), test=len(x_te))


def record(names, root, quick: bool) -> dict:
    """Train the named runs; the record ``ACCURACY.json`` holds (and ``run.py`` reports)."""
    rows = [run(name, root, quick) for name in names]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return dict(recorded=when, chainrule=cr.__version__, quick=quick, runs=rows)


def markdown(rec: dict) -> str:
    lines = ["# Accuracy at benchmark speed", "",
             "Written by `python bench/accuracy.py --data-dir DIR` (chainrule's own `train.fit`, on the original "
             "IDX files, 60,000 training and 10,000 test images; the test set is used once, at the end). "
             f"Recorded {rec['recorded']}, chainrule {rec['chainrule']}.", "", *_report.accuracy_table(rec)]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="/work/shared/datasets")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "ACCURACY.md"),
                    help="the markdown table to write; the same figures go to the .json file beside it")
    ap.add_argument("--quick", action="store_true", help="tiny random data, one epoch: a smoke test")
    ap.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    args = ap.parse_args(argv)
    rec = record(args.runs, args.data_dir, args.quick)
    text = markdown(rec)
    from chainrule._atomic import atomic_write

    with atomic_write(args.out, "w") as f:
        f.write(text)
    with atomic_write(Path(args.out).with_suffix(".json"), "w") as f:
        json.dump(rec, f, indent=1)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
