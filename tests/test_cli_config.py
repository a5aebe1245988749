"""`chainrule` configurations and run folders: what is recorded, what is checked, evaluation across datasets."""

import os
import re

import numpy as np
import pytest

from chainrule import config
from chainrule._runconfig import model_kwargs, resolve
from chainrule._rundata import RunData, check_compatible
from chainrule.errors import ArgumentTypeError, DataError

from .cli_support import assert_bad_input, run


def _csv(path, n=80, labels=("no", "yes"), seed=0, columns="a,b,label"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)) + 3
    rows = [f"{p:.4f},{q:.4f},{labels[int(p > q)]}" for p, q in x]
    path.write_text(columns + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A CSV classification run and a moons run, 2 epochs each."""
    d = tmp_path_factory.mktemp("runs")
    csv = _csv(d / "cls.csv")
    assert run("train", "--dataset", csv, "--target", "label", "--epochs", "2", "--out", d / "c")[0] == 0
    assert run("train", "--dataset", "moons", "--epochs", "2", "--out", d / "m")[0] == 0
    return d


# ------------------------------------------------------------------------------------------ --config from a run
def test_a_runs_config_reused_for_another_dataset_drops_its_data_facts(runs, tmp_path):
    code, _, err = run("train", "--config", runs / "c" / "config.toml", "--dataset", "moons", "--epochs", "1",
                       "--out", tmp_path / "r")
    assert code == 0, err
    d = config.load(tmp_path / "r" / "config.toml")["data"]
    assert d["classes"] == ["0", "1"] and d["feature_names"] == ["x1", "x2"]
    for key in ("standardizer_mean", "standardizer_scale", "target", "target_mean"):
        assert key not in d, key
    reg = tmp_path / "reg.csv"
    reg.write_text("a,b,y\n" + "".join(f"{i},{i % 7},{i * 0.37:.3f}\n" for i in range(60)))
    code, _, err = run("train", "--config", runs / "c" / "config.toml", "--dataset", reg, "--target", "y",
                       "--epochs", "1", "--out", tmp_path / "g")
    assert code == 0, err
    d = config.load(tmp_path / "g" / "config.toml")["data"]
    assert d["task"] == "regression" and "classes" not in d and "target_scale" in d


def test_run_facts_in_a_hand_written_config_are_unknown_keys(tmp_path):
    (tmp_path / "r.toml").write_text('[data]\ndataset = "moons"\ninput_shape = [2]\n')
    assert_bad_input(*run("train", "--config", tmp_path / "r.toml", "--out", tmp_path / "r"),
                     match="unknown key 'input_shape' in \\[data\\]")


def test_relative_paths_in_a_config_file_start_at_its_folder(tmp_path, monkeypatch):
    (tmp_path / "cfg").mkdir()
    _csv(tmp_path / "data.csv")
    (tmp_path / "cfg" / "run.toml").write_text('[data]\ndataset = "../data.csv"\ntarget = "label"\n'
                                               '[train]\nepochs = 1\n')
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, _, err = run("train", "--config", "../cfg/run.toml", "--out", "r")
    assert code == 0, err
    assert config.load("r/config.toml")["data"]["dataset"] == str(tmp_path / "data.csv")


def test_another_optimizer_on_the_command_line_drops_the_files_settings(tmp_path):
    (tmp_path / "o.toml").write_text('[data]\ndataset = "xor"\n[optimizer]\nname = "sgd"\nmomentum = 0.5\n'
                                     'lr = 0.3\nweight_decay = 0.001\n[train]\nepochs = 1\n')
    code, _, err = run("train", "--config", tmp_path / "o.toml", "--optimizer", "adam", "--out", tmp_path / "r")
    assert code == 0 and "note: --optimizer adam replaces the config file's sgd" in err and "momentum, lr" in err
    o = config.load(tmp_path / "r" / "config.toml")["optimizer"]
    assert o == {"name": "adam", "lr": 0.002, "weight_decay": 0.001}


# ------------------------------------------------------------------------------------------ task
def test_task_regression_for_an_integer_target(tmp_path):
    path = tmp_path / "ints.csv"
    path.write_text("a,price\n" + "".join(f"{i},{100 + 3 * i}\n" for i in range(60)))
    code, stdout, err = run("train", "--dataset", path, "--target", "price", "--task", "regression", "--epochs", "2",
                            "--out", tmp_path / "r")
    assert code == 0 and stdout.strip().splitlines()[-1].startswith("test mse: "), err
    assert config.load(tmp_path / "r" / "config.toml")["data"]["task"] == "regression"
    (tmp_path / "t.toml").write_text(f'[data]\ndataset = "{path}"\ntarget = "price"\ntask = "regression"\n'
                                     '[train]\nepochs = 1\n')
    code, stdout, err = run("train", "--config", tmp_path / "t.toml", "--out", tmp_path / "t")
    assert code == 0 and stdout.strip().splitlines()[-1].startswith("test mse: "), err
    assert_bad_input(*run("train", "--task", "regression", "--out", tmp_path / "d"), match="regression needs a CSV")
    assert_bad_input(*run("train", "--task", "ranking", "--out", tmp_path / "d"), match="invalid choice")


# ------------------------------------------------------------------------------------------ [model] options
BAD_MODELS = [
    ('name = "cnn"\nchannels = [4]', r"\[model\] channels for cnn must be a list of 2 positive integers, got \[4\]"),
    ('name = "cnn"\nchannels = [4, 8, 16]', "channels for cnn"),
    ('name = "cnn"\nchannels = 8', "channels for cnn"),
    ('name = "shallow"\nhidden = [8, 8]', "hidden for shallow must be a positive integer"),
    ('name = "lstm"\nhidden = [16]', "hidden for lstm"),
    ('name = "resnet"\nchannels = [8, 16]', "channels for resnet"),
    ('name = "resnet"\nnum_blocks = 0', r"\[model\] num_blocks must be at least 1"),
    ('name = "mlp"\nchannels = [3, 4]', "channels does not apply to the model mlp"),
    ('name = "logreg"\nhidden = 3', "hidden does not apply to the model logreg"),
]


@pytest.mark.parametrize("table, message", BAD_MODELS, ids=[t.replace("\n", " ") for t, _ in BAD_MODELS])
def test_model_options_are_checked_per_model(tmp_path, table, message):
    (tmp_path / "m.toml").write_text(f"[model]\n{table}\n[train]\nepochs = 1\n")
    assert_bad_input(*run("train", "--config", tmp_path / "m.toml", "--out", tmp_path / "r"), match=message)
    assert not (tmp_path / "r").exists()


def test_a_cnn_takes_one_hidden_width():
    cfg = resolve(None, {"model": {"name": "cnn", "hidden": 8}})
    assert model_kwargs(cfg) == {"hidden": [8]}


# ------------------------------------------------------------------------------------------ evaluate elsewhere
def test_evaluate_on_a_new_csv_scores_every_row(runs, tmp_path):
    new = _csv(tmp_path / "new.csv", n=37, seed=5, columns="b,a,label")
    code, stdout, err = run("evaluate", runs / "c", "--dataset", new)
    assert code == 0, err
    assert stdout.splitlines()[0] == "test samples: 37"
    own = os.path.relpath(runs / "cls.csv")  # the run's own file, spelled another way: its test split
    code, stdout, _ = run("evaluate", runs / "c", "--dataset", own, "--target", "label")
    assert code == 0 and stdout.splitlines()[0] == "test samples: 16"


def test_evaluate_across_kinds_of_dataset_is_refused(runs, tmp_path):
    csv = runs / "cls.csv"
    assert_bad_input(*run("evaluate", runs / "m", "--dataset", csv, "--target", "label"),
                     match="trained on moons without a standardizer")
    assert_bad_input(*run("evaluate", runs / "c", "--dataset", "moons"), match="trained on the CSV file")
    code, _, err = run("train", "--epochs", "1", "--out", tmp_path / "d")
    assert code == 0, err
    assert_bad_input(*run("evaluate", tmp_path / "d", "--dataset", csv, "--target", "label"),
                     match=r"takes images of shape \(1, 8, 8\)")
    other = _csv(tmp_path / "other.csv", labels=("cat", "dog"))
    assert_bad_input(*run("evaluate", runs / "c", "--dataset", other), match="cat, dog are not among the run's")
    assert_bad_input(*run("evaluate", runs / "m", "--target", "label"), match="--target")


def test_class_names_of_builtin_sets_must_match():
    rd = RunData(np.zeros((2, 1, 28, 28), np.float32), np.zeros(2, np.int64), np.zeros((2, 1, 28, 28), np.float32),
                 np.zeros(2, np.int64), "classification", ["T-shirt/top", *"abcdefghi"])
    meta = {"input_shape": [1, 28, 28], "task": "classification", "num_outputs": 10,
            "classes": [str(i) for i in range(10)]}
    with pytest.raises(DataError, match="cannot be compared"):
        check_compatible(meta, rd, "fashion-mnist")


# ------------------------------------------------------------------------------------------ damaged run folders
EDITS = [
    ("input_shape = [2]", 'input_shape = "abc"', "input_shape must be a list of 1 or 3 positive integers"),
    ("num_outputs = 2", 'num_outputs = "ten"', "num_outputs must be"),
    ('classes = ["0", "1"]', 'classes = ["a"]', "classes must be a list of num_outputs = 2 names"),
    ('task = "classification"', 'task = "banana"', "task must be 'classification' or 'regression'"),
    ('feature_names = ["x1", "x2"]', 'feature_names = ["x1"]', "feature_names must be a list of 2 strings"),
    ('name = "mlp"', 'name = "cnn"\nchannels = [3]', "channels for cnn"),
]


@pytest.mark.parametrize("old, new, message", EDITS, ids=[e[1].split("\n")[0] for e in EDITS])
def test_a_damaged_run_config_is_named(runs, tmp_path, old, new, message):
    folder = tmp_path / "m"
    folder.mkdir()
    text = (runs / "m" / "config.toml").read_text()
    assert old in text
    (folder / "config.toml").write_text(text.replace(old, new, 1))
    (folder / "model.safetensors").write_bytes((runs / "m" / "model.safetensors").read_bytes())
    (tmp_path / "p.csv").write_text("x1,x2\n0,1\n")
    for argv in (["evaluate", folder], ["predict", folder, tmp_path / "p.csv"]):
        assert_bad_input(*run(*argv), match=re.escape(str(folder / "config.toml")) + ".*" + message)


# ------------------------------------------------------------------------------------------ config.toml writer
def test_the_toml_writer_escapes_del_and_c1_controls():
    cfg = {"data": {"classes": ["a\x7fb", "c\x85", "\x9f"], "k\x7f": "\x00\u00e9"}}
    text = config.dumps(cfg)
    assert "\x7f" not in text and "\x85" not in text and "\\u007f" in text
    assert config.loads(text) == cfg
    with pytest.raises(ArgumentTypeError, match="not UTF-8"):
        config.dumps({"data": {"dataset": "caf\udce9.csv"}})


def test_labels_with_control_characters_give_a_readable_run(tmp_path):
    path = tmp_path / "del.csv"
    path.write_text("x,label\n" + "".join(f"{i},{'a' + chr(127) + 'b' if i % 2 else 'c' + chr(0x85)}\n"
                                          for i in range(40)))
    assert run("train", "--dataset", path, "--target", "label", "--epochs", "1", "--out", tmp_path / "r")[0] == 0
    code, _, err = run("evaluate", tmp_path / "r")
    assert code == 0, err


def test_a_path_that_is_not_utf8_is_refused_before_training(tmp_path):
    path = tmp_path / "caf\udce9.csv"  # the bytes b"caf\xe9.csv" on disk
    try:
        _csv(path)
    except (UnicodeEncodeError, OSError):
        pytest.skip("the file system cannot hold this name")
    assert_bad_input(*run("train", "--dataset", path, "--target", "label", "--out", tmp_path / "r"),
                     match="not UTF-8 text")
    assert not (tmp_path / "r").exists()


# ------------------------------------------------------------------------------------------ small things
def test_small_command_line_checks(tmp_path):
    assert_bad_input(*run("gradcheck", "--only", "no-such-op"), match="no op or layer name contains")
    assert_bad_input(*run("train", "--target", "y", "--out", tmp_path / "r"), match="--target names the label")
    assert_bad_input(*run("train", "--dataset", "moons", "--data-dir", tmp_path, "--out", tmp_path / "r"),
                     match="--data-dir is the folder")
    (tmp_path / "f").write_text("")
    assert_bad_input(*run("train", "--dataset", "mnist", "--data-dir", tmp_path / "f", "--out", tmp_path / "r"),
                     match="is a file")
    (tmp_path / "d.toml").write_text('[data]\ndataset = "digits"\ntarget = "y"\nnoise = 0.3\n[train]\nepochs = 1\n')
    cfg = resolve(config.load(tmp_path / "d.toml"), {})
    assert "target" not in cfg["data"] and "noise" not in cfg["data"]


def test_predict_npy_files(runs, tmp_path):
    from chainrule import data

    (tmp_path / "junk.npy").write_bytes(b"\x00" * 64)
    code, out, err = run("predict", runs / "m", tmp_path / "junk.npy")
    assert_bad_input(code, out, err, match="not a NumPy .npy file")
    assert "pickle" not in err
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    code, out, err = run("predict", runs / "m", tmp_path / "obj.npy")
    assert_bad_input(code, out, err, match="Python objects")
    assert "pickle" not in err
    code, _, err = run("train", "--epochs", "1", "--out", tmp_path / "d")
    assert code == 0, err
    (_, _), (x, _) = data.load_digits()
    np.save(tmp_path / "u8.npy", np.round(x[:20] * 255).astype(np.uint8))
    np.save(tmp_path / "f.npy", np.round(x[:20] * 255).astype(np.float32) / 255)
    u8 = run("predict", tmp_path / "d", tmp_path / "u8.npy")
    f = run("predict", tmp_path / "d", tmp_path / "f.npy")
    assert u8[0] == 0 and u8[1] == f[1]
