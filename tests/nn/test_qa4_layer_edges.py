"""Edge cases found by differential testing of the layers against PyTorch.

- max pooling of windows whose maximum is -inf, with padding or ceil_mode: the gradient goes to the window's
  first tap inside the input (PyTorch's choice), not to the padding where it would be lost;
- inputs holding no real numbers (strings, objects, complex) are refused with a DTypeError naming the layer;
- a BatchNorm state dict without ``num_batches_tracked`` loads, as in PyTorch.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import DTypeError, ShapeError


# --------------------------------------------------------------------------------- max pool, -inf windows
def _max_pool_grad(x, **kw):
    xc = cr.tensor(x, requires_grad=True)
    y = nn.MaxPool2d(**kw)(xc)
    y.sum().backward()
    return y.numpy(), xc.grad


def test_minus_inf_window_sends_its_gradient_inside_the_input():
    x = np.full((1, 1, 3, 3), -np.inf)
    x[0, 0, 2, 2] = 1.0
    y, gx = _max_pool_grad(x, kernel_size=3, stride=1, padding=1)
    assert np.isneginf(y[0, 0, 0]).all() and np.isneginf(y[0, 0, :, 0]).all()
    # windows (0,0), (0,1), (1,0) see only -inf inside the input: the gradient goes to their first tap inside,
    # x[0,0] for (0,0), (0,1), (1,0) and x[0,1] for (0,2), x[1,0] for (2,0); the 4 windows holding 1 send it there
    expected = np.array([[3.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 4.0]])
    np.testing.assert_array_equal(gx[0, 0], expected)
    assert gx.sum() == y.size  # no gradient lost in the padding


def test_minus_inf_window_with_dilation_and_ceil_mode_keeps_every_gradient():
    x = np.full((2, 1, 5, 4), -np.inf)
    _, gx = _max_pool_grad(x, kernel_size=2, stride=2, padding=1, dilation=1, ceil_mode=True)
    y_size = 2 * 1 * 3 * 3
    assert gx.sum() == y_size
    _, gx = _max_pool_grad(x, kernel_size=3, stride=1, padding=1, dilation=2)
    assert gx.sum() == 2 * 1 * 3 * 2


def test_max_pool_with_minus_inf_matches_torch_on_random_configs():
    torch = pytest.importorskip("torch")
    from chainrule.functional.pool import _out_size

    rng = np.random.default_rng(0)
    checked = 0
    while checked < 60:
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 3, size=2))
        dil = tuple(int(v) for v in rng.integers(1, 3, size=2))
        pad = (int(rng.integers(0, kh // 2 + 1)), int(rng.integers(0, kw // 2 + 1)))
        ceil = bool(rng.random() < 0.5)
        shape = (2, 2, int(rng.integers(2, 7)), int(rng.integers(2, 7)))

        def has_window_outside(size, k, s, p, d, ceil=ceil):  # PyTorch reads out of bounds there: skip
            out = _out_size(size, k, s, p, d, ceil)
            return out < 1 or any(not any(0 <= i * s - p + a * d < size for a in range(k)) for i in range(out))

        if any(has_window_outside(shape[2 + i], (kh, kw)[i], stride[i], pad[i], dil[i]) for i in (0, 1)):
            continue
        x = rng.standard_normal(shape)
        x[rng.random(shape) < 0.6] = -np.inf
        kw_ = dict(kernel_size=(kh, kw), stride=stride, padding=pad, dilation=dil, ceil_mode=ceil)
        xt = torch.tensor(x, requires_grad=True)
        ty = torch.nn.MaxPool2d(**kw_)(xt)
        g = rng.standard_normal(tuple(ty.shape))
        ty.backward(torch.tensor(g))
        xc = cr.tensor(x, requires_grad=True)
        y = nn.MaxPool2d(**kw_)(xc)
        y.backward(g)
        np.testing.assert_array_equal(y.numpy(), ty.detach().numpy(), err_msg=str(kw_))
        np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-12, atol=0, err_msg=str(kw_))
        checked += 1


def test_nan_and_minus_inf_windows_together():
    x = np.full((1, 1, 2, 4), -np.inf)
    x[0, 0, 1, 3] = np.nan
    y, gx = _max_pool_grad(x, kernel_size=2, stride=2, padding=1)
    assert np.isnan(y[0, 0, 1, 2]) and np.isneginf(y[0, 0, 0, 0])
    assert gx[0, 0, 1, 3] == 1.0  # the NaN window's gradient goes to its NaN
    assert gx.sum() == y.size


# ----------------------------------------------------------------------------- inputs of no real numbers
STRINGS = np.array([["a", "b", "c", "d"]] * 4)[None, None]

BAD_INPUTS = [
    ("Conv2d", lambda x: nn.Conv2d(1, 2, 3)(x), (1, 1, 4, 4)),
    ("conv2d", lambda x: F.conv2d(x, cr.ones(2, 1, 3, 3)), (1, 1, 4, 4)),
    ("MaxPool2d", lambda x: nn.MaxPool2d(2)(x), (1, 1, 4, 4)),
    ("AvgPool2d", lambda x: nn.AvgPool2d(2)(x), (1, 1, 4, 4)),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), (1, 1, 4, 4)),
    ("BatchNorm2d", lambda x: nn.BatchNorm2d(1)(x), (2, 1, 4, 4)),
    ("BatchNorm1d", lambda x: nn.BatchNorm1d(4)(x), (2, 4)),
    ("LayerNorm", lambda x: nn.LayerNorm(4)(x), (2, 4)),
    ("LayerNorm", lambda x: nn.LayerNorm(4, elementwise_affine=False)(x), (2, 4)),
    ("layer_norm", lambda x: F.layer_norm(x, 4), (2, 4)),
]


@pytest.mark.parametrize("kind", ["U", "O", "complex"])
@pytest.mark.parametrize("name, call, shape", BAD_INPUTS)
def test_inputs_of_no_real_numbers_are_dtype_errors(name, call, shape, kind):
    if kind == "U":
        x = np.full(shape, "a")
    elif kind == "O":
        x = np.empty(shape, dtype=object)
    else:
        x = np.ones(shape, dtype=np.complex128)
    with pytest.raises(DTypeError, match=rf"{name}.*dtype {np.dtype(x.dtype)} with shape \({shape[0]}, "):
        call(x)


def test_dropout_dtype_error_names_the_dtype():
    with pytest.raises(DTypeError, match=r"dropout: .*dtype int64 with shape \(2,\)"):
        nn.Dropout()(np.array([1, 2], dtype=np.int64))


# --------------------------------------------------------------------------- BatchNorm state dict counter
def test_batchnorm_state_dict_without_counter_loads_like_torch():
    bn = nn.BatchNorm1d(3)
    bn(cr.randn(4, 3))
    sd = {k: np.asarray(v) for k, v in nn.BatchNorm1d(3).state_dict().items() if k != "num_batches_tracked"}
    sd["running_mean"] = np.arange(3, dtype=np.float32)
    assert bn.load_state_dict(sd) == ([], [])
    np.testing.assert_array_equal(bn.running_mean, [0, 1, 2])
    assert int(bn.num_batches_tracked) == 1  # kept
    net = nn.Sequential(nn.BatchNorm2d(2))
    missing, _ = net.load_state_dict({"0.weight": np.ones(2, np.float32)}, strict=False)
    assert missing == ["0.bias", "0.running_mean", "0.running_var"]
    with pytest.raises(cr.errors.StateDictError, match="running_var"):
        nn.BatchNorm1d(3).load_state_dict({k: v for k, v in sd.items() if k != "running_var"})


def test_linear_and_recurrent_layers_refuse_strings_and_complex_numbers():
    cases = [(nn.Linear(2, 3), np.array([["a", "b"]]), "Linear"), (nn.LSTM(2, 3), np.array([[["a", "b"]]]), "LSTM"),
             (nn.LayerNorm(3), np.zeros((2, 3), complex), "LayerNorm"),
             (nn.BatchNorm1d(3), np.zeros((2, 3), complex), "BatchNorm1d")]
    for layer, x, name in cases:
        with pytest.raises(DTypeError, match=rf"{name}.*real numbers.*got dtype {x.dtype} with shape"):
            layer(x)


def test_flatten_of_a_0d_tensor_takes_only_axis_0_as_pytorch():
    assert cr.flatten(cr.tensor(3.0)).shape == (1,)
    with pytest.raises(ShapeError, match="0-d tensor takes start_axis and end_axis 0 or -1, got 1"):
        nn.Flatten()(cr.tensor(3.0))
