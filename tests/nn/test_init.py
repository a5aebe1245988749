"""nn.init: PyTorch's signatures (first parameter ``tensor``), argument checks, fills counted as in-place changes."""

import inspect

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ArgumentError, ArgumentTypeError, AutogradError, DTypeError, ShapeError

init = nn.init
FILLS = ["zeros_", "ones_", "constant_", "normal_", "uniform_", "xavier_uniform_", "xavier_normal_",
         "kaiming_uniform_", "kaiming_normal_", "orthogonal_"]
RANDOM = FILLS[3:]
ARGS = {"constant_": (0.5,)}


def _param(shape=(3, 4)):
    return nn.Parameter(cr.tensor(np.arange(1.0, 1 + np.prod(shape), dtype=np.float32).reshape(shape)))


# ------------------------------------------------------------------------------------------ signatures
@pytest.mark.parametrize("name", FILLS)
def test_first_parameter_is_tensor_positional_or_keyword(name):
    first = next(iter(inspect.signature(getattr(init, name)).parameters.values()))
    assert first.name == "tensor" and first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    p = _param()
    assert getattr(init, name)(tensor=p, **({"val": 0.5} if name == "constant_" else {})) is p


@pytest.mark.parametrize("name", FILLS)
def test_parameter_names_match_torch(name):
    torch = pytest.importorskip("torch")
    ours = list(inspect.signature(getattr(init, name)).parameters)
    theirs = list(inspect.signature(getattr(torch.nn.init, name)).parameters)
    assert ours == theirs


# ------------------------------------------------------------------------------------------ in place
@pytest.mark.parametrize("name", FILLS)
def test_fill_after_forward_makes_backward_raise(name):
    """A graph that saved the weight before the fill must not back-propagate with the new values (PyTorch raises)."""
    w = _param()
    loss = (w * w).sum()
    getattr(init, name)(w, *ARGS.get(name, ()))
    with pytest.raises(AutogradError, match="changed in place"):
        loss.backward()


@pytest.mark.parametrize("name", FILLS)
def test_fill_after_forward_raises_in_torch_too(name):
    torch = pytest.importorskip("torch")
    w = torch.nn.Parameter(torch.arange(1.0, 13.0).reshape(3, 4))
    loss = (w * w).sum()
    getattr(torch.nn.init, name)(w, *ARGS.get(name, ()))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_fill_before_forward_trains_normally():
    w = _param()
    init.constant_(w, 2.0)
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, np.full((3, 4), 4.0))


def test_load_state_dict_after_forward_makes_backward_raise():
    lin = nn.Linear(3, 1)
    x = nn.Parameter(cr.tensor([1.0, 2.0, 3.0]))
    out = lin(x).sum()
    lin.load_state_dict({"weight": np.zeros((1, 3), np.float32), "bias": np.zeros(1, np.float32)})
    with pytest.raises(AutogradError, match="changed in place"):
        out.backward()
    out = lin(x).sum()  # a graph built after the load is fine
    out.backward()
    np.testing.assert_array_equal(x.grad, np.zeros(3))


def test_load_state_dict_after_forward_raises_in_torch_too():
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(3, 1)
    x = torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
    out = lin(x).sum()
    lin.load_state_dict({"weight": torch.zeros(1, 3), "bias": torch.zeros(1)})
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_failed_load_state_dict_changes_nothing():
    lin = nn.Linear(3, 1)
    x = nn.Parameter(cr.tensor([1.0, 2.0, 3.0]))
    out = lin(x).sum()
    before = lin.weight._version
    with pytest.raises(ShapeError):
        lin.load_state_dict({"weight": np.zeros((1, 3), np.float32), "bias": np.zeros(2, np.float32)})
    assert lin.weight._version == before
    out.backward()  # nothing was written: the graph is still valid
    np.testing.assert_allclose(x.grad, lin.weight.numpy()[0])


