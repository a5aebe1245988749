"""Run every benchmark and write ``bench/RESULTS.md``: the one command.

    python bench/run.py [--quick] [--data-dir DIR] [--out bench/RESULTS.md] [--workloads ...] [--libs ...]
                        [--reps N] [--threads N] [--json FILE] [--from-json FILE] [--accuracy]

For each workload, each library's runner is started as a separate process, in turn (chainrule, torch,
sklearn, numpy, chainrule, torch, ...), ``--reps`` times, every process with the same environment (the
thread variables OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS all set to ``--threads``).
Each process warms up, then times a few chunks of steps and prints one JSON line (see ``_common.py``);
this script gathers the lines, takes medians and writes the report. ``--quick`` runs a handful of steps
on small random data: it checks that everything runs, its numbers mean nothing.

The report also carries the accuracy of the benchmark's networks trained on the real data: the figures
``bench/accuracy.py`` last recorded in ``bench/ACCURACY.json`` (with their date), or, with ``--accuracy``,
figures from training them again first (about 8 minutes; ``--data-dir`` then names the folder holding
``mnist/`` and ``fashion-mnist/``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common as C  # noqa: E402
import _report  # noqa: E402

RUNNERS = {"chainrule": "_chainrule.py", "torch": "_torch.py", "sklearn": "_sklearn.py", "numpy": "_numpy.py"}
LIB_MODULE = {"chainrule": "chainrule", "torch": "torch", "sklearn": "sklearn", "numpy": "numpy"}
MODEL_WORKLOADS = ("mlp_train", "mlp_infer", "cnn_train", "cnn_infer", "lstm_train")
ALL_WORKLOADS = (*MODEL_WORKLOADS, "import")
SUPPORTS = {
    "chainrule": set(MODEL_WORKLOADS),
    "torch": set(MODEL_WORKLOADS),
    "sklearn": {"mlp_train", "mlp_infer"},
    "numpy": {*MODEL_WORKLOADS, "mlp_gemm"},
}
DEFAULT_DATA = Path("/work/shared/datasets")
IMPORT_SNIPPET = "import time; t = time.perf_counter(); import {m}; print(time.perf_counter() - t)"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a handful of steps on small random data (a smoke test)")
    p.add_argument("--data-dir", default=None, help=f"folder with MNIST's .gz files (default {DEFAULT_DATA})")
    p.add_argument("--out", default=str(HERE / "RESULTS.md"), help="the markdown report to write")
    p.add_argument("--json", default=None, help="also write every raw JSON line here")
    p.add_argument("--from-json", default=None, help="only write the report again from a --json file")
    p.add_argument("--workloads", nargs="+", default=list(ALL_WORKLOADS), choices=ALL_WORKLOADS)
    p.add_argument("--libs", nargs="+", default=list(RUNNERS), choices=list(RUNNERS))
    p.add_argument("--reps", type=int, default=None, help="processes per library and workload (default 5)")
    p.add_argument("--chunks", type=int, default=None, help="timed chunks per process (default 3)")
    p.add_argument("--steps", type=int, default=None, help="steps per chunk (default: per workload)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="BLAS / OpenMP threads, for all")
    p.add_argument("--timeout", type=float, default=900, help="seconds before a process is given up on")
    p.add_argument("--accuracy", action="store_true",
                   help="train the accuracy runs first (bench/accuracy.py, about 8 min) and report them")
    p.add_argument("--accuracy-json", default=str(HERE / "ACCURACY.json"),
                   help="the accuracy record to report without --accuracy (default bench/ACCURACY.json)")
    a = p.parse_args(argv)
    if a.quick:
        a.reps = a.reps or 1
        a.chunks = a.chunks or 1
        a.steps = a.steps or 2
    else:
        a.reps = a.reps or 5
        a.chunks = a.chunks or 3
    if a.data_dir is None and not a.quick and C.find_mnist(DEFAULT_DATA):
        a.data_dir = str(DEFAULT_DATA)
    if a.data_dir and not C.find_mnist(a.data_dir):
        print(f"warning: no MNIST files in {a.data_dir}: using random data of MNIST's shape", file=sys.stderr)
    return a


def bench_env(threads: int) -> dict:
    """The environment every process gets: this one, with the thread counts pinned to the same value."""
    env = dict(os.environ)
    for k in C.THREAD_VARS:
        env[k] = str(threads)
    env["PYTHONHASHSEED"] = "0"
    return env


def available(lib: str) -> bool:
    return importlib.util.find_spec(LIB_MODULE[lib]) is not None


def run_one(lib: str, workload: str, a, env) -> dict:
    """One runner process; its JSON line as a dict (with ``error`` set when it failed)."""
    cmd = [sys.executable, str(HERE / RUNNERS[lib]), "--workload", workload, "--chunks", str(a.chunks)]
    if a.data_dir:
        cmd += ["--data-dir", a.data_dir]
    if a.quick:
        cmd += ["--samples", "512", "--warmup", "1"]
    if a.steps:
        cmd += ["--steps", str(a.steps)]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=a.timeout)
    except subprocess.TimeoutExpired:
        return {"lib": lib, "workload": workload, "error": f"timed out after {a.timeout:.0f} s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
    return {"lib": lib, "workload": workload, "error": f"exit {p.returncode}: {tail}"}


def measure_import(module: str, reps: int, env) -> dict:
    """Seconds to import ``module`` in a fresh interpreter (time inside the process, around the import)."""
    times, err = [], None
    for _ in range(reps):
        p = subprocess.run([sys.executable, "-c", IMPORT_SNIPPET.format(m=module)], env=env, capture_output=True,
                           text=True)  # fmt: skip
        if p.returncode:
            err = (p.stderr.strip().splitlines() or ["failed"])[-1]
            break
        times.append(float(p.stdout.strip()))
    return {"module": module, "seconds": times, "error": err}


def import_breakdown(env, top: int = 12) -> list[tuple[float, float, str]]:
    """``python -X importtime -c 'import chainrule'``: the modules with the largest cumulative times (ms).

    Only chainrule's own subtree counts (the interpreter's start-up imports, ``site`` and what its ``.pth``
    files pull in, are listed before it and dropped).
    """
    p = subprocess.run([sys.executable, "-X", "importtime", "-c", "import chainrule"], env=env,
                       capture_output=True, text=True)  # fmt: skip
    rows = []
    for line in p.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line or line.count("|") < 2:
            continue
        self_us, cum_us, name = line[len("import time:") :].split("|", 2)
        rows.append((int(cum_us) / 1000, int(self_us) / 1000, name[1:].rstrip()))
        if name[1:].rstrip() == "chainrule":  # the subtree is printed children first, then its root
            break
        if not name[1:].startswith(" "):  # another top-level import finished: not ours
            rows.clear()
    rows.sort(key=lambda r: -r[0])
    return rows[:top]


def summarize(lines: list[dict]) -> dict:
    """Median, min and max of every samples/s figure of the successful processes, and their peak RSS."""
    rates = [r for ln in lines if not ln.get("error") for r in ln.get("samples_per_s", [])]
    if not rates:
        errs = [ln.get("error") for ln in lines if ln.get("error")]
        return {"error": errs[0] if errs else "no result"}
    rss = [ln["peak_rss_mb"] for ln in lines if not ln.get("error")]
    faults = [ln["faults_per_step"] for ln in lines if not ln.get("error") and "faults_per_step" in ln]
    ok = next(ln for ln in lines if not ln.get("error"))
    return {
        "median": statistics.median(rates),
        "min": min(rates),
        "max": max(rates),
        "n": len(rates),
        "rss_mb": statistics.median(rss),
        "faults": statistics.median(faults) if faults else None,
        "version": ok.get("version"),
        "batch": ok.get("batch"),
        "steps": ok.get("steps"),
        "warmup": ok.get("warmup"),
        "chunks": len(ok.get("samples_per_s", [])),
        "data": ok.get("data"),
        "blas": ok.get("blas"),
    }


def gather(raw: list[dict]) -> dict:
    """``{workload: {lib: summary}}`` from the JSON lines, in the order they ran."""
    results: dict = {}
    for ln in raw:
        results.setdefault(ln["workload"], {}).setdefault(ln["lib"], None)
    for wl, per in results.items():
        for lib in per:
            per[lib] = summarize([ln for ln in raw if ln["workload"] == wl and ln["lib"] == lib])
    return results


def source_commit() -> str | None:
    """The git commit of the checkout the benchmark runs from ("abc1234", "+ changes" when the working tree
    differs from it), or None outside a git checkout."""
    def git(*args):
        p = subprocess.run(["git", "-C", str(HERE), *args], capture_output=True, text=True, timeout=30)
        return p.stdout.strip() if p.returncode == 0 else None

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return None if not commit else commit + (" + uncommitted changes" if changed else "")


def _write(path, text: str) -> None:
    from chainrule._atomic import atomic_write  # a report is never left half-written

    with atomic_write(path, "w") as f:
        f.write(text)


def read_accuracy(path) -> dict | None:
    """The record ``bench/accuracy.py`` wrote, or None when there is none (or it is unreadable)."""
    try:
        rec = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return {**rec, "source": "recorded"} if isinstance(rec, dict) and rec.get("runs") else None


def run_accuracy(a, env) -> dict | None:
    """Train the accuracy runs now (bench/accuracy.py in its own process, before the timed runs), which
    also updates bench/ACCURACY.md and .json (``--quick``: one tiny run, written beside ``--out``)."""
    out = Path(a.out).with_name("ACCURACY.md") if a.quick else HERE / "ACCURACY.md"
    cmd = [sys.executable, str(HERE / "accuracy.py"), "--data-dir", str(a.data_dir or DEFAULT_DATA), "--out", str(out)]
    cmd += ["--quick", "--runs", "MNIST MLP"] if a.quick else []
    print("accuracy runs (bench/accuracy.py) ...", file=sys.stderr, flush=True)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"accuracy runs failed:\n{p.stderr[-2000:]}", file=sys.stderr)
        return None
    return {**json.loads(out.with_suffix(".json").read_text()), "source": "this run"}


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.from_json:  # write the report again from an earlier run's raw lines, running nothing
        data = json.loads(Path(a.from_json).read_text())
        text = _report.render(gather(data["lines"]), data["imports"], data["meta"], data.get("accuracy"))
        _write(a.out, text)
        print(f"wrote {a.out}", file=sys.stderr)
        return 0
    env = bench_env(a.threads)
    libs = [lib for lib in a.libs if available(lib)]
    missing = [lib for lib in a.libs if lib not in libs]
    started = time.time()
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load_start and load_start[0] > 0.5 and not a.quick:
        print(f"warning: load average {load_start[0]:.2f}: other work is running, timings will be noisy",
              file=sys.stderr)  # fmt: skip
    accuracy = run_accuracy(a, env) if a.accuracy else read_accuracy(a.accuracy_json)
    raw: list[dict] = []
    for wl in a.workloads:
        if wl == "import":
            continue
        jobs = [(lib, wl) for lib in libs if wl in SUPPORTS[lib]]
        if wl == "mlp_train" and "numpy" in libs:  # the GEMM-only ceiling, timed alongside
            jobs.append(("numpy", "mlp_gemm"))
        for rep in range(a.reps):
            for lib, w in jobs:
                print(f"[{rep + 1}/{a.reps}] {w:<10} {lib:<9}", end=" ", flush=True, file=sys.stderr)
                line = run_one(lib, w, a, env)
                raw.append(line)
                rates = line.get("samples_per_s") or []
                print(line.get("error") or " ".join(f"{r:,.0f}" for r in rates), file=sys.stderr)
    results = gather(raw)
    imports = None
    if "import" in a.workloads:
        n = 3 if a.quick else 9
        mods = ("chainrule", "numpy") if a.quick else ("chainrule", "numpy", "torch")
        imports = {m: measure_import(m, n, env) for m in mods if available(m)}
        imports["breakdown"] = import_breakdown(env)
    meta = {
        "started": started,
        "seconds": time.time() - started,
        "load_start": load_start,
        "load_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "threads": a.threads,
        "thread_env": {k: env[k] for k in C.THREAD_VARS},
        "opt_env": {k: v for k, v in os.environ.items() if k.startswith("CHAINRULE_")},
        "reps": a.reps,
        "chunks": a.chunks,
        "steps": a.steps,
        "quick": a.quick,
        "data_dir": a.data_dir,
        "missing_libs": missing,
        "commit": source_commit(),
    }
    text = _report.render(results, imports, meta, accuracy)
    _write(a.out, text)
    if a.json:
        _write(a.json, json.dumps({"meta": meta, "lines": raw, "imports": imports, "accuracy": accuracy}, indent=1))
    print(f"wrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
