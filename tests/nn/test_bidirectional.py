"""Bidirectional RNN, LSTM and GRU against PyTorch with the same weights: outputs, final states, every gradient."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

from .test_recurrent import _compare  # the same check as the one-direction layers

I, H, L, N = 3, 4, 5, 2

KINDS = [("LSTM", {}), ("GRU", {}), ("RNN", {"nonlinearity": "tanh"}), ("RNN", {"nonlinearity": "relu"})]


def _make(torch, kind, **kw):
    theirs = getattr(torch.nn, kind)(I, H, bidirectional=True, **kw).double()
    ours = getattr(nn, kind)(I, H, bidirectional=True, **kw).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _call(kind, model, x, states):
    if kind == "LSTM":
        y, (h, c) = model(x, tuple(states) if states else None)
        return [y, h, c]
    y, h = model(x, states[0] if states else None)
    return [y, h]



@pytest.mark.parametrize("with_h0", [False, True], ids=["no_h0", "h0"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["time_major", "batch_first"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind, kw", KINDS, ids=["LSTM", "GRU", "RNN_tanh", "RNN_relu"])
def test_matches_torch(kind, kw, num_layers, batch_first, bias, with_h0, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = _make(torch, kind, num_layers=num_layers, batch_first=batch_first, bias=bias, **kw)
    x = rng.standard_normal((N, L, I) if batch_first else (L, N, I))
    n_states = 2 if kind == "LSTM" else 1
    states = [rng.standard_normal((num_layers * 2, N, H)) for _ in range(n_states)] if with_h0 else []
    _compare(torch, kind, ours, theirs, x, states, rng)


@pytest.mark.parametrize("kind, kw", KINDS[:3], ids=["LSTM", "GRU", "RNN"])
def test_unbatched_input_matches_torch(kind, kw, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = _make(torch, kind, num_layers=2, batch_first=True, **kw)
    x = rng.standard_normal((6, I))
    states = [rng.standard_normal((4, H)) for _ in range(2 if kind == "LSTM" else 1)]
    _compare(torch, kind, ours, theirs, x, states, rng)
    y, h = _call(kind, ours, cr.tensor(x), [])[:2]
    assert y.shape == (6, 2 * H) and h.shape == (4, H)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_only_final_state_read_matches_torch(kind, rng):
    """A classifier reading only h_n: the last layer's joined output gets no gradient at all."""
    torch = pytest.importorskip("torch")
    ours, theirs = _make(torch, kind, num_layers=2)
    x = rng.standard_normal((L, N, I))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for model, inp in ((ours, xc), (theirs, xt)):
        h = _call(kind, model, inp, [])[1]
        (h * h).sum().backward()
    np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-9)
    tp = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tp[n].grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=n)


def test_output_halves_are_the_two_directions(rng):
    """[..., :H] is the forward run; [..., H:] at t is the reverse run's state after x_t .. x_{L-1}."""
    m = nn.GRU(I, H, bidirectional=True).double()
    fwd, rev = nn.GRU(I, H).double(), nn.GRU(I, H).double()
    sd = m.state_dict()
    fwd.load_state_dict({k: v for k, v in sd.items() if not k.endswith("_reverse")})
    rev.load_state_dict({k[:-len("_reverse")]: v for k, v in sd.items() if k.endswith("_reverse")})
    x = rng.standard_normal((L, N, I))
    y, h = m(cr.tensor(x))
    yf, hf = fwd(cr.tensor(x))
    yr, hr = rev(cr.tensor(x[::-1].copy()))
    np.testing.assert_allclose(y.numpy()[..., :H], yf.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.numpy()[..., H:], yr.numpy()[::-1], rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), np.concatenate([hf.numpy(), hr.numpy()]), rtol=1e-12)
    np.testing.assert_allclose(y.numpy()[0, :, H:], h.numpy()[1], rtol=1e-12)


