"""LSTM forward + backward: chainrule's fused layer against torch.nn.LSTM on the CPU.

The setting of the row-by-row MNIST classifier: 28 time steps of 28 features, hidden size 128,
batch 128, float32, loss = sum of the last step's output. Both sides get the same weights and input;
each timing is the median of ``--repeats`` runs after ``--warmup`` runs.

    python bench/lstm_micro.py [--batch 128] [--steps 28] [--input 28] [--hidden 128] [--threads 2]

``--threads`` sets the BLAS / OpenMP pools of both libraries (before NumPy is imported).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def _median_ms(fn, warmup: int, repeats: int) -> tuple[float, float]:
    """Median wall time and median process CPU time (all threads) of ``fn``, in ms."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return 1e3 * statistics.median(wall), 1e3 * statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=28)
    ap.add_argument("--input", type=int, default=28)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2, help="threads of both libraries' BLAS pools")
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    import torch

    import chainrule as cr
    from chainrule import nn

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, args.steps, args.input)).astype(np.float32)

    cr.manual_seed(0)
    ours = nn.LSTM(args.input, args.hidden, batch_first=True)
    theirs = torch.nn.LSTM(args.input, args.hidden, batch_first=True)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.from_numpy(x).requires_grad_(True)

    def step_ours():  # the classifier's use: the last hidden state h_n feeds the loss
        ours.zero_grad()
        xc.grad = None
        _, (h, _) = ours(xc)
        h.sum().backward()

    def step_theirs():
        theirs.zero_grad()
        xt.grad = None
        _, (h, _) = theirs(xt)
        h.sum().backward()

    def fwd_ours():
        with cr.no_grad():
            ours(xc)

    def fwd_theirs():
        with torch.no_grad():
            theirs(xt)

    # same numbers first: a benchmark of a wrong result means nothing
    step_ours()
    step_theirs()
    err = np.abs(ours.weight_hh_l0.grad - theirs.weight_hh_l0.grad.numpy()).max()
    assert err < 1e-3, f"gradients disagree with torch (max abs error {err:.3g})"

    rows = []
    for what, ours_fn, theirs_fn in (("forward only", fwd_ours, fwd_theirs),
                                     ("forward+backward", step_ours, step_theirs)):
        # interleaved, so that a change in machine load hits both sides alike
        (wo, co), (wt, ct) = _median_ms(ours_fn, args.warmup, args.repeats), _median_ms(theirs_fn, args.warmup,
                                                                                           args.repeats)
        (wo2, co2), (wt2, ct2) = _median_ms(ours_fn, 1, args.repeats), _median_ms(theirs_fn, 1, args.repeats)
        rows.append((what, min(wo, wo2), min(wt, wt2), min(co, co2), min(ct, ct2)))
    print(f"LSTM({args.input} -> {args.hidden}), {args.steps} steps, batch {args.batch}, float32, "
          f"{args.threads} thread(s); medians in ms (wall, and CPU time of all threads)")
    for what, wo, wt, co, ct in rows:
        print(f"  {what:17s} wall: chainrule {wo:7.2f}  torch {wt:7.2f}  ratio {wo / wt:.2f}   |   "
              f"cpu: chainrule {co:7.2f}  torch {ct:7.2f}  ratio {co / ct:.2f}")
    print("  ratio = chainrule / torch: below 1 means chainrule is faster")


if __name__ == "__main__":
    main()
