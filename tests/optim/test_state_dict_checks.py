"""Optimizer.load_state_dict checks what it loads; SGD follows API.md's signature; ReduceLROnPlateau's metric."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import ArgumentTypeError, StateDictError


def _param():
    p = nn.Parameter(np.ones(3, np.float32))
    p.grad = np.ones(3, np.float32)
    return p


def _stepped(make):
    p = _param()
    opt = make([p])
    opt.step()
    return opt.state_dict()


@pytest.mark.parametrize("src, dst, lacking", [
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps), "'step', 'exp_avg', 'exp_avg_sq'"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.RMSprop(ps), "'step', 'square_avg'"),
    (lambda ps: optim.Adam(ps), lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), None),
    (lambda ps: optim.RMSprop(ps), lambda ps: optim.AdamW(ps), "'exp_avg', 'exp_avg_sq'"),
])
def test_state_of_another_optimizer_is_refused_at_load(src, dst, lacking):
    sd = _stepped(src)
    p = _param()
    opt = dst([p])
    before = opt.state_dict()
    with pytest.raises(StateDictError, match="state of parameter 0") as e:
        opt.load_state_dict(sd)
    assert "another optimizer type" in str(e.value)
    if lacking:
        assert lacking in str(e.value)
    assert opt.state_dict()["param_groups"] == before["param_groups"]  # nothing changed
    opt.step()  # and the optimizer still works


def test_saved_hyperparameters_decide_what_state_is_needed():
    sd = _stepped(lambda ps: optim.Adam(ps, amsgrad=True))
    opt = optim.Adam([_param()])  # the saved group turns amsgrad on, and the state has what it needs
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["amsgrad"] is True
    opt.step()
    sd = _stepped(lambda ps: optim.Adam(ps))
    sd["param_groups"][0]["amsgrad"] = True  # now the state lacks AMSGrad's running maximum
    with pytest.raises(StateDictError, match=r"lacks \['max_exp_avg_sq'\]"):
        optim.Adam([_param()]).load_state_dict(sd)
    sd = _stepped(lambda ps: optim.RMSprop(ps))
    sd["param_groups"][0]["centered"] = True
    with pytest.raises(StateDictError, match=r"lacks \['grad_avg'\]"):
        optim.RMSprop([_param()]).load_state_dict(sd)


def test_torch_state_dicts_still_load():
    torch = pytest.importorskip("torch")
    for tcls, ccls, kw in ((torch.optim.Adam, optim.Adam, {}), (torch.optim.SGD, optim.SGD, dict(momentum=0.9)),
                           (torch.optim.RMSprop, optim.RMSprop, dict(momentum=0.5, centered=True))):
        tp = torch.nn.Parameter(torch.ones(3))
        topt = tcls([tp], lr=0.1, **kw)
        tp.grad = torch.ones(3)
        topt.step()
        opt = ccls([_param()], lr=0.1, **kw)
        opt.load_state_dict(topt.state_dict())
        opt.step()


@pytest.mark.parametrize("bad, match", [
    (None, "expected a dict with 'state' and 'param_groups'"),
    ({"state": {}}, r"got a dict with keys \['state'\]"),
    ({"state": [1], "param_groups": [{"params": [0]}]}, "'state' must be a dict"),
    ({"state": {}, "param_groups": {"params": [0]}}, "'param_groups' must be a list of dicts"),
    ({"state": {}, "param_groups": [{"lr": 0.1}]}, "param group 0 must have a 'params' list"),
    ({"state": {}, "param_groups": [{"params": ["a"]}]}, "param group 0 must have a 'params' list"),
    ({"state": {}, "param_groups": [{"params": [0, 1]}]}, "has 2 parameters"),
    ({"state": {}, "param_groups": [{"params": [0]}, {"params": [1]}]}, "2 param groups"),
    ({"state": {5: {}}, "param_groups": [{"params": [0]}]}, "state for parameter 5"),
    ({"state": {0: [1]}, "param_groups": [{"params": [0]}]}, "state of parameter 0 must be a dict"),
    ({"state": {0: {"momentum_buffer": "x"}}, "param_groups": [{"params": [0]}]}, "must be an array"),
])
def test_malformed_state_dicts_raise_state_dict_errors(bad, match):
    opt = optim.SGD([_param()], lr=0.1, momentum=0.9)
    with pytest.raises(StateDictError, match=match):
        opt.load_state_dict(bad)


def test_adam_step_must_be_a_number():
    sd = _stepped(lambda ps: optim.Adam(ps))
    sd["state"][0]["step"] = "three"
    with pytest.raises(StateDictError, match="'step' must be a number"):
        optim.Adam([_param()]).load_state_dict(sd)


def test_round_trip_through_a_file_still_loads(tmp_path):
    sd = _stepped(lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True))
    cr.save({"optimizer": sd}, tmp_path / "ckpt.safetensors")
    opt = optim.RMSprop([_param()], momentum=0.9, centered=True)
    opt.load_state_dict(cr.load(tmp_path / "ckpt.safetensors")["optimizer"])
    assert opt.state_dict()["state"][0]["step"] == 1


# ------------------------------------------------------------------------------------------ SGD's signature
def test_sgd_positional_arguments_follow_api_md():
    opt = optim.SGD([_param()], 0.1, 0.9, True, 0.01)
    g = opt.param_groups[0]
    assert (g["lr"], g["momentum"], g["nesterov"], g["weight_decay"], g["dampening"]) == (0.1, 0.9, True, 0.01, 0.0)
    assert optim.SGD([_param()], 0.1, dampening=0.5, momentum=0.9).param_groups[0]["dampening"] == 0.5
    with pytest.raises(ArgumentTypeError, match="nesterov must be True or False"):
        optim.SGD([_param()], 0.1, 0.9, 0.5)


# ------------------------------------------------------------------------------------------ ReduceLROnPlateau
def test_plateau_metric_must_be_a_real_number():
    torch = pytest.importorskip("torch")
    sched = optim.lr_scheduler.ReduceLROnPlateau(optim.SGD([_param()], lr=0.1))
    for good in (1, 0.5, np.float32(0.4), np.array(0.3), cr.tensor(0.2), cr.tensor([0.1]), torch.tensor(0.05)):
        sched.step(good)
    assert sched.best == pytest.approx(0.05)
    for bad in ("abc", np.array([1.0, 2.0]), None, True, [1.0], {"loss": 1.0}):
        with pytest.raises(ArgumentTypeError, match="ReduceLROnPlateau.step: metrics must be a real number"):
            sched.step(bad)
