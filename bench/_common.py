"""What every benchmark runner shares: the workloads, their data, the timing loop and the JSON line.

A runner (``_chainrule.py``, ``_torch.py``, ``_sklearn.py``, ``_numpy.py``) is one process for one library
and one workload. It loads the data, builds the model, runs ``--warmup`` untimed steps, then ``--chunks``
timed chunks of ``--steps`` steps each, and prints one JSON line::

    {"lib": "torch", "workload": "mlp_train", "samples_per_s": [40123.4, ...], "peak_rss_mb": 412.0, ...}

It also reports the minor page faults per timed step (``ru_minflt``): memory that the allocator hands back
to the OS and takes again every step shows up there.

A step is one training step (forward, loss, backward, optimizer update) on a batch of 128, or one
inference call on a batch of 1000. ``samples_per_s`` holds one figure per chunk: batch * steps / seconds.
Every runner takes the same batches in the same order: the training set is shuffled once with ``--seed``
and then cut into consecutive batches (views, no copy), cycling when the steps outrun the data.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import struct
import sys
import time
from pathlib import Path

import numpy as np

# ------------------------------------------------------------------------------------ the workloads
TRAIN_BATCH = 128
INFER_BATCH = 1000
LR = 0.05
MOMENTUM = 0.9

#: workload -> (batch size, default warm-up steps, default steps per timed chunk)
WORKLOADS = {
    "mlp_train": (TRAIN_BATCH, 30, 200),
    "mlp_infer": (INFER_BATCH, 5, 40),
    "cnn_train": (TRAIN_BATCH, 4, 30),
    "cnn_infer": (INFER_BATCH, 1, 6),
    "lstm_train": (TRAIN_BATCH, 8, 80),
    "mlp_gemm": (TRAIN_BATCH, 30, 200),  # NumPy only: the MLP's GEMMs alone, the "GEMM-only ceiling"
}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def parse_args(lib: str, workloads) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=f"one {lib} benchmark run; prints one JSON line")
    p.add_argument("--workload", required=True, choices=sorted(workloads))
    p.add_argument("--data-dir", default=None, help="folder with MNIST's IDX .gz files (else random data)")
    p.add_argument("--samples", type=int, default=60000, help="training samples to hold (random data / subset)")
    p.add_argument("--steps", type=int, default=None, help="steps per timed chunk")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps first")
    p.add_argument("--chunks", type=int, default=3, help="timed chunks (one samples/s figure each)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    batch, warm, steps = WORKLOADS[a.workload]
    a.batch = batch
    a.steps = steps if a.steps is None else a.steps
    a.warmup = warm if a.warmup is None else a.warmup
    return a


# ----------------------------------------------------------------------------------------- the data
def find_mnist(data_dir) -> Path | None:
    """The folder holding MNIST's four IDX files: ``data_dir`` itself or its ``mnist/`` sub-folder."""
    if not data_dir:
        return None
    for d in (Path(data_dir), Path(data_dir) / "mnist"):
        if all((d / f).is_file() for pair in MNIST_FILES.values() for f in pair):
            return d
    return None


