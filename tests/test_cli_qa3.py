"""The command line after the third QA sweep: results are never NaN, CSV edge cases, predict's inputs and output.

Every file is written by the test itself (tiny CSVs, 60 rows or fewer).
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import config
from chainrule.data.preprocessing import Standardizer
from chainrule.errors import DataError, NonFiniteError

from .cli_support import assert_bad_input, run


def _rows(n, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    return a, b


def _write(path, header, rows):
    path.write_text(header + "\n" + "".join(",".join(str(v) for v in r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A classification run and a regression run on 60-row CSV files."""
    d = tmp_path_factory.mktemp("runs")
    a, b = _rows(60)
    cls = _write(d / "cls.csv", "a,b,y", zip(a, b, (a + b > 0).astype(int)))
    reg = _write(d / "reg.csv", "a,b,price", zip(a, b, 3 * a - b + 0.5))
    for name, path, target in (("cls", cls, "y"), ("reg", reg, "price")):
        code, _, err = run("train", "--dataset", path, "--target", target, "--epochs", "3", "--out", d / name)
        assert code == 0, err
    return d


# ------------------------------------------------------------------------------------------ never NaN
def test_evaluate_on_values_that_overflow_is_an_error_not_nan(runs, tmp_path):
    huge = _write(tmp_path / "huge.csv", "a,b,y", [(0.5, 1.0, 1), (3e38, -3e38, 0), (-1, -1, 0)])
    assert_bad_input(*run("evaluate", runs / "cls", "--dataset", huge), match=r"output is NaN for 1 of 3 samples")


def test_predict_on_values_that_overflow_is_an_error_not_nan(runs, tmp_path):
    rows = _write(tmp_path / "p.csv", "a,b", [(0.5, 1.0), (3e38, -3e38)])
    for run_dir in ("cls", "reg"):
        assert_bad_input(*run("predict", runs / run_dir, rows), match="output is NaN")


def test_an_infinite_test_loss_is_an_error(runs, tmp_path):
    big = _write(tmp_path / "big.csv", "a,b,price", [(1e20, -1e20, 1), (0, 0, 1)])
    assert_bad_input(*run("evaluate", runs / "reg", "--dataset", big, "--target", "price"), match="the loss is inf")


def test_the_python_api_names_the_sample():
    model = cr.nn.Linear(2, 1)
    model.weight.data[...] = 1.0  # inf - inf = NaN
    with pytest.raises(NonFiniteError, match=r"output is NaN for 1 of 2 samples in a batch, the first at sample 3"):
        with np.errstate(all="raise"):
            cr.train.predict(model, np.array([[0, 0], [1, 1], [2, 2], [np.inf, -np.inf], [0, 0]]), batch_size=3)


# ------------------------------------------------------------------------------------------ CSV reading
def test_a_constant_column_gets_scale_one_whatever_its_rounding():
    x = np.column_stack([np.arange(7.0), np.full(7, 0.1)])
    s = Standardizer().fit(x)
    assert s.scale[1] == 1.0 and s.mean[1] == 0.1
    np.testing.assert_allclose(s.transform(np.array([[3.0, 0.2]]))[0, 1], 0.1, rtol=1e-6)


def test_predict_standardises_npy_rows_like_csv_rows(runs, tmp_path):
    rows = np.array([[0.3, -1.2], [1.5, 0.2]])
    np.save(tmp_path / "rows.npy", rows)
    _write(tmp_path / "rows.csv", "a,b", rows.tolist())
    code, out, err = run("predict", runs / "reg", tmp_path / "rows.csv", tmp_path / "rows.npy")
    assert code == 0, err
    lines = out.split()
    assert lines[:2] == lines[2:]


def test_a_row_with_an_extra_field_is_refused_by_predict(runs, tmp_path):
    ragged = _write(tmp_path / "ragged.csv", "a,b", [(0.5, 1.0), (1, 5, 2.0), (-1, -1)])
    assert_bad_input(*run("predict", runs / "cls", ragged), match=r"line 3: ragged row: 3 fields")


@pytest.mark.parametrize("word", ["NA", "?"])
def test_a_word_among_numeric_targets_is_an_error_not_a_class(tmp_path, word):
    a, b = _rows(20)
    rows = [(x, y, int(x > 0)) for x, y in zip(a, b)]
    rows[4] = (rows[4][0], rows[4][1], word)
    path = _write(tmp_path / "t.csv", "a,b,y", rows)
    assert_bad_input(*run("train", "--dataset", path, "--target", "y", "--epochs", "1", "--out", tmp_path / "r"),
                     match=rf"line 6: the target column 'y' holds numbers and the word '{word}'")
    with pytest.raises(DataError, match="holds numbers and the word"):
        cr.data.load_csv(path, "y")
    assert cr.data.load_csv(path, "y", task="classification").classes[-1] == word  # asked for: a class


