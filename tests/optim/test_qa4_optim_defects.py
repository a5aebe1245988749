"""Regressions from differential testing of chainrule.optim against PyTorch (clipping, RMSprop, resuming)."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import ArgumentError, NonFiniteError, StateDictError
from chainrule.optim import lr_scheduler as S


def _with_grads(*grads):
    ps = [nn.Parameter(cr.tensor(np.zeros_like(g))) for g in grads]
    for p, g in zip(ps, grads):
        p.grad = g.copy()
    return ps


# ------------------------------------------------------------------------------------------- clipping
def test_inf_norm_sees_a_nan_in_any_gradient():
    # Python's max(2.0, nan) is 2.0: a NaN in a later gradient used to give a finite norm
    ps = _with_grads(np.array([1.0, 2.0]), np.array([math.nan]))
    assert math.isnan(optim.clip_grad_norm_(ps, 1.0, norm_type=math.inf))
    ps = _with_grads(np.array([1.0, 2.0]), np.array([math.nan]))
    with pytest.raises(NonFiniteError):
        optim.clip_grad_norm_(ps, 1.0, norm_type=math.inf, error_if_nonfinite=True)


@pytest.mark.parametrize("norm_type", [2.0, 3.0])
def test_a_finite_norm_whose_square_overflows_float32_is_clipped_not_zeroed(norm_type):
    (w,) = _with_grads(np.array([3e19, 4e19], dtype=np.float32))
    total = optim.clip_grad_norm_([w], 1.0, norm_type=norm_type)
    expected = (3.0**norm_type + 4.0**norm_type) ** (1 / norm_type) * 1e19
    assert total == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(w.grad, np.array([3.0, 4.0]) * 1e19 / expected, rtol=1e-5)
    assert w.grad.dtype == np.float32


def test_max_norm_inf_only_measures():
    (w,) = _with_grads(np.array([3.0, math.inf]))
    assert optim.clip_grad_norm_([w], math.inf) == math.inf
    np.testing.assert_array_equal(w.grad, [3.0, math.inf])  # not inf / inf = NaN everywhere
    (w,) = _with_grads(np.array([3.0, 4.0], dtype=np.float32))
    assert optim.clip_grad_norm_([w], np.float32(np.inf)) == pytest.approx(5.0)


def test_clipping_takes_the_gradients_the_optimizers_take():
    w, v = nn.Parameter(cr.zeros(2)), nn.Parameter(cr.zeros(2))
    w.grad, v.grad = [3.0, 4.0], np.array([3, 4])
    assert optim.clip_grad_norm_([w, v], 1.0) == pytest.approx(50**0.5)
    for p in (w, v):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad, np.array([3.0, 4.0]) / 50**0.5, rtol=1e-5)
    w.grad = [3.0, -4.0]
    optim.clip_grad_value_([w], 1.0)
    np.testing.assert_array_equal(w.grad, [1.0, -1.0])
    w.grad = ["a", "b"]
    with pytest.raises(cr.DTypeError, match="clip_grad_norm_"):
        optim.clip_grad_norm_([w], 1.0)


# ------------------------------------------------------------------------------------------- optimizers
def test_centered_rmsprop_with_a_steady_gradient_never_turns_nan():
    # s - a*a is a variance: rounding made it slightly negative and sqrt gave NaN weights (PyTorch does too)
    g = np.random.default_rng(0).standard_normal(200) * 3
    w = nn.Parameter(cr.tensor(np.zeros(200)))
    opt = optim.RMSprop([w], lr=0.01, alpha=0.5, centered=True)
    for _ in range(200):
        w.grad = g.copy()
        opt.step()
    assert np.all(np.isfinite(w.data))


@pytest.mark.parametrize("name, kw, key, value", [
    ("Adam", {}, "amsgrad", True), ("RMSprop", {}, "momentum", 0.9), ("RMSprop", {}, "centered", True)])
def test_switching_an_option_on_mid_run_starts_its_buffer(name, kw, key, value):
    w = nn.Parameter(cr.tensor(np.ones(3)))
    opt = getattr(optim, name)([w], **kw)
    w.grad = np.ones(3)
    opt.step()
    opt.param_groups[0][key] = value  # was a KeyError
    w.grad = np.ones(3)
    opt.step()
    assert np.all(np.isfinite(w.data)) and np.all(w.data < 1)


def test_a_torch_state_dict_of_another_kind_is_refused():
    torch = pytest.importorskip("torch")
    tp = torch.nn.Parameter(torch.ones(3))
    tp.grad = torch.ones(3)
    adamw, sgd = torch.optim.AdamW([tp]), torch.optim.SGD([tp], lr=0.1, momentum=0.9, maximize=True)
    adamw.step()
    sgd.step()
    with pytest.raises(StateDictError, match="decoupled_weight_decay=True"):
        optim.Adam([nn.Parameter(cr.ones(3))]).load_state_dict(adamw.state_dict())
    optim.AdamW([nn.Parameter(cr.ones(3))]).load_state_dict(adamw.state_dict())
    with pytest.raises(StateDictError, match="maximize=True"):
        optim.SGD([nn.Parameter(cr.ones(3))], lr=0.1, momentum=0.9).load_state_dict(sgd.state_dict())


def test_adam_and_adamw_state_dicts_record_their_rule_and_refuse_each_other(tmp_path):
    p = nn.Parameter(cr.ones(3))
    p.grad = np.ones(3, np.float32)
    adam, adamw = optim.Adam([p]), optim.AdamW([p])
    adam.step()
    adamw.step()
    for saved, other, flag in ((adam, optim.AdamW, "False"), (adamw, optim.Adam, "True")):
        cr.save(saved.state_dict(), tmp_path / "o.safetensors")
        sd = cr.load(tmp_path / "o.safetensors")
        with pytest.raises(StateDictError, match=f"decoupled_weight_decay={flag}"):
            other([p]).load_state_dict(sd)
        again = type(saved)([p])
        again.load_state_dict(sd)  # its own kind loads
        assert again.state_dict()["param_groups"] == saved.state_dict()["param_groups"]


# ------------------------------------------------------------------------------------------- schedulers
def test_function_lr_refuses_a_nan_or_negative_lr():
    opt = optim.SGD([nn.Parameter(cr.zeros(1))], lr=0.1)
    bad = ((lambda t, lr: math.nan, "got nan"), (lambda t, lr: -lr, "got -0.1"), (lambda t, lr: "x", "number"))
    for fn, match in bad:
        with pytest.raises(ArgumentError, match=r"FunctionLR: the learning rate fn\(0, 0.1\).*" + match):
            S.FunctionLR(opt, fn)
    s = S.FunctionLR(opt, lambda t, lr: np.array(lr / (t + 1)))
    s.step()
    assert s.get_last_lr() == [0.05]


LOSSES = [3.0, 2.0, 1.5, 1.5, 1.5, 1.5, 1.2, 1.2, 1.2, 1.2, 1.2, 1.1, 1.1] * 3
MAKERS = {
    "step+plateau": lambda o: [S.StepLR(o, 4, 0.5), S.ReduceLROnPlateau(o, factor=0.5, patience=1)],
    "warmup+cosine": lambda o: [S.LinearWarmup(o, 5, after=S.CosineAnnealingLR(o, 20))],
    "linear": lambda o: [S.LinearDecay(o, 1e-4, 30)],
}


def _run(ps, opt, scheds, t0, t1):
    out = []
    for t in range(t0, t1):
        for i, p in enumerate(ps):
            p.grad = None if (t + i) % 5 == 0 else 2 * p.data + math.sin(t + i)
        opt.step()
        for s in scheds:
            s.step(LOSSES[t]) if isinstance(s, S.ReduceLROnPlateau) else s.step()
        if t == 12:
            for g in opt.param_groups:
                g["lr"] *= 2  # a manual change lasts
        out.append([g["lr"] for g in opt.param_groups] + [p.data.copy() for p in ps])
    return out


@pytest.mark.parametrize("case", list(MAKERS))
@pytest.mark.parametrize("order", ["schedulers_then_load", "load_then_schedulers"])
def test_resuming_equals_the_uninterrupted_run(case, order, tmp_path):
    init = [np.linspace(-1, 1, 6).reshape(3, 2), np.linspace(2, 3, 4)]

    def build(with_scheds=True):
        ps = [nn.Parameter(cr.tensor(a.copy())) for a in init]
        opt = optim.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.03}], lr=0.01)
        return ps, opt, (MAKERS[case](opt) if with_scheds else [])

    full = _run(*build(), 0, 30)
    ps, opt, scheds = build()
    _run(ps, opt, scheds, 0, 17)
    cr.save({"opt": opt.state_dict(), **{f"s{i}": s.state_dict() for i, s in enumerate(scheds)},
             **{f"p{i}": p.data for i, p in enumerate(ps)}}, tmp_path / "ckpt.safetensors")
    ckpt = cr.load(tmp_path / "ckpt.safetensors")
    # the usual order builds everything, then loads; the other loads the optimizer before the schedulers
    # exist, and used to lose the plateau's reductions, the manual change and (warm-up) scale the lr
    ps2, opt2, scheds2 = build(order == "schedulers_then_load")
    for i, p in enumerate(ps2):
        p.data[...] = ckpt[f"p{i}"]
    opt2.load_state_dict(ckpt["opt"])
    if order == "load_then_schedulers":
        scheds2 = MAKERS[case](opt2)
    for i, s in enumerate(scheds2):
        s.load_state_dict(ckpt[f"s{i}"])
    rest = _run(ps2, opt2, scheds2, 17, 30)
    for t, (a, b) in enumerate(zip(full[17:], rest), start=17):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, err_msg=f"step {t}")


def test_a_scheduler_loaded_without_its_optimizer_still_follows_its_schedule():
    # the optimizer's state was never loaded: the lr is the schedule's value at the restored step
    opt = optim.SGD([nn.Parameter(cr.zeros(1))], lr=0.1)
    s = S.StepLR(opt, 2, 0.5)
    for _ in range(5):
        s.step()
    sd = s.state_dict()
    opt2 = optim.SGD([nn.Parameter(cr.zeros(1))], lr=0.1)
    s2 = S.StepLR(opt2, 2, 0.5)
    s2.load_state_dict(sd)
    assert s2.get_last_lr() == s.get_last_lr() == [0.025]