def test_load_state_dict_into_read_only_parameter_is_refused_before_writing():
    lin = nn.Linear(2, 1)
    a = np.ones((1, 2), np.float32)
    a.flags.writeable = False
    lin.weight = nn.Parameter(cr.from_numpy(a))
    bias = lin.bias.numpy().copy()
    with pytest.raises(ArgumentError, match="read-only"):
        lin.load_state_dict({"weight": np.zeros((1, 2), np.float32), "bias": np.zeros(1, np.float32)})
    np.testing.assert_array_equal(lin.bias.numpy(), bias)


# ------------------------------------------------------------------------------------------ bad arguments
def _torch_raises(call):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception):  # noqa: B017 - torch's classes vary (RuntimeError, TypeError, ...)
        call(torch.nn.init, torch.nn.Parameter(torch.zeros(3, 4)))


BAD = [  # (label, call(init module, parameter), our error, words the message must hold)
    ("normal_ std < 0", lambda m, p: m.normal_(p, 0.0, -1.0), ArgumentError, ["normal_", "std", "-1"]),
    ("normal_ std nan", lambda m, p: m.normal_(p, 0.0, float("nan")), ArgumentError, ["normal_", "std"]),
    ("normal_ std str", lambda m, p: m.normal_(p, 0.0, "a"), ArgumentTypeError, ["normal_", "std", "'a'"]),
    ("normal_ mean None", lambda m, p: m.normal_(p, None), ArgumentTypeError, ["normal_", "mean"]),
    ("uniform_ a > b", lambda m, p: m.uniform_(p, 1.0, 0.0), ArgumentError, ["uniform_", "a=1", "b=0"]),
    ("uniform_ inf", lambda m, p: m.uniform_(p, 0.0, float("inf")), ArgumentError, ["uniform_", "finite"]),
    ("uniform_ a str", lambda m, p: m.uniform_(p, "x", 1.0), ArgumentTypeError, ["uniform_", " a "]),
    ("constant_ str", lambda m, p: m.constant_(p, "a"), ArgumentTypeError, ["constant_", "val", "'a'"]),
    ("constant_ None", lambda m, p: m.constant_(p, None), ArgumentTypeError, ["constant_", "val"]),
    ("constant_ overflow", lambda m, p: m.constant_(p, 1e40), ArgumentError, ["constant_", "overflow"]),
    ("xavier_uniform_ gain < 0", lambda m, p: m.xavier_uniform_(p, gain=-1.0), ArgumentError,
     ["xavier_uniform_", "gain"]),
    ("xavier_normal_ gain < 0", lambda m, p: m.xavier_normal_(p, gain=-1.0), ArgumentError,
     ["xavier_normal_", "gain"]),
    ("xavier_uniform_ gain str", lambda m, p: m.xavier_uniform_(p, gain="a"), ArgumentTypeError,
     ["xavier_uniform_", "gain"]),
    ("kaiming_uniform_ mode", lambda m, p: m.kaiming_uniform_(p, mode="x"), ArgumentError,
     ["kaiming_uniform_", "mode", "'x'"]),
    ("kaiming_normal_ nonlinearity", lambda m, p: m.kaiming_normal_(p, nonlinearity="x"), ArgumentError,
     ["kaiming_normal_", "nonlinearity", "'x'"]),
    ("kaiming_uniform_ nonlinearity int", lambda m, p: m.kaiming_uniform_(p, nonlinearity=3), ArgumentTypeError,
     ["kaiming_uniform_", "nonlinearity"]),
    ("kaiming_uniform_ a bool", lambda m, p: m.kaiming_uniform_(p, a=True), ArgumentTypeError,
     ["kaiming_uniform_", "a "]),
    ("orthogonal_ gain str", lambda m, p: m.orthogonal_(p, gain="a"), ArgumentTypeError, ["orthogonal_", "gain"]),
]


