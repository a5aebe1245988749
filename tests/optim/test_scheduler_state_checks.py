"""Schedulers' load_state_dict checks the structure, the keys and every value before changing anything,
and raises StateDictError naming the scheduler and the key; PyTorch's state dicts of the same kind load."""

import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import StateDictError
from chainrule.optim import lr_scheduler as S


def _opt(lr=0.1):
    return optim.SGD(nn.Linear(2, 1).parameters(), lr=lr)


def _steplr():
    return S.StepLR(_opt(), 3)


@pytest.mark.parametrize("make, sd, match", [
    (_steplr, "abc", "StepLR.load_state_dict: expected a dict"),
    (_steplr, None, "expected a dict"),
    (_steplr, {"last_epoch": 2, "base_lrs": [0.1], "step_size": 0, "gamma": 0.1}, "StepLR.*step_size"),
    (_steplr, {"last_epoch": 2, "base_lrs": [0.1], "step_size": 3, "gamma": "x"}, "StepLR.*gamma"),
    (_steplr, {"last_epoch": 2, "base_lrs": [0.1], "step_size": 0}, "missing key.*'gamma'"),
    (_steplr, {"last_epoch": -1, "base_lrs": [0.1], "step_size": 3, "gamma": 0.1}, "last_epoch"),
    (_steplr, {"last_epoch": 1, "base_lrs": [0.1, 0.2], "step_size": 3, "gamma": 0.1}, "base_lrs has 2"),
    (_steplr, {"last_epoch": 1, "base_lrs": "ab", "step_size": 3, "gamma": 0.1}, "base_lrs"),
    (_steplr, {"last_epoch": 1, "base_lrs": [0.1], "step_size": 3, "gamma": 0.1, "foo": 1}, "unexpected.*'foo'"),
    (lambda: S.CosineAnnealingLR(_opt(), T_max=10), S.StepLR(_opt(1.0), 3).state_dict(),
     "CosineAnnealingLR.*unexpected key.*another kind of scheduler"),
    (lambda: S.CosineAnnealingLR(_opt(), T_max=10), {"last_epoch": 0, "base_lrs": [0.1], "T_max": 0,
                                                     "eta_min": 0.0}, "T_max"),
    (lambda: S.ExponentialDecay(_opt(), 0.01, 5), {"last_epoch": 0, "base_lrs": [0.1], "lr_end": 0.0,
                                                   "total_steps": 5}, "ExponentialDecay.*lr_end"),
    (lambda: S.ExponentialDecay(_opt(), 0.01, 5), {"last_epoch": 0, "base_lrs": [0.0], "lr_end": 0.01,
                                                   "total_steps": 5}, "base_lrs"),
    (lambda: S.LinearDecay(_opt(), 0.01, 5), {"last_epoch": 0, "base_lrs": [0.1], "lr_end": float("nan"),
                                              "total_steps": 5}, "LinearDecay.*lr_end"),
    (lambda: S.LinearWarmup(_opt(), 3), {"last_epoch": 0, "base_lrs": [0.1], "warmup_steps": 3,
                                         "start_factor": 2.0}, "LinearWarmup.*start_factor"),
])
def test_scheduler_load_state_dict_rejects_bad_state(make, sd, match):
    sched = make()
    before = sched.state_dict()
    lr = sched.get_last_lr()
    with pytest.raises(StateDictError, match=match):
        sched.load_state_dict(sd)
    assert sched.state_dict() == before and sched.get_last_lr() == lr  # nothing changed


def _plateau_sd(**changes):
    sd = S.ReduceLROnPlateau(_opt()).state_dict()
    sd.update(changes)
    return sd


@pytest.mark.parametrize("sd, match", [
    ({"foo": 1}, "missing key.*unexpected key.*'foo'"),
    ("abc", "expected a dict"),
    (S.StepLR(_opt(), 3).state_dict(), "unexpected key"),
    (_plateau_sd(patience="x"), "patience"),
    (_plateau_sd(mode="sideways"), "mode"),
    (_plateau_sd(threshold_mode="both"), "threshold_mode"),
    (_plateau_sd(min_lrs="ab"), "min_lrs"),
    (_plateau_sd(min_lrs=[0.0, 0.0]), "min_lrs has 2"),
    (_plateau_sd(factor=1.0), "factor"),
    (_plateau_sd(factor=None), "factor"),
    (_plateau_sd(best=float("nan")), "best"),
    (_plateau_sd(num_bad_epochs=-2), "num_bad_epochs"),
])
def test_plateau_load_state_dict_rejects_bad_state(sd, match):
    p = S.ReduceLROnPlateau(_opt())
    before = p.state_dict()
    with pytest.raises(StateDictError, match="ReduceLROnPlateau.load_state_dict: .*" + match):
        p.load_state_dict(sd)
    assert p.state_dict() == before
    p.step(1.0)  # still usable


def test_warmup_checks_its_after_scheduler():
    opt = _opt()
    w = S.LinearWarmup(opt, 3, after=S.CosineAnnealingLR(opt, 5))
    sd = w.state_dict()
    with pytest.raises(StateDictError, match="'after' \\(CosineAnnealingLR\\).*T_max"):
        w.load_state_dict(dict(sd, after=dict(sd["after"], T_max=0)))
    with pytest.raises(StateDictError, match="missing key 'after'"):
        w.load_state_dict({k: v for k, v in sd.items() if k != "after"})
    with pytest.raises(StateDictError, match="unexpected key.*'after'"):
        S.LinearWarmup(_opt(), 3).load_state_dict(sd)


@pytest.mark.parametrize("make", [
    lambda o: S.StepLR(o, 2, 0.5), lambda o: S.CosineAnnealingLR(o, 7, 0.01), lambda o: S.LinearDecay(o, 0.01, 5),
    lambda o: S.ExponentialDecay(o, 0.01, 5), lambda o: S.LinearWarmup(o, 2, after=S.CosineAnnealingLR(o, 4)),
    lambda o: S.ReduceLROnPlateau(o, patience=1),
])
def test_valid_state_round_trips_through_save(make, tmp_path):
    a = make(_opt())
    for v in (3.0, 2.0, 2.5, 2.6, 2.7):
        a.step(v) if isinstance(a, S.ReduceLROnPlateau) else a.step()
    cr.save({"s": a.state_dict()}, tmp_path / "s.safetensors")
    b = make(_opt())
    b.load_state_dict(cr.load(tmp_path / "s.safetensors")["s"])
    assert b.state_dict() == a.state_dict()
    if not isinstance(a, S.ReduceLROnPlateau):  # the plateau's lr lives in the optimizer's state, as in PyTorch
        assert b.get_last_lr() == a.get_last_lr()


def test_torch_state_dicts_load():
    torch = pytest.importorskip("torch")
    tm = torch.nn.Linear(2, 1)
    to = torch.optim.SGD(tm.parameters(), lr=0.1)
    ts = torch.optim.lr_scheduler.StepLR(to, 3)
    for _ in range(4):
        to.step()
        ts.step()
    s = S.StepLR(_opt(), 3)
    s.load_state_dict(ts.state_dict())
    assert s.last_epoch == 4 and s.get_last_lr() == pytest.approx(ts.get_last_lr())
    tp = torch.optim.lr_scheduler.ReduceLROnPlateau(torch.optim.SGD(tm.parameters(), lr=0.1), patience=2)
    tp.step(1.0)
    p = S.ReduceLROnPlateau(_opt())
    p.load_state_dict(tp.state_dict())
    assert p.patience == 2 and p.best == 1.0
