"""cr.manual_seed governs every draw of chainrule.data (QA2 api #2): lazy loader draws, splits on the global seed."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, nn
from chainrule.errors import ArgumentError


def _ds(n=40):
    return data.TensorDataset(np.arange(2 * n, dtype=np.float32).reshape(n, 2), np.arange(n))


def _labels(loader):
    return np.concatenate([y for _, y in loader])


def test_building_a_loader_draws_nothing_and_an_unshuffled_one_never_draws():
    cr.manual_seed(0)
    w1 = nn.Linear(2, 2).weight.numpy().copy()
    cr.manual_seed(0)
    plain, shuffled = data.DataLoader(_ds(), batch_size=4), data.DataLoader(_ds(), batch_size=4, shuffle=True)
    list(plain)  # iterating an unshuffled loader draws nothing either
    w2 = nn.Linear(2, 2).weight.numpy().copy()
    np.testing.assert_array_equal(w1, w2)
    assert shuffled.seed is None


def test_an_unseeded_loader_built_once_repeats_its_order_after_manual_seed():
    loader = data.DataLoader(_ds(), batch_size=4, shuffle=True)  # built before the seed, as in a notebook
    cr.manual_seed(3)
    first = _labels(loader)
    cr.manual_seed(3)
    again = _labels(loader)  # the loader's epoch counter moved on: the order still follows the global seed
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, _labels(loader)), "an epoch without re-seeding gets a new order"
    assert sorted(first.tolist()) == list(range(40))


def test_the_whole_loop_repeats_like_torch():
    """The QA script: model init + one pass over a loader built once, run twice after manual_seed(0)."""
    import chainrule.functional as F
    from chainrule import optim

    x = np.random.default_rng(0).standard_normal((100, 8)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, 100)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=16, shuffle=True)

    def run():
        cr.manual_seed(0)
        model = nn.Linear(8, 3)
        opt = optim.SGD(model.parameters(), lr=0.1)
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
        return model.weight.numpy().copy()

    np.testing.assert_array_equal(run(), run())


def test_torch_dataloader_semantics_for_comparison():
    torch = pytest.importorskip("torch")
    ds = torch.utils.data.TensorDataset(torch.arange(20))
    loader = torch.utils.data.DataLoader(ds, batch_size=4, shuffle=True)  # built once
    torch.manual_seed(0)
    a = torch.cat([b[0] for b in loader])
    torch.manual_seed(0)
    b = torch.cat([b[0] for b in loader])
    assert torch.equal(a, b)  # torch: the order is drawn from the global generator at iteration
    torch.manual_seed(0)
    r1 = torch.rand(1)
    torch.manual_seed(0)
    torch.utils.data.DataLoader(ds, batch_size=4, shuffle=True)
    assert torch.equal(r1, torch.rand(1))  # and building a loader draws nothing


def test_seeded_loaders_keep_their_epoch_orders():
    loader = data.DataLoader(_ds(), batch_size=4, shuffle=True, seed=5)
    cr.manual_seed(0)
    a = [_labels(loader) for _ in range(2)]
    cr.manual_seed(99)
    b = data.DataLoader(_ds(), batch_size=4, shuffle=True, seed=5)
    np.testing.assert_array_equal(a[0], _labels(b))
    np.testing.assert_array_equal(a[1], loader.order(1))


def test_order_of_an_unseeded_loader_is_not_known_in_advance():
    with pytest.raises(ArgumentError, match="no seed.*seed="):
        data.DataLoader(_ds(), batch_size=4, shuffle=True).order()
    np.testing.assert_array_equal(data.DataLoader(_ds(5), batch_size=4).order(), np.arange(5))


def test_splits_without_seed_follow_manual_seed(tmp_path):
    x = np.arange(100)
    cr.manual_seed(0)
    a = data.train_val_split(x, seed=None)[1][0]
    cr.manual_seed(0)
    b = data.train_val_split(x, seed=None)[1][0]
    np.testing.assert_array_equal(a, b)
    cr.manual_seed(1)
    assert not np.array_equal(a, data.train_val_split(x, seed=None)[1][0])
    np.testing.assert_array_equal(data.train_val_split(x, seed=4)[1][0], data.train_val_split(x, seed=4)[1][0])
    rng = np.random.default_rng(0)
    p = tmp_path / "t.csv"
    rows = [f"{u:.4f},{v:.4f},{int(u > v)}" for u, v in rng.random((60, 2))]
    p.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    cr.manual_seed(0)
    c = data.load_csv(p, "label", seed=None).x_train
    cr.manual_seed(0)
    np.testing.assert_array_equal(c, data.load_csv(p, "label", seed=None).x_train)
