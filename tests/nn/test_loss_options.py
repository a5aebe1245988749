"""PyTorch's loss options against PyTorch: class ``weight`` and ``ignore_index`` (with label smoothing) for
cross_entropy / nll_loss, ``weight`` and ``pos_weight`` for the binary losses, softplus's ``beta`` and
``threshold``; the modules' arguments, buffers and reprs; float64 gradchecks; errors on bad options."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentError, ArgumentTypeError, DataError, DTypeError, ShapeError

REDUCTIONS = ["mean", "sum", "none"]
W4 = np.array([0.5, 2.0, 1.0, 0.25])


def _labels(rng, shape, ignore=-100, n_ignored=2):
    y = rng.integers(0, 4, size=shape)
    y.reshape(-1)[rng.choice(y.size, n_ignored, replace=False)] = ignore
    return y


def _ce_cases(rng):
    """name -> (logits, target, our kwargs, torch kwargs with tensors); 4 classes."""
    z2, z3 = 2 * rng.standard_normal((7, 4)), 2 * rng.standard_normal((3, 4, 5))
    probs = rng.dirichlet(np.ones(4), size=7)
    return {
        "weight": (z2, rng.integers(0, 4, 7), {"weight": W4}),
        "ignore_default": (z2, _labels(rng, 7), {}),
        "ignore_in_range": (z2, _labels(rng, 7, ignore=2), {"ignore_index": 2}),
        "weight_ignore": (z2, _labels(rng, 7), {"weight": W4}),
        "smooth_ignore": (z2, _labels(rng, 7), {"label_smoothing": 0.2}),
        "weight_ignore_smooth": (z2, _labels(rng, 7, ignore=1), {"weight": W4, "ignore_index": 1,
                                                                  "label_smoothing": 0.3}),
        "3d_weight_ignore_smooth": (z3, _labels(rng, (3, 5), n_ignored=4), {"weight": W4, "label_smoothing": 0.1}),
        "3d_ignore_in_range": (z3, _labels(rng, (3, 5), ignore=0, n_ignored=3), {"ignore_index": 0}),
        "probs_weight": (z2, probs, {"weight": W4}),
        "probs_weight_smooth": (z2, probs, {"weight": W4, "label_smoothing": 0.25}),
        "probs_3d_weight": (z3, np.moveaxis(rng.dirichlet(np.ones(4), size=(3, 5)), -1, 1), {"weight": W4}),
        "unbatched_weight": (z2[0], np.array(2), {"weight": W4, "label_smoothing": 0.1}),
        "all_ignored": (z2, np.full(7, -100), {"weight": W4, "label_smoothing": 0.1}),
    }


def _torch_kw(torch, kw):
    return {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}


def _compare(torch, ours, theirs, x, target, kw, reduction, target_grad=False):
    """Forward, input gradient (and target gradient) of ``ours`` against ``theirs``, in float64."""
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if target_grad:
        to, tt = cr.tensor(target, requires_grad=True), torch.tensor(target, requires_grad=True)
    else:
        to, tt = target, torch.tensor(target)
    y = ours(xo, to, reduction=reduction, **kw)
    ty = theirs(xt, tt, reduction=reduction, **_torch_kw(torch, kw))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-7, atol=1e-12)
    gy = np.random.default_rng(5).uniform(0.5, 1.5, size=y.shape)
    y.backward(gy)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-7, atol=1e-12)
    if target_grad:
        np.testing.assert_allclose(to.grad, tt.grad.numpy(), rtol=1e-7, atol=1e-12)
    return y


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(_ce_cases(np.random.default_rng(0))))
def test_cross_entropy_options_match_torch(case, reduction):
    torch = pytest.importorskip("torch")
    z, target, kw = _ce_cases(np.random.default_rng(0))[case]
    soft = target.dtype.kind == "f"
    _compare(torch, F.cross_entropy, torch.nn.functional.cross_entropy, z, target, kw, reduction, target_grad=soft)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["weight", "ignore_default", "ignore_in_range", "weight_ignore",
                                  "3d_ignore_in_range", "all_ignored"])
def test_nll_options_match_torch(case, reduction):
    torch = pytest.importorskip("torch")
    z, target, kw = _ce_cases(np.random.default_rng(0))[case]
    kw = {k: v for k, v in kw.items() if k != "label_smoothing"}
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    _compare(torch, F.nll_loss, torch.nn.functional.nll_loss, logp, target, kw, reduction)


def test_all_ignored_mean_is_nan_with_zero_gradient():
    """PyTorch 2.13: 'mean' over no counted label is 0 / 0 = nan; the gradient is 0 (no warning leaks)."""
    z = cr.randn(3, 4, requires_grad=True)
    for fn in (F.cross_entropy, F.nll_loss):
        z.grad = None
        loss = fn(z, np.full(3, -100))
        assert np.isnan(loss.item())
        loss.backward()
        np.testing.assert_array_equal(z.grad, 0)
        assert fn(z, np.full(3, 1), ignore_index=1, reduction="sum").item() == 0


def _bce_cases(rng):
    z = 3 * rng.standard_normal((5, 4))
    return {
        "weight_rows": (z, {"weight": rng.uniform(0, 2, (5, 1))}),
        "weight_classes": (z, {"weight": rng.uniform(0, 2, 4)}),
        "pos_weight": (z, {"pos_weight": rng.uniform(0.5, 4, 4)}),
        "pos_weight_scalar": (z, {"pos_weight": np.array(3.0)}),
        "weight_pos_weight": (z, {"weight": rng.uniform(0, 2, (5, 4)), "pos_weight": rng.uniform(0.5, 4, 4)}),
        "3d_pos_weight": (rng.standard_normal((2, 3, 4)), {"pos_weight": rng.uniform(0.5, 4, 4),
                                                          "weight": rng.uniform(0, 2, (3, 1))}),
    }


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(_bce_cases(np.random.default_rng(0))))
def test_bce_with_logits_options_match_torch(case, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    z, kw = _bce_cases(rng)[case]
    t = rng.uniform(0, 1, z.shape)
    _compare(torch, F.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy_with_logits,
             z, t, kw, reduction, target_grad=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["weight_rows", "weight_classes"])
def test_bce_weight_matches_torch(case, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    z, kw = _bce_cases(rng)[case]
    p, t = 1 / (1 + np.exp(-z)), rng.uniform(0, 1, z.shape)
    _compare(torch, F.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, p, t, kw, reduction,
             target_grad=True)


def test_pos_weight_is_stable_at_huge_logits():
    torch = pytest.importorskip("torch")
    z, t, a = np.array([1e4, -1e4, 1e4, -1e4]), np.array([0.0, 1.0, 1.0, 0.0]), np.array([3.0, 3.0, 0.5, 2.0])
    for dtype in (np.float32, np.float64):
        zo = cr.tensor(z.astype(dtype), requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(zo, t, reduction="none", pos_weight=a, weight=[1.0, 2.0, 1, 1])
        want = torch.nn.functional.binary_cross_entropy_with_logits(
            torch.tensor(z), torch.tensor(t), reduction="none", pos_weight=torch.tensor(a),
            weight=torch.tensor([1.0, 2.0, 1, 1]))
        np.testing.assert_allclose(loss.numpy(), want.numpy())
        loss.sum().backward()
        assert loss.dtype == dtype and zo.grad.dtype == dtype and np.isfinite(zo.grad).all()
        np.testing.assert_allclose(zo.grad, [1.0, -6.0, 0.0, 0.0])


def test_float32_stays_float32_with_float64_weights():
    z = cr.randn(6, 4, requires_grad=True)
    y = np.array([0, 1, -100, 3, 2, 1])
    for loss in (F.cross_entropy(z, y, 0.1, weight=W4), F.nll_loss(z, y, weight=W4),
                 F.cross_entropy(z, np.full((6, 4), 0.25), weight=W4),
                 F.binary_cross_entropy_with_logits(z, np.ones((6, 4)), weight=W4, pos_weight=W4),
                 F.binary_cross_entropy(F.sigmoid(z), np.ones((6, 4)), weight=W4)):
        z.grad = None
        assert loss.dtype == np.float32
        loss.backward()
        assert z.grad.dtype == np.float32


def test_no_gradient_flows_into_weights():
    w = cr.tensor(W4, requires_grad=True)
    z = cr.randn(5, 4, requires_grad=True)
    (F.cross_entropy(z, np.array([0, 1, 2, 3, 0]), weight=w) + F.nll_loss(z, np.array([1, 1, 0, 2, 3]), weight=w)
     + F.binary_cross_entropy_with_logits(z, np.zeros((5, 4)), weight=w, pos_weight=w)).backward()
    assert w.grad is None and z.grad is not None


def test_unit_weights_and_unused_ignore_index_change_nothing():
    z, y = cr.randn(8, 4), np.array([0, 3, 1, 2, 2, 0, 1, 3])
    for kw in ({"weight": np.ones(4)}, {"ignore_index": 7}, {"ignore_index": -1}):
        np.testing.assert_allclose(F.cross_entropy(z, y, 0.1, **kw).item(), F.cross_entropy(z, y, 0.1).item(),
                                   rtol=1e-6)
        np.testing.assert_allclose(F.nll_loss(z, y, **kw).item(), F.nll_loss(z, y).item(), rtol=1e-6)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(z, np.ones((8, 4)), pos_weight=np.ones(4)).item(),
                               F.binary_cross_entropy_with_logits(z, np.ones((8, 4))).item(), rtol=1e-6)


# ------------------------------------------------------------------------------------------ gradchecks
@pytest.mark.parametrize("fn", [
    lambda z: F.cross_entropy(z, np.array([[1, -100, 3], [0, 2, 2]]), 0.2, weight=W4),
    lambda z: F.cross_entropy(z, np.array([[1, 0, 3], [0, 2, 2]]), 0.1, "none", weight=W4, ignore_index=2),
    lambda z: F.nll_loss(z, np.array([[1, -100, 3], [0, 2, 2]]), weight=W4),
    lambda z: F.binary_cross_entropy_with_logits(z, np.full((2, 4, 3), 0.3), weight=[[1.0], [0.5], [2.0], [0.0]],
                                                 pos_weight=[2.0, 0.5, 1.0]),
], ids=["ce_3d", "ce_3d_none", "nll_3d", "bce_logits_3d"])
def test_gradcheck(fn):
    cr.gradcheck(fn, cr.tensor(np.random.default_rng(2).standard_normal((2, 4, 3)), requires_grad=True))


def test_gradcheck_probability_targets_with_weight():
    rng = np.random.default_rng(3)
    z = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    q = cr.tensor(rng.dirichlet(np.ones(4), 3), requires_grad=True)
    cr.gradcheck(lambda a, b: F.cross_entropy(a, b, 0.2, weight=W4), z, q)


# ------------------------------------------------------------------------------------------ modules
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_modules_match_torch(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    z, y, q = 2 * rng.standard_normal((6, 4)), np.array([0, 2, -100, 3, 1, 1]), rng.uniform(0, 1, (6, 4))
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    pairs = [
        (nn.CrossEntropyLoss(W4, ignore_index=1, reduction=reduction, label_smoothing=0.1),
         torch.nn.CrossEntropyLoss(torch.tensor(W4), ignore_index=1, reduction=reduction, label_smoothing=0.1), z,
         np.array([0, 2, 1, 3, 1, 0])),
        (nn.CrossEntropyLoss(weight=W4, reduction=reduction),
         torch.nn.CrossEntropyLoss(weight=torch.tensor(W4), reduction=reduction), z, y),
        (nn.NLLLoss(W4, reduction=reduction), torch.nn.NLLLoss(torch.tensor(W4), reduction=reduction), logp, y),
        (nn.BCEWithLogitsLoss(W4, reduction=reduction, pos_weight=W4[::-1].copy()),
         torch.nn.BCEWithLogitsLoss(torch.tensor(W4), reduction=reduction, pos_weight=torch.tensor(W4[::-1].copy())),
         z, q),
        (nn.BCELoss(W4, reduction=reduction), torch.nn.BCELoss(torch.tensor(W4), reduction=reduction),
         1 / (1 + np.exp(-z)), q),
        (nn.Softplus(beta=1.5, threshold=2.0), torch.nn.Softplus(beta=1.5, threshold=2.0), z, None),
    ]
    for ours, theirs, x, t in pairs:
        xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y_o, y_t = (ours(xo), theirs(xt)) if t is None else (ours(xo, t), theirs(xt, torch.tensor(t)))
        np.testing.assert_allclose(y_o.numpy(), y_t.detach().numpy(), rtol=1e-7, atol=1e-12, err_msg=repr(ours))
        y_o.sum().backward()
        y_t.sum().backward()
        np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-7, atol=1e-12, err_msg=repr(ours))
        assert sorted(ours.state_dict()) == sorted(theirs.state_dict()), repr(ours)


def test_module_arguments_buffers_and_reprs():
    ce = nn.CrossEntropyLoss(cr.tensor([1.0, 2.0, 3.0]), ignore_index=0, label_smoothing=0.1)
    assert ce.ignore_index == 0 and ce.label_smoothing == 0.1 and ce.reduction == "mean"
    assert list(ce.state_dict()) == ["weight"] and list(ce.parameters()) == []
    assert repr(ce) == ("CrossEntropyLoss(reduction='mean', label_smoothing=0.1, weight=[1., 2., 3.], "
                        "ignore_index=0)")
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss(reduction='mean', label_smoothing=0.0)"
    assert nn.CrossEntropyLoss().state_dict() == {} and nn.BCEWithLogitsLoss().state_dict() == {}
    assert repr(nn.NLLLoss([1, 2], reduction="sum")) == "NLLLoss(reduction='sum', weight=[1., 2.])"
    assert nn.NLLLoss([1, 2]).weight.dtype == np.float32  # integer weights become floats
    assert (repr(nn.BCEWithLogitsLoss(pos_weight=[2.0, 1.0]))
            == "BCEWithLogitsLoss(reduction='mean', pos_weight=[2., 1.])")
    assert list(nn.BCEWithLogitsLoss([1.0], pos_weight=[2.0]).state_dict()) == ["weight", "pos_weight"]
    assert repr(nn.BCELoss(np.ones(20))) == "BCELoss(reduction='mean', weight=<array of shape (20,)>)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    sp = nn.Softplus(2, threshold=5)
    assert (sp.beta, sp.threshold) == (2.0, 5.0) and repr(sp) == "Softplus(beta=2.0, threshold=5.0)"
    # a loaded state dict replaces the weight; double() converts it
    ce.load_state_dict({"weight": np.array([3.0, 2.0, 1.0])})
    np.testing.assert_array_equal(ce.weight, [3.0, 2.0, 1.0])
    assert ce.double().weight.dtype == np.float64


def test_the_default_path_stays_the_plain_op():
    z = cr.randn(4, 3, requires_grad=True)
    assert type(F.cross_entropy(z, np.array([0, 1, 2, 0]))._ctx).__name__ == "CrossEntropy"
    assert type(F.cross_entropy(z, np.array([0, 1, 2, -100]))._ctx).__name__ == "WeightedCrossEntropy"
    assert type(F.nll_loss(z, np.array([0, 1, 2, 0]), ignore_index=2)._ctx).__name__ == "WeightedNLL"


# ------------------------------------------------------------------------------------------ bad options
def test_bad_options():
    z, y = cr.randn(4, 3), np.array([0, 1, 2, 1])
    with pytest.raises(ShapeError, match=r"cross_entropy: weight .*\(3,\) .*3 classes, got shape \(4,\)"):
        F.cross_entropy(z, y, weight=np.ones(4))
    with pytest.raises(ShapeError, match=r"nll_loss: weight .*\(3,\).*got shape \(1, 3\)"):
        F.nll_loss(z, y, weight=np.ones((1, 3)))
    with pytest.raises(ShapeError, match=r"NLLLoss: weight must be 1-D.*\(3, 1\)"):
        nn.NLLLoss(np.ones((3, 1)))
    with pytest.raises(DTypeError, match="cross_entropy: weight must hold numbers"):
        F.cross_entropy(z, y, weight=np.array(["a", "b", "c"]))
    with pytest.raises(ArgumentError, match=r"cross_entropy: ignore_index=0 is not supported for probability"):
        F.cross_entropy(z, np.full((4, 3), 1 / 3), ignore_index=0)
    F.cross_entropy(z, np.full((4, 3), 1 / 3), ignore_index=-1)  # a negative one is harmless, as in PyTorch
    with pytest.raises(ArgumentTypeError, match="ignore_index must be an integer"):
        F.cross_entropy(z, y, ignore_index=1.5)
    with pytest.raises(ArgumentTypeError, match="CrossEntropyLoss: ignore_index"):
        nn.CrossEntropyLoss(ignore_index=None)
    with pytest.raises(ArgumentTypeError, match=r"label_smoothing must be a number.*weight="):
        F.cross_entropy(z, y, np.ones(3))  # PyTorch's third positional argument is weight; ours is label_smoothing
    with pytest.raises(ArgumentTypeError, match=r"nll_loss: reduction .*ndarray.*weight="):
        F.nll_loss(z, y, np.ones(3))
    with pytest.raises(DataError, match=r"label -5 is out of range \[0, 3\) for 3 classes and is not ignore_index"):
        F.cross_entropy(z, np.array([0, -100, -5, 1]))
    with pytest.raises(DataError, match=r"label 3 is out of range.*ignore_index=2"):
        F.nll_loss(z, np.array([0, 2, 3, 1]), ignore_index=2)
    for fn in (F.binary_cross_entropy_with_logits, F.binary_cross_entropy):
        with pytest.raises(ShapeError, match=rf"{fn.__name__}: weight of shape \(4,\) does not broadcast .*\(4, 3\)"):
            fn(cr.full((4, 3), 0.5), np.ones((4, 3)), weight=np.ones(4))
    with pytest.raises(ShapeError, match=r"pos_weight of shape \(4,\) .*\(4, 3\).*last axis"):
        F.binary_cross_entropy_with_logits(cr.zeros(4, 3), np.ones((4, 3)), pos_weight=np.ones(4))
    with pytest.raises(ShapeError, match=r"pos_weight of shape \(2, 4, 3\)"):
        nn.BCEWithLogitsLoss(pos_weight=np.ones((2, 4, 3)))(cr.zeros(4, 3), np.ones((4, 3)))
    with pytest.raises(ArgumentError, match="softplus: beta must be nonzero"):
        F.softplus(z, beta=0)
    with pytest.raises(ArgumentError, match="Softplus: threshold must be finite"):
        nn.Softplus(threshold=float("nan"))
    with pytest.raises(ArgumentTypeError, match="Softplus: beta must be a number"):
        nn.Softplus(beta="2")
