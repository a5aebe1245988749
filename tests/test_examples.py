"""Every script in examples/ runs with no arguments and prints what it shows.

The MNIST examples run only when a data folder is given in the environment variable CHAINRULE_DATA_DIR
(e.g. CHAINRULE_DATA_DIR=/work/shared/datasets); otherwise they are skipped (they never download).
"""

import os
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
