"""MaxPool2d / AvgPool2d: PyTorch cross-checks (ties included), layouts, errors."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentError, ShapeError

CASES = [  # (kernel, stride, padding, input shape)
    (2, None, 0, (2, 3, 8, 6)),  # windows tile the input
    (2, None, 0, (2, 3, 7, 5)),  # remainder rows / columns dropped
    (3, 2, 1, (2, 3, 7, 5)),  # overlapping, padded
    ((3, 2), (2, 1), (1, 0), (2, 3, 7, 5)),
    (3, 3, 0, (1, 2, 9, 10)),
    (2, 1, 0, (2, 2, 5, 4)),
    (4, 3, 2, (2, 2, 7, 7)),
]


def _channels_last(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("kind", ["Max", "Avg"])
@pytest.mark.parametrize("k, s, p, shape", CASES)
def test_pool_matches_torch(k, s, p, shape, kind, layout, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape)
    if kind == "Max":  # integers: many ties, where the gradient must go to the first maximum, like PyTorch
        x = rng.integers(-2, 3, size=shape).astype(np.float64)
    ours = getattr(nn, f"{kind}Pool2d")(k, s, p)
    theirs = getattr(torch.nn, f"{kind}Pool2d")(k, s, p)
    xo = cr.tensor(_channels_last(x) if layout == "channels_last" else x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, ty = ours(xo), theirs(xt)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(ty.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", [F.max_pool2d, F.avg_pool2d])
def test_float32_kept_and_eval_mode_same(op, rng):
    x = cr.tensor(rng.standard_normal((2, 4, 6, 6)).astype(np.float32), requires_grad=True)
    y = op(x, 2)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    with cr.no_grad():
        np.testing.assert_array_equal(op(x, 2).numpy(), y.numpy())


def test_max_pool_gradient_goes_to_one_element_per_window():
    x = cr.zeros(1, 1, 4, 4, requires_grad=True)  # all ties
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])


def test_a_nan_window_sends_its_gradient_to_its_last_nan():
    nan = np.nan
    x = cr.tensor(np.array([[[[1, nan, 7, 2],
                              [nan, 3, 5, 8]]]], dtype=np.float32), requires_grad=True)  # fmt: skip
    y = F.max_pool2d(x, 2)
    y.sum().backward()
    assert np.isnan(y.numpy()[0, 0, 0, 0]) and y.numpy()[0, 0, 0, 1] == 8
    # the NaN window: its last NaN in row-major order (as PyTorch); the other: its max
    np.testing.assert_array_equal(np.asarray(x.grad)[0, 0], [[0, 0, 0, 0], [1, 0, 0, 1]])


@pytest.mark.parametrize("k, s, p, shape", CASES)
def test_max_pool_with_nans_matches_torch(k, s, p, shape, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape).astype(np.float32)
    x[rng.random(shape) < 0.2] = np.nan
    g = rng.standard_normal(F.max_pool2d(cr.tensor(x), k, s, p).shape).astype(np.float32)
    xc = cr.tensor(x, requires_grad=True)
    F.max_pool2d(xc, k, s, p).backward(cr.tensor(g))
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, k, s, p).backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(xc.grad), xt.grad.numpy(), atol=1e-6)


def test_gradient_layout_mismatch(rng):
    """A C-ordered gradient arriving at a channels-last input gives the same result."""
    x = rng.standard_normal((2, 3, 6, 4))
    a = cr.tensor(_channels_last(x), requires_grad=True)
    b = cr.tensor(x, requires_grad=True)
    g = rng.standard_normal((2, 3, 3, 2))
    F.max_pool2d(a, 2).backward(g)
    F.max_pool2d(b, 2).backward(g)
    np.testing.assert_array_equal(a.grad, b.grad)


def test_repr_and_defaults():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(3, 2, 1)) == "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    assert list(nn.MaxPool2d(2).state_dict()) == []


def test_3d_input_names_layer():
    with pytest.raises(ShapeError) as e:
        nn.MaxPool2d(2)(cr.zeros(32, 14, 14))
    msg = str(e.value)
    assert "MaxPool2d(kernel_size=2" in msg and "(32, 14, 14)" in msg and "4-D" in msg


@pytest.mark.parametrize("kw", [dict(stride=0), dict(padding=2), dict(padding=-1)])
def test_bad_arguments(kw):
    with pytest.raises(ArgumentError, match="avg_pool2d"):
        F.avg_pool2d(cr.zeros(1, 1, 6, 6), 3, **kw)


def test_kernel_larger_than_input():
    with pytest.raises(ShapeError, match=r"\(1, 1, 2, 6\)"):
        nn.AvgPool2d(3)(cr.zeros(1, 1, 2, 6))
    with pytest.raises(ArgumentError, match="kernel_size"):
        F.max_pool2d(cr.zeros(1, 1, 2, 6), 0)
