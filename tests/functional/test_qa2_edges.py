"""Edge cases from the second QA sweep (numerics #3, #4, #6, #7; models #5), cross-checked with PyTorch.

- an empty batch (N = 0) through conv2d and every fused recurrent layer gives empty outputs and gradients;
- softmax / log_softmax of a 0-d tensor are 1 and 0;
- option values of leaky_relu, elu, batch_norm, layer_norm and embedding are checked up front;
- batch_norm / layer_norm keep a floating input's dtype when given float64 NumPy statistics or weights.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError


# ------------------------------------------------------------------------------------------ empty batch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_layer_on_an_empty_batch(dtype):
    conv = nn.Conv2d(2, 3, 3, padding=1, dtype=dtype)
    x = cr.tensor(np.zeros((0, 2, 5, 5), dtype), requires_grad=True)
    y = conv(x)
    assert y.shape == (0, 3, 5, 5) and y.dtype == dtype
    y.sum().backward()
    assert x.grad.shape == (0, 2, 5, 5)
    assert conv.weight.grad.shape == (3, 2, 3, 3) and not conv.weight.grad.any()
    assert conv.bias.grad.shape == (3,) and not conv.bias.grad.any()
    with cr.no_grad():
        assert nn.Conv2d(1, 8, 3)(cr.zeros(0, 1, 28, 28)).shape == (0, 8, 26, 26)


def test_cnn_model_on_an_empty_batch():
    m = nn.models.get_model("cnn", (1, 28, 28), 10)
    x = cr.tensor(np.zeros((0, 1, 28, 28), np.float32), requires_grad=True)
    out = m(x)
    assert out.shape == (0, 10)
    out.sum().backward()
    assert x.grad.shape == x.shape
    assert all(p.grad is not None and p.grad.shape == p.shape and not p.grad.any() for p in m.parameters())


RECURRENT = [
    ("RNN", {}), ("RNN", {"bidirectional": True, "num_layers": 2}), ("RNN", {"nonlinearity": "relu", "bias": False}),
    ("LSTM", {}), ("LSTM", {"bidirectional": True}), ("LSTM", {"proj_size": 2, "num_layers": 2}),
    ("LSTM", {"batch_first": True, "bias": False}),
    ("GRU", {}), ("GRU", {"bidirectional": True, "batch_first": True}), ("GRU", {"num_layers": 2}),
]


@pytest.mark.parametrize("kind, kw", RECURRENT, ids=[f"{k}-{'-'.join(kw) or 'plain'}" for k, kw in RECURRENT])
def test_recurrent_layers_on_an_empty_batch_match_torch(kind, kw):
    torch = pytest.importorskip("torch")
    ours = getattr(nn, kind)(3, 4, dtype=np.float64, **kw)
    theirs = getattr(torch.nn, kind)(3, 4, dtype=torch.float64, **kw)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    shape = (0, 5, 3) if kw.get("batch_first") else (5, 0, 3)
    x = cr.tensor(np.zeros(shape), requires_grad=True)
    tx = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    y, h = ours(x)
    ty, th = theirs(tx)
    h, th = (h, th) if kind == "LSTM" else ((h,), (th,))
    assert y.shape == tuple(ty.shape)
    assert [s.shape for s in h] == [tuple(s.shape) for s in th]
    (y.sum() + sum(s.sum() for s in h)).backward()
    (ty.sum() + sum(s.sum() for s in th)).backward()
    assert x.grad.shape == tuple(tx.grad.shape) == shape
    for name, p in ours.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape and not p.grad.any(), name


@pytest.mark.parametrize("cell", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_recurrent_cells_on_an_empty_batch(cell):
    m = cell(3, 2)
    x = cr.tensor(np.zeros((0, 3), np.float32), requires_grad=True)
    out = m(x)
    out = out[0] if isinstance(out, tuple) else out
    assert out.shape == (0, 2)
    out.sum().backward()
    assert x.grad.shape == (0, 3)


def test_lstm_empty_batch_with_only_the_final_state_used():
    lstm = nn.LSTM(3, 4, proj_size=2)
    h0 = cr.tensor(np.zeros((1, 0, 2), np.float32), requires_grad=True)
    c0 = cr.tensor(np.zeros((1, 0, 4), np.float32), requires_grad=True)
    _, (h, c) = lstm(cr.zeros(6, 0, 3), (h0, c0))
    (h.sum() + c.sum()).backward()
    assert h0.grad.shape == (1, 0, 2) and c0.grad.shape == (1, 0, 4)


# ---------------------------------------------------------------------------------- softmax of a 0-d tensor
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_and_log_softmax_of_a_0d_tensor_match_torch(dtype, axis):
    torch = pytest.importorskip("torch")
    for ours, theirs in ((F.softmax, torch.softmax), (F.log_softmax, torch.log_softmax)):
        x = cr.tensor(np.array(2.0, dtype), requires_grad=True)
        tx = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        y, ty = ours(x, axis), theirs(tx, axis)
        assert y.shape == () and y.dtype == dtype and y.item() == ty.item()
        (y * 3).backward()
        (ty * 3).backward()
        assert x.grad.dtype == dtype and x.grad == tx.grad.item() == 0


def test_softmax_layers_of_a_0d_tensor_and_bad_axes():
    assert nn.Softmax()(cr.tensor(2.0)).item() == 1.0
    assert nn.LogSoftmax()(cr.tensor(2.0)).item() == 0.0
    for axis in (1, -2):
        with pytest.raises(ShapeError, match="softmax: axis"):
            F.softmax(cr.tensor(2.0), axis)


# --------------------------------------------------------------------------------------- option checks
@pytest.mark.parametrize("fn, arg", [(F.leaky_relu, "negative_slope"), (F.elu, "alpha")])
@pytest.mark.parametrize("bad", [None, "a", np.array([1.0, 2.0]), True])
def test_activation_options_must_be_real_numbers(fn, arg, bad):
    with pytest.raises(ArgumentTypeError, match=f"{fn.__name__}: {arg} must be a number"):
        fn(cr.tensor([-1.0, 2.0]), bad)


def test_activation_options_accept_numpy_scalars_and_keep_float32():
    x = cr.tensor([-1.0, 2.0])
    assert F.leaky_relu(x, np.float64(0.5)).numpy().tolist() == [-0.5, 2.0]
    assert F.elu(x, np.int64(2)).dtype == np.float32
    with pytest.raises(ArgumentError, match="elu: alpha must be finite"):
        F.elu(x, float("nan"))


def test_batch_norm_momentum_must_be_a_number():
    x, rm, rv = cr.randn(4, 3), np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ArgumentTypeError, match=r"batch_norm: momentum must be a number.*None.*momentum=None"):
        F.batch_norm(x, rm, rv, training=True, momentum=None)
    with pytest.raises(ArgumentTypeError, match="momentum"):
        F.batch_norm(x, rm, rv, training=True, momentum="0.1")
    with pytest.raises(ArgumentError, match=r"momentum must be in \[0, 1\]"):
        F.batch_norm(x, rm, rv, training=True, momentum=float("nan"))
    assert not rm.any()  # nothing was updated


def test_batch_norm_momentum_none_layer_is_the_cumulative_average():
    torch = pytest.importorskip("torch")
    bn, tb = nn.BatchNorm1d(3, momentum=None), torch.nn.BatchNorm1d(3, momentum=None)
    for seed in range(3):
        x = np.random.default_rng(seed).standard_normal((6, 3)).astype(np.float32)
        bn(x), tb(torch.tensor(x))
    np.testing.assert_allclose(bn.running_mean, tb.running_mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(bn.running_var, tb.running_var.numpy(), rtol=1e-6)


def test_eps_must_be_non_negative_as_torch():
    torch = pytest.importorskip("torch")
    x = cr.tensor([[1.0, 2.0, 3.0], [1.0, 5.0, 3.5]])
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ArgumentError, match=r"batch_norm: eps must be finite and positive \(> 0\) in training"):
        F.batch_norm(x, None, None, training=True, eps=-1.0)
    with pytest.raises(ArgumentError, match="positive"):  # torch: "eps must be positive during training"
        F.batch_norm(x, None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="positive during training"):
        torch.nn.functional.batch_norm(torch.tensor(x.numpy()), None, None, training=True, eps=0.0)
    with pytest.raises(ArgumentError, match=r"batch_norm: eps must be finite and non-negative"):
        F.batch_norm(x, rm, rv, training=False, eps=-1.0)
    y = F.batch_norm(x, rm, rv, training=False, eps=0.0)  # evaluation: eps = 0 is allowed, as torch
    ty = torch.nn.functional.batch_norm(torch.tensor(x.numpy()), torch.tensor(rm), torch.tensor(rv), eps=0.0)
    np.testing.assert_allclose(y.numpy(), ty.numpy())
    with pytest.raises(ArgumentTypeError, match="batch_norm: eps must be a number"):
        F.batch_norm(x, None, None, training=True, eps=None)
    with pytest.raises(ArgumentError, match="BatchNorm1d.*eps"):
        nn.BatchNorm1d(3, eps=-1.0)(x)
    with pytest.raises(ArgumentError, match=r"layer_norm: eps must be finite and non-negative"):
        F.layer_norm(x, 3, eps=-1.0)
    with pytest.raises(ArgumentError, match=r"LayerNorm\(\(3,\)\): eps"):
        nn.LayerNorm(3, eps=-1.0)(cr.tensor([[1.0, 1.0, 1.0]]))
    np.testing.assert_allclose(F.layer_norm(x, 3, eps=0).numpy(),
                               torch.nn.functional.layer_norm(torch.tensor(x.numpy()), (3,), eps=0.0).numpy(),
                               rtol=1e-5)


def test_running_statistics_must_be_floating_arrays():
    with pytest.raises(DTypeError, match="batch_norm: running_mean must be a floating NumPy array"):
        F.batch_norm(cr.randn(4, 3), np.zeros(3, np.int64), np.ones(3), training=True)


def test_embedding_padding_idx_is_checked_up_front_as_torch():
    torch = pytest.importorskip("torch")
    w = cr.tensor(np.ones((3, 2)), requires_grad=True)
    for bad in (3, 10, -4):
        with pytest.raises(ArgumentError, match=r"embedding: padding_idx must be within num_embeddings.*\[-3, 3\)"):
            F.embedding(np.array([0]), w, padding_idx=bad)
        with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
            torch.nn.functional.embedding(torch.tensor([0]), torch.ones(3, 2), padding_idx=bad)
    for bad in (1.0, True, "0"):
        with pytest.raises(ArgumentTypeError, match="padding_idx must be an int or None"):
            F.embedding(np.array([0]), w, padding_idx=bad)
    ids = np.array([0, 2, 2, 1])
    F.embedding(ids, w, padding_idx=-1).sum().backward()
    tw = torch.ones(3, 2, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(ids), tw, padding_idx=-1).sum().backward()
    np.testing.assert_array_equal(w.grad, tw.grad.numpy())


# -------------------------------------------------------------------------- norms keep the input's dtype
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_float32_input_with_float64_numpy_stats_and_weights(training):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x64 = rng.standard_normal((5, 3, 2))
    rm, rv = np.linspace(-0.5, 0.5, 3), np.linspace(0.5, 2.0, 3)  # float64
    w = cr.tensor(np.linspace(0.5, 1.5, 3), requires_grad=True)  # float64 weights
    b = np.linspace(-1.0, 1.0, 3)  # a float64 NumPy bias
    x = cr.tensor(x64.astype(np.float32), requires_grad=True)
    rm_, rv_ = rm.copy(), rv.copy()
    y = F.batch_norm(x, rm_, rv_, w, b, training=training, momentum=0.2)
    assert y.dtype == np.float32
    y.backward(np.ones(y.shape, np.float32))
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    assert rm_.dtype == rv_.dtype == np.float64  # the running statistics keep their dtype
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    tx, tw = torch.tensor(x64.astype(np.float32)).double().requires_grad_(), torch.tensor(w.numpy(), requires_grad=True)
    ty = torch.nn.functional.batch_norm(tx, trm, trv, tw, torch.tensor(b), training=training, momentum=0.2)
    ty.sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rm_, trm.numpy(), rtol=1e-6)
    np.testing.assert_allclose(rv_, trv.numpy(), rtol=1e-6)


def test_layer_norm_float32_input_with_float64_weights():
    x = cr.tensor(np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    w = cr.tensor(np.ones(3), requires_grad=True)
    y = F.layer_norm(x, 3, w, np.zeros(3))
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    assert F.layer_norm(x.detach().astype(np.float64), 3, cr.ones(3)).dtype == np.float64


def test_norm_layers_still_compute_in_their_weights_dtype():
    x64 = np.random.default_rng(2).standard_normal((4, 3))
    assert nn.BatchNorm1d(3)(x64).dtype == np.float32
    assert nn.LayerNorm(3)(x64).dtype == np.float32
    assert nn.BatchNorm1d(3, dtype=np.float64)(x64.astype(np.float32)).dtype == np.float64
    assert F.batch_norm(np.ones((2, 3), np.int64), None, None, cr.ones(3), training=True).dtype == np.float32
    assert F.batch_norm([[1.0, 2.0], [3.0, 4.0]], np.zeros(2), np.ones(2), training=True).dtype == np.float32
