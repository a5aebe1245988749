"""Running a loop over time steps on two cores: the batch split in halves, one half on a helper thread.

Why. A recurrent layer steps through time one small matrix product after another (an LSTM at batch 128
and hidden size 128: a (512, 157) @ (157, 128) product per step), each followed by sigmoid and tanh over
the gates. OpenBLAS spreads the product over both cores, but NumPy's ufuncs run on one, and exp and tanh
cost 1.3 and 2.6 ns a number here: about half of every step is single-core elementwise work. PyTorch runs
that part on all its threads.

How. Every sample of the batch goes through the recurrence on its own, so the batch's columns split into
two independent halves. Each thread runs the whole time loop over its half with a single-threaded BLAS;
NumPy drops the GIL inside the matrix products and ufunc loops, so the two halves overlap almost fully.
The work is divided by samples, so the math is the same; the numbers agree with one thread's to float
rounding (BLAS may round a product over 64 columns on one thread differently from one over 128 on two),
and a given machine and thread setting always gives the same numbers. The LSTM benchmark's training
step (2 cores) went from about 6,300 to 7,250 samples/s.

When. Only where it pays and is safe (:func:`split_bounds`): NumPy's own OpenBLAS must be found (its
thread count can be set) and allowed two threads or more (``OPENBLAS_NUM_THREADS=1`` or a threadpoolctl
limit of 1 keeps everything on one core); the layer must be big enough (measured thresholds below); and
no other Python thread may be running, because the split parks OpenBLAS's idle workers, which is safe
only when no other thread is inside a BLAS call (:func:`_others_quiet`). A notebook kernel has several
threads, none of which calls BLAS: ``CHAINRULE_THREADS=2`` vouches for them. ``CHAINRULE_THREADS=1`` turns
the split off. While halves run, the BLAS thread count is 1; it is put back after.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import backend

# When halves pay (LSTM and GRU, forward + backward, each against one thread, alternating processes): at
# about 25,000 gate numbers per half and step (LSTM H=96 or GRU H=128 at batch 128) the split starts to win;
# at 16,000 (LSTM H=64 at batch 128, H=128 at batch 64) it ties or loses, up to 2x, because each NumPy call
# then holds the GIL for a larger share of its time; with 16-sample halves (LSTM H=512 at batch 32) the
# products lose more than the split wins.
#: gate numbers per time step (both halves) below which one thread is faster
MIN_STEP = 49152
#: the same for the RNN (one tanh per number, no other elementwise work): RNN(28, 256) at batch 128 (32,768
#: numbers a step) went from 16.5 to 14.2 ms forward + backward split, RNN(28, 128) at batch 128 tied
MIN_STEP_RNN = 32768
#: each half gets at least this many samples
MIN_HALF = 32
#: steps times gate numbers below which the hand-over (about 0.1 ms) does not pay (a single cell step)
MIN_WORK = 1 << 19

_lock = threading.Lock()  # held while the helper works for someone: one split at a time
_pool: ThreadPoolExecutor | None = None
_pool_pid = None


def _helper() -> ThreadPoolExecutor:
    """The one helper thread, made on first use (and again in a forked child, which inherits no threads)."""
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        _pool, _pool_pid = ThreadPoolExecutor(1, thread_name_prefix="chainrule-split"), os.getpid()
    return _pool


def _others_quiet() -> bool:
    """No other Python thread is running that could be inside a BLAS call: parking OpenBLAS's workers
    (:func:`backend.park_blas_threads`) needs that. tqdm's monitor thread only sleeps and checks bars.
    ``CHAINRULE_THREADS=2`` vouches for all threads (a notebook kernel's, say, which never call BLAS)."""
    if os.environ.get("CHAINRULE_THREADS", "") == "2":
        return True
    for t in threading.enumerate():
        if t is threading.current_thread() or t.name.startswith("chainrule-split") or type(t).__name__ == "TMonitor":
            continue
        return False
    return True


def split_bounds(n: int, steps: int, per_step: int, min_step: int | None = None) -> list:
    """The sample ranges a loop over ``steps`` time steps of n samples, ``per_step`` gate numbers each,
    should run in: [(0, n)], or two halves when two cores may be used and the work pays for it (at least
    ``min_step`` gate numbers a step, default :data:`MIN_STEP`)."""
    if (n < 2 * MIN_HALF or per_step < (MIN_STEP if min_step is None else min_step) or steps * per_step < MIN_WORK
            or os.environ.get("CHAINRULE_THREADS", "") == "1"):
        return [(0, n)]
    threads = backend.blas_threads()
    if threads is None or threads < 2 or not _others_quiet():
        return [(0, n)]
    return [(0, n // 2), (n // 2, n)]


def run_parts(fn, args: list) -> list:
    """``[fn(*a) for a in args]`` for one or two parts; two run at once, the first on the helper thread.

    Each part must touch only its own samples and must not call into chainrule's autograd. While two
    parts run, NumPy's OpenBLAS is single-threaded and its workers are parked (each thread is a core's
    worth of work already); the thread count is put back after. When the helper is busy (another thread
    is splitting) or other threads have appeared since the bounds were chosen, the parts run one after
    the other with BLAS as it is (the same math; the last bits may differ). An exception in either part
    is raised here, after both have stopped.
    """
    if len(args) == 1:
        return [fn(*args[0])]
    if not _lock.acquire(blocking=False):
        return [fn(*a) for a in args]
    try:
        if not _others_quiet():
            return [fn(*a) for a in args]
        previous = backend.set_blas_threads(1)
        backend.park_blas_threads()
        try:
            future = _helper().submit(fn, *args[0])
            try:
                second = fn(*args[1])
            finally:
                first = future.result()  # waits for the helper even if this part failed
        finally:
            backend.set_blas_threads(previous)
        return [first, second]
    finally:
        _lock.release()


def join_parts(outs: list, axes: tuple) -> tuple:
    """The parts' result tuples as one: entry j concatenated along ``axes[j]`` (samples side by side), or
    summed where ``axes[j]`` is None (weight gradients); None entries stay None."""
    if len(outs) == 1:
        return tuple(outs[0])
    joined = []
    for j, ax in enumerate(axes):
        vals = [o[j] for o in outs]
        if vals[0] is None:
            joined.append(None)
        elif ax is None:
            joined.append(sum(vals[1:], vals[0]))
        else:
            joined.append(np.concatenate(vals, axis=ax))
    return tuple(joined)
