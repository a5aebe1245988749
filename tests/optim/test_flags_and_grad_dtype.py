"""Optimizers' boolean flags must be real booleans; a gradient set by hand keeps the state in the parameter's dtype."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import ArgumentTypeError, DTypeError


def _params():
    return nn.Linear(2, 1).parameters()


@pytest.mark.parametrize("make,name", [
    (lambda v: optim.SGD(_params(), lr=0.1, momentum=0.9, nesterov=v), "SGD: nesterov"),
    (lambda v: optim.Adam(_params(), amsgrad=v), "Adam: amsgrad"),
    (lambda v: optim.AdamW(_params(), amsgrad=v), "AdamW: amsgrad"),
    (lambda v: optim.RMSprop(_params(), centered=v), "RMSprop: centered"),
    (lambda v: optim.SGD([{"params": _params(), "nesterov": v}], lr=0.1, momentum=0.9), "SGD: nesterov"),
])
@pytest.mark.parametrize("value", ["no", "False", 1, 0, None, np.array([True])])
def test_flags_reject_truthy_non_booleans(make, name, value):
    with pytest.raises(ArgumentTypeError, match=f"{name} must be True or False, got"):
        make(value)


@pytest.mark.parametrize("make,key", [
    (lambda v: optim.Adam(_params(), amsgrad=v), "amsgrad"),
    (lambda v: optim.RMSprop(_params(), centered=v), "centered"),
    (lambda v: optim.SGD(_params(), lr=0.1, momentum=0.9, nesterov=v), "nesterov"),
])
def test_flags_take_python_and_numpy_booleans(make, key):
    for v in (True, False, np.True_, np.False_):
        opt = make(v)
        assert type(opt.param_groups[0][key]) is bool and opt.param_groups[0][key] == bool(v)


def test_loading_a_state_dict_with_a_non_boolean_flag_is_refused():
    opt = optim.Adam(_params(), amsgrad=True)
    sd = opt.state_dict()
    sd["param_groups"][0]["amsgrad"] = "yes"
    with pytest.raises(ArgumentTypeError, match="Adam: amsgrad must be True or False"):
        optim.Adam(_params()).load_state_dict(sd)


def test_zero_grad_and_clip_flags():
    w = nn.Parameter(cr.ones(2))
    w.grad = np.ones(2, np.float32)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ArgumentTypeError, match="SGD.zero_grad: set_to_none must be True or False"):
        opt.zero_grad(set_to_none="no")
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad, [0, 0])
    with pytest.raises(ArgumentTypeError, match="clip_grad_norm_: error_if_nonfinite must be True or False"):
        optim.clip_grad_norm_([w], 1.0, error_if_nonfinite="no")


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True), lambda ps: optim.AdamW(ps, lr=0.1),
    lambda ps: optim.RMSprop(ps, lr=0.1, momentum=0.5, centered=True),
], ids=["sgd", "nesterov", "adam", "adamw", "rmsprop"])
def test_a_float64_grad_on_a_float32_parameter_keeps_float32_state(make):
    g = np.array([0.3, -1.2, 2.5])
    w = nn.Parameter(cr.tensor([1.0, 2.0, 3.0]))
    ref = nn.Parameter(cr.tensor([1.0, 2.0, 3.0]))
    opt, ref_opt = make([w]), make([ref])
    for _ in range(3):
        w.grad = g  # float64, set by hand
        ref.grad = g.astype(np.float32)
        opt.step()
        ref_opt.step()
    assert w.dtype == np.float32
    for k, v in opt.state[w].items():
        if isinstance(v, np.ndarray):
            assert v.dtype == np.float32, k
    np.testing.assert_array_equal(w.numpy(), ref.numpy())


def test_a_grad_given_as_a_list_or_tensor_and_a_bad_one():
    w = nn.Parameter(cr.tensor([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.5, momentum=0.9)
    w.grad = [1.0, 1.0]
    opt.step()
    w.grad = cr.tensor([1.0, 1.0], dtype=np.float64)
    opt.step()
    assert opt.state[w]["momentum_buffer"].dtype == np.float32
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.5 - 0.95, 2.0 - 0.5 - 0.95])
    w.grad = np.array(["a", "b"])
    with pytest.raises(DTypeError, match="SGD.step: a parameter of dtype float32 has a gradient of dtype <U1"):
        opt.step()
