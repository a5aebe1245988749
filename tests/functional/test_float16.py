"""float16: batch-norm statistics and loss reductions add up in float32 (float16 sums overflow past 65504),
and return float16, as PyTorch does on the CPU. Shapes are those of the QA report (batch 128 of 28x28 maps,
70,000 losses); each result is checked against PyTorch's float16 ops, or against float64 where PyTorch's
own float16 reduction overflows.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn

F16 = np.float16


def _close(a, b, rel=2e-2):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert np.isfinite(a).all()
    np.testing.assert_allclose(a, b, rtol=rel, atol=rel * max(1e-3, float(np.abs(b).max(initial=0))))


# ------------------------------------------------------------------------------------------ batch norm
def test_batchnorm2d_float16_report_shape_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=(128, 2, 28, 28)).astype(F16)
    bn = nn.BatchNorm2d(2).to(F16)
    xt = cr.tensor(x, requires_grad=True)
    y = bn(xt)
    g = np.random.default_rng(1).normal(size=x.shape).astype(F16)
    (y * cr.tensor(g)).sum().backward()
    assert y.dtype == F16 and xt.grad.dtype == F16 and bn.weight.grad.dtype == F16
    assert bn.running_mean.dtype == F16 and bn.running_var.dtype == F16
    tb = torch.nn.BatchNorm2d(2).half()
    ty = tb(torch.tensor(x))
    _close(bn.running_var, tb.running_var.float().numpy(), 1e-3)
    _close(bn.running_mean, tb.running_mean.float().numpy(), 1e-2)
    _close(y.numpy(), ty.detach().float().numpy(), 5e-3)
    assert abs(float(y.numpy().astype(np.float64).std()) - 1.0) < 1e-2
    # gradients: against float64 on the same (float16-exact) numbers
    t64 = torch.tensor(x.astype(np.float64), requires_grad=True)
    b64 = torch.nn.BatchNorm2d(2).double()
    (b64(t64) * torch.tensor(g.astype(np.float64))).sum().backward()
    _close(xt.grad, t64.grad.numpy(), 2e-2)
    _close(bn.weight.grad, b64.weight.grad.numpy(), 2e-2)
    _close(bn.bias.grad, b64.bias.grad.numpy(), 2e-2)
    # evaluation with the float16 running statistics
    bn.eval()
    tb.eval()
    _close(bn(cr.tensor(x)).numpy(), tb(torch.tensor(x)).float().detach().numpy(), 5e-3)


def test_batchnorm1d_float16_large_features_matches_torch():
    torch = pytest.importorskip("torch")
    x = (np.random.default_rng(0).normal(size=(64, 3)) * 100 + 1000).astype(F16)
    bn = nn.BatchNorm1d(3).to(F16)
    y = bn(cr.tensor(x))
    tb = torch.nn.BatchNorm1d(3).half()
    ty = tb(torch.tensor(x))
    assert np.isfinite(bn.running_var).all()
    _close(bn.running_var, tb.running_var.float().numpy(), 2e-3)  # about [1148, 755, 864]
    _close(y.numpy(), ty.detach().float().numpy(), 1e-2)
    assert float(np.abs(y.numpy()).max()) > 1  # not all zeros


def test_layer_norm_float16_large_values_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.full((4, 8), 300.0, F16)
    x[:, 0] = -300
    x[1] *= F16(2)
    ln = nn.LayerNorm(8).to(F16)
    xt = cr.tensor(x, requires_grad=True)
    y = ln(xt)
    y.sum().backward()
    tl = torch.nn.LayerNorm(8).half()
    _close(y.numpy(), tl(torch.tensor(x)).detach().float().numpy(), 5e-3)
    assert y.dtype == F16 and np.isfinite(xt.grad).all()


# ------------------------------------------------------------------------------------------------ losses
@pytest.mark.parametrize("name, expected", [("mse_loss", 1.0), ("l1_loss", 1.0), ("huber_loss", 0.5),
                                            ("binary_cross_entropy_with_logits", 1.3133)])
def test_loss_means_of_70000_float16_values_match_torch(name, expected):
    torch = pytest.importorskip("torch")
    p, t = np.ones(70000, F16), np.zeros(70000, F16)
    pt = cr.tensor(p, requires_grad=True)
    loss = getattr(F, name)(pt, t)
    loss.backward()
    tp = torch.tensor(p, requires_grad=True)
    tl = getattr(torch.nn.functional, name)(tp, torch.tensor(t))
    tl.backward()
    assert loss.dtype == F16 and pt.grad.dtype == F16
    assert loss.item() == pytest.approx(expected, rel=2e-3)
    assert loss.item() == pytest.approx(tl.item(), rel=2e-3)
    _close(pt.grad, tp.grad.float().numpy(), 1e-2)  # 1/70000-sized: float16 subnormals, not 0


def test_loss_sums_float16_add_up_in_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p = rng.normal(size=50000).astype(F16)
    t = np.zeros(50000, F16)
    ref = float((p.astype(np.float64) ** 2).sum())  # ~50000: below 65504, but float16 partial sums round
    assert F.mse_loss(cr.tensor(p), t, reduction="sum").item() == pytest.approx(ref, rel=2e-3)
    tl = torch.nn.functional.mse_loss(torch.tensor(p), torch.tensor(t), reduction="sum")
    assert F.mse_loss(cr.tensor(p), t, reduction="sum").item() == pytest.approx(tl.item(), rel=2e-3)
    big = F.mse_loss(cr.tensor(np.full(1000, 10.0, F16)), np.zeros(1000, F16), reduction="sum")
    assert big.dtype == F16 and big.item() == np.inf  # 100,000 is past float16's range: inf, as in PyTorch


def test_cross_entropy_float16_large_batch():
    torch = pytest.importorskip("torch")
    z = np.zeros((10000, 10), F16)
    y = np.zeros(10000, np.int64)
    zt = cr.tensor(z, requires_grad=True)
    loss = F.cross_entropy(zt, y)
    loss.backward()
    tz = torch.tensor(z, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tz, torch.tensor(y))
    tl.backward()
    assert loss.dtype == F16 and zt.grad.dtype == F16
    assert loss.item() == pytest.approx(tl.item(), rel=1e-3)
    _close(zt.grad, tz.grad.float().numpy(), 1e-2)
    # 70,000 rows: the float16 sum (~161,000) overflows in PyTorch (nan); float32 accumulation gives ln 3
    big = np.random.default_rng(0).normal(size=(70000, 3)).astype(F16)
    labels = np.random.default_rng(1).integers(0, 3, 70000)
    z64 = big.astype(np.float64)
    ref = np.mean(np.log(np.exp(z64).sum(1)) - z64[np.arange(70000), labels])
    for kw in ({}, {"weight": np.array([1.0, 2.0, 0.5])}, {"label_smoothing": 0.1}):
        out = F.cross_entropy(cr.tensor(big), labels, **kw)
        assert out.dtype == F16 and np.isfinite(out.item())
        if not kw:
            assert out.item() == pytest.approx(ref, rel=2e-3)
    logp = F.log_softmax(cr.tensor(big.astype(np.float32))).numpy().astype(F16)
    assert F.nll_loss(cr.tensor(logp), labels).item() == pytest.approx(ref, rel=2e-3)
    assert F.nll_loss(cr.tensor(logp), labels, weight=np.ones(3)).item() == pytest.approx(ref, rel=2e-3)


def test_cross_entropy_float16_extreme_logits_match_torch():
    torch = pytest.importorskip("torch")
    z = np.array([[30.0, -30.0, 0.0], [-60000.0, 60000.0, 0.0]], F16)
    zt = cr.tensor(z, requires_grad=True)
    loss = F.cross_entropy(zt, np.array([0, 2]))
    loss.backward()
    tz = torch.tensor(z, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tz, torch.tensor([0, 2]))
    tl.backward()
    assert loss.item() == tl.item() == 30000.0
    np.testing.assert_array_equal(zt.grad, tz.grad.numpy())


def test_float32_losses_unchanged():
    p = cr.tensor(np.linspace(-1, 1, 7, dtype=np.float32), requires_grad=True)
    loss = F.mse_loss(p, np.zeros(7, np.float32))
    loss.backward()
    assert loss.dtype == np.float32 and p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad, 2 * p.numpy() / 7, rtol=1e-6)
