"""Optimizers: step-for-step agreement with torch.optim, state dicts, param groups, bad input, no allocation."""

import math
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import ArgumentError, ArgumentTypeError, StateDictError


class Net(nn.Module):
    def __init__(self, dtype=np.float64):
        super().__init__()
        self.fc1 = nn.Linear(4, 8, dtype=dtype)
        self.fc2 = nn.Linear(8, 3, dtype=dtype)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def _data(dtype=np.float64):
    rng = np.random.default_rng(0)
    return rng.standard_normal((16, 4)).astype(dtype), rng.standard_normal((16, 3)).astype(dtype)


def _loss(net, x, y):
    d = net(cr.tensor(x)) - y
    return (d * d).mean()


def _torch_net(torch, net):
    tnet = torch.nn.Module()
    tnet.fc1 = torch.nn.Linear(4, 8).double()
    tnet.fc2 = torch.nn.Linear(8, 3).double()
    tnet.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in net.state_dict().items()})
    return tnet


def _torch_loss(torch, tnet, x, y):
    out = tnet.fc2(torch.relu(tnet.fc1(torch.from_numpy(x))))
    return ((out - torch.from_numpy(y)) ** 2).mean()


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), eps=1e-6)),  # 1 - beta1 >= 0.5: the other lerp branch
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.005, momentum=0.9, centered=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.005, alpha=0.3, centered=True)),
]


def _groups(params_a, params_b, split):
    if not split:
        return list(params_a), list(params_b)
    a, b = list(params_a), list(params_b)
    return ([{"params": a[:2], "lr": 0.02}, {"params": a[2:]}], [{"params": b[:2], "lr": 0.02}, {"params": b[2:]}])


@pytest.mark.parametrize("split_groups", [False, True], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in CASES])
def test_matches_torch_for_50_steps(name, kw, split_groups):
    torch = pytest.importorskip("torch")
    net = Net()
    tnet = _torch_net(torch, net)
    ours_p, theirs_p = _groups(net.parameters(), tnet.parameters(), split_groups)
    ours = getattr(optim, name)(ours_p, **kw)
    theirs = getattr(torch.optim, name)(theirs_p, **kw)
    x, y = _data()
    names = [n for n, _ in net.named_parameters()]
    for step in range(50):
        ours.zero_grad()
        _loss(net, x, y).backward()
        theirs.zero_grad()
        _torch_loss(torch, tnet, x, y).backward()
        ours.step()
        theirs.step()
        tsd = tnet.state_dict()
        for n, p in net.named_parameters():
            np.testing.assert_allclose(p.numpy(), tsd[n].numpy(), rtol=1e-8, atol=1e-12,
                                       err_msg=f"{name} {kw} step {step} param {n}")
    assert names == list(tnet.state_dict())


