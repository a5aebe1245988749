"""Loss modules against the torch.nn losses of the same name (forward, prediction and target gradients,
every reduction, label smoothing, probability targets); weight penalties; errors on bad input."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentError, ChainruleError, DataError, DTypeError, ShapeError

REDUCTIONS = ["mean", "sum", "none"]


def _case(name, rng):
    """(our module name, torch module name, kwargs, prediction, target, target is differentiable)."""
    labels = rng.integers(0, 5, size=8)
    probs = rng.dirichlet(np.ones(5), size=8)
    return {
        "MSELoss": ("MSELoss", {}, rng.standard_normal((8, 3)), rng.standard_normal((8, 3)), True),
        "L1Loss": ("L1Loss", {}, rng.standard_normal((8, 3)), rng.standard_normal((8, 3)), True),
        "HuberLoss": ("HuberLoss", {"delta": 0.7}, 2 * rng.standard_normal((8, 3)), rng.standard_normal((8, 3)),
                      True),
        "BCELoss": ("BCELoss", {}, rng.uniform(0.02, 0.98, (8, 3)), rng.uniform(0, 1, (8, 3)), True),
        "BCEWithLogitsLoss": ("BCEWithLogitsLoss", {}, 3 * rng.standard_normal((8, 3)), rng.uniform(0, 1, (8, 3)),
                              True),
        "CrossEntropyLoss": ("CrossEntropyLoss", {}, 2 * rng.standard_normal((8, 5)), labels, False),
        "CrossEntropyLoss_smooth": ("CrossEntropyLoss", {"label_smoothing": 0.15}, 2 * rng.standard_normal((8, 5)),
                                    labels, False),
        "CrossEntropyLoss_probs": ("CrossEntropyLoss", {}, 2 * rng.standard_normal((8, 5)), probs, True),
        "CrossEntropyLoss_probs_smooth": ("CrossEntropyLoss", {"label_smoothing": 0.2},
                                          2 * rng.standard_normal((8, 5)), probs, True),
        "CrossEntropyLoss_3d": ("CrossEntropyLoss", {"label_smoothing": 0.1}, rng.standard_normal((4, 5, 3)),
                                rng.integers(0, 5, size=(4, 3)), False),
        "NLLLoss": ("NLLLoss", {}, np.log(probs), labels, False),
        "HingeLoss": ("MultiMarginLoss", {}, rng.standard_normal((8, 5)), labels, False),
    }[name]


NAMES = ["MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
         "CrossEntropyLoss_smooth", "CrossEntropyLoss_probs", "CrossEntropyLoss_probs_smooth", "CrossEntropyLoss_3d",
         "NLLLoss", "HingeLoss"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_matches_torch_module(name, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    torch_name, kw, pred, target, target_grad = _case(name, rng)
    ours = getattr(nn, name.split("_")[0])(reduction=reduction, **kw)
    theirs = getattr(torch.nn, torch_name)(reduction=reduction, **kw)
    po, pt = cr.tensor(pred, requires_grad=True), torch.tensor(pred, requires_grad=True)
    if target_grad:
        to, tt = cr.tensor(target, requires_grad=True), torch.tensor(target, requires_grad=True)
    else:
        to, tt = target, torch.tensor(target)
    y, ty = ours(po, to), theirs(pt, tt)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-10)
    gy = rng.uniform(0.5, 1.5, size=y.shape)
    y.backward(gy)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(po.grad, pt.grad.numpy(), rtol=1e-6, atol=1e-10)
    if target_grad:
        np.testing.assert_allclose(to.grad, tt.grad.numpy(), rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_hinge(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    s, y = rng.uniform(-3, 3, 10), rng.choice([-1.0, 1.0], 10)
    so, st = cr.tensor(s, requires_grad=True), torch.tensor(s, requires_grad=True)
    lo = nn.HingeLoss(reduction=reduction)(so, y)
    lt = torch.clamp(1 - torch.tensor(y) * st, min=0)
    lt = {"mean": lt.mean(), "sum": lt.sum(), "none": lt}[reduction]
    np.testing.assert_allclose(lo.numpy(), lt.detach().numpy(), rtol=1e-12)
    lo.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(so.grad, st.grad.numpy(), rtol=1e-12)
    # integer targets work too
    np.testing.assert_allclose(F.hinge_loss(s, y.astype(np.int64), reduction=reduction).numpy(), lo.numpy())


def test_targets_get_no_gradient_unless_asked():
    p = cr.tensor([[0.2, 0.7]], requires_grad=True)
    t = cr.tensor([[0.0, 1.0]])
    for fn in (F.mse_loss, F.l1_loss, F.huber_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        p.grad = None
        fn(p, t).backward()
        assert p.grad is not None and t.grad is None


def test_float32_in_float32_out():
    z = cr.randn(16, 4, requires_grad=True)
    for loss in (F.mse_loss(z, np.zeros((16, 4))), F.l1_loss(z, np.zeros((16, 4), dtype=np.int64)),
                 F.binary_cross_entropy_with_logits(z, np.ones((16, 4))), F.cross_entropy(z, np.arange(16) % 4),
                 F.hinge_loss(z, np.arange(16) % 4), F.nll_loss(z, np.arange(16, dtype=np.int32) % 4),
                 F.cross_entropy(z, np.full((16, 4), 0.25)), F.l2_penalty(z)):
        z.grad = None
        assert loss.dtype == np.float32
        loss.backward()
        assert z.grad.dtype == np.float32


def test_labels_as_python_lists():
    z = cr.randn(3, 4)
    want = F.cross_entropy(z, np.array([0, 3, 1])).item()
    assert F.cross_entropy(z, [0, 3, 1]).item() == want
    assert F.nll_loss(z, [0, 3, 1]).item() == F.nll_loss(z, np.array([0, 3, 1])).item()
    assert F.hinge_loss(cr.tensor([0.5, -2.0]), [1, -1]).item() == 0.25


def test_cross_entropy_equals_nll_of_log_softmax():
    z = cr.randn(10, 6, requires_grad=True)
    y = np.random.default_rng(0).integers(0, 6, 10)
    a = F.cross_entropy(z, y)
    b = F.nll_loss(F.log_softmax(z, axis=1), y)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


# ------------------------------------------------------------------------------------------ penalties
def test_penalties_of_a_module():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    ws = [p.numpy() for p in net.parameters()]
    np.testing.assert_allclose(F.l2_penalty(net).item(), sum((w.astype(np.float64) ** 2).sum() for w in ws),
                               rtol=1e-5)
    np.testing.assert_allclose(F.l1_penalty(net.parameters()).item(), sum(np.abs(w).sum() for w in ws), rtol=1e-5)
    F.l1_penalty(net).backward()
    for p in net.parameters():
        np.testing.assert_array_equal(p.grad, np.sign(p.numpy()))
    assert F.l2_penalty([]).item() == 0.0


def test_l2_penalty_is_weight_decay():
    """loss + (lam/2) * sum w^2 has gradient g + lam * w: what SGD's weight_decay=lam adds."""
    lam = 0.1
    w = cr.tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)
    x = cr.tensor(np.random.default_rng(2).standard_normal((5, 3)))
    F.mse_loss(x @ w, np.zeros((5, 2))).backward()
    g = w.grad.copy()
    w.grad = None
    (F.mse_loss(x @ w, np.zeros((5, 2))) + lam / 2 * F.l2_penalty([w])).backward()
    np.testing.assert_allclose(w.grad, g + lam * w.numpy(), rtol=1e-12)


