"""LSTM with a projection (PyTorch's proj_size) against PyTorch: outputs, states and every gradient."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.functional.recurrent import lstm_layer

from .test_recurrent import _compare  # the check every recurrent layer test makes

I, H, P, L, N = 3, 5, 2, 4, 3


def _make(torch, **kw):
    theirs = torch.nn.LSTM(I, H, proj_size=P, **kw).double()
    ours = nn.LSTM(I, H, proj_size=P, **kw).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("with_hx", [False, True], ids=["no_hx", "hx"])
@pytest.mark.parametrize("kw", [{}, {"bias": False}, {"num_layers": 2, "batch_first": True},
                                {"bidirectional": True}, {"num_layers": 2, "bidirectional": True, "bias": False}],
                         ids=["plain", "no_bias", "two_layers_batch_first", "bidirectional", "two_layers_bidir"])
def test_matches_torch(kw, with_hx, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = _make(torch, **kw)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    rows = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    x = rng.standard_normal((N, L, I) if kw.get("batch_first") else (L, N, I))
    states = [rng.standard_normal((rows, N, P)), rng.standard_normal((rows, N, H))] if with_hx else []
    _compare(torch, "LSTM", ours, theirs, x, states, rng)


def test_unbatched_matches_torch(rng):
    torch = pytest.importorskip("torch")
    ours, theirs = _make(torch, num_layers=2)
    _compare(torch, "LSTM", ours, theirs, rng.standard_normal((L, I)),
             [rng.standard_normal((2, P)), rng.standard_normal((2, H))], rng)


def test_shapes_names_and_init():
    m = nn.LSTM(I, H, num_layers=2, proj_size=P)
    assert {n: p.shape for n, p in m.named_parameters()} == {
        "weight_ih_l0": (4 * H, I), "weight_hh_l0": (4 * H, P), "bias_ih_l0": (4 * H,), "bias_hh_l0": (4 * H,),
        "weight_hr_l0": (P, H),
        "weight_ih_l1": (4 * H, P), "weight_hh_l1": (4 * H, P), "bias_ih_l1": (4 * H,), "bias_hh_l1": (4 * H,),
        "weight_hr_l1": (P, H),
    }
    assert all(np.abs(p.numpy()).max() <= 1 / np.sqrt(H) for p in m.parameters())
    out, (h, c) = m(cr.randn(L, N, I))
    assert out.shape == (L, N, P) and h.shape == (2, N, P) and c.shape == (2, N, H)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy()[-1], h.numpy()[1])
    assert "proj_size=2" in repr(m)


def test_gradcheck_float64_through_the_projection(rng):
    x = cr.tensor(rng.standard_normal((L, 2, I)), requires_grad=True)
    w_ih, w_hh = (cr.tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in ((4 * H, I), (4 * H, P)))
    w_hr = cr.tensor(rng.standard_normal((P, H)), requires_grad=True)
    h0 = cr.tensor(rng.standard_normal((2, P)), requires_grad=True)

    def f(x, w_hh, w_hr, h0):
        y, h, c = lstm_layer(x, h0, None, w_ih, w_hh, w_hr=w_hr)
        return cr.concatenate([y.reshape(-1), h.reshape(-1), c.reshape(-1)])

    cr.gradcheck(f, x, w_hh, w_hr, h0)


def test_projection_errors():
    with pytest.raises(cr.ArgumentError, match=r"proj_size must be smaller than hidden_size \(5\), got 5"):
        nn.LSTM(I, H, proj_size=H)
    with pytest.raises(cr.ArgumentError, match="proj_size must be a non-negative integer"):
        nn.LSTM(I, H, proj_size=-1)
    m = nn.LSTM(I, H, proj_size=P)
    with pytest.raises(cr.ShapeError, match=r"h0 has shape \(1, 3, 5\), expected \(num_layers, batch, proj_size\)"):
        m(cr.randn(L, N, I), (cr.zeros(1, N, H), cr.zeros(1, N, H)))
    with pytest.raises(cr.ShapeError, match=r"c0 has shape \(1, 3, 2\), expected \(num_layers, batch, hidden_size\)"):
        m(cr.randn(L, N, I), (cr.zeros(1, N, P), cr.zeros(1, N, P)))
    with pytest.raises(cr.ShapeError, match=r"weight_hh must have shape \(20, 2\)"):
        lstm_layer(cr.randn(L, N, I), None, None, cr.randn(4 * H, I), cr.randn(4 * H, H), w_hr=cr.randn(P, H))
    with pytest.raises(cr.ShapeError, match=r"weight_hr must have shape \(P, H\) with 0 < P < H"):
        lstm_layer(cr.randn(L, N, I), None, None, cr.randn(4 * H, I), cr.randn(4 * H, H), w_hr=cr.randn(H, H))


def test_only_final_state_read_matches_torch(rng):
    """A classifier reading only h_n: the output sequence gets no gradient (the backward's None path)."""
    torch = pytest.importorskip("torch")
    ours, theirs = _make(torch, batch_first=True)
    x = rng.standard_normal((N, L, I))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g = rng.standard_normal((1, N, P))
    (ours(xc)[1][0] * g).sum().backward()
    (theirs(xt)[1][0] * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-7, atol=1e-12)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tp[name].grad.numpy(), rtol=1e-7, atol=1e-12, err_msg=name)
