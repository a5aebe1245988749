"""load_csv: happy paths and every kind of bad input, plus fuzzing."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.data import Standardizer, TabularData, load_csv
from chainrule.errors import ArgumentError, ChainruleError, DataError, FileFormatError, MissingFileError


def write(tmp_path, text, name="t.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def iris_like(n=60, seed=0):
    rng = np.random.default_rng(seed)
    kinds = np.array(["setosa", "versicolor", "virginica"])[np.arange(n) % 3]
    x = rng.normal(size=(n, 3)) + (np.arange(n) % 3)[:, None]
    lines = ["sepal,petal,width,species"] + [f"{a:.4f},{b:.4f},{c:.4f},{k}" for (a, b, c), k in zip(x, kinds)]
    return "\n".join(lines) + "\n", x, kinds


def test_classification_with_strings(tmp_path):
    text, x, kinds = iris_like()
    d = load_csv(write(tmp_path, text), target="species", test_fraction=0.25, seed=1)
    assert isinstance(d, TabularData) and d.task == "classification"
    assert d.classes == ("setosa", "versicolor", "virginica") and d.num_classes == 3
    assert d.feature_names == ("sepal", "petal", "width") and d.num_features == 3 and d.target == "species"
    assert d.x_train.shape == (45, 3) and d.x_test.shape == (15, 3)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert np.bincount(d.y_test).tolist() == [5, 5, 5]  # stratified
    np.testing.assert_allclose(d.x_train.mean(0), 0, atol=1e-5)  # standardised on the training split
    np.testing.assert_allclose(d.x_train.std(0), 1, atol=1e-4)
    assert isinstance(d.standardizer, Standardizer)
    raw = d.standardizer.inverse_transform(np.concatenate([d.x_train, d.x_test]).astype(np.float64))
    np.testing.assert_allclose(np.sort(raw, axis=0), np.sort(np.round(x, 4), axis=0), atol=1e-4)
    labels = np.array(d.classes)[np.concatenate([d.y_train, d.y_test])]
    assert sorted(labels.tolist()) == sorted(kinds.tolist())


def test_integer_labels_classification_and_target_in_middle(tmp_path):
    text = "label,a,b\n" + "".join(f"{i % 2 * 5},{i},{i * 2}\n" for i in range(10))
    d = load_csv(write(tmp_path, text), target="label", test_fraction=0.2)
    assert d.task == "classification" and d.classes == (0, 5)
    assert d.feature_names == ("a", "b")
    assert set(d.y_train.tolist()) == {0, 1}


def test_regression(tmp_path):
    rows = "".join(f"{i},{i * 0.5},{i * 1.5 + 0.25}\n" for i in range(20))
    d = load_csv(write(tmp_path, "x1,x2,price\n" + rows), target="price", test_fraction=0.25, seed=3)
    assert d.task == "regression" and d.classes == () and d.num_classes == 0
    assert d.y_train.shape == (15, 1) and d.y_test.shape == (5, 1) and d.y_train.dtype == np.float32
    got = np.sort(np.concatenate([d.y_train, d.y_test])[:, 0])
    np.testing.assert_allclose(got, np.arange(20) * 1.5 + 0.25)


def test_task_override_bom_quotes_blank_lines_crlf(tmp_path):
    text = '\ufeff"a","b","y"\r\n\r\n1,"2",3\r\n4,5,6\r\n7,8,9\r\n\r\n'
    d = load_csv(write(tmp_path, text), target="y", test_fraction=0.34, task="regression")
    assert d.task == "regression" and d.feature_names == ("a", "b")
    assert len(d.y_train) + len(d.y_test) == 3


def test_split_is_seeded(tmp_path):
    text, _, _ = iris_like()
    path = write(tmp_path, text)
    a, b, c = (load_csv(path, "species", seed=s) for s in (4, 4, 5))
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_test, c.x_test)


BAD = {
    "empty": ("", FileFormatError, "empty"),
    "blank": ("\n \n", FileFormatError, "empty"),
    "no header": ("1,2,3\n4,5,6\n", FileFormatError, "no header"),
    "empty name": ("a,,y\n1,2,3\n4,5,6\n", FileFormatError, "column 2"),
    "duplicate": ("a,a,y\n1,2,3\n4,5,6\n", FileFormatError, "twice"),
    "no target": ("a,b,c\n1,2,3\n4,5,6\n", DataError, "columns are: a, b, c"),
    "only target": ("y\n1\n2\n", DataError, "feature columns"),
    "ragged": ("a,b,y\n1,2,3\n4,5\n", DataError, "line 3.*2 fields"),
    "non numeric": ("a,b,y\n1,2,3\n4,five,6\n", DataError, "line 3.*'b'.*'five'"),
    "missing value": ("a,b,y\n1,2,3\n4,,6\n", DataError, "line 3.*empty"),
    "nan feature": ("a,b,y\n1,2,3\n4,nan,6\n7,8,9\n", DataError, "line 3.*NaN"),
    "inf feature": ("a,b,y\n1,2,3\n4,5,6\n7,-inf,9\n", DataError, "line 4.*NaN or infinite"),
    "nan target": ("a,b,y\n1,2,3.5\n4,5,nan\n", DataError, "line 3.*target"),
    "inf string target": ("a,b,y\n1,2,cat\n4,5,inf\n", DataError, "line 3.*target"),
    "empty target": ("a,b,y\n1,2,cat\n4,5,\n", DataError, "line 3.*missing label"),
    "header only": ("a,b,y\n", DataError, "no data rows after the header"),
    "one row": ("a,b,y\n1,2,3\n", DataError, "too few rows"),
    "regression strings": ("a,y\n1,2.5\n2,x\n", DataError, "line 3.*non-numeric"),
    "huge": ("a,y\n1e308,1\n-1e308,0\n1e308,1\n", DataError, "too large"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_inputs_name_file_and_problem(tmp_path, case):
    text, error, match = BAD[case]
    task = "regression" if case == "regression strings" else None
    path = write(tmp_path, text)
    with pytest.raises(error, match=match) as info:
        load_csv(path, target="y", task=task)
    assert str(path) in str(info.value)


def test_bad_encoding_missing_file_and_arguments(tmp_path):
    path = write(tmp_path, b"a,y\n1,2\n\xff\xfe,3\n")
    with pytest.raises(FileFormatError, match="line 3.*UTF-8"):
        load_csv(path, "y")
    with pytest.raises(MissingFileError, match="nope.csv"):
        load_csv(tmp_path / "nope.csv", "y")
    with pytest.raises(FileFormatError, match="folder"):
        load_csv(tmp_path, "y")
    good = write(tmp_path, "a,y\n1,0\n2,1\n3,0\n", "g.csv")
    with pytest.raises(ArgumentError):
        load_csv(good, "y", test_fraction=0)
    with pytest.raises(ArgumentError):
        load_csv(good, "y", task="ranking")
    with pytest.raises(ChainruleError):
        load_csv(good, 1)


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SEED_CSV = "a,b,y\n1,2,cat\n3.5,-4,dog\n5,6e2,cat\n7,8,dog\n"


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_random_bytes(tmp_path, data):
    path = write(tmp_path, data, "f.csv")
    try:
        load_csv(path, "y")
    except ChainruleError:
        pass


@FUZZ
@given(st.data())
def test_fuzz_mutated_csv(tmp_path, data):
    body = bytearray(SEED_CSV.encode())
    alphabet = st.sampled_from([b",", b"\n", b'"', b"\r", b"", b"nan", b"x", b"\xff", b"\x00", b"1e999", b" ", b"y"])
    for _ in range(data.draw(st.integers(1, 5))):
        pos = data.draw(st.integers(0, len(body)))
        if data.draw(st.booleans()) and pos < len(body):
            del body[pos:pos + data.draw(st.integers(1, 6))]
        else:
            body[pos:pos] = data.draw(alphabet)
    path = write(tmp_path, bytes(body), "m.csv")
    try:
        d = load_csv(path, "y", test_fraction=0.5, seed=data.draw(st.integers(0, 3)))
    except ChainruleError:
        return
    assert np.isfinite(d.x_train).all() and np.isfinite(d.x_test).all()
    assert len(d.y_train) >= 1 and len(d.y_test) >= 1


# ------------------------------------------------------------------------------------------ separators, fast path
@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_files_read_like_comma_files(tmp_path, sep):
    text, _, _ = iris_like()
    a = load_csv(write(tmp_path, text, "comma.csv"), "species", seed=2)
    b = load_csv(write(tmp_path, text.replace(",", sep), "other.csv"), "species", seed=2)
    assert b.feature_names == a.feature_names and b.classes == a.classes
    np.testing.assert_array_equal(b.x_train, a.x_train)
    np.testing.assert_array_equal(b.y_test, a.y_test)


def test_decimal_commas_and_other_separators_get_a_hint(tmp_path):
    with pytest.raises(DataError, match="'a' holds the non-numeric value '1,5'.*decimal comma"):
        load_csv(write(tmp_path, "a;y\n1,5;0\n2,5;1\n"), "y")
    with pytest.raises(DataError, match="ragged row.*decimal comma"):
        load_csv(write(tmp_path, "a,y\n1,5,0\n2,5,1\n"), "y")
    with pytest.raises(DataError, match="no target column 'y'.*separated by another character"):
        load_csv(write(tmp_path, "a|y\n1|0\n2|1\n"), "y")


def test_the_fast_path_gives_what_the_careful_path_gives(tmp_path, monkeypatch):
    from chainrule.data import tabular

    files = {
        "strings.csv": iris_like()[0],
        "ints.csv": "a,b,y\n" + "".join(f"{i * 0.5:.2f}, {i - 3} ,{i % 3}\n" for i in range(30)),
        "reals.csv": "y,a\n" + "".join(f"{i * 1.25:.3f},{i}e-2\n\n" for i in range(30)),
        "crlf.csv": "a;y\r\n" + "".join(f"{i};{'xy'[i % 2]}\r\n" for i in range(30)),
    }
    paths = {name: write(tmp_path, text, name) for name, text in files.items()}
    target = {"strings.csv": "species"}
    for name, path in paths.items():
        assert tabular._fast_columns(tabular._open_table(path), [0], 1) is not None, name
    fast = {n: load_csv(p, target.get(n, "y"), seed=1) for n, p in paths.items()}
    monkeypatch.setattr(tabular, "_fast_columns", lambda *a: None)
    for name, path in paths.items():
        slow = load_csv(path, target.get(name, "y"), seed=1)
        assert (slow.task, slow.classes) == (fast[name].task, fast[name].classes), name
        for key in ("x_train", "x_test", "y_train", "y_test"):
            np.testing.assert_array_equal(getattr(slow, key), getattr(fast[name], key))


def test_a_row_with_extra_fields_is_ragged_on_the_fast_path_too(tmp_path):
    with pytest.raises(DataError, match="line 4: ragged row: 4 fields"):
        load_csv(write(tmp_path, "a,b,y\n1,2,3\n4,5,6\n7,8,9,10\n"), "y")


def test_regression_targets_are_float64_inside_and_float32_outside(tmp_path):
    from chainrule.data.tabular import _load_table

    path = write(tmp_path, "x,y\n" + "".join(f"{i},{1.7e9 + i + 0.25}\n" for i in range(10)))
    assert load_csv(path, "y").y_train.dtype == np.float32
    inner = _load_table(path, "y", 0.2, 0, None)
    assert inner.y_train.dtype == np.float64 and (inner.y_train % 1 == 0.25).all()


def test_read_features_prepares_new_rows_like_the_training_rows(tmp_path):
    text, x, kinds = iris_like()
    d = load_csv(write(tmp_path, text), target="species", test_fraction=0.25, seed=1)
    # the same rows, columns shuffled, no target column: the same standardised features as load_csv gave
    rows = ["width,sepal,petal"] + [f"{c:.4f},{a:.4f},{b:.4f}" for a, b, c in x]
    new = d.read_features(write(tmp_path, "\n".join(rows) + "\n", "new.csv"))
    assert new.dtype == np.float32 and new.shape == (60, 3)
    expected = (np.round(x, 4) - d.standardizer.mean) / d.standardizer.scale
    np.testing.assert_allclose(new, expected, rtol=1e-5, atol=1e-6)
    # rows of the training file itself come back as load_csv standardised them (the target is ignored)
    both = np.sort(np.concatenate([d.x_train, d.x_test]), axis=0)
    np.testing.assert_allclose(np.sort(d.read_features(tmp_path / "t.csv"), axis=0), both, atol=1e-6)


@pytest.mark.parametrize("text, message", [
    ("sepal,width\n1,2\n", "missing feature column(s) petal"),
    ("sepal,petal,width\n1,2,x\n", "line 2"),
    ("sepal,petal,width\n1,nan,3\n", "NaN"),
])  # fmt: skip
def test_read_features_names_what_is_wrong(tmp_path, text, message):
    d = load_csv(write(tmp_path, iris_like()[0]), target="species")
    with pytest.raises(DataError) as e:
        d.read_features(write(tmp_path, text, "new.csv"))
    assert message in str(e.value) and "new.csv" in str(e.value)
    with pytest.raises(MissingFileError):
        d.read_features(tmp_path / "absent.csv")
