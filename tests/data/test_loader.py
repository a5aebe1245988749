"""Dataset, TensorDataset, DataLoader, train_val_split and Standardizer."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, Dataset, Standardizer, TensorDataset, train_val_split
from chainrule.errors import ArgumentError, ChainruleError, DataError, ShapeError


def _ds(n=10):
    return TensorDataset(np.arange(n * 3, dtype=np.float32).reshape(n, 3), np.arange(n, dtype=np.int64))


class Squares(Dataset):
    """A generic dataset read item by item: (vector, label)."""

    def __init__(self, n):
        self.n = n
        self.calls = 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        return np.full(2, i, dtype=np.float32), i * i


def test_tensor_dataset_basics():
    ds = _ds(5)
    assert len(ds) == 5
    x, y = ds[3]
    np.testing.assert_array_equal(x, [9, 10, 11])
    assert y == 3
    ds2 = TensorDataset(cr.tensor(np.ones((4, 2), np.float32)), np.zeros(4))
    assert isinstance(ds2.arrays[0], np.ndarray) and len(ds2) == 4


def test_tensor_dataset_length_mismatch_names_lengths():
    with pytest.raises(DataError, match=r"\[5, 4\]"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ArgumentError):
        TensorDataset()
    with pytest.raises(DataError):
        TensorDataset(np.float32(3))


def test_base_dataset_is_abstract():
    with pytest.raises(NotImplementedError):
        len(Dataset())


@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (10, 5, True), (7, 10, False),
                                            (7, 10, True), (1, 1, False), (0, 4, False)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_once_per_epoch(n, bs, drop_last, shuffle):
    loader = DataLoader(_ds(n), batch_size=bs, shuffle=shuffle, drop_last=drop_last, seed=3)
    expected_batches = n // bs if drop_last else -(-n // bs)
    assert len(loader) == expected_batches
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == expected_batches
        seen = np.concatenate([y for _, y in batches]) if batches else np.zeros(0, np.int64)
        if drop_last:
            assert len(seen) == expected_batches * bs and len(np.unique(seen)) == len(seen)
            assert all(len(y) == bs for _, y in batches)
        else:
            np.testing.assert_array_equal(np.sort(seen), np.arange(n))
        for x, y in batches:  # features and labels stay paired
            np.testing.assert_array_equal(x[:, 0], y * 3)
            assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (len(y), 3)


def test_no_shuffle_keeps_order_and_batches_are_copies():
    ds = _ds(6)
    batches = list(DataLoader(ds, batch_size=4))
    np.testing.assert_array_equal(batches[0][1], [0, 1, 2, 3])
    np.testing.assert_array_equal(batches[1][1], [4, 5])
    batches[0][0][:] = -1
    assert ds.arrays[0].min() == 0


def test_shuffle_reproducible_by_seed_and_epoch():
    def epochs(loader, k):
        return [np.concatenate([y for _, y in loader]) for _ in range(k)]

    a = epochs(DataLoader(_ds(50), batch_size=8, shuffle=True, seed=7), 3)
    b = epochs(DataLoader(_ds(50), batch_size=8, shuffle=True, seed=7), 3)
    c = epochs(DataLoader(_ds(50), batch_size=8, shuffle=True, seed=8), 3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], a[1]), "each epoch should have its own order"
    assert not np.array_equal(a[0], c[0]), "different seeds should give different orders"
    resumed = DataLoader(_ds(50), batch_size=8, shuffle=True, seed=7)
    resumed.set_epoch(2)  # resume at epoch 2: same order as the third epoch of the original run
    np.testing.assert_array_equal(np.concatenate([y for _, y in resumed]), a[2])
    np.testing.assert_array_equal(resumed.order(1), a[1])


def test_seed_none_follows_manual_seed():
    cr.manual_seed(5)
    a = np.concatenate([y for _, y in DataLoader(_ds(30), batch_size=4, shuffle=True)])
    cr.manual_seed(5)
    b = np.concatenate([y for _, y in DataLoader(_ds(30), batch_size=4, shuffle=True)])
    np.testing.assert_array_equal(a, b)


def test_generic_dataset_fallback_stacks_fields():
    ds = Squares(7)
    batches = list(DataLoader(ds, batch_size=3, shuffle=True, seed=0))
    assert [len(b[0]) for b in batches] == [3, 3, 1] and ds.calls == 7
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    assert x.shape == (7, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(y, x[:, 0].astype(np.int64) ** 2)


def test_generic_dataset_single_array_items_and_bad_items():
    class Plain(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.zeros((2, 2)) if i != 3 else np.zeros(3)

    (xb,) = next(iter(DataLoader(Plain(), batch_size=2)))
    assert xb.shape == (2, 2, 2)
    with pytest.raises(DataError, match="sample 3"):
        list(DataLoader(Plain(), batch_size=4))


@pytest.mark.parametrize("kwargs", [dict(batch_size=0), dict(batch_size=-2), dict(seed=-1)])
def test_bad_loader_arguments(kwargs):
    with pytest.raises(ArgumentError):
        DataLoader(_ds(), **kwargs)


def test_bad_loader_argument_types():
    with pytest.raises(ChainruleError):
        DataLoader(_ds(), batch_size=2.5)
    with pytest.raises(ChainruleError):
        DataLoader(object())
    with pytest.raises(ArgumentError):
        DataLoader(_ds()).set_epoch(-1)


def test_train_val_split_plain():
    x, y = np.arange(100).reshape(50, 2), np.arange(50)
    (x_tr, y_tr), (x_val, y_val) = train_val_split(x, y, val_fraction=0.2, seed=1)
    assert len(y_val) == 10 and len(y_tr) == 40
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_val])), np.arange(50))
    np.testing.assert_array_equal(x_tr[:, 0], 2 * y_tr)
    (_, y_tr2), _ = train_val_split(x, y, val_fraction=0.2, seed=1)
    np.testing.assert_array_equal(y_tr, y_tr2)


def test_train_val_split_stratified():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    (y_tr,), (y_val,) = train_val_split(y, val_fraction=0.1, seed=0, stratify=y)
    assert np.bincount(y_val).tolist() == [6, 3, 1]
    assert np.bincount(y_tr).tolist() == [54, 27, 9]
    lonely = np.array([0, 0, 0, 0, 1])  # a class with one sample stays in training
    (tr,), (val,) = train_val_split(lonely, val_fraction=0.5, stratify=lonely)
    assert 1 in tr.tolist() and 1 not in val.tolist()


@pytest.mark.parametrize("per_class, classes, frac, want", [
    (5, 10, 0.1, 5), (5, 10, 0.3, 15), (15, 10, 0.1, 15), (25, 4, 0.5, 50), (3, 3, 0.2, 2),
])
def test_a_stratified_split_keeps_the_requested_total(per_class, classes, frac, want):
    """Each class rounded on its own drifted: 10 classes of 5 at 0.1 gave 1 validation sample, at 0.3 gave 20."""
    y = np.repeat(np.arange(classes), per_class)
    (_,), (val,) = train_val_split(y, val_fraction=frac, stratify=y)
    assert len(val) == want == round(len(y) * frac)
    assert np.ptp(np.bincount(val, minlength=classes)) <= 1  # spread evenly over equal classes


def test_train_val_split_errors():
    with pytest.raises(DataError, match="same length"):
        train_val_split(np.zeros(5), np.zeros(6))
    with pytest.raises(DataError, match="at least 2"):
        train_val_split(np.zeros(1))
    with pytest.raises(ArgumentError):
        train_val_split(np.zeros(10), val_fraction=1.0)
    with pytest.raises(DataError):
        train_val_split(np.zeros(10), stratify=np.zeros(3))


def test_standardizer_fit_transform_inverse(rng):
    x = (rng.normal(3.0, 2.0, size=(200, 4))).astype(np.float32)
    x[:, 2] = 7.0  # zero variance
    s = Standardizer().fit(x)
    z = s.transform(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), [1, 1, 0, 1], atol=1e-5)
    np.testing.assert_allclose(s.inverse_transform(z), x, rtol=1e-5, atol=1e-5)
    assert s.transform(x.astype(np.float64)).dtype == np.float64
    restored = Standardizer().load_state_dict(s.state_dict())
    np.testing.assert_array_equal(restored.transform(x), z)
    assert all(isinstance(v, np.ndarray) for v in s.state_dict().values())


def test_standardizer_keeps_the_precision_of_large_integers():
    x = (1_700_000_000 + np.arange(100)).reshape(-1, 1)  # int64 timestamps: float32 has no number for each
    z = Standardizer().fit(x).transform(x)
    assert z.dtype == np.float32 and len(np.unique(z)) == 100
    np.testing.assert_allclose(z[:, 0], (np.arange(100) - 49.5) / np.arange(100).std(), rtol=1e-6)


def test_standardizer_refuses_what_is_not_numbers():
    with pytest.raises(DataError, match="not a rectangular array of numbers"):
        Standardizer().fit([[1, 2], [3]])
    s = Standardizer().fit(np.zeros((3, 1)))
    with pytest.raises(DataError, match="expected numbers in the data"):
        s.transform(np.array([["a"]]))
    with pytest.raises(DataError, match="expected numbers in the mean"):
        Standardizer().load_state_dict({"mean": ["a"], "scale": [1.0]})


def test_standardizer_errors():
    s = Standardizer()
    with pytest.raises(ArgumentError, match="fit"):
        s.transform(np.zeros((2, 3)))
    s.fit(np.zeros((4, 3)))
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        s.transform(np.zeros((2, 4)))
    with pytest.raises(DataError):
        Standardizer().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(DataError):
        Standardizer().fit(np.zeros((0, 3)))
    with pytest.raises(DataError):
        Standardizer().load_state_dict({"mean": np.zeros(3)})


def test_tensor_dataset_subclass_with_own_getitem_is_read_item_by_item():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    xb, yb = next(iter(DataLoader(Doubled(*_ds(4).arrays), batch_size=4)))
    np.testing.assert_array_equal(xb[:, 0], yb * 6)
