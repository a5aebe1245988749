"""Module: state dicts of shared modules, the attribute walk, to()/train(), load_state_dict's result, registration."""

import sys
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ArgumentError, ArgumentTypeError, DTypeError


def _torch_sd(tmodule):
    return {k: v.detach().numpy() for k, v in tmodule.state_dict().items()}


# ------------------------------------------------------------------------------------------ shared modules
def test_shared_module_is_listed_under_every_path_like_torch():
    torch = pytest.importorskip("torch")
    tl = torch.nn.Linear(2, 2).double()
    ts = torch.nn.Sequential(tl, torch.nn.ReLU(), tl)
    shared = nn.Linear(2, 2).double()
    cs = nn.Sequential(shared, nn.ReLU(), shared)
    assert list(cs.state_dict()) == list(ts.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    # parameters stay de-duplicated, as in torch
    assert [n for n, _ in cs.named_parameters()] == [n for n, _ in ts.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(cs.parameters())) == 2
    result = cs.load_state_dict(_torch_sd(ts))  # strict: loads into both paths
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(0).standard_normal((3, 2))
    np.testing.assert_allclose(cs(x).numpy(), ts(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    # and back: chainrule's state dict loads into the torch model, strictly
    ts.load_state_dict({k: torch.from_numpy(v) for k, v in cs.state_dict().items()})


def test_shared_module_load_writes_the_shared_weights():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    sd = net.state_dict()
    sd["0.weight"] = np.full((2, 2), 3.0, np.float32)
    sd["2.weight"] = np.full((2, 2), 3.0, np.float32)
    net.load_state_dict(sd)
    assert (shared.weight.numpy() == 3).all()


def test_shared_batchnorm_buffers_and_parameter_under_two_names():
    torch = pytest.importorskip("torch")
    tbn = torch.nn.BatchNorm1d(3)
    tm = torch.nn.ModuleDict({"a": tbn, "b": tbn})
    bn = nn.BatchNorm1d(3)
    cm = nn.ModuleDict({"a": bn, "b": bn})
    assert list(cm.state_dict()) == list(tm.state_dict())
    cm.load_state_dict(_torch_sd(tm))


def test_module_inside_itself_does_not_loop():
    a = nn.Sequential(nn.Linear(1, 1))
    a.layers.append(a)  # a cycle, built by hand
    a._keys.append("1")
    assert list(a.state_dict()) == ["0.weight", "0.bias"]
    assert len(list(a.modules())) == 2


# ------------------------------------------------------------------------------------------ the walk
class _Holder(nn.Module):
    def __init__(self, data):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.data = data

    def forward(self, x):  # pragma: no cover - not called
        return x


def test_walk_skips_containers_of_data():
    m = _Holder([f"w{i}" for i in range(1_000_000)])
    # a million strings are never read: the walk looks at the first item only (no timing asserted here;
    # the result must be right, and bench/ measures the speed)
    assert [n for n, _ in m.named_parameters()] == ["emb.weight"]
    assert list(m.state_dict()) == ["emb.weight"]
    m.zero_grad()
    m.eval()
    assert not m.emb.training


def test_walk_finds_modules_in_nested_containers_and_after_none():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = [None, {"a": nn.Linear(1, 2), "b": (nn.Linear(2, 1), "label")}]
            self.data = [[1, 2], [3]]
            self.table = {"x": np.zeros(3)}

    names = [n for n, _ in M().named_parameters()]
    assert names == ["blocks.1.a.weight", "blocks.1.a.bias", "blocks.1.b.0.weight", "blocks.1.b.0.bias"]


def test_deeply_nested_containers_do_not_recurse():
    deep = lin = nn.Linear(1, 1)
    for _ in range(5000):
        deep = [deep]
    junk = 0
    for _ in range(5000):
        junk = [junk]
    m = _Holder(deep)
    m.junk = junk
    assert sys.getrecursionlimit() < 5000 * 2
    params = list(m.parameters())
    assert any(p is lin.weight for p in params) and len(params) == 3
    assert len(m.state_dict()) == 3


def test_self_containing_list_is_safe():
    m = _Holder(None)
    loop = [nn.Linear(1, 1)]
    loop.append(loop)
    m.loop = loop
    assert len(list(m.parameters())) == 3


# ------------------------------------------------------------------------------------------ to / train
def test_to_cpu_is_a_no_op_and_other_devices_are_refused():
    lin = nn.Linear(2, 1)
    w = lin.weight.numpy().copy()
    assert lin.to("cpu") is lin and lin.weight.dtype == np.float32
    np.testing.assert_array_equal(lin.weight.numpy(), w)
    assert lin.to("cpu:0", np.float64).weight.dtype == np.float64
    assert lin.to(device="cpu", dtype="float32").weight.dtype == np.float32
    with pytest.raises(ArgumentError, match="'cuda'"):
        lin.to("cuda")
    with pytest.raises(ArgumentError, match="cuda:1"):
        lin.to(device="cuda:1")
    with pytest.raises(ArgumentTypeError, match="'gpu'"):
        lin.to("gpu")


def test_to_accepts_torch_devices_and_dtypes():
    torch = pytest.importorskip("torch")
    lin = nn.Linear(2, 1)
    assert lin.to(torch.device("cpu")).weight.dtype == np.float32
    assert lin.to(torch.float64).weight.dtype == np.float64
    with pytest.raises(ArgumentError):
        lin.to(torch.device("meta"))


def test_to_keeps_gradients_in_the_new_dtype_like_torch():
    lin = nn.Linear(2, 1)
    lin(cr.randn(3, 2)).sum().backward()
    g = lin.weight.grad.copy()
    assert lin.float().weight.grad is not None  # the same dtype: nothing changes
    np.testing.assert_array_equal(lin.weight.grad, g)
    lin.double()
    assert lin.weight.grad.dtype == np.float64 and lin.bias.grad.dtype == np.float64
    np.testing.assert_array_equal(lin.weight.grad, g)


def test_a_deleted_buffer_leaves_the_state_dict_like_torch():
    bn = nn.BatchNorm1d(3)
    del bn.running_mean
    assert list(bn.state_dict()) == ["weight", "bias", "running_var", "num_batches_tracked"]
    bn.register_buffer("running_mean", np.zeros(3, np.float32))  # and can be registered again
    assert "running_mean" in bn.state_dict()


def test_to_refuses_non_floating_dtypes():
    lin = nn.Linear(1, 1)
    for dt in (np.int64, "int32", bool, np.complex64):
        with pytest.raises(DTypeError, match="floating"):
            lin.to(dt)
    assert lin.weight.dtype == np.float32 and lin.weight.requires_grad


def test_train_requires_a_bool():
    lin = nn.Sequential(nn.Linear(1, 1))
    for bad in ("no", 1, None):
        with pytest.raises(ArgumentTypeError, match="mode must be True or False"):
            lin.train(bad)
    assert lin.train(np.bool_(False)).training is False
    assert lin.train().training is True


# ------------------------------------------------------------------------------------------ load_state_dict
def test_load_state_dict_returns_named_tuple_like_torch():
    torch = pytest.importorskip("torch")
    lin = nn.Linear(2, 1)
    res = lin.load_state_dict({"weight": np.ones((1, 2)), "extra": np.zeros(1)}, strict=False)
    tres = torch.nn.Linear(2, 1).load_state_dict({"weight": torch.ones(1, 2), "extra": torch.zeros(1)}, strict=False)
    assert res.missing_keys == tres.missing_keys == ["bias"]
    assert res.unexpected_keys == tres.unexpected_keys == ["extra"]
    missing, unexpected = res
    assert (missing, unexpected) == (["bias"], ["extra"])


def test_load_state_dict_refuses_non_mappings():
    for bad in (None, [("weight", np.ones((1, 1)))], "weights.safetensors"):
        with pytest.raises(ArgumentTypeError, match="load_state_dict into Linear: expected a mapping"):
            nn.Linear(1, 1).load_state_dict(bad)


def test_load_state_dict_checks_shapes_before_changing_anything():
    lin = nn.Linear(2, 1)
    before = lin.state_dict()
    with pytest.raises(cr.ShapeError, match="'weight'"):
        lin.load_state_dict(OrderedDict(bias=np.full(1, 7.0), weight=np.ones((2, 2))))
    np.testing.assert_array_equal(lin.bias.numpy(), before["bias"])


# ------------------------------------------------------------------------------------------ registration
class _WithChild(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1, 1)
        self.scale = 2.0


def test_register_buffer_refuses_existing_attributes():
    m = _WithChild()
    for name in ("fc", "scale", "forward", "training"):
        with pytest.raises(ArgumentError, match=f"'{name}' already exists"):
            m.register_buffer(name, np.zeros(1))
    assert isinstance(m.fc, nn.Linear)
    m.register_buffer("stats", np.zeros(2))
    m.register_buffer("stats", np.ones(2))  # registering a buffer again replaces it
    assert list(m.state_dict()) == ["stats", "fc.weight", "fc.bias"] and m.stats[0] == 1  # own first, as torch
    with pytest.raises(ArgumentError, match="contain no '.'"):
        m.register_buffer("a.b", np.zeros(1))
    with pytest.raises(ArgumentTypeError, match="name must be a string"):
        m.register_buffer(3, np.zeros(1))


def test_register_parameter():
    m = _WithChild()
    m.register_parameter("gain", nn.Parameter(np.ones(3, np.float32)))
    assert "gain" in dict(m.named_parameters())
    m.register_parameter("gain", None)  # replacing a parameter (or removing it) is fine
    assert "gain" not in dict(m.named_parameters())
    m.fc.register_parameter("bias", nn.Parameter(np.zeros(1, np.float32)))
    for name in ("fc", "scale"):
        with pytest.raises(ArgumentError, match=f"'{name}' already exists"):
            m.register_parameter(name, nn.Parameter(np.ones(1, np.float32)))
    with pytest.raises(ArgumentTypeError, match="must be a Parameter or None"):
        m.register_parameter("w", np.ones(2))