@pytest.mark.parametrize("kind, gates", [("RNN", 1), ("LSTM", 4), ("GRU", 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_state_dict_keys_order_shapes_and_init(kind, gates, bias):
    torch = pytest.importorskip("torch")
    m = getattr(nn, kind)(10, 20, num_layers=2, bias=bias, bidirectional=True)
    t = getattr(torch.nn, kind)(10, 20, num_layers=2, bias=bias, bidirectional=True)
    sd = m.state_dict()
    assert list(sd) == list(t.state_dict())
    assert {k: tuple(v.shape) for k, v in sd.items()} == {k: tuple(v.shape) for k, v in t.state_dict().items()}
    assert sd["weight_ih_l1_reverse"].shape == (gates * 20, 40)
    bound = 1 / np.sqrt(20)
    for p in m.parameters():
        assert p.dtype == np.float32
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > 0.8 * bound


def test_constructor_keyword_positional_and_repr():
    torch = pytest.importorskip("torch")
    assert nn.RNN(3, 4, 2, "relu", True, True, 0.0, True).bidirectional
    assert nn.LSTM(3, 4, 1, True, False, 0.0, True).bidirectional
    assert not nn.GRU(3, 4).bidirectional
    for kind, kw in [("LSTM", {"num_layers": 2, "bias": False, "batch_first": True, "dropout": 0.5}),
                     ("GRU", {}), ("RNN", {"nonlinearity": "relu"})]:
        assert repr(getattr(nn, kind)(3, 4, bidirectional=True, **kw)) == \
            repr(getattr(torch.nn, kind)(3, 4, bidirectional=True, **kw))
    assert "bidirectional" not in repr(nn.LSTM(3, 4))


def test_float32_end_to_end_and_dropout_only_in_training():
    m = nn.LSTM(5, 7, num_layers=2, batch_first=True, dropout=0.5, bidirectional=True)
    x = cr.randn(4, 6, 5, requires_grad=True)
    m.eval()
    out, (h, c) = m(x)
    assert out.shape == (4, 6, 14) and h.shape == c.shape == (4, 4, 7)
    assert out.dtype == h.dtype == c.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), m(x)[0].numpy())
    np.testing.assert_array_equal(out.numpy()[:, -1, :7], h.numpy()[2])
    np.testing.assert_array_equal(out.numpy()[:, 0, 7:], h.numpy()[3])
    (out.sum() + h.sum()).backward()
    assert x.grad.dtype == np.float32 and m.weight_hh_l1_reverse.grad.dtype == np.float32
    m.train()
    assert not np.array_equal(m(x)[0].numpy(), out.numpy())


def test_gradcheck_float64_lstm(rng):
    m = nn.LSTM(2, 3, num_layers=2, bidirectional=True).double()
    x = cr.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = cr.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    c0 = cr.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    w = m.weight_hh_l0_reverse

    def f(x, h0, c0, w):
        m.weight_hh_l0_reverse = w  # route the checked copy of the weight through the module
        out, (h, c) = m(x, (h0, c0))
        return (out * out).sum() + h.sum() + (c * c).sum()

    cr.gradcheck(f, x, h0, c0, cr.tensor(w.data, requires_grad=True))


def test_wrong_state_shape_names_the_bidirectional_layout():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    with pytest.raises(cr.ShapeError, match=r"h0 has shape \(2, 2, 4\), expected \(num_layers \* 2, batch, "
                                            r"hidden_size\) = \(4, 2, 4\)"):
        lstm(cr.randn(6, 2, 3), (cr.zeros(2, 2, 4), cr.zeros(4, 2, 4)))
    with pytest.raises(cr.ShapeError, match=r"c0 has shape \(2, 2, 4\)"):
        lstm(cr.randn(6, 2, 3), (cr.zeros(4, 2, 4), cr.zeros(2, 2, 4)))
    with pytest.raises(cr.ShapeError, match=r"GRU\(3, 4, num_layers=1, bidirectional=True\).*h0 has shape \(1, 4\), "
                                            r"expected \(num_layers \* 2, hidden_size\) = \(2, 4\)"):
        nn.GRU(3, 4, bidirectional=True)(cr.randn(6, 3), cr.zeros(1, 4))
    with pytest.raises(cr.ShapeError, match=r"input_size=3"):
        nn.RNN(3, 4, bidirectional=True)(cr.randn(6, 2, 8))
