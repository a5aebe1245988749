"""The benchmark harness runs: every runner prints its JSON line, run.py writes the markdown report.

Tiny sizes (a step or two on random data), no timing assertions: the numbers are only checked to exist.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import _report  # noqa: E402
import run  # noqa: E402

TINY = ["--steps", "2", "--warmup", "1", "--chunks", "1", "--samples", "256"]


def _runner(lib: str, workload: str) -> dict:
    p = subprocess.run([sys.executable, str(BENCH / f"_{lib}.py"), "--workload", workload, *TINY],
                       capture_output=True, text=True, timeout=300, env=run.bench_env(1))  # fmt: skip
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, p.stdout
    return json.loads(lines[0])


CASES = [
    *[("chainrule", w) for w in ("mlp_train", "mlp_infer", "cnn_train", "cnn_infer", "lstm_train")],
    *[("numpy", w) for w in ("mlp_train", "mlp_infer", "mlp_gemm", "cnn_train", "lstm_train")],
    ("torch", "mlp_train"),
    ("sklearn", "mlp_train"),
    ("sklearn", "mlp_infer"),
]


@pytest.mark.parametrize("lib, workload", CASES)
def test_runner_prints_one_json_line(lib, workload):
    if importlib.util.find_spec(run.LIB_MODULE[lib]) is None:
        pytest.skip(f"{lib} is not installed")
    out = _runner(lib, workload)
    assert "error" not in out, out.get("error")
    assert out["lib"] == lib and out["workload"] == workload
    assert len(out["samples_per_s"]) == 1 and out["samples_per_s"][0] > 0
    assert out["peak_rss_mb"] > 0
    assert out["data"] == "random"
    assert set(out["threads_env"]) == set(run.C.THREAD_VARS) and out["threads_env"]["OMP_NUM_THREADS"] == "1"


def test_run_quick_writes_the_report(tmp_path):
    out, raw = tmp_path / "RESULTS.md", tmp_path / "raw.json"
    p = subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick", "--libs", "chainrule", "numpy",
                        "--workloads", "mlp_train", "import", "--threads", "1", "--out", str(out), "--json", str(raw),
                        "--accuracy"],
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    assert "Quick mode" in text and "## Targets" in text and "## MLP training" in text
    # --accuracy trained the (quick) accuracy run first, beside the report, and reported it as this run's
    assert (tmp_path / "ACCURACY.md").exists() and (tmp_path / "ACCURACY.json").exists()
    assert "## Accuracy at benchmark speed" in text and "trained by this run" in text
    assert "| MNIST MLP test accuracy ≥ 98.2% in 10 epochs |" in text and "(--quick: random data) | n/a |" in text
    assert "OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, MKL_NUM_THREADS=1" in text
    assert "GEMM-only ceiling" in text and "## Import time" in text
    commit = run.source_commit()  # the code measured, when the benchmark runs from a git checkout
    assert commit is None or f"(code: {commit})" in text
    assert "| `import chainrule` < 0.15 s |" in text
    data = json.loads(raw.read_text())
    assert {(ln["lib"], ln["workload"]) for ln in data["lines"]} == {
        ("chainrule", "mlp_train"), ("numpy", "mlp_train"), ("numpy", "mlp_gemm")}  # fmt: skip
    assert all(not ln.get("error") for ln in data["lines"])
    again = tmp_path / "again.md"
    assert run.main(["--from-json", str(raw), "--out", str(again)]) == 0
    assert again.read_text() == text


def _summary(median, lo=None, hi=None, rss=100.0):
    return {"median": median, "min": lo or median, "max": hi or median, "n": 3, "rss_mb": rss, "version": "x"}


def test_report_judges_targets_honestly():
    results = {
        "mlp_train": {"chainrule": _summary(30000, 29000, 31000, rss=200), "torch": _summary(40000, rss=300),
                      "sklearn": _summary(15000)},
        "mlp_gemm": {"numpy": _summary(60000)},
        "mlp_infer": {"chainrule": {"error": "ImportError: missing"}, "torch": _summary(1000)},
        "lstm_train": {"chainrule": _summary(1000, 900, 1300), "torch": _summary(1000, 950, 1050)},
    }  # fmt: skip
    imports = {"chainrule": {"module": "chainrule", "seconds": [0.1, 0.12, 0.2], "error": None}}
    meta = {"started": 0, "seconds": 60, "load_start": (1.0, 1.0, 1.0), "load_end": None, "threads": 2,
            "thread_env": {k: "2" for k in run.C.THREAD_VARS}, "reps": 3, "chunks": 3, "steps": None,
            "quick": False, "data_dir": None, "missing_libs": []}  # fmt: skip
    accuracy = {"recorded": "2026-01-01 00:00 UTC", "chainrule": "x", "quick": False, "source": "recorded", "runs": [
        {"name": "MNIST MLP", "accuracy": 0.9819, "target": 0.982, "seconds": 20, "hyper": "h"},
        {"name": "Fashion-MNIST CNN", "accuracy": 0.92, "target": 0.91, "seconds": 300, "hyper": "h"}]}  # fmt: skip
    text = _report.render(results, imports, meta, accuracy)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert rows["MNIST MLP test accuracy ≥ 98.2% in 10 epochs"].endswith("| 98.19% | no |")  # just under
    assert rows["Fashion-MNIST CNN test accuracy ≥ 91.0%"].endswith("| 92.00% | yes |")
    assert rows["MNIST CNN test accuracy ≥ target in 5 epochs"].endswith("| not measured | n/a |")
    assert "not trained again by this run" in text and "2026-01-01 00:00 UTC" in text
    assert "speed varied" not in text  # a steady ceiling: no warning
    results["mlp_gemm"] = {"numpy": _summary(60000, 40000, 61000)}
    assert "ceiling, the same matrix products every time, ranged from 40,000 to 61,000" in _report.render(
        results, imports, meta, accuracy)
    assert rows["MLP training ≥ 1.0× PyTorch"].endswith("| no |")  # 0.75
    assert rows["MLP training ≥ 0.75 of the GEMM-only ceiling"].endswith("| no |")  # 0.5
    assert rows["MLP training ≥ 1.5× scikit-learn"].endswith("| yes |")  # 2.0
    assert "n/a" in rows["MLP inference ≥ 0.9× PyTorch"]  # chainrule failed: not measured
    assert "straddles" in rows["LSTM training ≥ 1.0× PyTorch"]
    assert rows["CNN training ≥ 0.8× PyTorch"].endswith("| n/a |")
    assert rows["`import chainrule` < 0.15 s"].endswith("| yes |")  # median 0.12
    assert rows["Peak RSS of MLP training ≤ PyTorch's"].endswith("| yes |")
    assert "n/a: ImportError: missing" in text


def test_mnist_is_found_in_the_folder_or_its_mnist_subfolder(tmp_path):
    assert run.C.find_mnist(tmp_path) is None and run.C.find_mnist(None) is None
    sub = tmp_path / "mnist"
    sub.mkdir()
    for pair in run.C.MNIST_FILES.values():
        for name in pair:
            (sub / name).write_bytes(b"")
    assert run.C.find_mnist(tmp_path) == sub and run.C.find_mnist(sub) == sub


def test_accuracy_script_quick(tmp_path):
    import accuracy

    out = tmp_path / "ACCURACY.md"
    assert accuracy.main(["--quick", "--out", str(out), "--runs", "MNIST MLP"]) == 0
    text = out.read_text()
    assert "| MNIST MLP |" in text and "random data" in text
    rec = json.loads(out.with_suffix(".json").read_text())
    assert rec["quick"] is True and [r["name"] for r in rec["runs"]] == ["MNIST MLP"]
    assert 0.0 <= rec["runs"][0]["accuracy"] <= 1.0
    assert run.read_accuracy(out.with_suffix(".json"))["source"] == "recorded"


def test_a_missing_or_broken_accuracy_record_is_left_out(tmp_path):
    assert run.read_accuracy(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert run.read_accuracy(tmp_path / "bad.json") is None


def test_failed_accuracy_runs_leave_the_section_out_and_say_why(tmp_path, capsys):
    before = (BENCH / "ACCURACY.json").read_bytes() if (BENCH / "ACCURACY.json").exists() else None
    a = run.parse_args(["--accuracy", "--data-dir", str(tmp_path), "--out", str(tmp_path / "R.md")])
    assert run.run_accuracy(a, run.bench_env(1)) is None  # no MNIST in an empty folder: the runs fail
    assert "accuracy runs failed" in capsys.readouterr().err
    after = (BENCH / "ACCURACY.json").read_bytes() if (BENCH / "ACCURACY.json").exists() else None
    assert after == before  # the recorded figures are untouched
