"""Loss edge cases found by the second QA sweep: BCE's target range, Huber's delta, the binary hinge on
(N, 1) scores, BCE with logits at infinite logits, and the dtype of weight buffers given as lists."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentError, ArgumentTypeError, DataError, DTypeError, ShapeError

P = [0.1, 0.9, 0.5]


@pytest.mark.parametrize("target", [[-1.0, 1.0, -1.0], [0.0, 255.0, 0.0], [np.nan, 1.0, 0.0], [0.0, 1.0 + 1e-6, 0.5]])
def test_bce_rejects_a_target_outside_0_1_as_torch(target):
    with pytest.raises(DataError, match=r"binary_cross_entropy: target must hold values in \[0, 1\], got "):
        F.binary_cross_entropy(cr.tensor(P), cr.tensor(target))
    with pytest.raises(DataError, match="target must hold values in"):
        nn.BCELoss()(cr.tensor(P), cr.tensor(target))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor(P), torch.tensor(target, dtype=torch.float32))


def test_bce_target_check_names_nan_and_hints():
    with pytest.raises(DataError, match=r"got NaN"):
        F.binary_cross_entropy(cr.tensor(P), [np.nan, 1.0, 0.0])
    with pytest.raises(DataError, match=r"\(t \+ 1\) / 2"):
        F.binary_cross_entropy(cr.tensor(P), [-1.0, 1.0, 1.0])
    t = cr.tensor([0.0, 1.0, 0.3], requires_grad=True)  # a soft target that needs a gradient is checked and used
    F.binary_cross_entropy(cr.tensor(P), t).backward()
    assert t.grad.shape == (3,)
    assert F.binary_cross_entropy(cr.zeros(0), cr.zeros(0), reduction="sum").item() == 0.0


@pytest.mark.parametrize("delta,cls", [("a", ArgumentTypeError), (None, ArgumentTypeError),
                                       (np.array([1.0, 2.0, 3.0]), ArgumentTypeError), (True, ArgumentTypeError),
                                       (0.0, ArgumentError), (-1, ArgumentError), (np.nan, ArgumentError)])
def test_huber_delta_checks(delta, cls):
    x = cr.tensor([1.0, 2.0, 3.0])
    with pytest.raises(cls, match="huber_loss: delta must be"):
        F.huber_loss(x, x, delta=delta)
    with pytest.raises(cls, match="HuberLoss: delta must be"):
        nn.HuberLoss(delta=delta)


def test_huber_delta_takes_numpy_numbers_and_inf():
    x, t = cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0])
    assert F.huber_loss(x, t, delta=np.float32(1.0)).item() == F.huber_loss(x, t).item()
    assert nn.HuberLoss(delta=np.int64(2)).delta == 2.0
    np.testing.assert_allclose(F.huber_loss(x, t, delta=np.inf, reduction="none").numpy(), [0.125, 4.5])


@pytest.mark.parametrize("target", [[1.0, -1.0, 1.0], [1, -1, 1], [[1.0], [-1.0], [1.0]]],
                         ids=["float (N,)", "int (N,)", "float (N, 1)"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_hinge_takes_the_n_by_1_scores_of_a_linear_svm(target, reduction):
    s = np.array([[2.0], [0.5], [-1.0]])
    flat = cr.tensor(s.reshape(-1), requires_grad=True)
    want = F.hinge_loss(flat, np.ravel(target).astype(float), reduction=reduction)
    want.backward(np.ones(want.shape))
    col = cr.tensor(s, requires_grad=True)
    got = F.hinge_loss(col, target, reduction=reduction)
    assert got.shape == (np.shape(target) if reduction == "none" else ())
    np.testing.assert_allclose(got.numpy().reshape(-1), want.numpy().reshape(-1))
    got.backward(np.ones(got.shape))
    np.testing.assert_allclose(col.grad, flat.grad.reshape(3, 1))
    assert nn.HingeLoss(reduction=reduction)(col, target).shape == got.shape


def test_hinge_messages_point_the_right_way():
    col = cr.tensor([[2.0], [0.5], [-1.0]])
    with pytest.raises(DataError, match=r"binary targets must be -1 or \+1 .*\(0/1 labels: use 2 \* t - 1\)"):
        F.hinge_loss(col, [0.0, 1.0, 1.0])
    with pytest.raises(ShapeError, match=r"scores of shape \(3, 1\) need -1/\+1 targets of shape \(3, 1\) or \(3,\)"):
        F.hinge_loss(col, [1.0, -1.0])
    with pytest.raises(DTypeError, match="binary targets must be -1 or \\+1 numbers, got dtype <U1"):
        F.hinge_loss(col, ["a", "b", "c"])
    with pytest.raises(DTypeError, match=r"multi-class scores of shape \(3, 4\) need integer class indices.*"
                                         r"binary -1/\+1 hinge give scores of shape \(N,\) or \(N, 1\)"):
        F.hinge_loss(cr.randn(3, 4), [1.0, -1.0, 1.0])


def test_bce_with_logits_at_infinite_logits():
    torch = pytest.importorskip("torch")
    z = np.array([np.inf, np.inf, -np.inf, -np.inf, np.inf, -np.inf])
    t = np.array([0.0, 0.5, 0.5, 1.0, 0.0, 1.0])
    for pw in (None, np.full(6, 3.0)):
        zo, zt = cr.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
        y = F.binary_cross_entropy_with_logits(zo, t, reduction="none", pos_weight=pw)
        y.sum().backward()
        ty = torch.nn.functional.binary_cross_entropy_with_logits(
            zt, torch.tensor(t), reduction="none", pos_weight=None if pw is None else torch.tensor(pw))
        ty.sum().backward()
        assert np.all(np.isposinf(y.numpy()))  # every logit is on the wrong side: the loss is +inf
        finite = ~np.isnan(ty.detach().numpy())  # PyTorch gives NaN for some of them
        np.testing.assert_array_equal(y.numpy()[finite], ty.detach().numpy()[finite])
        np.testing.assert_array_equal(zo.grad, zt.grad.numpy())


def test_bce_with_logits_target_gradient_unchanged_with_pos_weight():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    z, t, pw = 3 * rng.standard_normal((4, 3)), rng.uniform(size=(4, 3)), np.array([0.5, 1.0, 3.0])
    zo, to = cr.tensor(z, requires_grad=True), cr.tensor(t, requires_grad=True)
    zt, tt = torch.tensor(z, requires_grad=True), torch.tensor(t, requires_grad=True)
    F.binary_cross_entropy_with_logits(zo, to, pos_weight=pw).backward()
    torch.nn.functional.binary_cross_entropy_with_logits(zt, tt, pos_weight=torch.tensor(pw)).backward()
    np.testing.assert_allclose(zo.grad, zt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(to.grad, tt.grad.numpy(), rtol=1e-12)


def test_weight_lists_become_default_float_buffers_as_torch():
    torch = pytest.importorskip("torch")
    assert nn.CrossEntropyLoss([1.0, 2.0, 0.5]).weight.dtype == np.float32
    assert nn.NLLLoss([1, 2, 3]).weight.dtype == np.float32
    assert nn.BCEWithLogitsLoss(pos_weight=[3.0]).pos_weight.dtype == np.float32
    assert nn.BCELoss(weight=[1.0, 2.0]).weight.dtype == np.float32
    assert nn.CrossEntropyLoss([1.0, 2.0]).state_dict()["weight"].dtype == np.float32
    assert torch.nn.CrossEntropyLoss(torch.tensor([1.0, 2.0])).weight.dtype == torch.float32
    w64 = np.array([1.0, 2.0])  # an explicit float64 array keeps its dtype, as torch.tensor(w64) does
    assert nn.CrossEntropyLoss(w64).weight.dtype == np.float64
    assert nn.CrossEntropyLoss(cr.tensor(w64, dtype=np.float64)).weight.dtype == np.float64
