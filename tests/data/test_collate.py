"""DataLoader collation: dict samples (nested too) like PyTorch's default_collate, clear errors otherwise."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import data
from chainrule.errors import DataError


class _Items(data.Dataset):
    def __init__(self, make, n=5):
        self.make, self.n = make, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.make(i)


def test_dict_samples_collate_to_a_dict_like_torch():
    torch = pytest.importorskip("torch")
    make = lambda i: {"x": np.full(3, i, np.float32), "y": i, "meta": {"w": np.float64(i) / 2, "pair": (i, -i)}}  # noqa: E731
    ours = list(data.DataLoader(_Items(make), batch_size=2))
    theirs = list(torch.utils.data.DataLoader(_Items(make), batch_size=2))
    assert len(ours) == len(theirs) == 3
    for b, tb in zip(ours, theirs):
        assert isinstance(b, dict) and list(b) == ["x", "y", "meta"] and list(b["meta"]) == ["w", "pair"]
        np.testing.assert_array_equal(b["x"], tb["x"].numpy())
        assert b["x"].dtype == np.float32 and b["x"].shape == tuple(tb["x"].shape)
        np.testing.assert_array_equal(b["y"], tb["y"].numpy())
        np.testing.assert_array_equal(b["meta"]["w"], tb["meta"]["w"].numpy())
        assert isinstance(b["meta"]["pair"], tuple)
        for ours_field, their_field in zip(b["meta"]["pair"], tb["meta"]["pair"]):
            np.testing.assert_array_equal(ours_field, their_field.numpy())


def test_dict_inside_a_tuple_sample_and_tuples_stay_tuples():
    loader = data.DataLoader(_Items(lambda i: (np.ones(2) * i, {"label": i})), batch_size=3)
    x, d = next(iter(loader))
    assert x.shape == (3, 2) and d["label"].tolist() == [0, 1, 2]
    plain = next(iter(data.DataLoader(_Items(lambda i: (np.ones(2), i)), batch_size=2)))
    assert isinstance(plain, tuple) and [a.shape for a in plain] == [(2, 2), (2,)]
    single = next(iter(data.DataLoader(_Items(lambda i: cr.ones(4)), batch_size=2)))
    assert isinstance(single, tuple) and single[0].shape == (2, 4)


@pytest.mark.parametrize("make, match", [
    (lambda i: {"x": i, "y": None}, r"field 'y' of sample 0, a NoneType"),
    (lambda i: (np.ones(2), object()), r"field 1 of sample 0, a object"),
    (lambda i: {"x": {"a": [1, [2, 3]]}}, r"field 'x'\['a'\] of sample 0, a list"),
    (lambda i: {"x": i} if i == 0 else {"z": i}, r"sample 1 has a different structure.*keys \['x'\].*\['z'\]"),
    (lambda i: {"x": (i, i)} if i == 0 else {"x": (i,)}, r"sample 1 .*field 'x' to be a tuple of 2 fields"),
    (lambda i: {"x": np.ones(i + 1)}, r"field 'x' of sample 1 has shape \(2,\), but sample 0 has \(1,\)"),
    (lambda i: {"x": 1} if i == 0 else 5, r"sample 1 has a different structure.*got a int"),
])
def test_what_cannot_be_collated_raises_a_data_error(make, match):
    with pytest.raises(DataError, match=match):
        next(iter(data.DataLoader(_Items(make), batch_size=2)))
