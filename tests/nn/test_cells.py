"""RNNCell, LSTMCell and GRUCell: against PyTorch, against their own sequence layers, and on bad input."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

I, H = 3, 4
KINDS = ["RNNCell", "LSTMCell", "GRUCell"]


def _call(cell, x, states):
    """One step; states is [] (no hx), [h] or [h, c]. Returns the new states as a list."""
    if not states:
        out = cell(x)
    elif len(states) == 2:
        out = cell(x, tuple(states))
    else:
        out = cell(x, states[0])
    return list(out) if isinstance(out, tuple) else [out]


@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("kind, kw", [(k, {}) for k in KINDS] + [(k, {"bias": False}) for k in KINDS]
                         + [("RNNCell", {"nonlinearity": "relu"})])
def test_matches_torch(kind, kw, batched, with_hx, rng):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, kind)(I, H, **kw).double()
    ours = getattr(nn, kind)(I, H, **kw).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    N = 5
    x = rng.standard_normal((N, I) if batched else (I,))
    n_states = 2 if kind == "LSTMCell" else 1
    states = [rng.standard_normal((N, H) if batched else (H,)) for _ in range(n_states)] if with_hx else []
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    sc = [cr.tensor(s, requires_grad=True) for s in states]
    st = [torch.tensor(s, requires_grad=True) for s in states]
    outs, touts = _call(ours, xc, sc), _call(theirs, xt, st)
    loss, tloss = 0, 0
    for o, t in zip(outs, touts, strict=True):
        assert o.shape == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-7, atol=1e-12)
        g = rng.standard_normal(o.shape)
        loss, tloss = loss + (o * g).sum(), tloss + (t * torch.tensor(g)).sum()
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-7, atol=1e-12)
    for a, b in zip(sc, st, strict=True):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-7, atol=1e-12)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tp[name].grad.numpy(), rtol=1e-7, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_unrolled_cell_is_the_sequence_layer(kind, rng):
    """T steps of the cell, fed its own states, give nn.LSTM's (GRU's, RNN's) outputs and gradients."""
    layer = getattr(nn, kind.removesuffix("Cell"))(I, H, dtype=np.float64, generator=1)
    cell = getattr(nn, kind)(I, H, dtype=np.float64, generator=2)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
    T, N = 6, 3
    x = rng.standard_normal((T, N, I))
    out, _ = layer(cr.tensor(x))
    states, hs = [], []
    for t in range(T):
        states = _call(cell, cr.tensor(x[t]), states)
        hs.append(states[0])
    np.testing.assert_allclose(cr.stack(hs).numpy(), out.numpy(), rtol=1e-12, atol=1e-14)
    g = rng.standard_normal(out.shape)
    (out * g).sum().backward()
    (cr.stack(hs) * g).sum().backward()
    for name, p in cell.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(layer, name + "_l0").grad, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_float64(kind, rng):
    cell = getattr(nn, kind)(I, H, dtype=np.float64, generator=0)
    x = cr.tensor(rng.standard_normal((2, I)), requires_grad=True)
    h = cr.tensor(rng.standard_normal((2, H)), requires_grad=True)
    if kind == "LSTMCell":
        c = cr.tensor(rng.standard_normal((2, H)), requires_grad=True)
        cr.gradcheck(lambda x, h, c: cr.concatenate(list(cell(x, (h, c))), axis=1), x, h, c)
    else:
        cr.gradcheck(lambda x, h: cell(x, h), x, h)


def test_parameters_and_float32_default():
    cell = nn.LSTMCell(I, H)
    assert {k: v.shape for k, v in cell.state_dict().items()} == {
        "weight_ih": (4 * H, I), "weight_hh": (4 * H, H), "bias_ih": (4 * H,), "bias_hh": (4 * H,)}
    bound = 1 / np.sqrt(H)
    assert all(np.abs(p.numpy()).max() <= bound for p in cell.parameters())
    h, c = cell(cr.randn(2, I))
    assert h.dtype == np.float32 and c.dtype == np.float32
    assert [n for n, _ in nn.GRUCell(I, H, bias=False).named_parameters()] == ["weight_ih", "weight_hh"]
    assert "bias=False" in repr(nn.RNNCell(I, H, bias=False))


def test_cell_errors_name_the_cell_and_shapes():
    cell = nn.LSTMCell(I, H)
    with pytest.raises(cr.ShapeError, match=r"LSTMCell\(3, 4\).*\(5, 2\).*input_size=3"):
        cell(cr.randn(5, 2))
    with pytest.raises(cr.ShapeError, match=r"LSTMCell\(3, 4\).*3-D"):
        cell(cr.randn(1, 5, 3))
    with pytest.raises(cr.ShapeError, match=r"LSTMCell\(3, 4\): c has shape \(5, 3\), expected .* \(5, 4\)"):
        cell(cr.randn(5, 3), (cr.randn(5, 4), cr.randn(5, 3)))
    with pytest.raises(cr.ChainruleError, match="hx must be a tuple"):
        cell(cr.randn(5, 3), cr.randn(5, 4))
    with pytest.raises(cr.ShapeError, match=r"GRUCell\(3, 4\): hx has shape \(4,\), expected .* \(2, 4\)"):
        nn.GRUCell(I, H)(cr.randn(2, 3), cr.randn(4))
    with pytest.raises(cr.ChainruleError, match="must be a Tensor, an array or a list"):
        nn.RNNCell(I, H)("abc")
    assert nn.RNNCell(I, H)([1.0, 2.0, 3.0]).dtype == np.float32  # a list becomes the default dtype
    with pytest.raises(cr.ChainruleError, match="hidden_size must be a positive integer"):
        nn.GRUCell(3, 0)
    with pytest.raises(cr.ChainruleError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="sigmoid")
