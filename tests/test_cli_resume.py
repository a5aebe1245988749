"""`chainrule train --resume RUN_DIR`: an interrupted run continues to the same weights as an uninterrupted one."""

import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import _runner, config

from .cli_support import one_line, run

MOONS = ["train", "--dataset", "moons", "--epochs", "4", "--schedule", "cosine"]


def interrupt_after(monkeypatch, epoch: int) -> None:
    """Ctrl-C right after epoch ``epoch`` ends (its checkpoint taken), as a real one between epochs."""
    make = _runner._snapshot_callback

    def snapshot():
        cb = make()
        end = cb.on_epoch_end

        def on_epoch_end(e, logs):
            end(e, logs)
            if e == epoch:
                raise KeyboardInterrupt

        cb.on_epoch_end = on_epoch_end
        return cb

    monkeypatch.setattr(_runner, "_snapshot_callback", snapshot)


def weights(folder):
    return cr.load(os.path.join(folder, "model.safetensors"))


def same_weights(a, b) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight") / "run"
    code, _, err = run(*MOONS, "--out", out)
    assert code == 0, err
    return out


def test_resume_equals_the_uninterrupted_run_bit_for_bit(tmp_path, monkeypatch, straight):
    out = tmp_path / "r"
    interrupt_after(monkeypatch, 2)
    code, _, err = run(*MOONS, "--out", out)
    assert code == 130 and "after epoch 2" in one_line(err)
    monkeypatch.undo()
    code, stdout, err = run("train", "--resume", out)
    assert code == 0, err
    assert "resumed after epoch 2" in stdout and f"run saved to {out}" in stdout
    assert not (out / "checkpoint.safetensors").exists()
    assert sorted(p for p in os.listdir(tmp_path)) == ["r"]  # no temporary or old folder left
    same_weights(out, straight)
    cfg, ref = config.load(out / "config.toml"), config.load(straight / "config.toml")
    assert cfg["run"]["status"] == "complete" and cfg["run"]["epochs_completed"] == 4
    assert cfg["result"]["test_accuracy"] == ref["result"]["test_accuracy"]
    assert cfg["data"] == ref["data"] and cfg["optimizer"] == ref["optimizer"] and cfg["schedule"] == ref["schedule"]
    h, hr = cr.train.History.from_json(out / "history.json"), cr.train.History.from_json(straight / "history.json")
    assert [r["loss"] for r in h.records] == [r["loss"] for r in hr.records]
    assert [r["lr"] for r in h.records] == [r["lr"] for r in hr.records]
    code, stdout, _ = run("train", "--resume", out)  # now a complete run
    assert code == 2 and "complete run" in one_line(_)


def test_evaluate_says_a_run_is_unfinished(tmp_path, monkeypatch, straight):
    out = tmp_path / "r"
    interrupt_after(monkeypatch, 2)
    assert run(*MOONS, "--out", out)[0] == 130
    monkeypatch.undo()
    code, stdout, err = run("evaluate", out)
    assert code == 0, err
    assert stdout.splitlines()[0].startswith("note: this run is interrupted after 2 of 4 epochs")
    assert stdout.splitlines()[-1].startswith("test accuracy: ")
    code, stdout, err = run("evaluate", straight)
    assert code == 0 and "note:" not in stdout


def test_interrupted_again_while_resumed_keeps_a_newer_checkpoint(tmp_path, monkeypatch, straight):
    out = tmp_path / "r"
    interrupt_after(monkeypatch, 1)
    assert run(*MOONS, "--out", out)[0] == 130
    interrupt_after(monkeypatch, 3)
    code, _, err = run("train", "--resume", out)
    assert code == 130 and "after epoch 3" in one_line(err)
    assert cr.load(out / "checkpoint.safetensors")["epoch"] == 3
    assert config.load(out / "config.toml")["run"]["epochs_completed"] == 3
    assert len(cr.train.History.from_json(out / "history.json")) == 3
    monkeypatch.undo()
    assert run("train", "--resume", out)[0] == 0
    same_weights(out, straight)


def test_ctrl_c_during_the_first_epoch_starts_the_run_again(tmp_path, monkeypatch, straight):
    out = tmp_path / "r"
    fit = cr.train.fit

    def cut(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(cr.train, "fit", cut)
    assert run(*MOONS, "--out", out)[0] == 130
    assert cr.load(out / "checkpoint.safetensors")["epoch"] == 0
    monkeypatch.setattr(cr.train, "fit", fit)
    assert run("train", "--resume", out)[0] == 0
    same_weights(out, straight)


def test_epochs_may_raise_the_total(tmp_path, monkeypatch):
    out = tmp_path / "r"
    interrupt_after(monkeypatch, 1)
    assert run("train", "--dataset", "moons", "--epochs", "2", "--out", out)[0] == 130
    monkeypatch.undo()
    code, _, err = run("train", "--resume", out, "--epochs", "1")
    assert code == 2 and "--epochs 1" in one_line(err)
    code, _, err = run("train", "--resume", out, "--epochs", "3")
    assert code == 0, err
    cfg = config.load(out / "config.toml")
    assert cfg["train"]["epochs"] == 3 and cfg["run"]["epochs_completed"] == 3


@pytest.mark.parametrize("flag", [["--dataset", "xor"], ["--model", "logreg"], ["--lr", "0.1"], ["--seed", "3"],
                                  ["--optimizer", "sgd"], ["--out", "elsewhere"], ["--batch-size", "8"]])
def test_options_that_would_change_the_run_are_refused(tmp_path, flag):
    code, _, err = run("train", "--resume", tmp_path, *flag)
    assert code == 2 and flag[0] in one_line(err) and "--resume" in err


def test_a_complete_run_or_no_run_folder_is_one_line(tmp_path, straight):
    code, _, err = run("train", "--resume", straight)
    assert code == 2 and "no checkpoint.safetensors" in one_line(err)
    code, _, err = run("train", "--resume", tmp_path / "nope")
    assert code == 2 and "does not exist" in one_line(err)
    code, _, err = run("train", "--resume", tmp_path)
    assert code == 2 and "config.toml" in one_line(err)
