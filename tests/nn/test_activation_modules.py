"""Activation modules against the torch.nn modules of the same name: forward and input gradient in float64,
train and eval mode; constructor arguments, the ``dim`` alias, and use inside networks."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ArgumentError

CASES = [
    ("Sigmoid", {}, {}),
    ("Tanh", {}, {}),
    ("ReLU", {}, {}),
    ("ReLU", {"inplace": True}, {"inplace": False}),
    ("LeakyReLU", {}, {}),
    ("LeakyReLU", {"negative_slope": 0.2}, {"negative_slope": 0.2}),
    ("ELU", {}, {}),
    ("ELU", {"alpha": 0.7}, {"alpha": 0.7}),
    ("GELU", {}, {}),
    ("GELU", {"approximate": "tanh"}, {"approximate": "tanh"}),
    ("Softplus", {}, {}),
    ("Softplus", {"beta": 2.0}, {"beta": 2.0}),
    ("Softplus", {"beta": 0.5, "threshold": 1.0}, {"beta": 0.5, "threshold": 1.0}),
    ("Softmax", {}, {"dim": -1}),
    ("Softmax", {"axis": 1}, {"dim": 1}),
    ("Softmax", {"dim": 0}, {"dim": 0}),
    ("LogSoftmax", {}, {"dim": -1}),
    ("LogSoftmax", {"dim": 1}, {"dim": 1}),
    ("LogSoftmax", {"axis": 0}, {"dim": 0}),
]


@pytest.mark.parametrize("name,ours_kw,torch_kw", CASES, ids=[f"{c[0]}{c[1] or ''}" for c in CASES])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_matches_torch_module(name, ours_kw, torch_kw, mode):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, size=(5, 7, 3))
    x[np.abs(x) < 0.05] = 0.3  # keep off the kinks of relu / leaky_relu / elu
    ours, theirs = getattr(nn, name)(**ours_kw), getattr(torch.nn, name)(**torch_kw)
    getattr(ours, mode)()
    getattr(theirs, mode)()
    xo = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, ty = ours(xo), theirs(xt)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-9)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Softplus", "Softmax",
                                  "LogSoftmax"])
def test_float32_stays_float32_and_no_parameters(name):
    m = getattr(nn, name)()
    x = cr.randn(4, 6, requires_grad=True)
    y = m(x)
    assert y.dtype == np.float32 and y.shape == (4, 6)
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert list(m.parameters()) == [] and m.state_dict() == {}


def test_in_a_network():
    net = nn.Sequential(nn.Linear(3, 8), nn.GELU(), nn.Linear(8, 4), nn.LogSoftmax(dim=1))
    out = net(cr.randn(5, 3))
    np.testing.assert_allclose(np.exp(out.numpy()).sum(axis=1), 1.0, rtol=1e-5)
    assert "LogSoftmax(axis=1)" in repr(net) and "GELU(approximate='none')" in repr(net)


def test_axis_and_dim_alias():
    assert nn.Softmax(dim=1).axis == 1 and nn.Softmax(1).axis == 1 and nn.Softmax().axis == -1
    assert nn.LogSoftmax(axis=1, dim=1).axis == 1
    with pytest.raises(ArgumentError, match="Softmax.*axis=0 and dim=1"):
        nn.Softmax(axis=0, dim=1)


def test_bad_arguments():
    with pytest.raises(ArgumentError, match="GELU.*approximate"):
        nn.GELU(approximate="fast")
    with pytest.raises(cr.ShapeError, match="softmax"):
        nn.Softmax(axis=3)(cr.randn(2, 3))
