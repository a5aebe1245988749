"""Sequential, ModuleList and ModuleDict: PyTorch's child names, methods and state dict keys."""

from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ArgumentError, ArgumentTypeError


def _mlp(m):
    return m.Sequential(m.Linear(2, 3), m.ReLU(), m.Linear(3, 1))


def test_sequential_slice_keeps_names_like_torch():
    torch = pytest.importorskip("torch")
    t, c = _mlp(torch.nn), _mlp(nn)
    for sl in (slice(1, None), slice(2, 3), slice(None, None, 2), slice(0, 1)):
        assert list(c[sl].state_dict()) == list(t[sl].state_dict())
    c[1:].load_state_dict({k: v.detach().numpy() for k, v in t[1:].state_dict().items()})
    np.testing.assert_array_equal(c[2].weight.numpy(), t[2].weight.detach().numpy())
    assert type(c[1:]) is nn.Sequential and c[1:][0] is c[1]


def test_sequential_from_ordered_dict_like_torch():
    torch = pytest.importorskip("torch")
    t = torch.nn.Sequential(OrderedDict(fc=torch.nn.Linear(2, 3), act=torch.nn.Tanh(), out=torch.nn.Linear(3, 1)))
    c = nn.Sequential(OrderedDict(fc=nn.Linear(2, 3), act=nn.Tanh(), out=nn.Linear(3, 1)))
    assert list(c.state_dict()) == list(t.state_dict()) == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    c.load_state_dict({k: v.detach().double().numpy() for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    np.testing.assert_allclose(c(x).numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert c.fc is c[0] and c.out is c[-1]
    assert list(c[1:].state_dict()) == list(t[1:].state_dict()) == ["out.weight", "out.bias"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        c.nope  # noqa: B018
    with pytest.raises(ArgumentError, match="no '.'"):
        nn.Sequential(OrderedDict([("a.b", nn.ReLU())]))


def test_sequential_editing_matches_torch():
    torch = pytest.importorskip("torch")
    t, c = _mlp(torch.nn), _mlp(nn)
    t.insert(1, torch.nn.Tanh())
    c.insert(1, nn.Tanh())
    t.append(torch.nn.Linear(1, 2))
    c.append(nn.Linear(1, 2))
    t.extend([torch.nn.ReLU(), torch.nn.Linear(2, 2)])
    c.extend([nn.ReLU(), nn.Linear(2, 2)])
    assert list(c.state_dict()) == list(t.state_dict())
    del t[0]
    del c[0]
    assert list(c.state_dict()) == list(t.state_dict())  # renumbered 0, 1, ... as torch does
    assert type(c.pop(1)) is nn.ReLU and type(t.pop(1)) is torch.nn.ReLU
    t[0] = torch.nn.Linear(2, 3)
    c[0] = nn.Linear(2, 3)
    assert list(c.state_dict()) == list(t.state_dict())
    assert [type(m).__name__ for m in c] == [type(m).__name__ for m in t]


def test_sequential_append_after_slice_does_not_overwrite():
    c = _mlp(nn)[1:]  # children named '1', '2'
    c.append(nn.Linear(1, 1))
    assert list(c.state_dict()) == ["2.weight", "2.bias", "3.weight", "3.bias"]


def test_sequential_rejects_non_modules():
    seq = nn.Sequential(nn.ReLU())
    with pytest.raises(ArgumentTypeError, match="must be a Module, got int"):
        seq.append(5)
    with pytest.raises(ArgumentTypeError, match="must be a Module"):
        seq.insert(0, "relu")
    with pytest.raises(ArgumentTypeError, match="must be a Module"):
        seq[0] = np.zeros(2)
    with pytest.raises(ArgumentTypeError, match="item 1"):
        nn.Sequential(nn.ReLU(), len)
    with pytest.raises(IndexError, match="index 3 is out of range for 1"):
        seq[3]  # noqa: B018
    assert len(seq) == 1


def test_sequential_relu_maxpool_fast_path_still_swaps_and_matches():
    from chainrule.nn.containers import _relu_and_max_pool

    relu, pool = _relu_and_max_pool()
    assert relu is nn.ReLU and pool is nn.MaxPool2d
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))
    x = cr.randn(2, 1, 5, 5)
    manual = net[2](net[1](net[0](x)))
    np.testing.assert_array_equal(net(x).numpy(), manual.numpy())


def test_module_list_slicing_and_checks():
    torch = pytest.importorskip("torch")
    tl = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])
    cl = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert type(cl[1:]) is nn.ModuleList and cl[1:][0] is cl[1]
    assert list(cl[1:].state_dict()) == list(tl[1:].state_dict())
    cl.insert(0, nn.ReLU())
    tl.insert(0, torch.nn.ReLU())
    del cl[1]
    del tl[1]
    cl[0] = nn.Linear(2, 2)
    tl[0] = torch.nn.Linear(2, 2)
    cl += [nn.Linear(2, 1)]
    tl += [torch.nn.Linear(2, 1)]
    assert list(cl.state_dict()) == list(tl.state_dict())
    assert isinstance(cl.pop(), nn.Linear) and len(cl) == 3
    with pytest.raises(ArgumentTypeError, match="item 1"):
        nn.ModuleList([nn.ReLU(), 5])
    with pytest.raises(ArgumentTypeError, match="must be a Module, got str"):
        cl.append("relu")
    with pytest.raises(ArgumentTypeError, match="iterable of modules"):
        nn.ModuleList(nn.ReLU())


def test_module_dict_api_and_keys_like_torch():
    torch = pytest.importorskip("torch")
    td = torch.nn.ModuleDict({"enc": torch.nn.Linear(3, 4), "act": torch.nn.ReLU()})
    cd = nn.ModuleDict({"enc": nn.Linear(3, 4), "act": nn.ReLU()})
    td["head"] = torch.nn.Linear(4, 2)
    cd["head"] = nn.Linear(4, 2)
    td.update([("aux", torch.nn.Linear(4, 1))])
    cd.update([("aux", nn.Linear(4, 1))])
    assert list(cd.state_dict()) == list(td.state_dict())
    assert list(cd.keys()) == list(td.keys()) == list(cd) == ["enc", "act", "head", "aux"]
    assert [k for k, _ in cd.items()] == list(cd.keys()) and len(list(cd.values())) == len(cd) == 4
    assert "enc" in cd and "nope" not in cd
    cd.load_state_dict({k: v.detach().numpy() for k, v in td.state_dict().items()})
    del cd["aux"]
    assert isinstance(cd.pop("head"), nn.Linear) and list(cd) == ["enc", "act"]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"cls": nn.Linear(2, 3)})

    assert list(Net().state_dict()) == ["heads.cls.weight", "heads.cls.bias"]
    with pytest.raises(KeyError, match="no module named 'x'"):
        cd["x"]  # noqa: B018
    with pytest.raises(ArgumentTypeError, match="must be a Module"):
        cd["x"] = 3
    with pytest.raises(ArgumentTypeError, match="name must be a string"):
        cd[1] = nn.ReLU()
    with pytest.raises(ArgumentError, match="no '.'"):
        nn.ModuleDict({"a.b": nn.ReLU()})
    with pytest.raises(ArgumentTypeError, match="pair"):
        cd.update([nn.ReLU()])
