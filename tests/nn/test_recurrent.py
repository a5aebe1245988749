"""RNN, LSTM and GRU against PyTorch with the same weights: outputs, final states and every gradient."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

I, H = 3, 4


def _make(torch, kind, **kw):
    theirs = getattr(torch.nn, kind)(I, H, **kw).double()
    ours = getattr(nn, kind)(I, H, **kw).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _flat(out, kind):
    y, hn = out
    return [y] + (list(hn) if kind == "LSTM" else [hn])


def _compare(torch, kind, ours, theirs, x, states, rng):
    """Forward + backward of (output, final states) on both; compare values and all gradients."""
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    sc = [cr.tensor(s, requires_grad=True) for s in states]
    st = [torch.tensor(s, requires_grad=True) for s in states]
    if kind == "LSTM":
        outs = _flat(ours(xc, tuple(sc) if sc else None), kind)
        touts = _flat(theirs(xt, tuple(st) if st else None), kind)
    else:
        outs = _flat(ours(xc, sc[0] if sc else None), kind)
        touts = _flat(theirs(xt, st[0] if st else None), kind)
    loss, tloss = 0, 0
    for o, t in zip(outs, touts):
        assert o.shape == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-9)
        g = rng.standard_normal(o.shape)
        loss = loss + (o * g).sum()
        tloss = tloss + (t * torch.tensor(g)).sum()
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-9)
    for a, b in zip(sc, st):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-6, atol=1e-9)
    tp = dict(theirs.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(tp)
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tp[n].grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=n)


CASES = [
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "batch_first": True}),
    ("LSTM", {"bias": False}),
    ("GRU", {}),
    ("GRU", {"num_layers": 2, "batch_first": True}),
    ("RNN", {}),
    ("RNN", {"num_layers": 2, "nonlinearity": "relu", "batch_first": True}),
]


@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("kind, kw", CASES)
def test_matches_torch(kind, kw, with_h0, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = _make(torch, kind, **kw)
    L, N, layers = 5, 3, kw.get("num_layers", 1)
    x = rng.standard_normal((N, L, I) if kw.get("batch_first") else (L, N, I))
    states = [rng.standard_normal((layers, N, H)) for _ in range(2 if kind == "LSTM" else 1)] if with_h0 else []
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        ours.zero_grad()
        theirs.zero_grad()
        _compare(torch, kind, ours, theirs, x, states, rng)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_unbatched_input_matches_torch(kind, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = _make(torch, kind, num_layers=2, batch_first=True)
    x = rng.standard_normal((6, I))
    states = [rng.standard_normal((2, H)) for _ in range(2 if kind == "LSTM" else 1)]
    _compare(torch, kind, ours, theirs, x, states, rng)


@pytest.mark.parametrize("kind, gates", [("RNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_parameters_names_shapes_and_init(kind, gates):
    m = getattr(nn, kind)(10, 20, num_layers=2)
    shapes = {n: p.shape for n, p in m.named_parameters()}
    assert shapes == {
        "weight_ih_l0": (gates * 20, 10), "weight_hh_l0": (gates * 20, 20),
        "bias_ih_l0": (gates * 20,), "bias_hh_l0": (gates * 20,),
        "weight_ih_l1": (gates * 20, 20), "weight_hh_l1": (gates * 20, 20),
        "bias_ih_l1": (gates * 20,), "bias_hh_l1": (gates * 20,),
    }
    bound = 1 / np.sqrt(20)
    for p in m.parameters():
        assert p.dtype == np.float32
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > 0.8 * bound
    assert list(getattr(nn, kind)(2, 3, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]


def test_float32_end_to_end():
    lstm = nn.LSTM(5, 7, batch_first=True)
    x = cr.randn(4, 6, 5, requires_grad=True)
    out, (h, c) = lstm(x)
    assert out.dtype == h.dtype == c.dtype == np.float32
    (out.sum() + h.sum()).backward()
    assert x.grad.dtype == np.float32 and lstm.weight_hh_l0.grad.dtype == np.float32
    np.testing.assert_array_equal(out.numpy()[:, -1], h.numpy()[0])


def test_sigmoid_gates_do_not_overflow():
    lstm = nn.LSTM(2, 3)
    x = cr.tensor(np.full((4, 1, 2), 1e4, dtype=np.float32))
    out, _ = lstm(x)  # the suite turns floating warnings into errors: no overflow may happen
    assert np.isfinite(out.numpy()).all()


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_gradcheck_float64_two_layers(kind, rng):
    m = getattr(nn, kind)(2, 3, num_layers=2).double()
    x = cr.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    w = m.weight_hh_l0

    def f(x, w):
        m.weight_hh_l0 = w  # route the checked copy of the weight through the module
        out, hn = m(x)
        return out.sum() + (hn[0] if kind == "LSTM" else hn).sum()

    cr.gradcheck(f, x, cr.tensor(w.data, requires_grad=True))


def test_dropout_between_layers_only_in_training():
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = cr.randn(5, 2, 3)
    m.eval()
    a, b = m(x)[0].numpy(), m(x)[0].numpy()
    np.testing.assert_array_equal(a, b)
    m.train()
    assert not np.array_equal(m(x)[0].numpy(), a)


def test_recurrent_errors_name_layer_and_shapes():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(cr.ShapeError, match=r"LSTM\(3, 4, num_layers=2\).*5 features.*input_size=3"):
        lstm(cr.randn(6, 2, 5))
    with pytest.raises(cr.ShapeError, match=r"LSTM.*\(L, N, I\) or unbatched \(L, I\).*4-D"):
        lstm(cr.randn(6, 2, 3, 1))
    with pytest.raises(cr.ShapeError, match=r"h0 has shape \(1, 2, 4\), expected .* = \(2, 2, 4\)"):
        lstm(cr.randn(6, 2, 3), (cr.zeros(1, 2, 4), cr.zeros(2, 2, 4)))
    with pytest.raises(cr.ShapeError, match=r"c0 has shape \(2, 3, 4\)"):
        lstm(cr.randn(6, 2, 3), (cr.zeros(2, 2, 4), cr.zeros(2, 3, 4)))
    with pytest.raises(cr.ShapeError, match=r"GRU.*h0 has shape \(2, 4\), expected \(num_layers, hidden_size\)"):
        nn.GRU(3, 4)(cr.randn(6, 3), cr.zeros(2, 4))
    with pytest.raises(cr.ShapeError, match=r"RNN\(3, 4, num_layers=1\).*h0 has shape"):
        nn.RNN(3, 4, batch_first=True)(cr.randn(2, 6, 3), cr.zeros(1, 6, 4))
    with pytest.raises(cr.errors.ArgumentTypeError, match=r"hx must be a tuple of 2, \(h0, c0\), got a Tensor"):
        lstm(cr.randn(6, 2, 3), cr.zeros(2, 2, 4))
    with pytest.raises(cr.errors.ArgumentTypeError, match=r"hx must be a tuple of 2, \(h0, c0\), got a tuple of 1"):
        lstm(cr.randn(6, 2, 3), (cr.zeros(2, 2, 4),))
    with pytest.raises(cr.errors.ArgumentTypeError, match=r"LSTM.*input must be a Tensor, an array or a list, got str"):
        lstm("abc")
    assert lstm([[[0.0, 0.0, 0.0]]])[0].dtype == np.float32  # a list becomes the default dtype
    with pytest.raises(cr.ArgumentError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(cr.ArgumentError, match="hidden_size"):
        nn.GRU(3, 0)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("used", ["h_n only", "output only"])
def test_outputs_without_gradient(kind, used, rng):
    """A classifier reads only h_n (or a tagger only the outputs): backward gets None for the unused
    output (the engine's takes_none_grads) and must give the same gradients as PyTorch."""
    torch = pytest.importorskip("torch")
    ours, theirs = _make(torch, kind, num_layers=2)
    x = rng.standard_normal((5, 3, I))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for model, inp in ((ours, xc), (theirs, xt)):
        y, hn = model(inp)
        h = hn[0] if kind == "LSTM" else hn
        (h.sum() if used == "h_n only" else (y * y).sum()).backward()
    np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-9)
    tp = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tp[n].grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=n)
