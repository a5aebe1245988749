"""Layer constructors and inputs (second QA sweep): a seed gives one generator per layer, Dropout's arguments,
recurrent layers compute in their weights' dtype, PyTorch's harmless arguments (device='cpu', BatchNorm's
bias, Embedding's max_norm and from_pretrained, flatten_parameters), option checks, and get_model('lstm')."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError
from chainrule.nn import models


# ------------------------------------------------------------------------------ one generator per layer
def _independent(arrays):
    """No two parameters start with the same leading values (a restarted stream repeats them)."""
    heads = [tuple(np.round(a.ravel()[:3], 6)) for a in arrays]
    return len(set(heads)) == len(heads)


@pytest.mark.parametrize("make", [
    lambda g: nn.Linear(3, 3, generator=g), lambda g: nn.Conv2d(1, 4, 2, generator=g),
    lambda g: nn.LSTM(4, 4, num_layers=2, generator=g), lambda g: nn.GRU(3, 3, bidirectional=True, generator=g),
    lambda g: nn.RNN(3, 3, generator=g), lambda g: nn.GRUCell(3, 3, generator=g),
    lambda g: nn.LSTMCell(3, 3, generator=g),
    lambda g: nn.RNNCell(3, 3, generator=g), lambda g: nn.ResidualBlock(4, 8, stride=2, generator=g),
])
def test_a_seed_draws_independent_parameters_and_is_reproducible(make):
    params = [p.data for p in make(7).parameters() if p.ndim and p.data.std() > 0]  # BatchNorm's ones/zeros aside
    assert _independent(params)
    again = [p.data for p in make(7).parameters() if p.ndim and p.data.std() > 0]
    assert all(np.array_equal(a, b) for a, b in zip(params, again))
    via_rng = [p.data for p in make(np.random.default_rng(7)).parameters() if p.ndim and p.data.std() > 0]
    assert all(np.array_equal(a, b) for a, b in zip(params, via_rng))  # a seed is np.random.default_rng(seed)


def test_reset_parameters_with_a_seed_uses_one_stream():
    lstm = nn.LSTMCell(3, 3)
    lstm.reset_parameters(5)
    assert _independent([p.data for p in lstm.parameters()])
    emb = nn.Embedding(4, 4, generator=1)
    emb.reset_parameters(np.random.default_rng(1))
    np.testing.assert_array_equal(emb.weight.numpy(), nn.Embedding(4, 4, generator=1).weight.numpy())


def test_bad_generator_is_named_at_construction():
    with pytest.raises(ArgumentTypeError, match="Linear: generator"):
        nn.Linear(2, 2, generator=True)
    with pytest.raises(ArgumentTypeError, match="Dropout: generator"):
        nn.Dropout(0.5, generator="x")


# ------------------------------------------------------------------------------ Dropout
def test_dropout_seed_draws_a_new_mask_every_call():
    drop = nn.Dropout(0.5, generator=0)
    x = cr.ones(4, 16)
    masks = [drop(x).numpy() for _ in range(4)]
    assert not all(np.array_equal(masks[0], m) for m in masks[1:])
    drop2 = nn.Dropout(0.5, generator=0)  # the same seed: the same sequence of masks
    assert all(np.array_equal(m, drop2(x).numpy()) for m in masks)


def test_dropout_takes_torchs_inplace_and_generator_is_keyword_only():
    torch = pytest.importorskip("torch")
    assert repr(nn.Dropout(0.3, False)) == repr(torch.nn.Dropout(0.3, False)) == "Dropout(p=0.3, inplace=False)"
    with pytest.raises(ArgumentError, match="Dropout: inplace=True is not supported; chainrule has no in-place"):
        nn.Dropout(0.5, True)  # torch's positional inplace=True no longer lands in `generator`
    with pytest.raises(ArgumentTypeError, match="Dropout: inplace must be True or False"):
        nn.Dropout(0.5, 0)
    assert nn.Dropout(np.float32(0.25)).p == 0.25


# ------------------------------------------------------------------------------ recurrent layers' dtype
RECURRENT = {
    "LSTM": (lambda: nn.LSTM(3, 4, batch_first=True), (2, 5, 3), ((1, 2, 4), (1, 2, 4))),
    "GRU": (lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True), (5, 2, 3), (4, 2, 4)),
    "RNN": (lambda: nn.RNN(3, 4, nonlinearity="relu"), (5, 2, 3), (1, 2, 4)),
    "LSTMCell": (lambda: nn.LSTMCell(3, 4), (2, 3), ((2, 4), (2, 4))),
    "GRUCell": (lambda: nn.GRUCell(3, 4), (2, 3), (2, 4)),
    "RNNCell": (lambda: nn.RNNCell(3, 4), (3,), (4,)),
}


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", list(RECURRENT))
def test_float32_recurrent_layer_computes_in_float32_on_float64_and_integer_data(name):
    make, shape, hshape = RECURRENT[name]
    layer = make()
    rng = np.random.default_rng(0)
    x64 = rng.normal(size=shape)
    ref = _first(layer(x64.astype(np.float32)))
    assert _first(layer(x64)).dtype == np.float32
    np.testing.assert_array_equal(_first(layer(x64)).numpy(), ref.numpy())  # the same as casting first
    assert _first(layer(x64.round().astype(np.int64))).dtype == np.float32
    x = cr.tensor(x64, requires_grad=True)
    h = tuple(cr.tensor(rng.normal(size=s), requires_grad=True) for s in hshape) if isinstance(hshape[0], tuple) \
        else cr.tensor(rng.normal(size=hshape), requires_grad=True)
    out = layer(x, h)
    assert _first(out).dtype == np.float32
    _first(out).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.shape == x.shape
    for s in (h if isinstance(h, tuple) else (h,)):
        assert s.grad.dtype == np.float64
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())


def test_float64_layer_keeps_float64_and_lists_become_the_default_dtype():
    lstm = nn.LSTM(2, 3).double()
    assert lstm(np.zeros((4, 1, 2), np.float32))[0].dtype == np.float64
    assert nn.GRUCell(2, 3)([[1.0, 2.0]]).dtype == np.float32


def test_residual_shortcuts_add_in_the_weights_dtype():
    assert nn.ResidualBlock(3)(np.zeros((1, 3, 4, 4))).dtype == np.float32
    assert nn.ResidualBlock(3, 4)(np.zeros((1, 3, 4, 4), np.int64)).dtype == np.float32
    x = cr.tensor(np.ones((2, 4)), requires_grad=True)
    y = nn.Residual(nn.Linear(4, 4))(x)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float64


# ------------------------------------------------------------------------------ PyTorch's harmless arguments
@pytest.mark.parametrize("make", [
    lambda d: nn.Linear(2, 3, device=d), lambda d: nn.Conv2d(1, 2, 3, device=d), lambda d: nn.BatchNorm1d(3, device=d),
    lambda d: nn.BatchNorm2d(3, device=d), lambda d: nn.LayerNorm(3, device=d), lambda d: nn.Embedding(5, 2, device=d),
    lambda d: nn.RNN(2, 3, device=d), lambda d: nn.LSTM(2, 3, device=d), lambda d: nn.GRU(2, 3, device=d),
    lambda d: nn.RNNCell(2, 3, device=d), lambda d: nn.LSTMCell(2, 3, device=d), lambda d: nn.GRUCell(2, 3, device=d),
    lambda d: nn.ResidualBlock(2, device=d),
])
def test_device_cpu_is_accepted_and_other_devices_are_refused(make):
    make("cpu")
    make("cpu:0")
    name = type(make(None)).__name__
    with pytest.raises(ArgumentError, match=f"{name}: device 'cuda' is not available; chainrule runs on the CPU"):
        make("cuda")
    with pytest.raises(ArgumentTypeError, match=f"{name}: device must be 'cpu'"):
        make(1.5)
    torch = pytest.importorskip("torch")
    make(torch.device("cpu"))


def test_dtype_argument_is_checked_and_takes_torch_dtypes():
    torch = pytest.importorskip("torch")
    assert nn.Linear(2, 2, dtype=torch.float64).weight.dtype == np.float64
    assert nn.LSTM(2, 2, dtype="float64").weight_ih_l0.dtype == np.float64
    with pytest.raises(DTypeError, match="Conv2d: parameters must be floating-point; got dtype=int64"):
        nn.Conv2d(1, 1, 1, dtype=np.int64)


def test_flatten_parameters_is_a_no_op():
    lstm = nn.LSTM(2, 3)
    before = lstm.state_dict()
    assert lstm.flatten_parameters() is None
    assert all(np.array_equal(v, before[k]) for k, v in lstm.state_dict().items())


def test_batchnorm_bias_false_matches_torch(rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.BatchNorm2d(3, bias=False).double()
    ours = nn.BatchNorm2d(3, bias=False).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        x = rng.normal(size=(4, 3, 2, 2))
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        g = rng.normal(size=x.shape)
        yc, yt = ours(xc), theirs(xt)
        (yc * g).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(yc.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-6, atol=1e-10)
        ours.zero_grad(), theirs.zero_grad()
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-6)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5])
def test_embedding_max_norm_matches_torch(norm_type, rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Embedding(6, 3, padding_idx=1, max_norm=1.2, norm_type=norm_type).double()
    ours = nn.Embedding(6, 3, padding_idx=1, max_norm=1.2, norm_type=norm_type).double()
    table = rng.normal(size=(6, 3)) * 2
    table[[2, 4]] = [[2.0, -1.0, 0.5], [1.0, 1.0, 1.0]]  # rows 2 and 4: norms above max_norm whatever the draw
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(table))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for ids in (np.array([[0, 2], [2, 5]]), np.array([1, 3, 3])):
        g = rng.normal(size=ids.shape + (3,))
        yc, yt = ours(ids), theirs(torch.tensor(ids))
        (yc * g).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(yc.numpy(), yt.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-6)
    untouched = theirs.weight.detach().numpy()[4]  # never looked up: not renormalised
    assert np.linalg.norm(untouched, ord=norm_type) > 1.2
    f32 = nn.Embedding(6, 3, max_norm=0.5)
    assert f32(np.array([0, 1])).dtype == np.float32 and f32.weight.dtype == np.float32


def test_embedding_options_and_checks():
    with pytest.raises(ArgumentError, match="scale_grad_by_freq=True is not supported"):
        nn.Embedding(5, 2, scale_grad_by_freq=True)
    with pytest.raises(ArgumentError, match="Embedding: max_norm must be a finite number"):
        nn.Embedding(5, 2, max_norm=-1.0)
    with pytest.raises(ArgumentError, match="norm_type must be a number > 0"):
        nn.Embedding(5, 2, max_norm=1.0, norm_type="2")
    with pytest.raises(ArgumentTypeError, match="padding_idx must be an integer"):
        nn.Embedding(5, 2, padding_idx=1.5)
    emb = nn.Embedding(5, 2, sparse=True)  # a dense gradient, same numbers
    emb(np.array([1, 1])).sum().backward()
    assert emb.weight.grad.tolist()[1] == [2.0, 2.0]


def test_embedding_from_pretrained_like_torch():
    torch = pytest.importorskip("torch")
    table = np.arange(12, dtype=np.float64).reshape(4, 3)
    ours = nn.Embedding.from_pretrained(table, padding_idx=0)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table), padding_idx=0)
    assert repr(ours) == repr(theirs) and ours.weight.dtype == np.float64
    assert ours.weight.requires_grad is theirs.weight.requires_grad is False
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())  # padding row kept
    np.testing.assert_array_equal(ours(np.array([2, 0])).numpy(), theirs(torch.tensor([2, 0])).numpy())
    table[0, 0] = 99.0
    assert ours.weight.numpy()[0, 0] == 0.0  # a copy
    trainable = nn.Embedding.from_pretrained(torch.ones(2, 2), freeze=False)
    assert trainable.weight.requires_grad and trainable.weight.dtype == np.float32
    assert nn.Embedding.from_pretrained([[1, 2]]).weight.dtype == np.float32
    with pytest.raises(ShapeError, match="embeddings must be 2-D"):
        nn.Embedding.from_pretrained(np.ones(3))


# ------------------------------------------------------------------------------ option checks
def test_activation_and_norm_options_are_checked():
    with pytest.raises(ArgumentTypeError, match="LeakyReLU: negative_slope must be a real number, got str 'a'"):
        nn.LeakyReLU("a")
    with pytest.raises(ArgumentTypeError, match="ELU: alpha must be a real number, got ndarray"):
        nn.ELU(np.array([1.0, 2.0]))
    with pytest.raises(ArgumentError, match="ELU: alpha must be a finite number"):
        nn.ELU(float("nan"))
    assert nn.LeakyReLU(np.float64(0.2)).negative_slope == 0.2
    with pytest.raises(ArgumentError, match="BatchNorm1d: eps must be a finite number in \\[0"):
        nn.BatchNorm1d(3, eps=-1)
    with pytest.raises(ArgumentError, match="LayerNorm\\(\\(3,\\)\\): eps must be a finite number in \\[0"):
        nn.LayerNorm(3, eps=-1.0)
    with pytest.raises(ArgumentTypeError, match="BatchNorm2d: momentum \\(or None\\) must be a number"):
        nn.BatchNorm2d(3, momentum="0.1")
    with pytest.raises(ArgumentTypeError, match="BatchNorm1d: affine must be True or False, got 'no'"):
        nn.BatchNorm1d(3, affine="no")
    with pytest.raises(ArgumentTypeError, match="Linear: bias must be True or False"):
        nn.Linear(2, 2, bias="no")
    with pytest.raises(ArgumentTypeError, match="Flatten: start_dim must be an integer"):
        nn.Flatten(1.0)


# ------------------------------------------------------------------------------ get_model('lstm')
def test_lstm_model_checks_the_features_and_takes_lists():
    m = models.get_model("lstm", (4,), 3)
    with pytest.raises(ShapeError, match=r"LSTMClassifier\(input_shape=\(4,\)\): expected input of shape \(N, 4\) "
                                         r"\(4 features\), got \(2, 7\)"):
        m(np.ones((2, 7), np.float32))
    assert m([[1.0, 2.0, 3.0, 4.0]]).shape == (1, 3)
    assert m(np.ones((2, 4))).dtype == np.float32
    img = models.get_model("lstm", (2, 5, 6), 3)
    assert img(np.zeros((3, 2, 9, 6), np.float32)).shape == (3, 3)  # another number of rows (time steps) is fine
    with pytest.raises(ShapeError, match=r"expected input of shape \(N, 2, H, 6\)"):
        img(np.zeros((3, 1, 5, 12), np.float32))  # C * W is right, but not C and W
    with pytest.raises(ArgumentError, match="input_shape \\(4,\\) gives 1 features per step"):
        models.LSTMClassifier(4, 8, 3, input_shape=(4,))