def test_a_quoted_separator_in_the_header_does_not_decide_the_separator(tmp_path):
    a, b = _rows(20)
    path = tmp_path / "semi.csv"
    path.write_text('"price, EUR";b;y\n' + "".join(f"{x};{z};{int(x > 0)}\n" for x, z in zip(a, b)))
    d = cr.data.load_csv(path, "y")
    assert list(d.feature_names) == ["price, EUR", "b"]


def test_evaluate_scores_a_one_row_file(runs, tmp_path):
    one = _write(tmp_path / "one.csv", "a,b,y", [(0.5, 1.0, 1)])
    code, out, err = run("evaluate", runs / "cls", "--dataset", one)
    assert code == 0, err
    assert "test samples: 1" in out
    assert_bad_input(*run("train", "--dataset", one, "--target", "y", "--out", tmp_path / "r"),
                     match="too few rows to split")
    (tmp_path / "hdr.csv").write_text("a,b,y\n")
    assert_bad_input(*run("evaluate", runs / "cls", "--dataset", tmp_path / "hdr.csv"), match="no data rows")


def test_evaluate_ignores_extra_columns_as_predict_does(runs, tmp_path):
    a, b = _rows(8, seed=1)
    y = (a + b > 0).astype(int)
    plain = _write(tmp_path / "plain.csv", "a,b,y", zip(a, b, y))
    extra = _write(tmp_path / "extra.csv", "id,b,y,a", zip(range(8), b, y, a))  # another order, an id column
    outs = []
    for path in (plain, extra):
        code, out, err = run("evaluate", runs / "cls", "--dataset", path)
        assert code == 0, err
        outs.append(out)
    assert outs[0] == outs[1].replace(str(extra), str(plain))
    short = _write(tmp_path / "short.csv", "a,y", zip(a, y))
    assert_bad_input(*run("evaluate", runs / "cls", "--dataset", short), match="missing feature column.* b;")


def test_a_non_numeric_regression_target_is_named_plainly(tmp_path):
    path = _write(tmp_path / "s.csv", "a,y", [(0.1, "cat"), (0.2, "dog"), (0.3, "cat")])
    assert_bad_input(*run("train", "--dataset", path, "--target", "y", "--task", "regression", "--out",
                          tmp_path / "r"), match=r"non-numeric value 'cat'$")


# ------------------------------------------------------------------------------------------ predict's output
def test_a_class_name_with_a_newline_stays_on_one_line(tmp_path):
    a, _ = _rows(30)
    path = tmp_path / "nl.csv"
    multi = '"multi\nline"'  # a quoted label with a newline inside
    path.write_text("a,y\n" + "".join(f"{x},{multi if x > 0 else 'plain'}\n" for x in a))
    assert run("train", "--dataset", path, "--target", "y", "--epochs", "5", "--out", tmp_path / "r")[0] == 0
    _write(tmp_path / "new.csv", "a", [(2.0,), (-2.0,)])
    code, out, err = run("predict", tmp_path / "r", tmp_path / "new.csv")
    assert code == 0, err
    assert len(out.splitlines()) == 2 and set(out.splitlines()) <= {"multi\\nline", "plain"}


def test_large_regression_targets_keep_their_digits(tmp_path):
    a, _ = _rows(60)
    path = _write(tmp_path / "ts.csv", "a,t", [(x, f"{1700000000.5 + 3 * x:.4f}") for x in a])
    assert run("train", "--dataset", path, "--target", "t", "--epochs", "40", "--out", tmp_path / "r")[0] == 0
    meta = config.load(tmp_path / "r" / "config.toml")["data"]
    _write(tmp_path / "new.csv", "a", [(0.0,)])
    code, out, err = run("predict", tmp_path / "r", tmp_path / "new.csv")
    assert code == 0, err
    assert len(out.strip().replace(".", "").replace("-", "")) == 17  # 17 significant digits
    assert abs(float(out) - meta["target_mean"]) < 10 * meta["target_scale"]


# ------------------------------------------------------------------------------------------ options
def test_batch_size_one_with_batch_norm_is_bad_input(tmp_path):
    assert_bad_input(*run("train", "--batch-size", "1", "--epochs", "1", "--out", tmp_path / "r"),
                     match="batch size 1 cannot train model 'mlp': it holds batch normalisation")


def test_an_empty_out_is_bad_input(tmp_path):
    assert_bad_input(*run("train", "--epochs", "1", "--out", ""), match="--out: got an empty folder name")
