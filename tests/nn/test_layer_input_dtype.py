"""A layer computes in its weight's dtype: floating inputs of another dtype are cast (layer_input), and a
tensor that requires grad gets its gradient back in its own dtype. Also: set_default_dtype's checks."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import DTypeError
from chainrule.functional.linalg import layer_input

LAYERS = {
    "Linear": (lambda: nn.Linear(6, 3), (4, 6)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(6), (4, 6)),
    "BatchNorm2d_no_affine": (lambda: nn.BatchNorm2d(2, affine=False), (3, 2, 4, 4)),
    "LayerNorm": (lambda: nn.LayerNorm(6), (4, 6)),
}


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("as_tensor", [False, True])
def test_float32_layer_computes_in_float32_on_float64_data(name, as_tensor):
    make, shape = LAYERS[name]
    layer = make()
    x64 = np.random.default_rng(0).normal(size=shape)
    x = cr.tensor(x64, requires_grad=True) if as_tensor else x64
    y = layer(x)
    assert y.dtype == np.float32
    ref = layer(x64.astype(np.float32))  # the same as casting first (BatchNorm: its running stats move again)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    if not y.requires_grad:  # no parameters and a plain array in: nothing to differentiate
        return
    y.sum().backward()
    for p in layer.parameters():
        assert p.grad.dtype == np.float32
    if as_tensor:
        assert x.grad.dtype == np.float64 and x.grad.shape == shape


def test_linear_input_gradient_flows_back_through_the_cast():
    torch = pytest.importorskip("torch")
    layer = nn.Linear(5, 2)
    x64 = np.random.default_rng(1).normal(size=(3, 5))
    x = cr.tensor(x64, requires_grad=True)
    (layer(x) ** 2).sum().backward()
    tw = torch.tensor(layer.weight.numpy().astype(np.float64))
    tb = torch.tensor(layer.bias.numpy().astype(np.float64))
    tx = torch.tensor(x64, requires_grad=True)
    ((tx @ tw.T + tb) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_pools_and_float64_layers_keep_their_dtype():
    x64 = np.random.default_rng(0).normal(size=(1, 1, 4, 4))
    assert nn.MaxPool2d(2)(x64).dtype == np.float64  # no weight: nothing to follow
    assert nn.Linear(4, 2, dtype=np.float64)(np.ones((2, 4), np.float32)).dtype == np.float64
    assert F.linear(np.ones((2, 3)), cr.ones(4, 3)).dtype == np.float32


def test_layer_input_common_path_returns_the_same_object():
    w = cr.zeros(3, 2)
    x = cr.tensor(np.ones((4, 2), np.float32), requires_grad=True)
    a = np.ones((4, 2), np.float32)
    assert layer_input(x, w) is x and layer_input(a, w) is a
    assert layer_input([[1, 2]], w).dtype == np.float32
    assert layer_input(np.ones((1, 2), np.int64), w).dtype == np.float32


# ------------------------------------------------------------------------------------- default dtype
@pytest.mark.parametrize("bad", [None, "foo", "int32", np.int64, object()])
def test_set_default_dtype_rejects_non_floating_names(bad):
    with pytest.raises(DTypeError, match="set_default_dtype"):
        cr.set_default_dtype(bad)
    assert cr.get_default_dtype() == np.float32


def test_set_default_dtype_accepts_floats_and_torch_dtypes():
    cr.set_default_dtype("float64")
    assert cr.get_default_dtype() == np.float64
    cr.set_default_dtype("torch.float16")
    assert cr.get_default_dtype() == np.float16
    torch = pytest.importorskip("torch")
    cr.set_default_dtype(torch.float64)
    assert cr.get_default_dtype() == np.float64 and nn.Linear(2, 2).weight.dtype == np.float64
    with pytest.raises(DTypeError, match="torch.int32"):
        cr.set_default_dtype(torch.int32)
    with pytest.raises(DTypeError, match="bfloat16"):
        cr.set_default_dtype(torch.bfloat16)
