"""Layers called with lists and integer arrays; size checks of Linear; GRU/RNN proj_size; zero-fan init."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentError, ArgumentTypeError


@pytest.mark.parametrize("layer, x", [
    (lambda: nn.Linear(3, 2), [[1.0, 2.0, 3.0]]),
    (lambda: nn.Conv2d(1, 2, 1), [[[[1.0, 2.0]]]]),
    (lambda: nn.BatchNorm1d(2), [[1.0, 2.0], [3.0, 5.0]]),
    (lambda: nn.BatchNorm2d(1), [[[[1.0, 2.0]]], [[[3.0, 4.0]]]]),
    (lambda: nn.LayerNorm(2), [[1.0, 2.0], [3.0, 5.0]]),
    (lambda: nn.LSTM(1, 2), [[1.0], [2.0]]),
    (lambda: nn.GRU(1, 2), [[1.0], [2.0]]),
])
def test_layers_take_lists_as_default_dtype_forward_and_backward(layer, x):
    m = layer()
    y = m(x)
    y = y[0] if isinstance(y, tuple) else y
    assert y.dtype == np.float32
    y.sum().backward()
    assert all(p.grad is not None and p.grad.dtype == np.float32 for p in m.parameters())


def test_list_input_in_float64_mode():
    cr.set_default_dtype(np.float64)
    lin = nn.Linear(2, 1)
    assert lin([[1, 2]]).dtype == np.float64


def test_functional_forms_take_lists():
    x = [[[[1.0, 2.0], [3.0, 4.0]]]]
    assert F.max_pool2d(x, 2).dtype == np.float32
    assert F.avg_pool2d(x, 2).numpy().item() == 2.5
    assert F.conv2d(x, cr.ones(1, 1, 2, 2)).numpy().item() == 10
    assert F.linear([[1.0, 2.0]], cr.ones(3, 2)).dtype == np.float32
    assert F.layer_norm([1.0, 3.0], 2).numpy().round(3).tolist() == [-1.0, 1.0]
    rm, rv = np.zeros(2, np.float32), np.ones(2, np.float32)
    assert F.batch_norm([[1.0, 2.0], [3.0, 4.0]], rm, rv, training=True).dtype == np.float32
    assert nn.Dropout(0.5)([1.0, 2.0, 3.0]).dtype == np.float32


def test_integer_inputs_become_the_weights_dtype():
    ints = np.ones((4, 3), np.int64)
    lin = nn.Linear(3, 2)
    assert lin(ints).dtype == np.float32
    assert lin(cr.tensor(ints)).dtype == np.float32
    assert lin(ints.astype(np.uint8)).dtype == np.float32
    assert lin.double()(ints).dtype == np.float64
    np.testing.assert_allclose(lin(ints).numpy(), lin(ints.astype(np.float64)).numpy())
    assert nn.Conv2d(1, 1, 3)(np.zeros((1, 1, 5, 5), np.int64)).dtype == np.float32
    assert nn.BatchNorm1d(3)(ints).dtype == np.float32
    assert F.avg_pool2d(np.ones((1, 1, 2, 2), np.int64), 2).dtype == np.float32
    # the whole step runs in float32
    loss = F.cross_entropy(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))(ints), np.zeros(4, np.int64))
    assert loss.dtype == np.float32


def test_linear_validates_sizes():
    for bad in (-1, 2.5, 2.0, True, "3", None):
        with pytest.raises(ArgumentError, match="Linear: in_features must be a non-negative integer"):
            nn.Linear(bad, 2)
        with pytest.raises(ArgumentError, match="Linear: out_features must be a non-negative integer"):
            nn.Linear(2, bad)
    assert nn.Linear(np.int64(3), 2).in_features == 3


def test_linear_zero_sizes_like_torch():
    torch = pytest.importorskip("torch")
    lin = nn.Linear(0, 2)
    assert lin.weight.shape == (2, 0) and (lin.bias.numpy() == 0).all()
    with pytest.warns(UserWarning):
        tlin = torch.nn.Linear(0, 2)
    assert (tlin.bias.detach().numpy() == 0).all()  # torch: bound 0 for fan_in 0
    y = lin(cr.ones(3, 0))
    assert y.shape == (3, 2) and (y.numpy() == 0).all()
    assert nn.Linear(2, 0)(cr.ones(3, 2)).shape == (3, 0)


@pytest.mark.parametrize("fill", [nn.init.kaiming_uniform_, nn.init.kaiming_normal_, nn.init.xavier_uniform_,
                                  nn.init.xavier_normal_, nn.init.orthogonal_])
def test_init_of_a_zero_size_tensor_is_a_no_op(fill):
    for shape in [(2, 0), (0, 3), (4, 0, 3, 3)]:
        t = cr.zeros(*shape)
        assert fill(t) is t and t.shape == shape
    t = cr.zeros(0, 3)
    assert nn.init.kaiming_uniform_(t, mode="fan_out") is t


def test_gru_and_rnn_refuse_proj_size_like_torch():
    torch = pytest.importorskip("torch")
    for cls, tcls in ((nn.GRU, torch.nn.GRU), (nn.RNN, torch.nn.RNN)):
        with pytest.raises(ValueError, match="only supported for LSTM"):
            tcls(3, 4, proj_size=2)
        with pytest.raises(ArgumentError, match=f"{cls.__name__}: proj_size argument is only supported for LSTM"):
            cls(3, 4, proj_size=2)
        names = [n for n, _ in cls(3, 4, proj_size=0).named_parameters()]
        assert names == [n for n, _ in tcls(3, 4).named_parameters()]
        assert not any("weight_hr" in n for n in names)
    assert "weight_hr_l0" in dict(nn.LSTM(3, 4, proj_size=2).named_parameters())


def test_bad_inputs_still_raise_chainrule_errors():
    with pytest.raises(ArgumentTypeError):
        nn.Linear(2, 1)("ab")
    with pytest.raises(cr.ChainruleError):
        nn.Linear(2, 1)([[1.0, 2.0], [3.0]])
