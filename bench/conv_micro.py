"""Micro-benchmark: chainrule conv2d / max_pool2d / the small CNN against torch.nn.functional on CPU.

Times forward (inference, no graph) and forward+backward (training) in float32 on the shapes of the
MNIST CNN  Conv2d(1,32,3,p=1) -> ReLU -> MaxPool2d(2) -> Conv2d(32,64,3,p=1) -> ReLU -> MaxPool2d(2)
with batch 128, after a warm-up, as the median of several runs. Runs of the two frameworks alternate,
so that load from other processes hits both alike. Prints each time and the ratio torch / chainrule
(above 1: chainrule is faster).

    python bench/conv_micro.py [--threads 2] [--repeat 15] [--clock wall|cpu] [--only "stack train"]
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--only", default="", help="comma-separated case names to run")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: process CPU time, steadier than wall time on a busy machine (use with --threads 1)")
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    import torch

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    import chainrule as cr
    import chainrule.functional as F

    torch.set_num_threads(args.threads)
    tf = torch.nn.functional
    rng = np.random.default_rng(0)
    n = args.batch

    def arr(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    x0 = rng.random((n, 1, 28, 28), dtype=np.float32)
    w1, b1, w2, b2 = arr(32, 1, 3, 3) * 0.3, arr(32) * 0.1, arr(64, 32, 3, 3) * 0.06, arr(64) * 0.1
    h1 = np.maximum(arr(n, 32, 14, 14), 0)  # conv2's input, NCHW in memory
    a1 = np.maximum(arr(n, 32, 28, 28), 0)  # pool1's input

    def channels_last(a):  # how conv2d hands its output to the next layer
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)

    P = dict(requires_grad=True)

    def cr_params():
        return [cr.tensor(a, **P) for a in (w1, b1, w2, b2)]

    def t_params():
        return [torch.tensor(a, **P) for a in (w1, b1, w2, b2)]

    cw1, cb1, cw2, cb2 = cr_params()
    tw1, tb1, tw2, tb2 = t_params()

    def cr_stack(x):
        h = F.max_pool2d(F.relu(F.conv2d(x, cw1, cb1, padding=1)), 2)
        return F.max_pool2d(F.relu(F.conv2d(h, cw2, cb2, padding=1)), 2)

    def t_stack(x):
        h = tf.max_pool2d(tf.relu(tf.conv2d(x, tw1, tb1, padding=1)), 2)
        return tf.max_pool2d(tf.relu(tf.conv2d(h, tw2, tb2, padding=1)), 2)

    def cr_train(fn, x):
        def run():
            y = fn(x)
            y.backward(np.ones(y.shape, np.float32))
        return run

    def t_train(fn, x):
        def run():
            y = fn(x)
            y.backward(torch.ones_like(y))
        return run

    def cr_infer(fn, x):
        def run():
            with cr.no_grad():
                fn(x)
        return run

    def t_infer(fn, x):
        def run():
            with torch.no_grad():
                fn(x)
        return run

    cx0, tx0 = cr.tensor(x0), torch.tensor(x0)
    ch1, th1 = cr.tensor(channels_last(h1), **P), torch.tensor(h1, **P)
    ca1, ta1 = cr.tensor(channels_last(a1), **P), torch.tensor(a1, **P)
    cases = {
        "conv1 fwd": (cr_infer(lambda x: F.conv2d(x, cw1, cb1, padding=1), cx0),
                      t_infer(lambda x: tf.conv2d(x, tw1, tb1, padding=1), tx0)),
        "conv1 fwd+bwd": (cr_train(lambda x: F.conv2d(x, cw1, cb1, padding=1), cx0),
                          t_train(lambda x: tf.conv2d(x, tw1, tb1, padding=1), tx0)),
        "conv2 fwd": (cr_infer(lambda x: F.conv2d(x, cw2, cb2, padding=1), ch1),
                      t_infer(lambda x: tf.conv2d(x, tw2, tb2, padding=1), th1)),
        "conv2 fwd+bwd": (cr_train(lambda x: F.conv2d(x, cw2, cb2, padding=1), ch1),
                          t_train(lambda x: tf.conv2d(x, tw2, tb2, padding=1), th1)),
        "maxpool fwd": (cr_infer(lambda x: F.max_pool2d(x, 2), ca1), t_infer(lambda x: tf.max_pool2d(x, 2), ta1)),
        "maxpool fwd+bwd": (cr_train(lambda x: F.max_pool2d(x, 2), ca1),
                            t_train(lambda x: tf.max_pool2d(x, 2), ta1)),
        "avgpool fwd+bwd": (cr_train(lambda x: F.avg_pool2d(x, 2), ca1),
                            t_train(lambda x: tf.avg_pool2d(x, 2), ta1)),
        "stack inference": (cr_infer(cr_stack, cx0), t_infer(t_stack, tx0)),
        "stack train": (cr_train(cr_stack, cx0), t_train(t_stack, tx0)),
    }
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    print(f"batch {n}, float32, {args.threads} threads, {args.clock} time, median of {args.repeat} (ms)")
    print(f"{'case':<18} {'chainrule':>10} {'torch':>10} {'torch/ours':>11}")
    for name, (ours, theirs) in cases.items():
        if only and name not in only:
            continue
        for _ in range(3):  # warm-up
            ours()
            theirs()
        clock = time.perf_counter if args.clock == "wall" else time.process_time
        t_ours, t_theirs = [], []
        for _ in range(args.repeat):
            for f, acc in ((ours, t_ours), (theirs, t_theirs)):
                t = clock()
                f()
                acc.append(clock() - t)
        mo, mt = 1e3 * float(np.median(t_ours)), 1e3 * float(np.median(t_theirs))
        print(f"{name:<18} {mo:10.2f} {mt:10.2f} {mt / mo:10.2f}x", flush=True)


if __name__ == "__main__":
    main()
