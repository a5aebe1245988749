"""Conv2d: PyTorch cross-checks (forward, input and parameter gradients), initialisation, errors."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentError, ArgumentTypeError, ShapeError

from .torch_check import check_step

CASES = [  # (in, out, kernel, kwargs, input shape): odd sizes, every stride / padding / dilation / groups
    (3, 4, 3, {}, (2, 3, 7, 5)),
    (3, 4, 3, dict(padding=1), (2, 3, 7, 5)),
    (3, 5, (2, 3), dict(stride=2, padding=1), (2, 3, 7, 5)),
    (3, 4, 3, dict(stride=(2, 1), padding=(0, 2), bias=False), (2, 3, 9, 6)),
    (3, 4, 3, dict(dilation=2, padding=1), (2, 3, 7, 5)),
    (6, 9, 3, dict(groups=3, padding=1), (2, 6, 7, 5)),
    (4, 6, (3, 1), dict(groups=2, stride=2, dilation=(1, 2)), (3, 4, 8, 5)),
    (1, 8, 3, dict(padding=1), (3, 1, 9, 7)),
    (5, 2, 1, {}, (2, 5, 4, 3)),
    (4, 6, 1, dict(bias=False, groups=2), (2, 4, 5, 3)),  # 1x1 windows are the pixels: no copy
]


def _torch_pair(torch, ours_cls_args, kwargs, rng):
    in_c, out_c, k = ours_cls_args
    theirs = torch.nn.Conv2d(in_c, out_c, k, **kwargs).double()
    ours = nn.Conv2d(in_c, out_c, k, dtype=np.float64, **kwargs)
    ours.load_state_dict({k_: v.detach().numpy() for k_, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("in_c, out_c, k, kwargs, shape", CASES)
def test_conv2d_matches_torch(in_c, out_c, k, kwargs, shape, mode, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = _torch_pair(torch, (in_c, out_c, k), kwargs, rng)
    getattr(ours, mode)()
    getattr(theirs, mode)()
    check_step(torch, ours, theirs, rng.standard_normal(shape))


def test_lenet_stack_matches_torch(rng):
    """conv -> relu -> pool -> conv -> relu -> pool -> flatten -> linear: channels-last views end to end."""
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    def build(m):
        return m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.ReLU(), m.MaxPool2d(2), m.Conv2d(4, 6, 3, padding=1),
                            m.ReLU(), m.MaxPool2d(2), m.Flatten(), m.Linear(6 * 3 * 2, 5))

    theirs = build(tnn).double()
    ours = build(nn).to(np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((3, 1, 13, 9))
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(xo), theirs(xt)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-9)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-9)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=name)


def test_state_dict_and_repr_match_torch():
    torch = pytest.importorskip("torch")
    for args, kw in [((1, 32, 3), dict(padding=1)), ((6, 4, (2, 3)), dict(stride=2, dilation=2, groups=2, bias=False))]:
        theirs, ours = torch.nn.Conv2d(*args, **kw), nn.Conv2d(*args, **kw)
        assert {k: tuple(v.shape) for k, v in theirs.state_dict().items()} == {
            k: v.shape for k, v in ours.state_dict().items()
        }
        assert repr(ours) == repr(theirs)


def test_default_init_bounds():
    conv = nn.Conv2d(4, 16, (3, 5), groups=2)
    fan_in = 2 * 3 * 5
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives exactly this bound
    w, b = conv.weight.numpy(), conv.bias.numpy()
    assert w.shape == (16, 2, 3, 5) and b.shape == (16,)
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.25 * bound  # the std of U(-a, a) is a / sqrt(3)


def test_seeded_init_is_reproducible():
    cr.manual_seed(7)
    a = nn.Conv2d(3, 4, 3).weight.numpy().copy()
    cr.manual_seed(7)
    assert np.array_equal(a, nn.Conv2d(3, 4, 3).weight.numpy())


def test_float32_end_to_end_and_channels_last_output(rng):
    conv = nn.Conv2d(3, 8, 3, padding=1)
    x = cr.tensor(rng.standard_normal((4, 3, 9, 7)).astype(np.float32), requires_grad=True)
    y = conv(x)
    assert y.dtype == np.float32 and y.shape == (4, 8, 9, 7)
    assert y.numpy().transpose(0, 2, 3, 1).flags.c_contiguous  # NCHW view of NHWC memory
    y.sum().backward()
    assert x.grad.dtype == np.float32 and conv.weight.grad.dtype == np.float32 and conv.bias.grad.dtype == np.float32


def test_partial_gradients(rng):
    """Only what is asked for is computed: frozen weights, an input without grad, no bias."""
    x = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    full = [cr.tensor(a, requires_grad=True) for a in (x, w, b)]
    F.conv2d(*full, padding=1).sum().backward()
    for mask in [(False, True, True), (True, False, True), (True, True, False), (False, False, True)]:
        ts = [cr.tensor(a, requires_grad=m) for a, m in zip((x, w, b), mask)]
        F.conv2d(*ts, padding=1).sum().backward()
        for t, ref, m in zip(ts, full, mask):
            if m:
                np.testing.assert_allclose(t.grad, ref.grad, rtol=1e-12, atol=1e-12)
            else:
                assert t.grad is None


def test_no_grad_records_nothing(rng):
    conv = nn.Conv2d(2, 3, 3)
    with cr.no_grad():
        y = conv(cr.tensor(rng.standard_normal((1, 2, 5, 5)).astype(np.float32)))
    assert not y.requires_grad


def test_grad_accumulates_over_two_backwards(rng):
    conv = nn.Conv2d(2, 3, 3).to(np.float64)
    x = cr.tensor(rng.standard_normal((2, 2, 5, 4)))
    conv(x).sum().backward()
    once = conv.weight.grad.copy()
    conv(x).sum().backward()
    np.testing.assert_allclose(conv.weight.grad, 2 * once)


def test_gradcheck_module(rng):
    conv = nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=1).to(np.float64)
    x = cr.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    cr.gradcheck(lambda x, w, b: F.conv2d(x, w, b, (1, 2), 1), x, conv.weight, conv.bias)


# ---------------------------------------------------------------------------------------- bad input
def test_3d_input_names_layer_and_shapes():
    conv = nn.Conv2d(1, 32, 3)
    with pytest.raises(ShapeError) as e:
        conv(cr.zeros(28, 28, 1))
    msg = str(e.value)
    assert "Conv2d(1, 32, kernel_size=(3, 3)" in msg and "(28, 28, 1)" in msg and "4-D" in msg


def test_wrong_channel_count():
    with pytest.raises(ShapeError) as e:
        nn.Conv2d(3, 8, 3)(cr.zeros(2, 1, 9, 9))
    msg = str(e.value)
    assert "Conv2d(3, 8" in msg and "(2, 1, 9, 9)" in msg and "expected 3" in msg


def test_kernel_larger_than_padded_input():
    with pytest.raises(ShapeError) as e:
        nn.Conv2d(1, 2, 5, padding=1)(cr.zeros(1, 1, 2, 9))
    msg = str(e.value)
    assert "Conv2d(1, 2" in msg and "(5, 5)" in msg and "(4, 11)" in msg


def test_dilated_kernel_larger_than_input():
    with pytest.raises(ShapeError, match=r"\(5, 5\)"):
        F.conv2d(cr.zeros(1, 1, 4, 4), cr.zeros(1, 1, 3, 3), dilation=2)


@pytest.mark.parametrize("kw", [dict(groups=2), dict(groups=0), dict(stride=0), dict(stride=(1, -1)),
                                dict(padding=-1), dict(dilation=0)])
def test_bad_constructor_arguments(kw):
    with pytest.raises(ArgumentError, match="Conv2d"):
        nn.Conv2d(3, 4, 3, **kw)


def test_bad_functional_arguments():
    x, w = cr.zeros(1, 4, 5, 5), cr.zeros(6, 2, 3, 3)
    with pytest.raises(ArgumentError, match="stride"):
        F.conv2d(x, w, groups=2, stride=0)
    with pytest.raises(ShapeError, match="channels"):
        F.conv2d(x, w)  # groups=1 expects 2 input channels
    with pytest.raises(ArgumentError, match="groups=4"):
        F.conv2d(x, cr.zeros(6, 1, 3, 3), groups=4)  # 4 does not divide 6 outputs
    with pytest.raises(ShapeError, match="bias"):
        F.conv2d(x, w, cr.zeros(5), groups=2)
    with pytest.raises(ShapeError, match="weight"):
        F.conv2d(x, cr.zeros(6, 2, 3))
    with pytest.raises(ArgumentTypeError, match="kernel_size"):
        nn.Conv2d(1, 2, 2.5)
