"""detect_anomaly follows PyTorch: NaN gradients raise, naming the op and the line; inf (a -inf mask) is a value."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import functional as F
from chainrule.errors import ArgumentTypeError, NonFiniteError

Z = np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]])
MASK = np.array([[True, True, False], [True, False, True]])


def _masked_losses(z):
    """Two ways to mask logits with -inf before cross-entropy, and a log_softmax of the masked logits."""
    yield F.cross_entropy(F.where(MASK, z, -np.inf), np.array([1, 0]))
    yield F.cross_entropy(z + np.where(MASK, 0.0, -np.inf), np.array([1, 0]))
    yield F.where(MASK, F.log_softmax(F.where(MASK, z, -np.inf), axis=-1), 0.0).sum()


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_minus_inf_masks_pass_as_in_torch():
    torch = pytest.importorskip("torch")
    for i in range(3):
        z = cr.tensor(Z, requires_grad=True)
        with cr.detect_anomaly(check_forward=True):
            loss = list(_masked_losses(z))[i]
            loss.backward()
        tz = torch.tensor(Z, requires_grad=True)
        with torch.autograd.detect_anomaly():
            tm = torch.tensor(MASK)
            tl = [torch.nn.functional.cross_entropy(torch.where(tm, tz, -torch.inf), torch.tensor([1, 0])),
                  torch.nn.functional.cross_entropy(tz + torch.where(tm, 0.0, -torch.inf), torch.tensor([1, 0])),
                  torch.where(tm, torch.log_softmax(torch.where(tm, tz, -torch.inf), -1), 0.0).sum()][i]
            tl.backward()
        np.testing.assert_allclose(loss.item(), tl.item(), rtol=1e-12)
        np.testing.assert_allclose(z.grad, tz.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_inf_gradient_is_not_an_anomaly_but_nan_is():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with cr.detect_anomaly():
        x.sqrt().sum().backward()  # d sqrt/dx = inf at 0: a value (PyTorch agrees)
        assert np.isinf(x.grad[0])
        x.grad = None
        with pytest.raises(NonFiniteError, match=r"Sqrt\.backward produced NaN in the gradient for input 0 "
                                                 r"\(an array of shape \(2,\).*test_anomaly\.py:\d+"):
            (x.sqrt() * 0).sum().backward()  # inf * 0


def test_forward_nan_raises_only_with_check_forward():
    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    with cr.detect_anomaly():  # PyTorch's where-log pattern: NaN in forward, finite gradient
        F.where(x > 0, x.log(), 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5])
    with cr.detect_anomaly(check_forward=True), pytest.raises(NonFiniteError, match=r"Log\.forward produced NaN"):
        x.log()
    with cr.detect_anomaly(check_forward=True):
        F.where(MASK, cr.tensor(Z), -np.inf)  # inf in forward is never flagged


def test_check_nan_false_turns_the_checks_off_and_modes_nest():
    x = cr.tensor([0.0], requires_grad=True)
    with cr.detect_anomaly(check_nan=False):
        (x.sqrt() * 0).sum().backward()
        with cr.detect_anomaly(), pytest.raises(NonFiniteError):
            (x.sqrt() * 0).sum().backward()
        (x.sqrt() * 0).sum().backward()  # the outer mode is back
    assert not cr.autograd.anomaly_enabled()
    with np.errstate(all="ignore"):
        (x.sqrt() * 0).sum().backward()  # off outside
    assert np.isnan(x.grad).all()


def test_op_made_outside_anomaly_mode_is_still_checked_in_backward():
    x = cr.tensor([0.0], requires_grad=True)
    y = (x.sqrt() * 0).sum()
    with cr.detect_anomaly(), pytest.raises(NonFiniteError, match=r"Sqrt\.backward produced NaN"):
        y.backward()


@pytest.mark.parametrize("kw", [{"check_nan": "no"}, {"check_forward": 1}])
def test_bad_flags(kw):
    with pytest.raises(ArgumentTypeError, match="detect_anomaly: check_"):
        cr.detect_anomaly(**kw)
