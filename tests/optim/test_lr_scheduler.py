"""Learning-rate schedules: their formulas, PyTorch's schedulers, state dicts and bad input."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import ArgumentError
from chainrule.optim import lr_scheduler as S


def _opt(lr=0.1, groups=1):
    ps = [nn.Parameter(cr.zeros(2)) for _ in range(groups)]
    return optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(ps)], lr=lr)


def _run(sched, n):
    lrs = [sched.get_last_lr()[0]]
    for _ in range(n):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    return lrs


def test_linear_decay_follows_the_notes():
    a0, a1, n = 0.1, 0.001, 10
    got = _run(S.LinearDecay(_opt(a0), lr_end=a1, total_steps=n), 15)
    want = [a0 - (a0 - a1) * t / n if t < n else a1 for t in range(16)]
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert got[n] == a1 and got[-1] == a1


def test_exponential_decay_follows_the_notes():
    a0, a1, n = 0.1, 0.001, 10
    got = _run(S.ExponentialDecay(_opt(a0), lr_end=a1, total_steps=n), 15)
    want = [a0 * ((a1 / a0) ** (1 / n)) ** t for t in range(n)] + [a1] * 6
    np.testing.assert_allclose(got, want, rtol=1e-15)
    np.testing.assert_allclose(a0 * ((a1 / a0) ** (1 / n)) ** n, a1, rtol=1e-12)  # continuous at N


def test_each_group_follows_its_own_base_lr():
    opt = _opt(0.1, groups=2)
    s = S.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(4):
        s.step()
    assert s.get_last_lr() == pytest.approx([0.025, 0.05])


def _torch_pair(torch, make_ours, make_theirs, lr=0.1):
    p = torch.nn.Parameter(torch.zeros(2))
    topt = torch.optim.SGD([p], lr=lr)
    return make_ours(_opt(lr)), make_theirs(topt), topt


@pytest.mark.parametrize("kind", ["step", "cosine"])
def test_matches_torch(kind):
    torch = pytest.importorskip("torch")
    if kind == "step":
        ours, theirs, topt = _torch_pair(torch, lambda o: S.StepLR(o, 3, gamma=0.5),
                                         lambda o: torch.optim.lr_scheduler.StepLR(o, 3, gamma=0.5))
    else:
        ours, theirs, topt = _torch_pair(torch, lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
                                         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 10, eta_min=0.01))
    for _ in range(30):
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-9)
        topt.step()
        ours.step()
        theirs.step()


@pytest.mark.parametrize("mode,threshold_mode,cooldown", [("min", "rel", 0), ("max", "abs", 2), ("min", "abs", 1)])
def test_reduce_on_plateau_matches_torch(mode, threshold_mode, cooldown):
    torch = pytest.importorskip("torch")
    kw = dict(mode=mode, factor=0.5, patience=2, threshold=0.01, threshold_mode=threshold_mode, cooldown=cooldown,
              min_lr=0.004)
    ours, theirs, topt = _torch_pair(torch, lambda o: S.ReduceLROnPlateau(o, **kw),
                                     lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kw))
    values = np.random.default_rng(0).standard_normal(40).cumsum() * 0.1
    for v in values:
        ours.step(float(v))
        theirs.step(float(v))
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
    assert ours.get_last_lr()[0] < 0.1


def test_warmup_then_cosine():
    opt = _opt(1.0)
    s = S.LinearWarmup(opt, warmup_steps=4, start_factor=0.0, after=S.CosineAnnealingLR(opt, T_max=8))
    got = _run(s, 12)
    want = [t / 4 for t in range(4)] + [S.cosine_annealing(t, 1.0, 8) for t in range(9)]
    np.testing.assert_allclose(got, want, rtol=1e-15)
    np.testing.assert_allclose(_run(S.LinearWarmup(_opt(1.0), 2, start_factor=0.5), 3), [0.5, 0.75, 1, 1])


@pytest.mark.parametrize("make", [
    lambda o: S.LinearDecay(o, 0.001, 10), lambda o: S.ExponentialDecay(o, 0.001, 10),
    lambda o: S.StepLR(o, 3), lambda o: S.CosineAnnealingLR(o, 7),
    lambda o: S.LinearWarmup(o, 3, after=S.StepLR(o, 2)),
    lambda o: S.ReduceLROnPlateau(o, patience=1),
], ids=["linear", "exponential", "step", "cosine", "warmup", "plateau"])
def test_state_dict_round_trip(make, tmp_path):
    o1 = _opt()
    s1 = make(o1)
    plateau = isinstance(s1, S.ReduceLROnPlateau)
    step = (lambda s, i: s.step(1.0 + (i % 3 == 0))) if plateau else (lambda s, i: s.step())
    for i in range(5):
        step(s1, i)
    cr.save({"optimizer": o1.state_dict(), "scheduler": s1.state_dict()}, tmp_path / "s.safetensors")
    loaded = cr.load(tmp_path / "s.safetensors")
    o2 = _opt(0.5)  # a different lr: everything comes from the file
    s2 = make(o2)
    o2.load_state_dict(loaded["optimizer"])
    s2.load_state_dict(loaded["scheduler"])
    assert s2.get_last_lr() == s1.get_last_lr()
    for i in range(5, 12):
        step(s1, i)
        step(s2, i)
        assert s2.get_last_lr() == s1.get_last_lr()


def test_sample_lr_does_not_touch_the_optimizer():
    opt = _opt(0.1)
    s = S.CosineAnnealingLR(opt, T_max=10)
    curve = S.sample_lr(s, 11)
    assert curve.shape == (11,) and curve[0] == 0.1 and abs(curve[-1]) < 1e-15
    assert s.get_last_lr() == [0.1] and s.last_epoch == 0
    np.testing.assert_allclose(S.sample_lr(s, 3, base_lr=1.0), [S.cosine_annealing(t, 1.0, 10) for t in range(3)])
    np.testing.assert_allclose(S.sample_lr(lambda t: 0.5**t, 3), [1, 0.5, 0.25])
    with pytest.raises(ArgumentError):
        S.sample_lr(S.ReduceLROnPlateau(opt), 3)


def test_pure_functions():
    assert S.linear_decay(0, 1.0, 0.5, 4) == 1.0 and S.linear_decay(99, 1.0, 0.5, 4) == 0.5
    assert S.exponential_decay(2, 1.0, 0.25, 2) == 0.25
    assert S.step_decay(9, 1.0, 3, 0.5) == 0.125
    assert S.cosine_annealing(10, 1.0, 10, 0.1) == pytest.approx(0.1)
    assert math.isclose(S.linear_warmup(1, 2.0, 4, 0.0), 0.5)


@pytest.mark.parametrize("make", [
    lambda o: S.LinearDecay(o, 0.01, 0), lambda o: S.LinearDecay(o, -0.01, 5),
    lambda o: S.ExponentialDecay(o, 0.0, 5), lambda o: S.StepLR(o, 0), lambda o: S.StepLR(o, 2, gamma=math.nan),
    lambda o: S.CosineAnnealingLR(o, 2.5), lambda o: S.LinearWarmup(o, 3, start_factor=2.0),
    lambda o: S.ReduceLROnPlateau(o, mode="up"), lambda o: S.ReduceLROnPlateau(o, factor=1.0),
    lambda o: S.ReduceLROnPlateau(o, patience=-1), lambda o: S.LinearWarmup(o, 3, after=S.StepLR(_opt(), 2)),
])
def test_bad_arguments(make):
    with pytest.raises(ArgumentError):
        make(_opt())


def test_registry_and_repr():
    assert set(S.SCHEDULERS) >= {"linear", "exponential", "step", "cosine", "plateau"}
    assert "T_max=5" in repr(S.CosineAnnealingLR(_opt(), 5))