@pytest.mark.parametrize("label, call, error, words", BAD, ids=[b[0] for b in BAD])
def test_bad_argument_names_function_and_argument(label, call, error, words):
    p = _param()
    before = p.numpy().copy()
    with pytest.raises(error) as e:
        call(init, p)
    for w in words:
        assert w in str(e.value), (w, str(e.value))
    np.testing.assert_array_equal(p.numpy(), before)  # nothing written
    assert p._version == 0


@pytest.mark.parametrize("label, call", [(b[0], b[1]) for b in BAD], ids=[b[0] for b in BAD])
def test_torch_refuses_the_same_arguments(label, call):
    _torch_raises(call)


@pytest.mark.parametrize("name", FILLS)
@pytest.mark.parametrize("value", [np.ones((3, 4)), [[1.0, 2.0]], 3.0])
def test_non_tensor_is_refused(name, value):
    with pytest.raises(ArgumentTypeError, match=f"nn.init.{name}: tensor must be a Parameter or Tensor") as e:
        getattr(init, name)(value, *ARGS.get(name, ()))
    if isinstance(value, np.ndarray):
        assert "cr.from_numpy" in str(e.value)
        np.testing.assert_array_equal(value, 1.0)


def test_from_numpy_fills_the_array_in_place():
    a = np.ones((2, 3))
    init.zeros_(cr.from_numpy(a))
    np.testing.assert_array_equal(a, 0.0)


@pytest.mark.parametrize("name", RANDOM)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_random_fill_of_integer_tensor_is_refused(name, dtype):
    t = cr.tensor(np.zeros((3, 4), dtype))
    with pytest.raises(DTypeError, match=f"nn.init.{name}: a random fill needs a floating-point tensor"):
        getattr(init, name)(t)
    np.testing.assert_array_equal(t.numpy(), 0)


@pytest.mark.parametrize("name", RANDOM)
def test_torch_refuses_random_fill_of_integer_tensor(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(NotImplementedError):
        getattr(torch.nn.init, name)(torch.zeros(3, 4, dtype=torch.int64))


def test_constant_fills_of_integer_tensor_work_as_torch():
    t = cr.tensor(np.zeros(3, np.int64))
    init.constant_(t, 2.5)  # truncated, as torch's fill_
    np.testing.assert_array_equal(t.numpy(), [2, 2, 2])
    init.ones_(t)
    np.testing.assert_array_equal(t.numpy(), [1, 1, 1])
    with pytest.raises(ArgumentError, match="overflow"):
        init.constant_(cr.tensor(np.zeros(2, np.int8)), 1000)
    with pytest.raises(ArgumentError, match="overflow"):
        init.constant_(t, float("nan"))


def test_accepted_numbers():
    p = _param()
    init.constant_(p, np.float32(1.5))
    init.constant_(p, cr.tensor(2.0))  # a 0-d tensor, as torch's fill_
    np.testing.assert_array_equal(p.numpy(), 2.0)
    init.constant_(p, float("nan"))  # as torch
    assert np.isnan(p.numpy()).all()
    init.normal_(p, np.float64(1.0), 0)  # std = 0 is allowed: every value is the mean
    np.testing.assert_array_equal(p.numpy(), 1.0)
    init.uniform_(p, 2, 2)
    np.testing.assert_array_equal(p.numpy(), 2.0)
    assert init.orthogonal_(p, gain=-1.0) is p  # torch accepts any gain here


def test_read_only_tensor_is_refused():
    a = np.zeros(3, np.float32)
    a.flags.writeable = False
    with pytest.raises(ArgumentError, match="read-only"):
        init.normal_(cr.from_numpy(a))


def test_calculate_gain_checks():
    assert init.calculate_gain("relu") == pytest.approx(np.sqrt(2))
    with pytest.raises(ArgumentTypeError, match="nonlinearity"):
        init.calculate_gain(None)
    with pytest.raises(ArgumentError, match="unknown nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ShapeError, match="xavier_normal_"):
        init.xavier_normal_(nn.Parameter(cr.zeros(3)))
