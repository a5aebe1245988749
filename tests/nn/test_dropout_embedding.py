"""Dropout (statistics, determinism, gradient) and Embedding (lookup, repeated ids, padding, errors)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn


# -------------------------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    x = cr.ones(200, 500)
    y = F.dropout(x, p).numpy()
    kept = y != 0
    assert abs(1 - kept.mean() - p) < 0.01  # 100,000 draws: the dropped fraction is p to within 1%
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(y.mean() - 1) < 0.03  # inverted dropout keeps the expectation


def test_dropout_keeps_dtype_and_gradient_is_the_mask():
    for dt in (np.float32, np.float64):
        x = cr.tensor(np.full((30, 40), 2.0, dtype=dt), requires_grad=True)
        y = F.dropout(x, 0.25)
        assert y.dtype == dt
        y.sum().backward()
        np.testing.assert_allclose(x.grad, (y.numpy() != 0) / 0.75, rtol=1e-6)


def test_dropout_is_deterministic_under_manual_seed():
    cr.manual_seed(123)
    a = F.dropout(cr.ones(50, 50), 0.5).numpy()
    b = F.dropout(cr.ones(50, 50), 0.5).numpy()
    cr.manual_seed(123)
    a2 = F.dropout(cr.ones(50, 50), 0.5).numpy()
    b2 = nn.Dropout(0.5)(cr.ones(50, 50)).numpy()
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    assert not np.array_equal(a, b)  # successive calls draw new masks
    g1 = F.dropout(cr.ones(20), 0.5, generator=9).numpy()
    g2 = F.dropout(cr.ones(20), 0.5, generator=np.random.default_rng(9)).numpy()
    np.testing.assert_array_equal(g1, g2)


def test_dropout_identity_cases_and_module_modes():
    x = cr.randn(5, 6, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    d = nn.Dropout(0.3)
    assert d.training and (d(cr.ones(100)).numpy() == 0).any()
    d.eval()
    np.testing.assert_array_equal(d(x).numpy(), x.numpy())
    assert repr(d) == "Dropout(p=0.3, inplace=False)"  # PyTorch's


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", None])
def test_dropout_bad_p(p):
    with pytest.raises(cr.ArgumentError, match="p must be a probability"):
        F.dropout(cr.ones(3), p)
    with pytest.raises(cr.ArgumentError, match="Dropout"):
        nn.Dropout(p)


# ------------------------------------------------------------------------------------------ embedding
def test_embedding_init_and_lookup():
    emb = nn.Embedding(1000, 64)
    w = emb.weight.numpy()
    assert w.shape == (1000, 64) and w.dtype == np.float32
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1) as in PyTorch
    ids = np.array([[3, 999], [0, 3]])
    np.testing.assert_array_equal(emb(ids).numpy(), w[ids])
    np.testing.assert_array_equal(emb(cr.tensor(ids)).numpy(), w[ids])
    assert list(emb.state_dict()) == ["weight"]


def test_embedding_repeated_ids_accumulate():
    w = cr.tensor(np.zeros((6, 2)), requires_grad=True)
    ids = np.array([5, 1, 5, 5, 0, 1])
    g = np.arange(12.0).reshape(6, 2)
    F.embedding(ids, w).backward(g)
    want = np.zeros((6, 2))
    np.add.at(want, ids, g)
    np.testing.assert_allclose(w.grad, want)


def test_embedding_gradcheck_float64(rng):
    w = cr.tensor(rng.standard_normal((7, 3)), requires_grad=True)
    ids = rng.integers(0, 7, size=(4, 5))
    cr.gradcheck(lambda w: F.embedding(ids, w) ** 2, w)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx, rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Embedding(10, 4, padding_idx=padding_idx).double()
    ours = nn.Embedding(10, 4, padding_idx=padding_idx).double()
    if padding_idx is not None:
        assert (ours.weight.numpy()[padding_idx] == 0).all()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ids = rng.integers(0, 10, size=(3, 7))
    ids[0, :3] = 9  # repeats, and the padding row -1 == 9
    y, ty = ours(ids), theirs(torch.tensor(ids))
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    g = rng.standard_normal(y.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_embedding_errors():
    emb = nn.Embedding(5, 3)
    with pytest.raises(cr.DataError, match=r"id 5 is out of range.*\[0, 5\)"):
        emb(np.array([0, 5]))
    with pytest.raises(cr.DataError, match=r"id -1 is out of range"):
        emb(np.array([-1, 2]))
    with pytest.raises(cr.DTypeError, match="ids must be integers"):
        emb(np.array([0.0, 1.0]))
    with pytest.raises(cr.ArgumentError, match="padding_idx"):
        nn.Embedding(5, 3, padding_idx=5)
    with pytest.raises(cr.ArgumentError, match="embedding_dim"):
        nn.Embedding(5, 0)
    assert emb(np.zeros((0,), dtype=np.int64)).shape == (0, 3)
