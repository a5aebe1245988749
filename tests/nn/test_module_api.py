"""Module API against PyTorch (second QA sweep): attribute assignment over parameters, apply's order, repr of
reused modules, zero_grad(set_to_none), non-persistent buffers, buffers(), add_module, and load_state_dict
changing nothing when a value is malformed."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ArgumentError, ArgumentTypeError, ShapeError, StateDictError


# ------------------------------------------------------------------------------ assigning over a parameter
@pytest.mark.parametrize("value", [np.ones((3, 2), np.float32), "tensor", [[1.0, 1.0]] * 3])
def test_plain_value_over_a_parameter_is_refused_like_torch(value):
    value = cr.tensor(np.ones((3, 2), np.float32)) if isinstance(value, str) else value
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    w = net[0].weight
    with pytest.raises(ArgumentTypeError, match=r"Linear: cannot assign a \w+ as parameter 'weight' \(a Parameter "
                                                r"or None expected\); use nn.Parameter"):
        net[0].weight = value
    assert net[0].weight is w and [n for n, _ in net.named_parameters()][:2] == ["0.weight", "0.bias"]
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="cannot assign"):
        torch.nn.Linear(2, 3).weight = torch.ones(3, 2)


def test_parameters_none_and_modules_may_replace_a_parameter():
    lin = nn.Linear(2, 3)
    lin.weight = nn.Parameter(np.ones((3, 2), np.float32))  # a new Parameter: registered
    assert np.array_equal(lin.state_dict()["weight"], np.ones((3, 2)))
    lin.bias = None
    assert list(lin.state_dict()) == ["weight"]
    lin.weight.data[...] = 2  # changing the values in place is the other way
    assert (lin(np.ones((1, 2), np.float32)).numpy() == 4).all()


def test_a_tensor_requiring_grad_may_stand_in_for_a_functional_call():
    lin = nn.Linear(2, 1).double()
    w = cr.tensor(np.ones((1, 2)), requires_grad=True)
    lin.weight = w  # e.g. gradcheck of the weight through the module
    lin(np.ones((4, 2))).sum().backward()
    np.testing.assert_allclose(w.grad, [[4.0, 4.0]])


def test_child_module_and_buffer_assignments_are_checked():
    net = nn.Sequential(nn.Linear(2, 2))
    block = nn.Residual(nn.Linear(2, 2))
    with pytest.raises(ArgumentTypeError, match="cannot assign a int as child module 'fn'"):
        block.fn = 3
    block.fn = nn.Tanh()
    block.fn = net
    bn = nn.BatchNorm1d(2)
    with pytest.raises(ArgumentTypeError, match="cannot assign a Tensor as buffer 'running_mean'"):
        bn.running_mean = cr.zeros(2)
    bn.running_mean = np.full(2, 3.0, np.float32)
    bn.num_batches_tracked = 5  # a number becomes a 0-d array
    sd = bn.state_dict()
    assert sd["running_mean"].tolist() == [3.0, 3.0] and sd["num_batches_tracked"].shape == ()


# ------------------------------------------------------------------------------ apply
def test_apply_order_is_torchs():
    torch = pytest.importorskip("torch")

    def record(seen):
        return lambda m: seen.append(getattr(m, "out_features", type(m).__name__))

    shared_c, shared_t = nn.Linear(1, 4), torch.nn.Linear(1, 4)
    ours = nn.Sequential(nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 2)), nn.Linear(1, 3),
                         nn.Sequential(shared_c), nn.Sequential(shared_c, nn.ReLU(), shared_c))
    theirs = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Linear(1, 2)),
                                 torch.nn.Linear(1, 3), torch.nn.Sequential(shared_t),
                                 torch.nn.Sequential(shared_t, torch.nn.ReLU(), shared_t))
    seen_c, seen_t = [], []
    assert ours.apply(record(seen_c)) is ours
    theirs.apply(record(seen_t))
    assert seen_c == seen_t == [1, 2, "Sequential", 3, 4, "Sequential", 4, "ReLU", "Sequential", "Sequential"]


def test_apply_on_a_module_inside_itself_terminates():
    a = nn.Sequential(nn.Linear(1, 1))
    a.layers.append(a)
    a._keys.append("1")
    seen = []
    a.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Sequential"]


# ------------------------------------------------------------------------------ repr
def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.Flatten(0), torch.nn.Flatten(0)), (nn.Flatten(2, 3), torch.nn.Flatten(2, 3)),
        (nn.LayerNorm(3, bias=False), torch.nn.LayerNorm(3, bias=False)),
        (nn.LayerNorm((2, 3)), torch.nn.LayerNorm((2, 3))),
        (nn.RNNCell(3, 4, nonlinearity="relu"), torch.nn.RNNCell(3, 4, nonlinearity="relu")),
        (nn.RNNCell(3, 4, bias=False), torch.nn.RNNCell(3, 4, bias=False)),
        (nn.Dropout(0.2), torch.nn.Dropout(0.2)), (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.MaxPool2d((2, 3), 1, 1, 2, ceil_mode=True), torch.nn.MaxPool2d((2, 3), 1, 1, 2, ceil_mode=True)),
        (nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)),
        (nn.BatchNorm2d(3, bias=False), torch.nn.BatchNorm2d(3, bias=False)),
        (nn.BatchNorm1d(3, momentum=None, affine=False), torch.nn.BatchNorm1d(3, momentum=None, affine=False)),
        (nn.LSTM(3, 4, proj_size=2, num_layers=2, batch_first=True),
         torch.nn.LSTM(3, 4, proj_size=2, num_layers=2, batch_first=True)),
        (nn.Embedding(5, 2, padding_idx=0, max_norm=1.0, norm_type=3.0, sparse=True),
         torch.nn.Embedding(5, 2, padding_idx=0, max_norm=1.0, norm_type=3.0, sparse=True)),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_repr_prints_every_position_of_a_reused_module():
    torch = pytest.importorskip("torch")
    shared = nn.Linear(2, 2)
    ours = repr(nn.Sequential(shared, nn.ReLU(), shared))
    t_shared = torch.nn.Linear(2, 2)
    theirs = repr(torch.nn.Sequential(t_shared, torch.nn.ReLU(), t_shared))
    assert ours == theirs + "  # 6 parameters"  # chainrule adds the parameter count (counted once)


# ------------------------------------------------------------------------------ zero_grad
def test_zero_grad_set_to_none_like_torch():
    lin = nn.Linear(2, 3)
    lin(np.ones((1, 2), np.float32)).sum().backward()
    g = lin.weight.grad
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is g and not g.any() and lin.bias.grad.dtype == np.float32  # zeroed in place
    lin.zero_grad()  # torch's default: None
    assert lin.weight.grad is None and lin.bias.grad is None
    lin.zero_grad(set_to_none=False)  # no gradient yet: stays None, as in torch
    assert lin.weight.grad is None
    with pytest.raises(ArgumentTypeError, match="set_to_none must be True or False"):
        lin.zero_grad("no")


# ------------------------------------------------------------------------------ buffers
class _WithMask(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("mask", np.ones(2, np.float32), persistent=False)
        self.register_buffer("scale", np.full(2, 2.0, np.float32))


def test_non_persistent_buffer_is_left_out_of_the_state_dict_like_torch():
    torch = pytest.importorskip("torch")

    class T(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)
            self.register_buffer("mask", torch.ones(2), persistent=False)
            self.register_buffer("scale", torch.full((2,), 2.0))

    m, t = _WithMask(), T()
    assert list(m.state_dict()) == list(t.state_dict()) == ["scale", "lin.weight", "lin.bias"]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()] == ["mask", "scale"]
    m.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})  # strict: no 'mask' expected
    with pytest.raises(StateDictError, match="unexpected keys \\['mask'\\]"):
        m.load_state_dict({**m.state_dict(), "mask": np.ones(2)})
    m.double()
    assert m.mask.dtype == np.float64  # to() still converts it
    m.register_buffer("mask", np.zeros(2), persistent=True)  # registered again: persistent now
    assert "mask" in m.state_dict()


def test_buffers_and_register_buffer_checks():
    m = nn.Sequential(nn.BatchNorm1d(2), nn.BatchNorm1d(2))
    assert len(list(m.buffers())) == 6 and len(list(m.buffers(recurse=False))) == 0
    assert [n for n, _ in m[0].named_buffers(prefix="bn")] == ["bn.running_mean", "bn.running_var",
                                                                "bn.num_batches_tracked"]
    with pytest.raises(ArgumentTypeError, match="persistent must be True or False"):
        nn.Module().register_buffer("x", np.ones(1), persistent="no")


# ------------------------------------------------------------------------------ add_module
def test_add_module_like_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Module(), torch.nn.Module()
    for m, lib in ((ours, nn), (theirs, torch.nn)):
        m.add_module("fc", lib.Linear(2, 3))
        m.register_module("act", lib.ReLU())
        m.add_module("gone", None)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["fc.weight", "fc.bias"]
    assert [n for n, _ in ours.named_children()] == ["fc", "act"]
    with pytest.raises(ArgumentError, match="attribute 'training' already exists"):
        ours.add_module("training", nn.ReLU())
    with pytest.raises(ArgumentTypeError, match="must be a Module or None"):
        ours.add_module("x", 3)
    seq, tseq = nn.Sequential(nn.Linear(1, 1)), torch.nn.Sequential(torch.nn.Linear(1, 1))
    seq.add_module("head", nn.Linear(1, 2))
    tseq.add_module("head", torch.nn.Linear(1, 2))
    assert list(seq.state_dict()) == list(tseq.state_dict()) and seq.head is seq[1]
    seq.add_module("0", nn.Linear(1, 1, bias=False))  # an existing name: replaced
    assert list(seq.state_dict()) == ["0.weight", "head.weight", "head.bias"]
    ml = nn.ModuleList([nn.ReLU()])
    ml.add_module("1", nn.Tanh())
    assert len(ml) == 2
    with pytest.raises(ArgumentError, match="children are named by position"):
        ml.add_module("x", nn.Tanh())
    md = nn.ModuleDict()
    md.add_module("a", nn.ReLU())
    assert list(md.keys()) == ["a"]


# ------------------------------------------------------------------------------ load_state_dict
def test_load_state_dict_with_a_malformed_value_changes_nothing():
    lin = nn.Linear(2, 2)
    before = lin.state_dict()
    with pytest.raises(StateDictError, match="'bias' holds dtype <U1, expected numbers"):
        lin.load_state_dict({"weight": np.full((2, 2), 7.0), "bias": np.array(["x", "y"])})
    with pytest.raises(StateDictError, match="'bias' holds None"):
        lin.load_state_dict({"weight": np.full((2, 2), 7.0), "bias": None})
    with pytest.raises(StateDictError, match="'bias' holds dtype object"):
        lin.load_state_dict({"weight": np.full((2, 2), 7.0), "bias": np.array([{}, {}])})
    with pytest.raises(StateDictError, match="'bias' cannot be read as an array"):
        lin.load_state_dict({"weight": np.full((2, 2), 7.0), "bias": [[1.0], [1.0, 2.0]]})
    with pytest.raises(ShapeError, match="'bias' has shape \\(3,\\)"):
        lin.load_state_dict({"weight": np.full((2, 2), 7.0), "bias": np.zeros(3)})
    for k, v in lin.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    bn = nn.BatchNorm1d(2)
    sd = bn.state_dict()
    sd["running_mean"], sd["num_batches_tracked"] = np.full(2, 9.0), None
    with pytest.raises(StateDictError, match="'num_batches_tracked' holds None"):
        bn.load_state_dict(sd)
    assert bn.running_mean.tolist() == [0.0, 0.0]


def test_load_state_dict_casts_to_the_targets_dtype():
    bn = nn.BatchNorm1d(2)
    sd = {k: np.asarray(v, dtype=np.float64) for k, v in bn.state_dict().items()}
    sd["num_batches_tracked"] = np.array(3.0)  # a float count: cast, as torch's copy_
    sd["weight"] = np.array([True, False])
    bn.load_state_dict(sd)
    assert bn.num_batches_tracked.dtype == np.int64 and int(bn.num_batches_tracked) == 3
    assert bn.weight.dtype == np.float32 and bn.weight.numpy().tolist() == [1.0, 0.0]
