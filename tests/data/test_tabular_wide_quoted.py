"""load_csv on wide headers (QA2 practice #8) and quoted fields (QA2 practice, minor: quoted CSVs)."""

import numpy as np
import pytest

from chainrule import data
from chainrule.data import tabular as T
from chainrule.errors import DataError, FileFormatError


def _wide(path, d, rows=3, names=None):
    names = names or [f"c{i}" for i in range(d)]
    with open(path, "w") as f:
        f.write(",".join(names + ["t"]) + "\n")
        for r in range(rows):
            f.write(",".join(str((r + i) % 7) for i in range(d)) + f",{r % 2}\n")


def test_a_wide_header_loads_and_its_duplicates_are_still_found(tmp_path):
    # 30,000 columns: the old check (name in header[:i]) made 4.5e8 comparisons here; a set makes 30,000
    d = 30_000
    _wide(tmp_path / "w.csv", d, rows=4)
    out = data.load_csv(tmp_path / "w.csv", "t", test_fraction=0.5)
    assert out.x_train.shape == (2, d) and out.feature_names[-1] == f"c{d - 1}"
    names = [f"c{i}" for i in range(d)]
    names[-1] = "c17"
    _wide(tmp_path / "dup.csv", d, names=names)
    with pytest.raises(FileFormatError, match="'c17' appears twice"):
        data.load_csv(tmp_path / "dup.csv", "t")
    cols = [f"c{i}" for i in range(d - 1, -1, -1)]  # read_features looks every name up once, by dict
    x = T.read_features(tmp_path / "w.csv", cols)
    assert x.shape == (4, d) and x[1, -1] == 1.0 and x[1, 0] == (1 + d - 1) % 7
    with pytest.raises(DataError, match="missing feature column.*nope"):
        T.read_features(tmp_path / "w.csv", ["c0", "nope"])


def _quoted_text(rng, n=40):
    rows = []
    for i in range(n):
        a, b = rng.standard_normal(2)
        label = ["setosa", "versicolor", "virginica"][i % 3]
        rows.append(f'"{a:.5f}",{b:.5f},"{label}"')
    return 'a,"b","species"\n' + "\n".join(rows) + "\n"  # as R's write.csv quotes strings


def _careful(path, target):
    table = T._open_table(path)
    t = table.header.index(target)
    rows, lines = T._rows(table)
    names = table.header[:t] + table.header[t + 1:]
    return T._parse_features(path, names, [r[:t] + r[t + 1:] for r in rows], lines), [r[t] for r in rows]


def test_quoted_fields_take_numpys_path_and_read_as_the_csv_module_does(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text(_quoted_text(np.random.default_rng(0)))
    table = T._open_table(p)
    fast = T._fast_columns(table, [0, 1], 2)
    assert fast is not None, "a quoted file must not fall back to the per-cell Python path"
    x, y = _careful(p, "species")
    np.testing.assert_array_equal(fast[0], x)
    assert fast[1].tolist() == y
    d = data.load_csv(p, "species")
    assert d.classes == ("setosa", "versicolor", "virginica") and d.x_train.shape[1] == 2


@pytest.mark.parametrize("body", [
    '1,2,"q""r"\n3,4,"y"\n5,6,"q""r"\n7,8,"y"\n',     # a doubled quote is one quote
    '1,2, "x"\n3,4,"y"\n5,6, "x"\n7,8,"y"\n',          # a quote after a space is a character
    '1,2,"x\n1"\n3,4,"y"\n5,6,"x\n1"\n7,8,"y"\n',      # a newline inside quotes
    '" 1.5 ",2," x "\n3,4,"y"\n5,6,"x"\n7,8,"y"\n',    # spaces inside quotes are stripped
    '1,2,"x,1"\n3,4,"y"\n5,6,"x,1"\n7,8,"y"\n',        # a separator inside quotes: the careful path
])
def test_quoted_edge_cases_give_the_csv_modules_values(tmp_path, body):
    p = tmp_path / "e.csv"
    p.write_text("a,b,y\n" + body)
    fast = T._fast_columns(T._open_table(p), [0, 1], 2)
    x, y = _careful(p, "y")
    if fast is not None:
        np.testing.assert_array_equal(fast[0], x)
        assert [v.strip() for v in fast[1].tolist()] == [v.strip() for v in y]
    d = data.load_csv(p, "y", test_fraction=0.5)
    assert d.num_classes == 2 and d.x_train.shape == (2, 2)


def test_bad_values_in_quoted_files_still_name_the_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text('a,b,y\n"1",2,"x"\n"",4,"y"\n5,6,"x"\n7,8,"y"\n')
    with pytest.raises(DataError, match="line 3.*empty field"):
        data.load_csv(p, "y")
    p.write_text('a,b,y\n"1",2,"x"\n"nan",4,"y"\n5,6,"x"\n7,8,"y"\n')
    with pytest.raises(DataError, match="line 3.*'nan'"):
        data.load_csv(p, "y")
