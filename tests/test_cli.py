"""The `chainrule` command: train / evaluate / predict / plot / gradcheck / info, bad input, Ctrl-C."""

import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import config

from .cli_support import assert_bad_input, run

FINAL = re.compile(r"^test accuracy: [01]\.\d{4}$")


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "digits"
    code, stdout, stderr = run("train", "--epochs", "2", "--out", out)
    return out, code, stdout, stderr


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "moons"
    code, stdout, _ = run("train", "--dataset", "moons", "--epochs", "20", "--out", out)
    assert code == 0, stdout
    return out


def _csv(path, n=120, regression=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    lines = ["a,b,c,label"]
    for row in x:
        y = f"{2 * row[0] - row[1] + 0.5:.4f}" if regression else ("yes" if row[0] + row[1] > 0 else "no")
        lines.append(",".join(f"{v:.4f}" for v in row) + "," + y)
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------------------------------ train
def test_default_train_writes_a_complete_run_folder(digits_run):
    out, code, stdout, stderr = digits_run
    assert code == 0, stderr
    lines = stdout.strip().splitlines()
    assert FINAL.match(lines[-1]), lines[-1]
    assert float(lines[-1].split(": ")[1]) >= 0.9
    assert sum(line.startswith("epoch ") for line in lines) == 2
    assert sorted(os.listdir(out)) == ["config.toml", "curves.png", "history.json", "model.safetensors"]
    assert not [p for p in os.listdir(out.parent) if ".tmp-" in p]  # the temporary folder was renamed
    cfg = config.load(out / "config.toml")
    assert cfg["data"]["dataset"] == "digits" and cfg["data"]["input_shape"] == [1, 8, 8]
    assert cfg["data"]["classes"] == [str(i) for i in range(10)]
    assert cfg["model"]["name"] == "mlp" and cfg["train"]["epochs"] == 2 and cfg["run"]["status"] == "complete"
    assert set(cr.load(out / "model.safetensors")) == set(
        cr.nn.models.get_model("mlp", (1, 8, 8), 10, hidden=cfg["model"]["hidden"], batchnorm=True,
                               dropout=0.1).state_dict())


def test_evaluate_repeats_the_test_accuracy(digits_run):
    out, _, stdout, _ = digits_run
    code, ev, err = run("evaluate", out)
    assert code == 0, err
    assert ev.strip().splitlines()[-1] == stdout.strip().splitlines()[-1]


def test_predict_npy_and_png(digits_run, tmp_path):
    out = digits_run[0]
    (_, _), (x, y) = cr.data.load_digits()
    np.save(tmp_path / "batch.npy", x[:5])
    np.save(tmp_path / "one.npy", x[5, 0])
    from PIL import Image

    Image.fromarray((x[6, 0] * 255).astype(np.uint8)).resize((32, 32)).save(tmp_path / "digit.png")
    code, stdout, err = run("predict", out, tmp_path / "batch.npy", tmp_path / "one.npy", tmp_path / "digit.png")
    assert code == 0, err
    preds = stdout.split()
    assert len(preds) == 7 and all(p in [str(i) for i in range(10)] for p in preds)
    from chainrule._runeval import load_run

    _, model = load_run(str(out))
    expected = cr.train.predict(model, x[:6]).argmax(axis=1)
    assert [int(p) for p in preds[:6]] == expected.tolist()


def test_toml_config_describes_a_run_and_options_override_it(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[data]\ndataset = "circles"\nn = 300\n\n[model]\nname = "mlp"\nhidden = [16, 16]\n'
                   'activation = "tanh"\n\n[optimizer]\nname = "momentum"\nlr = 0.1\n\n'
                   '[schedule]\nname = "step"\nstep_size = 5\n\n[train]\nepochs = 30\nbatch_size = 16\n')
    code, stdout, err = run("train", "--config", cfg, "--epochs", "12", "--out", tmp_path / "run")
    assert code == 0, err
    saved = config.load(tmp_path / "run" / "config.toml")
    assert saved["train"]["epochs"] == 12 and saved["train"]["batch_size"] == 16
    assert saved["model"]["hidden"] == [16, 16] and saved["model"]["activation"] == "tanh"
    assert saved["optimizer"] == {"name": "momentum", "lr": 0.1, "momentum": 0.9}
    assert saved["schedule"]["step_size"] == 5 and saved["data"]["n"] == 300
    assert len(cr.train.History.from_json(tmp_path / "run" / "history.json")) == 12
    assert float(stdout.strip().splitlines()[-1].split(": ")[1]) >= 0.9


def test_csv_classification_and_regression(tmp_path):
    cls = _csv(tmp_path / "cls.csv")
    code, stdout, err = run("train", "--dataset", cls, "--target", "label", "--out", tmp_path / "c")
    assert code == 0, err
    assert FINAL.match(stdout.strip().splitlines()[-1])
    saved = config.load(tmp_path / "c" / "config.toml")
    assert saved["data"]["classes"] == ["no", "yes"] and saved["data"]["feature_names"] == ["a", "b", "c"]
    assert len(saved["data"]["standardizer_mean"]) == 3
    new = tmp_path / "new.csv"
    new.write_text("c,b,a\n0,2,2\n0,-2,-2\n")  # columns in another order, no label column
    code, stdout, err = run("predict", tmp_path / "c", new)
    assert (code, stdout.split()) == (0, ["yes", "no"]), err

    reg = _csv(tmp_path / "reg.csv", regression=True)
    code, stdout, err = run("train", "--dataset", reg, "--target", "label", "--model", "logreg", "--epochs", "60",
                            "--lr", "0.05", "--out", tmp_path / "r")
    assert code == 0, err
    last = stdout.strip().splitlines()[-1]
    assert re.match(r"^test mse: \S+$", last) and float(last.split(": ")[1]) < 0.05
    code, stdout, _ = run("predict", tmp_path / "r", new)
    assert code == 0 and float(stdout.split()[0]) == pytest.approx(2 * 2 - 2 + 0.5, abs=0.3)


def test_every_model_name_trains_on_a_2d_set(tmp_path):
    for name in ("logreg", "shallow", "lstm", "resnet"):
        code, stdout, err = run("train", "--dataset", "xor", "--model", name, "--epochs", "2", "--out",
                                tmp_path / name)
        assert code == 0 and FINAL.match(stdout.strip().splitlines()[-1]), (name, err)


# ------------------------------------------------------------------------------------------ bad input
BAD = [
    (["--dataset", "imagenet"], "valid datasets: digits, mnist"),
    (["--model", "transformer"], "valid models: logreg, shallow, mlp, cnn, lstm, resnet"),
    (["--optimizer", "adagrad"], "valid optimizers: sgd"),
    (["--schedule", "warm"], "valid schedules: none"),
    (["--dataset", "{tmp}/missing.csv", "--target", "y"], "not found"),
    (["--dataset", "{tmp}/nan.csv", "--target", "y"], "NaN"),
    (["--dataset", "{tmp}/nanlabel.csv", "--target", "y"], r"line 3: the target column 'y' holds 'nan' \(NaN"),
    (["--dataset", "{tmp}/nanword.csv", "--target", "y"], r"line 3: the target column 'y' holds 'nan' \(NaN"),
    (["--dataset", "{tmp}/ragged.csv", "--target", "y"], "ragged"),
    (["--dataset", "{tmp}/nan.csv"], "--target"),
    (["--dataset", "{tmp}/nan.csv", "--target", "nope"], "no target column"),
    (["--config", "{tmp}/bad.toml"], "malformed TOML"),
    (["--config", "{tmp}/unknown.toml"], "unknown key 'widths'"),
    (["--config", "{tmp}/missing.toml"], "does not exist"),
    (["--epochs", "0"], "epochs must be at least 1"),
    (["--epochs", "three"], "invalid int"),
    (["--lr", "-0.1"], "lr must be a positive"),
    (["--dataset", "moons", "--model", "cnn"], "needs image inputs"),
    (["--dataset", "mnist", "--data-dir", "{tmp}/nowhere"], "does not exist"),
    (["--out", "{tmp}/a_file/run"], "cannot create the run folder"),
    (["--out", "{tmp}/full"], "already exists"),
    (["--frobnicate"], "unrecognized arguments"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2_with_one_line_and_no_run_folder(tmp_path, args, message):
    (tmp_path / "nan.csv").write_text("a,b,y\n1,2,0\n3,nan,1\n4,5,1\n")
    (tmp_path / "ragged.csv").write_text("a,b,y\n1,2,0\n3,4\n")
    (tmp_path / "nanlabel.csv").write_text("a,b,y\n1,2,0\n3,4,nan\n4,5,1\n")
    (tmp_path / "nanword.csv").write_text("a,b,y\n1,2,cat\n3,4,nan\n4,5,dog\n")
    (tmp_path / "bad.toml").write_text("[model\nname = 1\n")
    (tmp_path / "unknown.toml").write_text("[model]\nwidths = [3]\n")
    (tmp_path / "a_file").write_text("")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("")
    before = set(os.listdir(tmp_path))
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "run")]
    assert_bad_input(*run("train", *argv, "--epochs" if "--epochs" not in argv else "--seed", "1"), match=message)
    assert set(os.listdir(tmp_path)) == before  # no run folder, no temporary folder
    assert os.listdir(tmp_path / "full") == ["keep.txt"]


def test_evaluate_and_predict_bad_input(digits_run, tmp_path):
    out = digits_run[0]
    assert_bad_input(*run("evaluate", tmp_path / "nothing"), match="does not exist")
    assert_bad_input(*run("evaluate", tmp_path), match="not a run folder")
    assert_bad_input(*run("evaluate", out, "--dataset", "moons"), match=r"shape \(2,\)")
    (tmp_path / "x.dat").write_text("1")
    assert_bad_input(*run("predict", out, tmp_path / "x.dat"), match="unsupported input")
    np.save(tmp_path / "wrong.npy", np.zeros((3, 5)))
    assert_bad_input(*run("predict", out, tmp_path / "wrong.npy"), match="expected one sample of shape")
    assert_bad_input(*run("predict", out, tmp_path / "absent.npy"), match="does not exist")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    assert_bad_input(*run("predict", out, tmp_path / "broken.png"), match="cannot read the image")


def test_evaluate_labels_out_of_range(tmp_path):
    _csv(tmp_path / "two.csv")
    code, _, err = run("train", "--dataset", tmp_path / "two.csv", "--target", "label", "--epochs", "1", "--out",
                       tmp_path / "run")
    assert code == 0, err
    three = tmp_path / "three.csv"
    three.write_text((tmp_path / "two.csv").read_text() + "0,0,0,maybe\n1,1,1,maybe\n")
    assert_bad_input(*run("evaluate", tmp_path / "run", "--dataset", three), match="labels out of range")


# ------------------------------------------------------------------------------------------ plot, gradcheck, info
@pytest.mark.parametrize("what", ["activations", "losses", "init", "schedules", "boundary"])
def test_plot_figures(tmp_path, what):
    pytest.importorskip("matplotlib")
    code, stdout, err = run("plot", what, "--out", tmp_path / f"{what}.png")
    assert code == 0, err
    assert (tmp_path / f"{what}.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_from_run_folders(digits_run, moons_run, tmp_path):
    pytest.importorskip("matplotlib")
    for what, folder in (("curves", digits_run[0]), ("confusion", digits_run[0]), ("boundary", moons_run)):
        code, _, err = run("plot", what, folder, "--out", tmp_path / f"{what}.png")
        assert code == 0, (what, err)
        assert (tmp_path / f"{what}.png").read_bytes()[:4] == b"\x89PNG"
    assert_bad_input(*run("plot", "boundary", digits_run[0], "--out", tmp_path / "b.png"), match="2-D")
    assert_bad_input(*run("plot", "curves", "--out", tmp_path / "c.png"), match="needs a run folder")
    assert_bad_input(*run("plot", "weights"), match="valid plots")
    assert_bad_input(*run("plot", "losses", "--out", tmp_path / "l.jpg"), match=r"\.png")


def test_plot_boundary_of_a_csv_run_uses_the_files_units_and_names(tmp_path):
    """A CSV run is drawn in the file's units, with its column and class names (not standardised x1/x2)."""
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((150, 2)) * [50.0, 0.01] + [1000.0, -3.0]
    label = np.where((x[:, 0] - 1000) / 50 + (x[:, 1] + 3) / 0.01 > 0, "red", "blue")
    lines = ["height,tilt,colour"] + [f"{a:.3f},{b:.6f},{c}" for (a, b), c in zip(x, label)]
    (tmp_path / "pts.csv").write_text("\n".join(lines) + "\n")
    code, stdout, err = run("train", "--dataset", tmp_path / "pts.csv", "--target", "colour", "--epochs", "3",
                            "--out", tmp_path / "r")
    assert code == 0, err
    from chainrule.viz.training import plot_run_boundary

    ax = plot_run_boundary(str(tmp_path / "r"), tmp_path / "b.png").axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("height", "tilt")
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["blue", "red"]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert 800 < x0 < 1000 < x1 < 1200 and -3.1 < y0 < -3 < y1 < -2.9
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"


def test_gradcheck_command_checks_every_op_and_layer():
    code, stdout, err = run("gradcheck")
    assert code == 0, err
    lines = stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["name", "max"]
    for name in ("softmax", "conv2d", "cross_entropy", "nn.LSTM", "nn.BatchNorm2d", "nn.ResidualBlock"):
        assert any(line.split()[0] == name and line.endswith("yes") for line in lines[1:-1]), name
    n = len(lines) - 2
    assert lines[-1] == f"{n} of {n} gradients agree with central differences"


def test_info_lists_versions_and_packages():
    code, stdout, _ = run("info")
    assert code == 0
    for word in ("chainrule", "numpy", "python", "blas", "optional packages"):
        assert word in stdout
    from chainrule import backend

    speed = next(line for line in stdout.splitlines() if line.startswith("speedups"))
    assert ("malloc tuning on" in speed) == backend.malloc_tuned
    assert ("BLAS axpby" in speed) == bool(backend._find_axpby())


def test_no_command_prints_help():
    code, stdout, _ = run()
    assert code == 0 and "train" in stdout


# ------------------------------------------------------------------------------------------ subprocesses
def test_console_bad_input_has_no_traceback(tmp_path):
    argv = [sys.executable, "-m", "chainrule", "train", "--model", "nope", "--out", str(tmp_path / "r")]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert not (tmp_path / "r").exists()


def test_ctrl_c_during_train_saves_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "run"
    p = subprocess.Popen([sys.executable, "-m", "chainrule.cli", "train", "--dataset", "spirals", "--epochs", "100000",
                          "--out", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in p.stdout:
            if line.startswith("epoch 3/"):
                break
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert str(out) in err and "Traceback" not in err
    names = set(os.listdir(out))
    assert {"model.safetensors", "checkpoint.safetensors", "config.toml", "history.json"} <= names
    cfg = config.load(out / "config.toml")
    assert cfg["run"]["status"] == "interrupted" and cfg["run"]["epochs_completed"] >= 1
    ckpt = cr.load(out / "checkpoint.safetensors")
    assert ckpt["epoch"] == cfg["run"]["epochs_completed"] and "optimizer" in ckpt
    assert ckpt["epoch"] >= 3 and len(cr.train.History.from_json(out / "history.json")) == ckpt["epoch"]
    model = cr.nn.models.get_model("mlp", (2,), 2, hidden=cfg["model"]["hidden"])
    model.load_state_dict(ckpt["model"])
    code, stdout, err = run("evaluate", out)
    assert code == 0 and FINAL.match(stdout.strip().splitlines()[-1]), err