@pytest.mark.parametrize("name,kw", CASES[1:2] + CASES[5:6] + CASES[10:11], ids=["sgd", "adam", "rmsprop"])
def test_state_dict_round_trip_mid_training(name, kw, tmp_path):
    x, y = _data()
    cr.manual_seed(3)
    net = Net()
    opt = getattr(optim, name)(net.parameters(), **kw)
    for _ in range(20):
        opt.zero_grad()
        _loss(net, x, y).backward()
        opt.step()
    cr.save({"model": net.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "ckpt.safetensors")
    loaded = cr.load(tmp_path / "ckpt.safetensors")
    net2 = Net()
    net2.load_state_dict(loaded["model"])
    opt2 = getattr(optim, name)(net2.parameters(), **kw)
    opt2.load_state_dict(loaded["optimizer"])
    for _ in range(10):
        for n_, o_ in ((net, opt), (net2, opt2)):
            o_.zero_grad()
            _loss(n_, x, y).backward()
            o_.step()
    for (k, a), (_, b) in zip(net.state_dict().items(), net2.state_dict().items()):
        assert np.array_equal(a, b), k


def test_state_dict_structure():
    net = Net()
    opt = optim.Adam([{"params": [net.fc1.weight, net.fc1.bias]}, {"params": net.fc2.parameters(), "lr": 0.1}])
    _loss(net, *_data()).backward()
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sd["param_groups"][1]["lr"] == 0.1 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"} and sd["state"][0]["step"] == 1
    sd["state"][0]["exp_avg"][...] = 123.0  # a copy: the optimizer is not touched
    assert not np.any(opt.state[net.fc1.weight]["exp_avg"] == 123.0)


def test_loads_a_torch_state_dict():
    torch = pytest.importorskip("torch")
    net = Net()
    tnet = _torch_net(torch, net)
    x, y = _data()
    topt = torch.optim.Adam(tnet.parameters(), lr=0.01, amsgrad=True)
    for _ in range(5):
        topt.zero_grad()
        _torch_loss(torch, tnet, x, y).backward()
        topt.step()
    net.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    opt = optim.Adam(net.parameters(), lr=0.5)
    opt.load_state_dict(topt.state_dict())
    topt.zero_grad()
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["amsgrad"] is True
    for _ in range(5):
        for step in (lambda: _loss(net, x, y), lambda: _torch_loss(torch, tnet, x, y)):
            step().backward()
        opt.step()
        topt.step()
        opt.zero_grad()
        topt.zero_grad()
    for n, p in net.named_parameters():
        np.testing.assert_allclose(p.numpy(), tnet.state_dict()[n].numpy(), rtol=1e-8)


def test_load_state_dict_mismatch():
    opt = optim.SGD(Net().parameters(), lr=0.1, momentum=0.9)
    other = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(StateDictError, match="parameters"):
        other.load_state_dict(opt.state_dict())
    with pytest.raises(StateDictError):
        opt.load_state_dict({"state": {}})


def test_params_without_grad_are_skipped():
    a = nn.Parameter(cr.tensor([1.0, 2.0]))
    b = nn.Parameter(cr.tensor([3.0]))
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert b.numpy().tolist() == [3.0] and b not in opt.state and a in opt.state


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_float32_stays_float32(name):
    net = Net(np.float32)
    kw = dict(lr=0.01, weight_decay=0.01) | ({"momentum": 0.9} if name in ("SGD", "RMSprop") else {})
    opt = getattr(optim, name)(net.parameters(), **kw)
    for _ in range(3):
        opt.zero_grad()
        _loss(net, *_data(np.float32)).backward()
        opt.step()
    for p in net.parameters():
        assert p.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("name,kw", [("SGD", dict(momentum=0.9, nesterov=True, weight_decay=0.1)),
                                     ("Adam", dict(weight_decay=0.1, amsgrad=True)), ("AdamW", {}),
                                     ("RMSprop", dict(momentum=0.9, centered=True, weight_decay=0.1))])
def test_steady_state_step_allocates_nothing(name, kw):
    w = nn.Parameter(np.ones((500, 500)))  # 2 MB
    w.grad = np.full((500, 500), 0.5)
    opt = getattr(optim, name)([w], lr=0.01, **kw)
    opt.step()
    opt.step()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000, f"{name} allocated {peak} bytes in a steady-state step"


def test_zero_grad():
    w = nn.Parameter(cr.tensor([1.0]))
    opt = optim.SGD([w], lr=0.1)
    w.grad = np.array([2.0], dtype=np.float32)
    g = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is g and g.tolist() == [0.0]
    opt.zero_grad()
    assert w.grad is None


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=-0.1),
    lambda p: optim.SGD(p, lr=math.nan),
    lambda p: optim.SGD(p, lr=0.1, momentum=1.0),
    lambda p: optim.SGD(p, lr=0.1, momentum=-0.1),
    lambda p: optim.SGD(p, lr=0.1, nesterov=True),
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
    lambda p: optim.Adam(p, betas=(1.0, 0.999)),
    lambda p: optim.Adam(p, betas=(0.9, -0.1)),
    lambda p: optim.Adam(p, betas=(0.9,)),
    lambda p: optim.AdamW(p, lr=math.inf),
    lambda p: optim.Adam(p, eps=-1.0),
    lambda p: optim.RMSprop(p, alpha=1.5),
    lambda p: optim.RMSprop(p, weight_decay=math.nan),
    lambda p: optim.SGD([], lr=0.1),
    lambda p: optim.SGD(p + p, lr=0.1),
    lambda p: optim.SGD([{"params": p, "lr": -1.0}], lr=0.1),
    lambda p: optim.SGD([{"params": p, "momentun": 0.9}], lr=0.1),
], ids=lambda f: "")
def test_bad_arguments(make):
    with pytest.raises(ArgumentError):
        make(list(Net().parameters()))


def test_bad_param_types():
    with pytest.raises(ArgumentTypeError):
        optim.SGD(nn.Parameter(cr.zeros(2)), lr=0.1)  # a single tensor, not an iterable of them
    with pytest.raises(ArgumentTypeError):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ArgumentTypeError):
        optim.SGD(3, lr=0.1)