def _read_idx(path: Path, magic: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    got, n = struct.unpack(">II", raw[:8])
    if got != magic:
        raise ValueError(f"{path}: IDX magic number {got}, expected {magic}")
    if magic == 2051:
        rows, cols = struct.unpack(">II", raw[8:16])
        return np.frombuffer(raw, np.uint8, n * rows * cols, 16).reshape(n, 1, rows, cols)
    return np.frombuffer(raw, np.uint8, n, 8)


def load_split(args, split: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Images (N, 1, 28, 28) float32 in [0, 1] and labels (N,) int64, shuffled once with ``args.seed``.

    MNIST when ``args.data_dir`` holds it, else uniform random pixels and labels of the same shape.
    The test split is 10,000 images; the training split ``args.samples`` (all 60,000 by default).
    """
    n = args.samples if split == "train" else min(args.samples, 10000)
    n = max(n, args.batch)
    rng = np.random.default_rng(args.seed)
    folder = find_mnist(args.data_dir)
    if folder is None:
        x = rng.random((n, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, n).astype(np.int64)
        return x, y, "random"
    img, lab = MNIST_FILES[split]
    xu8 = _read_idx(folder / img, 2051)
    yu8 = _read_idx(folder / lab, 2049)
    order = rng.permutation(len(yu8))[:n]
    x = xu8[order].astype(np.float32)
    x *= np.float32(1 / 255)
    return x, yu8[order].astype(np.int64), "mnist"


def batches(x: np.ndarray, y: np.ndarray, batch: int):
    """``get(i)`` -> the i-th batch (views into x and y), cycling over the data."""
    nb = len(x) // batch

    def get(i: int):
        j = (i % nb) * batch
        return x[j : j + batch], y[j : j + batch]

    return get


# ------------------------------------------------------------------------------------------ timing
def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(step, args) -> tuple[list[float], float]:
    """Run ``step(i)`` for the warm-up, then time ``args.chunks`` chunks of ``args.steps`` steps.

    Returns the samples/s of each chunk and the minor page faults per timed step.
    """
    i = 0
    for _ in range(args.warmup):
        step(i)
        i += 1
    rates = []
    f0 = _faults()
    for _ in range(args.chunks):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step(i)
            i += 1
        rates.append(args.steps * args.batch / (time.perf_counter() - t0))
    return rates, (_faults() - f0) / max(1, args.chunks * args.steps)


def measure_chunks(chunk, args) -> tuple[list[float], float]:
    """Like :func:`measure` for a library that takes a whole chunk per call (``chunk(first, n_steps)``)."""
    if args.warmup:
        chunk(0, args.warmup)
    rates = []
    first = args.warmup
    f0 = _faults()
    for _ in range(args.chunks):
        t0 = time.perf_counter()
        chunk(first, args.steps)
        rates.append(args.steps * args.batch / (time.perf_counter() - t0))
        first += args.steps
    return rates, (_faults() - f0) / max(1, args.chunks * args.steps)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024 * 1024) if sys.platform == "darwin" else r / 1024


def blas_info() -> list[dict]:
    """The BLAS / OpenMP pools loaded in this process (threadpoolctl, when installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "version", "num_threads", "architecture", "threading_layer")
    return [{k: d.get(k) for k in keep if d.get(k) is not None} for d in threadpool_info()]


def emit(lib: str, args, rates=None, error: str | None = None, **extra) -> None:
    """Print the one JSON line of this run (the peak RSS is read before anything else is imported)."""
    rss = peak_rss_mb()
    out = {
        "lib": lib,
        "workload": args.workload,
        "samples_per_s": rates or [],
        "peak_rss_mb": round(rss, 1),
        "batch": args.batch,
        "steps": args.steps,
        "warmup": args.warmup,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads_env": {k: os.environ.get(k) for k in THREAD_VARS},
        "blas": blas_info(),
    }
    if error:
        out["error"] = error
    out.update(extra)
    print(json.dumps(out), flush=True)


def run(lib: str, builders: dict, version: str) -> None:
    """The runner's main: parse the arguments, build the workload, time it, print the JSON line.

    ``builders[workload](args)`` returns ``(kind, fn, data)``: kind ``"step"`` (``fn(i)`` runs step i) or
    ``"chunk"`` (``fn(first, n)`` runs steps first .. first+n-1 in one call); data is "mnist" or "random".
    A build that fails (a missing layer, say) is reported as an error line, not a traceback.
    """
    args = parse_args(lib, builders)
    try:
        kind, fn, data = builders[args.workload](args)
        rates, faults = measure(fn, args) if kind == "step" else measure_chunks(fn, args)
    except Exception as e:  # noqa: BLE001 - the harness reports what is missing and carries on
        emit(lib, args, error=f"{type(e).__name__}: {e}", version=version)
        return
    emit(lib, args, rates, version=version, data=data, faults_per_step=round(faults, 1))
