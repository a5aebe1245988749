"""`chainrule train` never loses a run: signals at any point, name collisions, a full disk; regression units."""

import errno
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import _runner, config

from .cli_support import one_line, run

MOONS = ["train", "--dataset", "moons", "--epochs", "2"]


def no_tmp(folder) -> bool:
    return not [p for p in os.listdir(folder) if ".tmp-" in p]


# ------------------------------------------------------------------------------------------ signals
def test_ctrl_c_during_the_test_evaluation_keeps_the_trained_run(tmp_path, monkeypatch):
    def interrupted(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(_runner, "_test_metrics", interrupted)
    code, _, err = run(*MOONS, "--out", tmp_path / "r")
    assert code == 130
    assert "after the last epoch (2)" in one_line(err) and str(tmp_path / "r") in err
    cfg = config.load(tmp_path / "r" / "config.toml")
    assert cfg["run"]["status"] == "interrupted" and cfg["run"]["epochs_completed"] == 2 and "result" not in cfg
    assert cr.load(tmp_path / "r" / "checkpoint.safetensors")["epoch"] == 2
    assert no_tmp(tmp_path)
    monkeypatch.undo()
    code, stdout, _ = run("evaluate", tmp_path / "r")
    assert code == 0 and stdout.strip().splitlines()[-1].startswith("test accuracy: ")


def test_ctrl_c_while_saving_waits_for_the_complete_run(tmp_path, monkeypatch):
    write = _runner._write_run

    def write_and_press_ctrl_c(*a, **k):
        os.kill(os.getpid(), signal.SIGINT)  # held back until the folder is in place
        os.kill(os.getpid(), signal.SIGINT)  # a second press changes nothing
        return write(*a, **k)

    monkeypatch.setattr(_runner, "_write_run", write_and_press_ctrl_c)
    before = signal.getsignal(signal.SIGINT)
    code, stdout, err = run(*MOONS, "--out", tmp_path / "r")
    assert code == 130 and "the run is complete" in one_line(err)
    assert stdout.strip().splitlines()[-1].startswith("test accuracy: ")
    assert config.load(tmp_path / "r" / "config.toml")["run"]["status"] == "complete"
    assert signal.getsignal(signal.SIGINT) is before and no_tmp(tmp_path)


def test_train_restores_the_term_and_hup_handlers(tmp_path):
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    assert run(*MOONS, "--epochs", "1", "--out", tmp_path / "r")[0] == 0
    assert {s: signal.getsignal(s) for s in before} == before


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_save_a_checkpoint(tmp_path, sig, status):
    out = tmp_path / "run"
    p = subprocess.Popen([sys.executable, "-m", "chainrule.cli", "train", "--dataset", "xor", "--epochs", "100000",
                          "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in p.stdout:
            if line.startswith("epoch 2/"):
                break
        p.send_signal(sig)
        _, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == status, err
    assert str(out) in one_line(err)
    cfg = config.load(out / "config.toml")
    assert cfg["run"]["status"] == "interrupted" and cfg["run"]["epochs_completed"] >= 2
    assert (out / "checkpoint.safetensors").is_file() and no_tmp(tmp_path)


# ------------------------------------------------------------------------------------------ run folder names
def test_default_names_get_a_number_when_taken(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_runner, "_run_name", lambda cfg: "same")
    assert run(*MOONS, "--epochs", "1")[0] == 0
    code, stdout, _ = run(*MOONS, "--epochs", "1")  # started after the first one finished
    assert code == 0 and f"run saved to {tmp_path / 'runs' / 'same-2'}" in stdout
    measure = _runner._test_metrics

    def another_run_finishes_first(*a):  # the name chosen at the start is taken meanwhile
        (tmp_path / "runs" / "same-3").mkdir()
        return measure(*a)

    monkeypatch.setattr(_runner, "_test_metrics", another_run_finishes_first)
    code, stdout, err = run(*MOONS, "--epochs", "1")
    assert code == 0 and err == "" and f"run saved to {tmp_path / 'runs' / 'same-4'}" in stdout
    assert sorted(os.listdir(tmp_path / "runs")) == ["same", "same-2", "same-3", "same-4"]
    assert os.listdir(tmp_path / "runs" / "same-3") == []


def test_an_out_folder_taken_during_training_keeps_the_run_next_to_it(tmp_path, monkeypatch):
    out = tmp_path / "r"
    measure = _runner._test_metrics

    def someone_writes_there(*a):
        out.mkdir()
        (out / "theirs.txt").write_text("")
        return measure(*a)

    monkeypatch.setattr(_runner, "_test_metrics", someone_writes_there)
    code, stdout, err = run(*MOONS, "--out", out)
    assert code == 2
    assert re.search(r"--out .*r: was created by something else during training; the run was saved to .*r-2",
                     one_line(err))
    assert os.listdir(out) == ["theirs.txt"]
    assert config.load(tmp_path / "r-2" / "config.toml")["run"]["status"] == "complete" and no_tmp(tmp_path)


def test_an_empty_out_folder_is_used(tmp_path):
    (tmp_path / "r").mkdir()
    assert run(*MOONS, "--epochs", "1", "--out", tmp_path / "r")[0] == 0
    assert (tmp_path / "r" / "model.safetensors").is_file() and sorted(os.listdir(tmp_path)) == ["r"]


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = run(*MOONS, "--epochs", "1", "--out", tmp_path / "r")
    assert code == 1
    line = one_line(err)
    assert line.startswith("chainrule: error: cannot write ") and line.endswith("No space left on device")
    assert str(tmp_path / "r" / "") in line and ".tmp-" not in line
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------------------------------ training
def test_the_default_batch_norm_mlp_takes_a_batch_size_leaving_one_sample(tmp_path):
    n_train = 3439  # the digits' training split after the 10 % validation split
    assert n_train % 18 == 1
    code, stdout, err = run("train", "--epochs", "1", "--batch-size", "18", "--out", tmp_path / "r")
    assert code == 0, err
    assert float(stdout.strip().splitlines()[-1].split(": ")[1]) > 0.8


def _regression_csv(path, shift=0.0, scale=100.0, n=200):
    x = np.random.default_rng(0).normal(size=n)
    path.write_text("x,y\n" + "".join(f"{a:.6f},{shift + scale * a:.3f}\n" for a in x))
    return path


def test_large_regression_targets_keep_their_precision(tmp_path):
    args = ["--target", "y", "--model", "logreg", "--epochs", "30", "--lr", "0.05"]
    code, a, err = run("train", "--dataset", _regression_csv(tmp_path / "ts.csv", 1.7e9), *args, "--out",
                       tmp_path / "a")
    assert code == 0, err
    code, b, err = run("train", "--dataset", _regression_csv(tmp_path / "ts0.csv"), *args, "--out", tmp_path / "b")
    assert code == 0, err
    mse_a, mse_b = (float(s.strip().splitlines()[-1].split(": ")[1]) for s in (a, b))
    assert mse_a < 1.0 and mse_a == pytest.approx(mse_b, rel=1e-2)  # the shift changes nothing
    (tmp_path / "in.csv").write_text("x\n0\n0.5\n")
    code, stdout, _ = run("predict", tmp_path / "a", tmp_path / "in.csv")
    values = stdout.split()
    assert code == 0 and "e" not in stdout
    assert float(values[0]) == pytest.approx(1.7e9, abs=2) and float(values[1]) == pytest.approx(1.7e9 + 50, abs=2)
    code, stdout, _ = run("evaluate", tmp_path / "a")
    assert code == 0 and "test loss (mse of the standardised targets): " in stdout


def test_huge_regression_targets_are_centred_in_float64(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 2))
    lines = [f"{a:.5f},{b:.5f},{(3 * a - 0.2 * b) * 1e20:.6e}" for a, b in x]
    (tmp_path / "huge.csv").write_text("x1,x2,y\n" + "\n".join(lines) + "\n")
    code, stdout, err = run("train", "--dataset", tmp_path / "huge.csv", "--target", "y", "--epochs", "2",
                            "--out", tmp_path / "r")
    assert code == 0 and err == "", err
    assert np.isfinite(float(stdout.strip().splitlines()[-1].split(": ")[1]))
    scale = config.load(tmp_path / "r" / "config.toml")["data"]["target_scale"]
    assert 1e19 < scale < 1e22
    (tmp_path / "in.csv").write_text("x1,x2\n1,0\n")
    code, stdout, _ = run("predict", tmp_path / "r", tmp_path / "in.csv")
    assert code == 0 and np.isfinite(float(stdout))


def test_format_value_shows_nine_significant_digits():
    assert _runner.format_value(1700000050.123) == "1700000050"
    assert _runner.format_value(2.5) == "2.5"
    assert _runner.format_value(-0.000123456789123) == "-0.000123456789"
    assert _runner.format_value(3.2e20) == "3.2e+20"
    assert _runner.format_value(0.0) == "0"
    assert _runner.format_value(1699999994.5040283, 17) == "1699999994.5040283"


def test_predictions_of_large_targets_keep_their_digits():
    assert _runner.value_digits(0.0, 1.0) == 9 and _runner.value_digits(1.5e5, 3e4) == 10
    assert _runner.value_digits(1.7e9, 2.0) == 17  # timestamps: seconds and their fractions


def test_a_diverging_run_is_one_line_without_numpys_warnings(tmp_path):
    """In a process of its own, as a user runs it (in-process, pytest would catch the warnings)."""
    p = subprocess.run([sys.executable, "-m", "chainrule.cli", "train", "--dataset", "moons", "--model", "mlp",
                        "--optimizer", "sgd", "--lr", "100", "--epochs", "3", "--out", str(tmp_path / "r")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and "Warning" not in p.stderr, p.stderr
    assert re.fullmatch(r"chainrule: error: training failed: .*(nan|inf).*", one_line(p.stderr))


def test_a_run_whose_weights_hold_nan_is_refused_by_evaluate_and_predict(tmp_path):
    code, _, err = run("train", "--dataset", "moons", "--epochs", "1", "--out", tmp_path / "r")
    assert code == 0, err
    weights = tmp_path / "r" / "model.safetensors"
    state = cr.load(weights)
    name = sorted(state)[0]
    state[name] = np.full_like(state[name], np.nan)
    cr.save(state, weights)
    (tmp_path / "in.csv").write_text("x1,x2\n0.5,0.1\n")
    for argv in (("evaluate", tmp_path / "r"), ("predict", tmp_path / "r", tmp_path / "in.csv")):
        code, out, err = run(*argv)
        assert code == 2 and out == "", (argv, out)
        assert f"parameter {name!r} holds NaN or infinite values" in one_line(err)


def test_a_file_given_as_run_folder_or_a_folder_as_config_is_named_as_such(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert "is a file, not a run folder" in one_line(run("evaluate", tmp_path / "afile")[2])
    assert "is a file, not a run folder" in one_line(run("train", "--resume", tmp_path / "afile")[2])
    assert "is a folder, not a file" in one_line(run("train", "--config", tmp_path)[2])
