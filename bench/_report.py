"""Turn the gathered benchmark results into ``RESULTS.md``: setup, targets (met or not), tables, import time,
and the accuracy that ``bench/accuracy.py`` measured."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics

import numpy as np

TITLES = {
    "mlp_train": "MLP training: 784-512-512-10, ReLU, batch 128",
    "mlp_infer": "MLP inference: batch 1000, no_grad / eval",
    "cnn_train": "CNN training: conv32-pool-conv64-pool-fc128-fc10, batch 128",
    "cnn_infer": "CNN inference: batch 1000, no_grad / eval",
    "lstm_train": "LSTM training: LSTM(28 -> 128) over 28 rows, last hidden -> Linear(128, 10), batch 128",
}
LIB_NAMES = {"chainrule": "chainrule", "torch": "PyTorch", "sklearn": "scikit-learn", "numpy": "NumPy by hand"}


def _f(v: float) -> str:
    return f"{v:,.0f}"


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _numpy_blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001 - older NumPy: no dict mode
        return "unknown"


def _pools(blas) -> str:
    if not blas:
        return "-"
    return "; ".join(
        f"{d.get('internal_api')} {d.get('version') or ''} ({d.get('num_threads')} threads"
        + (f", {d['architecture']}" if d.get("architecture") else "")
        + ")"
        for d in blas
    )


def _get(results, wl, lib):
    r = results.get(wl, {}).get(lib)
    return r if r and "error" not in r else None


def _ratio(results, wl, lib, ref):
    a, b = _get(results, wl, lib), _get(results, wl, ref)
    if not a or not b:
        return None
    # the spread: worst and best pairing of the two libraries' chunks
    return a["median"] / b["median"], a["min"] / b["max"], a["max"] / b["min"]


def _targets(results, imports, accuracy=None) -> list[tuple[str, str, str]]:
    rows = []

    def speed(label, wl, ref, goal, ref_wl=None):
        r = _ratio(results, wl, "chainrule", ref) if ref_wl is None else None
        if ref_wl is not None:
            a, b = _get(results, wl, "chainrule"), _get(results, ref_wl, ref)
            r = (a["median"] / b["median"], a["min"] / b["max"], a["max"] / b["min"]) if a and b else None
        if r is None:
            rows.append((label, "not measured", "n/a"))
            return
        met = "yes" if r[0] >= goal else "no"
        if r[1] < goal <= r[2]:
            met += " (the spread straddles the target)"
        rows.append((label, f"{r[0]:.2f} (range {r[1]:.2f}–{r[2]:.2f})", met))

    speed("MLP training ≥ 1.0× PyTorch", "mlp_train", "torch", 1.0)
    speed("MLP training ≥ 0.75 of the GEMM-only ceiling", "mlp_train", "numpy", 0.75, ref_wl="mlp_gemm")
    speed("MLP training ≥ 1.5× scikit-learn", "mlp_train", "sklearn", 1.5)
    speed("MLP inference ≥ 0.9× PyTorch", "mlp_infer", "torch", 0.9)
    speed("CNN training ≥ 0.8× PyTorch", "cnn_train", "torch", 0.8)
    speed("CNN inference ≥ 0.8× PyTorch", "cnn_infer", "torch", 0.8)
    speed("LSTM training ≥ 1.0× PyTorch", "lstm_train", "torch", 1.0)
    imp = (imports or {}).get("chainrule")
    if imp and imp["seconds"]:
        s = imp["seconds"]
        med = statistics.median(s)
        rows.append(("`import chainrule` < 0.15 s", f"{med:.3f} s (range {min(s):.3f}–{max(s):.3f})",
                     "yes" if med < 0.15 else "no"))  # fmt: skip
    else:
        rows.append(("`import chainrule` < 0.15 s", "not measured", "n/a"))
    a, b = _get(results, "mlp_train", "chainrule"), _get(results, "mlp_train", "torch")
    if a and b:
        rows.append(("Peak RSS of MLP training ≤ PyTorch's", f"{a['rss_mb']:.0f} MB vs {b['rss_mb']:.0f} MB",
                     "yes" if a["rss_mb"] <= b["rss_mb"] else "no"))  # fmt: skip
    else:
        rows.append(("Peak RSS of MLP training ≤ PyTorch's", "not measured", "n/a"))
    runs = {r["name"]: r for r in (accuracy or {}).get("runs", [])}
    for name, epochs in ACCURACY_RUNS.items():
        r = runs.get(name)
        label = f"{name} test accuracy ≥ {{}}" + (f" in {epochs} epochs" if epochs else "")
        if r is None:
            rows.append((label.format("target"), "not measured", "n/a"))
        elif accuracy.get("quick"):
            rows.append((label.format(f"{r['target']:.1%}"), f"{r['accuracy']:.2%} (--quick: random data)", "n/a"))
        else:
            rows.append((label.format(f"{r['target']:.1%}"), f"{r['accuracy']:.2%}",
                         "yes" if r["accuracy"] >= r["target"] else "no"))  # fmt: skip
    return rows


#: the accuracy targets: run name (as bench/accuracy.py names it) -> the epochs the target allows (None: any)
ACCURACY_RUNS = {"MNIST MLP": 10, "MNIST CNN": 5, "Fashion-MNIST CNN": None}


def accuracy_table(rec: dict) -> list[str]:
    """The markdown table of an accuracy record (``bench/accuracy.py``'s), for ACCURACY.md and RESULTS.md."""
    lines = ["| run | test accuracy | target | met | training time | hyperparameters |",
             "| --- | ---: | ---: | --- | ---: | --- |"]  # fmt: skip
    for r in rec["runs"]:
        met = "yes" if r["accuracy"] >= r["target"] else "no"
        lines.append(f"| {r['name']} | {r['accuracy']:.4f} | {r['target']:.3f} | {met} | {r['seconds']:.0f} s | "
                     f"{r['hyper']} |")
    if rec.get("quick"):
        lines.append("\n(--quick: random data, numbers mean nothing)")
    return lines


def _accuracy(accuracy: dict) -> list[str]:
    how = ("trained by this run (`run.py --accuracy`)" if accuracy.get("source") == "this run" else
           "as last recorded in `bench/ACCURACY.json`, not trained again by this run (`run.py --accuracy` does)")
    return ["## Accuracy at benchmark speed", "",
            f"chainrule's own `train.fit` on the real data (`bench/accuracy.py`), {how}: "
            f"{accuracy['recorded']}, chainrule {accuracy['chainrule']}. The test set is used once, at the end.", "",
            *accuracy_table(accuracy), ""]


def _setup(results, meta) -> list[str]:
    first = {}
    for per_lib in results.values():
        for lib, r in per_lib.items():
            if "error" not in r and lib not in first:
                first[lib] = r
    when = _dt.datetime.fromtimestamp(meta["started"], _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = meta.get("load_start"), meta.get("load_end")
    out = [
        f"- Run: {when}, {meta['seconds'] / 60:.1f} min; load average (1/5/15 min) at start "
        f"{'/'.join(f'{x:.2f}' for x in load[0]) if load[0] else '?'}, at end "
        f"{'/'.join(f'{x:.2f}' for x in load[1]) if load[1] else '?'}.",
        f"- Machine: {_cpu()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}.",
        f"- Python {platform.python_version()}; NumPy {np.__version__} with {_numpy_blas()}.",
    ]
    for lib in ("chainrule", "torch", "sklearn"):
        if lib in first:
            pools = _pools(first[lib].get("blas"))
            code = f" (code: {meta['commit']})" if lib == "chainrule" and meta.get("commit") else ""
            out.append(f"- {LIB_NAMES[lib]} {first[lib].get('version')}{code}; thread pools: {pools}.")
    if "numpy" in first:
        out.append(f"- NumPy runner thread pools: {_pools(first['numpy'].get('blas'))}.")
    if meta.get("missing_libs"):
        out.append(f"- Not installed, skipped: {', '.join(meta['missing_libs'])}.")
    env = ", ".join(f"{k}={v}" for k, v in meta["thread_env"].items())
    out.append(f"- Environment, identical for every process: {env}, PYTHONHASHSEED=0"
               + "".join(f", {k}={v}" for k, v in meta.get("opt_env", {}).items()) + ".")  # fmt: skip
    data = {r.get("data") for r in first.values() if r.get("data")}
    out.append(f"- Data: {', '.join(sorted(data)) or '?'}"
               + (f" (from {meta['data_dir']})" if meta.get("data_dir") else " (random arrays of MNIST's shape)")
               + ".")  # fmt: skip
    out.append(
        f"- Method: per workload, {meta['reps']} processes per library, run in turn (A B C D A B C D …); each "
        f"warms up, then times {meta['chunks']} chunks of steps (numbers per workload below); "
        "median / min / max are over all chunks. Peak RSS is ru_maxrss of the process (median over processes); "
        "it includes the training data (MNIST: 188 MB as float32)."
    )
    return out


def render(results: dict, imports: dict | None, meta: dict, accuracy: dict | None = None) -> str:
    lines = ["# chainrule benchmarks", ""]
    lines.append("Written by `python bench/run.py`; see `bench/README.md` for what is measured and how.")
    if meta.get("quick"):
        lines += ["", "**Quick mode (`--quick`): a smoke test on tiny random data; these numbers mean nothing.**"]
    # Only the load at the start says whether something else was running: at the end the 1-minute average
    # mostly counts the benchmark's own processes.
    start = meta.get("load_start")
    if start and start[0] > 0.5:
        lines += ["", f"**The machine was busy (1-minute load average {start[0]:.1f} on {os.cpu_count()} CPUs "
                  "when the run started): other processes may have taken CPU time, so these numbers are noisy.**"]
    gemm = _get(results, "mlp_gemm", "numpy")
    if gemm and gemm["max"] > 1.25 * gemm["min"]:  # the same products, timed again and again: the machine's pace
        lines += ["", f"**The machine's speed varied during the run: the GEMM-only ceiling, the same matrix products "
                  f"every time, ranged from {_f(gemm['min'])} to {_f(gemm['max'])} samples/s. Ratios of medians "
                  "are fairer than the absolute figures, and they too may move.**"]  # fmt: skip
    lines += ["", "## Setup", "", *_setup(results, meta), ""]
    lines += ["## Targets", "", "| target | chainrule measured | met |", "| --- | --- | --- |"]
    lines += [f"| {t} | {m} | {ok} |" for t, m, ok in _targets(results, imports, accuracy)]
    lines += ["", "Ratios are of medians; the range pairs the worst and best chunks of both sides.", ""]
    for wl, title in TITLES.items():
        per = results.get(wl)
        if not per:
            continue
        lines += [f"## {title}", ""]
        ok = next((r for r in per.values() if "error" not in r), None)
        if ok and ok.get("steps"):
            lines += [f"Batch {ok['batch']}; each process: {ok['warmup']} warm-up steps, then {ok['chunks']} timed "
                      f"chunks of {ok['steps']} steps.", ""]  # fmt: skip
        lines += ["| library | samples/s (median) | min–max | × PyTorch | peak RSS (MB) | page faults / step |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
        for lib, r in per.items():
            if "error" in r:
                lines.append(f"| {LIB_NAMES[lib]} | n/a: {r['error'][:160]} | | | | |")
                continue
            ratio = _ratio(results, wl, lib, "torch")
            faults = "-" if r.get("faults") is None else f"{r['faults']:,.0f}"
            lines.append(f"| {LIB_NAMES[lib]} | {_f(r['median'])} | {_f(r['min'])}–{_f(r['max'])} | "
                         f"{f'{ratio[0]:.2f}' if ratio else '-'} | {r['rss_mb']:.0f} | {faults} |")  # fmt: skip
        gemm = _get(results, "mlp_gemm", "numpy") if wl == "mlp_train" else None
        if gemm:
            lines += ["", f"GEMM-only ceiling (the step's 3 forward + 5 backward matrix products alone, NumPy, "
                      f"batch 128): **{_f(gemm['median'])}** samples/s ({_f(gemm['min'])}–{_f(gemm['max'])}). "
                      "Fraction of it reached: "
                      + ", ".join(f"{LIB_NAMES[lib]} {r['median'] / gemm['median']:.2f}" for lib, r in per.items()
                                  if "error" not in r) + "."]  # fmt: skip
        lines.append("")
    if imports:
        lines += _imports(imports)
    if accuracy:
        lines += _accuracy(accuracy)
    return "\n".join(lines).rstrip() + "\n"


def _imports(imports: dict) -> list[str]:
    lines = ["## Import time", "", "Seconds inside a fresh interpreter around the `import` statement.", "",
             "| module | median (s) | min–max (s) | runs |", "| --- | ---: | ---: | ---: |"]  # fmt: skip
    for m in ("chainrule", "numpy", "torch"):
        r = imports.get(m)
        if not r:
            continue
        if r["error"] or not r["seconds"]:
            lines.append(f"| `{m}` | n/a: {r['error']} | | |")
            continue
        s = r["seconds"]
        lines.append(f"| `{m}` | {statistics.median(s):.3f} | {min(s):.3f}–{max(s):.3f} | {len(s)} |")
    rows = imports.get("breakdown") or []
    if rows:
        lines += ["", "`python -X importtime -c 'import chainrule'`, largest cumulative times:", "",
                  "| module | cumulative (ms) | self (ms) |", "| --- | ---: | ---: |"]  # fmt: skip
        lines += [f"| `{name.strip()}` | {cum:.1f} | {own:.1f} |" for cum, own, name in rows]
    lines.append("")
    return lines
