"""Every script in examples/ runs with no arguments and prints what it shows.

The MNIST examples run only when a data folder is given in the environment variable CHAINRULE_DATA_DIR
(e.g. CHAINRULE_DATA_DIR=/work/shared/datasets); otherwise they are skipped (they never download).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MNIST = {"11_cnn_mnist.py", "12_lstm_mnist.py"}
# a phrase each example must print (what it demonstrates)
EXPECT = {
    "01_softmax.py": "each row sums to 0",
    "02_cross_entropy.py": "-log(p) = 5.116",
    "03_gradient_descent.py": "step 30",
    "04_logistic_regression.py": "test accuracy:",
    "05_shallow_network.py": "shallow net, 16 tanh units",
    "06_deep_network.py": "test accuracy:",
    "07_initialization.py": "distinct hidden units in layer 1 after training: 1 of 64",
    "08_vanishing_gradients.py": "LSTM",
    "09_momentum_and_schedules.py": "exponential decay",
    "10_batch_norm.py": "batch norm on",
    "11_cnn_mnist.py": "test accuracy",
    "12_lstm_mnist.py": "test accuracy",
    "13_autoencoder_pretraining.py": "pre-training better in",
}


def _num(pattern: str, out: str) -> float:
    m = re.search(pattern, out)
    assert m, f"{pattern!r} not found in:\n{out[-2000:]}"
    return float(m.group(1))


def _claims_08(out):  # sigmoid's gradient vanishes over 20 layers, ReLU/He and the residual net keep it
    ratio = {name: _num(re.escape(name) + r".*first/last = (\S+)", out)
             for name in ("sigmoid, Xavier", "ReLU, He", "residual MLP, ReLU", "RNN ", "LSTM ")}
    assert ratio["sigmoid, Xavier"] < 1e-6
    assert 0.1 < ratio["ReLU, He"] < 10 and 0.1 < ratio["residual MLP, ReLU"] < 10
    assert ratio["RNN "] < 1e-10 and ratio["LSTM "] > 1e6 * ratio["RNN "]


def _claims_09(out):  # momentum trains faster; the decays follow the notes' formulas (computed here)
    final = {k: float(re.search(re.escape(k) + r"\s+\[.* (\S+)\]\s+test", out).group(1))
             for k in ("SGD lr 0.05 ", "SGD lr 0.05, momentum 0.9")}
    assert final["SGD lr 0.05, momentum 0.9"] < final["SGD lr 0.05 "] / 2
    lin, exp = 0.1 - (0.1 - 0.001) * 4 / 7, 0.1 * (0.001 / 0.1) ** (4 / 7)
    assert abs(_num(r"linear (\S+), exponential", out) - lin) < 5e-5
    assert abs(_num(r"exponential (\S+)\s*$", out) - exp) < 5e-5


def _claims_10(out):  # a deep sigmoid net does not train without batch norm and does with it
    off, on = _num(r"batch norm off:.*test accuracy (\S+)", out), _num(r"batch norm on :.*test accuracy (\S+)", out)
    assert off < 0.3 < 0.85 < on


def _claims_13(out):  # with plain SGD, pre-training wins in every seed (the example's docstring says so)
    assert re.search(r"plain SGD.*\n.*pre-training better in 5 of 5 seeds", out), out[-2000:]


# what each example claims, checked on its output (beyond the phrase above)
CLAIMS = {"08_vanishing_gradients.py": _claims_08, "09_momentum_and_schedules.py": _claims_09,
          "10_batch_norm.py": _claims_10, "13_autoencoder_pretraining.py": _claims_13}
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))  # _*.py: shared helpers


def test_every_example_is_listed():
    assert set(SCRIPTS) == set(EXPECT)


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_runs(name):
    args = [sys.executable, str(EXAMPLES / name)]
    if name in MNIST:
        data_dir = os.environ.get("CHAINRULE_DATA_DIR")
        if not data_dir:
            pytest.skip("set CHAINRULE_DATA_DIR to a folder with the MNIST IDX files to run the MNIST examples")
        args += ["--data-dir", data_dir, "--train-size", "2000", "--epochs", "1"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=EXAMPLES.parent)
    assert p.returncode == 0, p.stderr[-3000:]
    assert EXPECT[name] in p.stdout, p.stdout[-3000:]
    assert "Warning" not in p.stderr, p.stderr[-3000:]
    if name in CLAIMS:
        CLAIMS[name](p.stdout)


@pytest.mark.parametrize("name", sorted(MNIST))
def test_mnist_examples_skip_politely_without_data(name):
    env = {k: v for k, v in os.environ.items() if k != "CHAINRULE_DATA_DIR"}
    p = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0 and p.stdout.startswith("skipped:")


def test_logistic_regression_csv_without_target_is_a_usage_error(tmp_path):
    csv = tmp_path / "two.csv"
    csv.write_text("a,b,label\n0.1,0.2,no\n0.3,0.1,yes\n")
    p = subprocess.run([sys.executable, str(EXAMPLES / "04_logistic_regression.py"), "--csv", str(csv)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines()[-1].endswith("error: --csv needs --target COLUMN: the name of the label "
                                                      "column (two classes)")