def test_penalty_bad_input():
    with pytest.raises(cr.errors.ArgumentTypeError, match="l2_penalty"):
        F.l2_penalty([np.ones(3)])


# ------------------------------------------------------------------------------------------ bad input
def test_bad_reduction():
    with pytest.raises(ArgumentError, match=r"mse_loss: reduction must be .*got 'avg'"):
        F.mse_loss(cr.ones(2), cr.ones(2), reduction="avg")
    with pytest.raises(ArgumentError, match="CrossEntropyLoss: reduction"):
        nn.CrossEntropyLoss(reduction="batchmean")
    for fn in (F.cross_entropy, F.nll_loss, F.hinge_loss):
        with pytest.raises(ArgumentError, match=fn.__name__):
            fn(cr.ones(2, 3), np.array([0, 1]), reduction="max")


def test_shape_mismatch_of_prediction_and_target():
    for fn in (F.mse_loss, F.l1_loss, F.huber_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(ShapeError, match=rf"{fn.__name__}.*\(4, 1\).*\(4,\)"):
            fn(cr.full((4, 1), 0.5), cr.full((4,), 0.5))


def test_cross_entropy_bad_targets():
    z = cr.randn(4, 3)
    with pytest.raises(ShapeError, match=r"cross_entropy.*\(4, 3\).*shape \(4,\), got \(5,\)"):
        F.cross_entropy(z, np.zeros(5, dtype=np.int64))
    with pytest.raises(DataError, match=r"cross_entropy: target label 3 is out of range \[0, 3\)"):
        F.cross_entropy(z, np.array([0, 1, 2, 3]))
    with pytest.raises(DataError, match="label -1"):
        nn.CrossEntropyLoss()(z, np.array([0, -1, 2, 1]))
    with pytest.raises(DTypeError, match="cross_entropy: class-index targets must be integers, got dtype float"):
        F.cross_entropy(z, np.array([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ArgumentError, match="label_smoothing"):
        F.cross_entropy(z, np.array([0, 1, 2, 1]), label_smoothing=1.5)
    with pytest.raises(ArgumentError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(DTypeError, match="logits must be floating"):
        F.cross_entropy(np.ones((2, 3), dtype=np.int64), np.array([0, 1]))


def test_nll_and_hinge_bad_targets():
    with pytest.raises(DataError, match="nll_loss.*out of range"):
        F.nll_loss(cr.randn(2, 3), np.array([0, 7]))
    with pytest.raises(ShapeError, match="nll_loss"):
        nn.NLLLoss()(cr.randn(2, 3), np.array([0, 1, 2]))
    with pytest.raises(DataError, match=r"hinge_loss: binary targets must be -1 or \+1"):
        F.hinge_loss(cr.randn(3), np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ShapeError, match="hinge_loss"):
        F.hinge_loss(cr.randn(3), np.array([1.0, -1.0]))
    with pytest.raises(DataError, match="hinge_loss.*out of range"):
        F.hinge_loss(cr.randn(2, 3), np.array([0, 3]))
    with pytest.raises(ShapeError, match="hinge_loss"):
        F.hinge_loss(cr.randn(2, 3, 4), np.array([0, 1]))


def test_bce_rejects_values_outside_0_1():
    with pytest.raises(DataError, match=r"binary_cross_entropy: .*\[0, 1\].*with_logits"):
        F.binary_cross_entropy(cr.tensor([0.5, 1.5]), cr.tensor([0.0, 1.0]))
    with pytest.raises(DataError):
        nn.BCELoss()(cr.tensor([0.5, np.nan]), cr.tensor([0.0, 1.0]))
    with pytest.raises(ArgumentError, match="delta"):
        nn.HuberLoss(delta=0)


def test_errors_are_chainrule_errors_and_builtins():
    with pytest.raises(ChainruleError):
        F.cross_entropy(cr.randn(2, 3), np.array([0, 5]))
    with pytest.raises(ValueError):
        F.mse_loss(cr.ones(2), cr.ones(3))
    with pytest.raises(TypeError):
        F.nll_loss(cr.randn(2, 3), np.array([0.0, 1.0]))