def test_repr_and_registry():
    opt = optim.SGD(Net().parameters(), lr=0.1)
    assert "lr=0.1" in repr(opt)
    assert set(optim.OPTIMIZERS) == {"sgd", "adam", "adamw", "rmsprop"}


def test_a_backward_through_a_graph_made_before_step_is_refused():
    """step() changes the weights in place: the old graph would give wrong gradients (PyTorch raises too)."""
    for make in (lambda ps: optim.SGD(ps, lr=1.0), lambda ps: optim.Adam(ps), lambda ps: optim.RMSprop(ps)):
        w = nn.Parameter(cr.tensor([1.0, 2.0, 3.0]))
        opt = make([w])
        loss = (w * w).sum()
        loss.backward(retain_graph=True)
        opt.step()
        with pytest.raises(cr.AutogradError, match="changed in place"):
            loss.backward()
        opt.zero_grad()
        (w * w).sum().backward()  # a graph made after the step is fine
        np.testing.assert_allclose(w.grad, 2 * w.numpy())


BIG_CASES = [("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)), ("AdamW", dict(lr=0.01)),
             ("SGD", dict(lr=0.05, momentum=0.9)), ("RMSprop", dict(lr=0.005)),
             ("RMSprop", dict(lr=0.005, momentum=0.9, centered=True, weight_decay=0.01))]


def _train_big(name, kw, dtype, monkeypatch, fast_path=True, torch=None):
    """20 steps on a (200, 100) weight (20,000 numbers: big enough for BLAS's axpby); returns our weights,
    torch's (when torch is given) and whether Adam/RMSprop took the BLAS path at every step."""
    import chainrule.functional as F
    from chainrule import backend
    from chainrule.optim import adam, rmsprop

    took = []
    for module in (adam, rmsprop):
        monkeypatch.setattr(module, "axpby_uses_blas",
                            lambda *a: took.append(fast_path and backend.axpby_uses_blas(*a)) or took[-1])
    rng = np.random.default_rng(5)
    w0, x, y = (rng.standard_normal(s).astype(dtype) for s in ((200, 100), (32, 100), (32, 200)))
    w = nn.Parameter(cr.tensor(w0 * 0.1))
    ours = getattr(optim, name)([w], **kw)
    if torch is not None:
        tw = torch.tensor(w0 * 0.1, requires_grad=True)
        theirs = getattr(torch.optim, name)([tw], **kw)
    for _ in range(20):
        ours.zero_grad()
        d = F.linear(cr.tensor(x), w) - y
        (d * d).mean().backward()
        ours.step()
        if torch is not None:
            theirs.zero_grad()
            ((torch.from_numpy(x) @ tw.T - torch.from_numpy(y)) ** 2).mean().backward()
            theirs.step()
    return w.numpy().copy(), None if torch is None else tw.detach().numpy(), name == "SGD" or took == [True] * 20


@pytest.mark.parametrize("name,kw", BIG_CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in BIG_CASES])
def test_big_weights_take_the_blas_path_and_still_match_torch(name, kw, monkeypatch):
    """The updates of SGD, Adam and RMSprop go through BLAS's axpby on big arrays, with the same math as
    PyTorch's operations rounded differently: in float64, 20 steps stay within 1e-10 of torch."""
    torch = pytest.importorskip("torch")
    from chainrule import backend

    if backend._find_axpby().get(np.dtype(np.float64)) is None:
        pytest.skip("NumPy's BLAS has no axpby here: the NumPy path is the one tested above")
    ours, theirs, took_blas = _train_big(name, kw, np.float64, monkeypatch, torch=torch)
    assert took_blas
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kw", BIG_CASES[:3] + BIG_CASES[4:], ids=[f"{n}-{'-'.join(k)}" for n, k in
                                                                      BIG_CASES[:3] + BIG_CASES[4:]])
def test_blas_path_agrees_with_the_exact_path_in_float32(name, kw, monkeypatch):
    """In float32, torch's own gradients differ from ours in the last bits, and Adam and RMSprop magnify that
    (they divide by the gradient's running size); so the BLAS path is checked against our PyTorch-rounded
    path on the same gradients."""
    from chainrule import backend

    if backend._find_axpby().get(np.dtype(np.float32)) is None:
        pytest.skip("NumPy's BLAS has no axpby here")
    fast, _, took_blas = _train_big(name, kw, np.float32, monkeypatch)
    exact, _, took_exact = _train_big(name, kw, np.float32, monkeypatch, fast_path=False)
    assert took_blas and not took_exact
    np.testing.assert_allclose(fast, exact, rtol=1e-5, atol=5e-6)  # the weights are about 0.1 in size
