"""Schedulers chain as PyTorch's do: a plateau, a manual lr change or a second scheduler is not undone."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.optim import lr_scheduler as S


def _opt(lr=1.0, groups=1):
    ps = [nn.Parameter(cr.zeros(2)) for _ in range(groups)]
    return optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(ps)], lr=lr)


def _topt(torch, lr=1.0, groups=1):
    ps = [torch.nn.Parameter(torch.zeros(2)) for _ in range(groups)]
    return torch.optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(ps)], lr=lr)


def _lrs(opt):
    return [float(g["lr"]) for g in opt.param_groups]


# a validation loss that improves, then stalls: the plateau halves the lr several times
LOSSES = [3.0, 2.0, 1.5, 1.5, 1.5, 1.5, 1.2, 1.2, 1.2, 1.2, 1.2, 1.1, 1.1, 1.1, 1.1, 1.1] * 3


@pytest.mark.parametrize("case", ["step+plateau", "cosine+plateau", "warmup+plateau", "step+cosine",
                                  "cosine+step", "step+step"])
def test_chains_match_torch_step_by_step(case):
    torch = pytest.importorskip("torch")
    T = torch.optim.lr_scheduler
    ours, theirs = _opt(1.0, groups=2), _topt(torch, 1.0, groups=2)

    def both(make_ours, make_theirs):
        return make_ours(ours), make_theirs(theirs)

    plateau = [both(lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=1, min_lr=1e-4),
                    lambda o: T.ReduceLROnPlateau(o, factor=0.5, patience=1, min_lr=1e-4))]
    if case == "step+plateau":
        scheds = [both(lambda o: S.StepLR(o, 4, 0.3), lambda o: T.StepLR(o, 4, 0.3))]
    elif case == "cosine+plateau":
        scheds = [both(lambda o: S.CosineAnnealingLR(o, 7, 0.05), lambda o: T.CosineAnnealingLR(o, 7, 0.05))]
    elif case == "warmup+plateau":  # chainrule's warm-up without `after` is PyTorch's LinearLR up to factor 1
        scheds = [both(lambda o: S.LinearWarmup(o, 5, start_factor=0.2),
                       lambda o: T.LinearLR(o, start_factor=0.2, end_factor=1.0, total_iters=5))]
    elif case == "step+cosine":
        scheds = [both(lambda o: S.StepLR(o, 3, 0.1), lambda o: T.StepLR(o, 3, 0.1)),
                  both(lambda o: S.CosineAnnealingLR(o, 10, 0.01), lambda o: T.CosineAnnealingLR(o, 10, 0.01))]
        plateau = []
    elif case == "cosine+step":
        scheds = [both(lambda o: S.CosineAnnealingLR(o, 4), lambda o: T.CosineAnnealingLR(o, 4)),
                  both(lambda o: S.StepLR(o, 5, 0.5), lambda o: T.StepLR(o, 5, 0.5))]
        plateau = []
    else:
        scheds = [both(lambda o: S.StepLR(o, 3, 0.5), lambda o: T.StepLR(o, 3, 0.5)),
                  both(lambda o: S.StepLR(o, 5, 0.1), lambda o: T.StepLR(o, 5, 0.1))]
    np.testing.assert_allclose(_lrs(ours), [g["lr"] for g in theirs.param_groups], rtol=1e-12)
    for i, loss in enumerate(LOSSES):
        theirs.step()
        for mine, torchs in plateau:
            mine.step(loss)
            torchs.step(loss)
        for mine, torchs in scheds:
            mine.step()
            torchs.step()
        if i == 20:  # a manual change in the middle lasts too
            for g, tg in zip(ours.param_groups, theirs.param_groups):
                g["lr"] = tg["lr"] = g["lr"] * 3
        np.testing.assert_allclose(_lrs(ours), [g["lr"] for g in theirs.param_groups], rtol=1e-10, atol=1e-15,
                                   err_msg=f"step {i + 1}")


def test_the_plateau_reduction_lasts_with_step_lr():
    opt = _opt(1.0)
    step, plateau = S.StepLR(opt, 100, 0.5), S.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    got = []
    for _ in range(5):
        plateau.step(1.0)
        step.step()
        got.append(_lrs(opt)[0])
    assert got == [1.0, 0.5, 0.25, 0.125, 0.0625]


def test_a_manual_lr_change_lasts():
    opt = _opt(1.0)
    s = S.StepLR(opt, 3, 0.5)
    opt.param_groups[0]["lr"] = 0.01
    got = []
    for _ in range(6):
        s.step()
        got.append(_lrs(opt)[0])
    assert got == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.005, 0.0025], rel=1e-15)


def test_warmup_then_plateau_keeps_the_plateau_reductions():
    opt = _opt(0.1)
    warm, plateau = S.LinearWarmup(opt, 2), S.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    got = []
    for _ in range(6):
        plateau.step(1.0)
        warm.step()
        got.append(_lrs(opt)[0])
    # 0.01 ramps to 0.1 (x5.5, then x1.818...); the plateau halves from the second step on
    assert got == pytest.approx([0.055, 0.05, 0.025, 0.0125, 0.00625, 0.003125], rel=1e-12)


@pytest.mark.parametrize("make", [
    lambda o: S.LinearDecay(o, 0.001, 10), lambda o: S.ExponentialDecay(o, 0.001, 10),
    lambda o: S.StepLR(o, 3, 0.5), lambda o: S.StepLR(o, 2, 0.0), lambda o: S.CosineAnnealingLR(o, 7, 0.01),
    lambda o: S.LinearWarmup(o, 4, start_factor=0.0), lambda o: S.LinearWarmup(o, 3, after=S.CosineAnnealingLR(o, 5)),
    lambda o: S.FunctionLR(o, lambda t, lr: lr / (1 + t)),
], ids=["linear", "exponential", "step", "step-gamma0", "cosine", "warmup", "warmup-cosine", "function"])
def test_alone_each_scheduler_follows_its_closed_form_exactly(make):
    opt = _opt(0.1, groups=2)
    s = make(opt)
    for t in range(1, 25):
        s.step()
        assert _lrs(opt) == [s.lr_at(t, b) for b in s.base_lrs]


def test_linear_decay_to_zero_then_a_manual_lr_holds():
    opt = _opt(1.0)
    s = S.LinearDecay(opt, 0.0, 2)
    s.step()
    s.step()
    assert _lrs(opt) == [0.0]
    opt.param_groups[0]["lr"] = 0.3  # the schedule holds at 0: nothing to scale, the manual lr stays
    s.step()
    assert _lrs(opt) == [0.3]
    w = S.LinearWarmup(_opt(1.0), 2, start_factor=0.0)  # from lr_at = 0 there is no ratio: lr_at(t) is set
    w.optimizer.param_groups[0]["lr"] = 0.7
    w.step()
    assert _lrs(w.optimizer) == [0.5]


def test_chained_state_resumes_exactly(tmp_path):
    def make():
        opt = _opt(1.0, groups=2)
        return opt, S.CosineAnnealingLR(opt, 6, 0.01), S.ReduceLROnPlateau(opt, patience=1, factor=0.5)

    def epoch(opt, cos, plat, i):
        plat.step(LOSSES[i])
        cos.step()

    o1, c1, p1 = make()
    for i in range(9):
        epoch(o1, c1, p1, i)
    cr.save({"o": o1.state_dict(), "c": c1.state_dict(), "p": p1.state_dict()}, tmp_path / "ck.safetensors")
    ck = cr.load(tmp_path / "ck.safetensors")
    o2, c2, p2 = make()
    o2.load_state_dict(ck["o"])
    c2.load_state_dict(ck["c"])
    p2.load_state_dict(ck["p"])
    assert _lrs(o2) == _lrs(o1)
    for i in range(9, 30):
        epoch(o1, c1, p1, i)
        epoch(o2, c2, p2, i)
        assert _lrs(o2) == _lrs(o1)


def test_a_second_scheduler_built_later_starts_from_the_current_lr():
    torch = pytest.importorskip("torch")
    T = torch.optim.lr_scheduler
    ours, theirs = _opt(1.0), _topt(torch, 1.0)
    a, ta = S.StepLR(ours, 2, 0.5), T.StepLR(theirs, 2, 0.5)
    for _ in range(3):
        theirs.step()
        a.step()
        ta.step()
    b, tb = S.LinearWarmup(ours, 3, start_factor=0.5), T.LinearLR(theirs, 0.5, 1.0, 3)
    assert _lrs(ours) == pytest.approx([theirs.param_groups[0]["lr"]], rel=1e-15)
    for _ in range(6):
        theirs.step()
        a.step()
        b.step()
        ta.step()
        tb.step()
        assert _lrs(ours) == pytest.approx([theirs.param_groups[0]["lr"]], rel=1e-12)
