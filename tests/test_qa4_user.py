"""Fourth QA sweep, a practitioner's mistakes: each gets a clear error or a plain statement, not nonsense.

Every file is written by the test itself (tiny CSVs).
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import data, nn, optim, train
from chainrule.errors import ArgumentError, DataError

from .cli_support import assert_bad_input, run


def _table(path, sep=",", n=60, target=lambda a, b: int(a + b > 0), name="y"):
    rng = np.random.default_rng(0)
    rows = [(a, b, target(a, b)) for a, b in rng.standard_normal((n, 2))]
    path.write_text(sep.join(("a", "b", name)) + "\n" + "".join(sep.join(map(str, r)) + "\n" for r in rows))
    return path


def test_whole_numbers_nearly_all_different_are_not_guessed_as_classes(tmp_path):
    path = _table(tmp_path / "price.csv", n=300, target=lambda a, b: int(200_000 + 30_000 * a), name="price")
    with pytest.raises(DataError, match=r"'price' holds whole numbers with \d+ distinct values in 300 rows"):
        data.load_csv(path, "price")
    assert data.load_csv(path, "price", task="regression").task == "regression"
    assert data.load_csv(path, "price", task="classification").task == "classification"  # asked for: allowed
    assert_bad_input(*run("train", "--dataset", path, "--target", "price", "--out", tmp_path / "r"),
                     match="too many to be classes")
    few = _table(tmp_path / "digits.csv", n=300, target=lambda a, b: int(abs(a) * 10) % 10)  # 10 classes: fine
    assert data.load_csv(few, "y").task == "classification"


def test_a_regression_run_says_which_units_its_losses_are_in(tmp_path):
    path = _table(tmp_path / "reg.csv", target=lambda a, b: 3.5 * a - b, name="v")
    code, out, err = run("train", "--dataset", path, "--target", "v", "--epochs", "1", "--out", tmp_path / "r")
    assert code == 0, err
    assert "loss and val_loss: the mse of the standardised targets" in out


@pytest.mark.parametrize("name", ["t.tsv", "t.txt"])
def test_a_tab_separated_file_trains_and_predicts_whatever_its_extension(tmp_path, name):
    path = _table(tmp_path / name, sep="\t")
    code, out, err = run("train", "--dataset", path, "--target", "y", "--epochs", "1", "--out", tmp_path / "r")
    assert code == 0, err
    new = tmp_path / ("new" + path.suffix)
    new.write_text("a\tb\n0.5\t0.5\n-1\t-1\n")
    code, out, err = run("predict", tmp_path / "r", new)
    assert code == 0, err
    assert len(out.splitlines()) == 2


def test_fit_refuses_an_optimizer_built_on_another_model():
    x, y = np.ones((8, 5), np.float32), np.zeros(8, np.int64)
    old, model = nn.Linear(5, 3), nn.Linear(5, 3)
    with pytest.raises(ArgumentError, match="holds none of the model's 2 trainable parameters"):
        train.fit(model, F.cross_entropy, optim.SGD(old.parameters(), lr=0.5), (x, y), epochs=1)
    net = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    before = net[0].weight.numpy().copy()
    train.fit(net, F.cross_entropy, optim.SGD(net[2].parameters(), lr=0.5), (x, y), epochs=1)  # the head only
    np.testing.assert_array_equal(net[0].weight.numpy(), before)


def test_binary_cross_entropy_with_logits_refuses_targets_outside_0_1():
    for t in ([2.0], [-1.0], [np.nan]):
        with pytest.raises(DataError, match=r"binary_cross_entropy_with_logits: target must hold values in \[0, 1\]"):
            F.binary_cross_entropy_with_logits(cr.tensor([3.0]), np.array(t, np.float32))
        with pytest.raises(DataError, match="target must hold values"):
            nn.BCEWithLogitsLoss(pos_weight=cr.tensor([2.0]))(cr.tensor([3.0]), np.array(t, np.float32))
    soft = F.binary_cross_entropy_with_logits(cr.tensor([0.0]), cr.tensor([0.25]))  # soft labels stay allowed
    assert abs(soft.item() - np.log(2.0)) < 1e-6


def _with_ids(path, n=80):
    rng = np.random.default_rng(1)
    rows = [(i, f"n{i}", a, b, int(a + b > 0)) for i, (a, b) in enumerate(rng.standard_normal((n, 2)))]
    path.write_text("id,name,a,b,y\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_load_csv_ignores_columns_that_are_not_features(tmp_path):
    path = _with_ids(tmp_path / "ids.csv")
    d = data.load_csv(path, "y", ignore=["id", "name"])
    assert d.feature_names == ("a", "b") and d.x_train.shape[1] == 2
    assert data.load_csv(path, "y", ignore=("name",)).feature_names == ("id", "a", "b")
    with pytest.raises(DataError, match="feature column 'name' holds the non-numeric value 'n0'.*--ignore name"):
        data.load_csv(path, "y")
    with pytest.raises(DataError, match="cannot ignore column.* idx: no such column"):
        data.load_csv(path, "y", ignore=["idx", "name"])
    with pytest.raises(DataError, match="target column 'y' cannot also be ignored"):
        data.load_csv(path, "y", ignore=["name", "y"])
    with pytest.raises(DataError, match="no feature columns besides the target"):
        data.load_csv(path, "y", ignore=["id", "name", "a", "b"])
    with pytest.raises(cr.errors.ArgumentTypeError, match="ignore must be a column name or a list"):
        data.load_csv(path, "y", ignore=[1])


def test_a_run_ignores_columns_from_the_command_line_or_its_config(tmp_path):
    path = _with_ids(tmp_path / "ids.csv")
    out = tmp_path / "r"
    code, _, err = run("train", "--dataset", path, "--target", "y", "--ignore", "id, name", "--epochs", "2",
                       "--out", out)
    assert code == 0, err
    cfg = cr.config.load(out / "config.toml")
    assert cfg["data"]["ignore"] == ["id", "name"] and cfg["data"]["feature_names"] == ["a", "b"]
    code, scored, err = run("evaluate", out)  # the run's own file, id and name columns included
    assert code == 0, err
    code, predicted, err = run("predict", out, path)
    assert code == 0 and len(predicted.splitlines()) == 80, err
    toml = tmp_path / "run.toml"
    toml.write_text(f'[data]\ndataset = "{path.name}"\ntarget = "y"\nignore = ["id", "name"]\n[train]\nepochs = 2\n')
    code, _, err = run("train", "--config", toml, "--out", tmp_path / "r2")
    assert code == 0, err
    assert_bad_input(*run("train", "--dataset", "moons", "--ignore", "id", "--out", tmp_path / "m"),
                     match="--ignore names columns of a CSV file")
    toml.write_text(f'[data]\ndataset = "{path.name}"\ntarget = "y"\nignore = "id"\n')
    assert_bad_input(*run("train", "--config", toml, "--out", tmp_path / "r3"), match="list of column names")
