"""PyTorch's pooling options (ceil_mode, dilation, count_include_pad, divisor_override) and Conv2d padding
'same'/'valid', cross-checked against torch: same configurations accepted, same outputs and gradients."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentError


def _configs(n: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        kind = "max" if rng.random() < 0.5 else "avg"
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        p = tuple(int(min(v, kk // 2)) if rng.random() < 0.9 else int(v) for v, kk in zip(rng.integers(0, 3, 2), k))
        d = tuple(int(v) for v in rng.integers(1, 3, 2)) if kind == "max" else (1, 1)
        opts = dict(ceil_mode=bool(rng.integers(2)))
        if kind == "avg":
            opts["count_include_pad"] = bool(rng.integers(2))
            opts["divisor_override"] = int(rng.integers(1, 7)) if rng.random() < 0.2 else None
        hw = tuple(int(v) for v in rng.integers(max(k) * max(d) - 1, 11, 2))
        yield kind, k, s, p, d, opts, hw, int(rng.integers(1 << 30))


def test_pools_match_torch_on_random_configs():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    compared = 0
    for kind, k, s, p, d, opts, hw, seed in _configs(300, 0):
        rng = np.random.default_rng(seed)
        x = np.round(rng.standard_normal((2, 3, *hw)), 1)  # rounded: ties in the max windows
        if seed % 3 == 0:  # channels-last memory, as conv2d outputs
            x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        xt = torch.tensor(x, requires_grad=True)
        xc = cr.tensor(x, requires_grad=True)
        try:
            yt = tf.max_pool2d(xt, k, s, p, d, **opts) if kind == "max" else tf.avg_pool2d(xt, k, s, p, **opts)
        except RuntimeError:
            with pytest.raises(cr.ChainruleError):  # refused by both
                F.max_pool2d(xc, k, s, p, d, **opts) if kind == "max" else F.avg_pool2d(xc, k, s, p, **opts)
            continue
        yc = F.max_pool2d(xc, k, s, p, d, **opts) if kind == "max" else F.avg_pool2d(xc, k, s, p, **opts)
        cfg = (kind, k, s, p, d, opts, hw)
        assert yc.shape == tuple(yt.shape), cfg
        if not torch.isfinite(yt).all():  # a window of padding only: torch's backward is unsafe there
            np.testing.assert_array_equal(yc.numpy(), yt.detach().numpy(), err_msg=str(cfg))
            continue
        np.testing.assert_allclose(yc.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=str(cfg))
        g = rng.standard_normal(yt.shape)
        yt.backward(torch.tensor(g))
        yc.backward(g)
        np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=str(cfg))
        compared += 1
    assert compared > 150


def test_pool_modules_take_torch_arguments():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 6)).astype(np.float32)
    pairs = [
        (nn.MaxPool2d(3, 2, 1, dilation=1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, dilation=1, ceil_mode=True)),
        (nn.MaxPool2d(2, dilation=2), torch.nn.MaxPool2d(2, dilation=2)),
        (nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
         torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)),
        (nn.AvgPool2d(2, divisor_override=3), torch.nn.AvgPool2d(2, divisor_override=3)),
    ]
    for ours, theirs in pairs:
        y = ours(cr.tensor(x))
        assert y.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-6)
    assert repr(nn.MaxPool2d(2, ceil_mode=True)) == ("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                                                     "ceil_mode=True)")
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"


def test_unknown_pool_arguments_name_the_public_class():
    with pytest.raises(TypeError, match=r"MaxPool2d\.__init__\(\) got an unexpected keyword argument 'count_incl"):
        nn.MaxPool2d(2, count_include_pad=False)
    with pytest.raises(TypeError, match=r"AvgPool2d\.__init__\(\) got an unexpected keyword argument 'dilation'"):
        nn.AvgPool2d(2, dilation=2)
    with pytest.raises(ArgumentError, match="MaxPool2d: return_indices=True is not supported"):
        nn.MaxPool2d(2, return_indices=True)
    with pytest.raises(ArgumentError, match=r"AvgPool2d\(kernel_size=2.*divisor_override"):
        nn.AvgPool2d(2, divisor_override=0)(cr.zeros(1, 1, 4, 4))
    with pytest.raises(cr.ChainruleError, match=r"MaxPool2d\(kernel_size=2.*dilation must be positive"):
        nn.MaxPool2d(2, dilation=0)(cr.zeros(1, 1, 4, 4))


def test_pool_gradcheck_with_options():
    x = cr.tensor(np.random.default_rng(2).standard_normal((1, 2, 5, 6)), requires_grad=True)
    cr.gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False), x)
    cr.gradcheck(lambda t: F.max_pool2d(t, 2, 1, 1, dilation=2, ceil_mode=True), x)


@pytest.mark.parametrize("k, d, hw", [(3, 1, (7, 6)), (4, 1, (7, 6)), (2, 3, (9, 8)), ((2, 5), (2, 1), (6, 7))])
def test_conv2d_padding_same_and_valid_match_torch(k, d, hw):
    torch = pytest.importorskip("torch")
    import warnings

    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, *hw))
    for mode in ("same", "valid"):
        ours = nn.Conv2d(2, 3, k, padding=mode, dilation=d).double()
        theirs = torch.nn.Conv2d(2, 3, k, padding=mode, dilation=d).double()
        ours.load_state_dict({n: v.detach().numpy() for n, v in theirs.state_dict().items()})
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        with warnings.catch_warnings():  # torch warns about the copy it makes for even kernels
            warnings.simplefilter("ignore")
            yt = theirs(xt)
        yc = ours(xc)
        assert yc.shape == tuple(yt.shape) and (mode == "valid" or yc.shape[2:] == hw)
        np.testing.assert_allclose(yc.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(yc.shape)
        yc.backward(g)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv2d_padding_string_errors():
    with pytest.raises(ArgumentError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ArgumentError, match="padding='same' is not supported for strided"):
        F.conv2d(cr.zeros(1, 1, 5, 5), cr.zeros(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(ArgumentError, match="'full'"):
        nn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(ArgumentError, match="padding_mode='reflect' is not supported"):
        nn.Conv2d(1, 1, 3, padding_mode="reflect")
    assert nn.Conv2d(1, 1, 3, padding="same").extra_repr().endswith("padding='same'")
    cr.gradcheck(lambda t: F.conv2d(t, cr.ones(1, 1, 2, 3, dtype=np.float64), padding="same"),
                 cr.tensor(np.random.default_rng(4).standard_normal((1, 1, 4, 5)), requires_grad=True))
