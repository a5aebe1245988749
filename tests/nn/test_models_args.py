"""nn.models: every builder honours generator= (every init path, 'default' included), pretrain_layerwise's
seed drives everything it draws, and bad arguments raise a ChainruleError naming the builder and argument."""

import functools

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ArgumentError, ArgumentTypeError, DataError
from chainrule.nn import models as M


def _params(model):
    return [p.numpy().copy() for p in model.parameters()]


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(p, q) for p, q in zip(a, b))


def _get_model(name, g):
    return M.get_model(name, (1, 8, 8), 3, generator=g)


BUILDERS = {
    "logistic_regression": lambda g: M.logistic_regression(5, 3, generator=g),
    "shallow_default": lambda g: M.shallow_net(4, 6, 2, init="default", generator=g),
    "shallow_xavier": lambda g: M.shallow_net(4, 6, 2, generator=g),
    "mlp_default": lambda g: M.mlp([5, 3], init="default", generator=g),
    "mlp_he": lambda g: M.mlp([5, 4, 3], generator=g),
    "mlp_normal_bn": lambda g: M.mlp([5, 4, 3], init="normal", batchnorm=True, generator=g),
    "ResidualMLP": lambda g: M.ResidualMLP(3, 8, 2, num_blocks=2, generator=g),
    "lenet": lambda g: M.lenet((1, 8, 8), 4, channels=(2, 3), hidden=(5,), generator=g),
    "LSTMClassifier": lambda g: M.LSTMClassifier(8, 4, 3, num_layers=2, generator=g),
    "resnet": lambda g: M.resnet((1, 8, 8), 3, channels=4, num_blocks=2, generator=g),
    "Autoencoder": lambda g: M.Autoencoder(6, 3, generator=g),
    **{f"get_model_{n}": functools.partial(_get_model, n) for n in M.MODEL_NAMES},
    "get_model_resnet_vector": lambda g: M.get_model("resnet", (5,), 3, generator=g),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_builders_honour_generator(name):
    build = BUILDERS[name]
    cr.manual_seed(1)
    a = _params(build(7))
    cr.manual_seed(2)  # the global generator must not matter
    b = _params(build(7))
    c = _params(build(np.random.default_rng(7)))
    assert _same(a, b) and _same(a, c)
    assert not _same(a, _params(build(8)))


@pytest.mark.parametrize("name", list(BUILDERS))
def test_builders_default_to_the_global_generator(name):
    build = BUILDERS[name]
    cr.manual_seed(3)
    a = _params(build(None))
    cr.manual_seed(3)
    assert _same(a, _params(build(None)))
    assert not _same(a, _params(build(None)))


def test_one_seed_does_not_repeat_across_layers():
    """A seed becomes one generator for the whole model: same-shaped layers get different weights."""
    net = M.mlp([4, 4, 4, 4], init="default", generator=0)
    assert not np.array_equal(net[0].weight.numpy(), net[2].weight.numpy())
    block = M.resnet((2, 8, 8), 3, channels=2, num_blocks=1, generator=0)[3]
    assert not np.array_equal(block.conv1.weight.numpy(), block.conv2.weight.numpy())


def test_pretrain_layerwise_seed_is_reproducible():
    x = np.random.default_rng(0).random((64, 8)).astype(np.float32)
    cr.manual_seed(10)
    a = M.pretrain_layerwise(x, [8, 4, 2], epochs=2, seed=0)
    cr.manual_seed(11)
    b = M.pretrain_layerwise(x, [8, 4, 2], epochs=2, seed=0)
    assert all(_same(_params(u), _params(v)) for u, v in zip(a, b, strict=True))
    c = M.pretrain_layerwise(x, [8, 4, 2], epochs=2, seed=1)
    assert not _same(_params(a[0]), _params(c[0]))
    d = M.pretrain_layerwise(x.astype(np.float64), [8, 4, 2], epochs=2, seed=0)  # computed in float32
    assert d[0].encoder[0].weight.dtype == np.float32
    assert all(_same(_params(u), _params(v)) for u, v in zip(a, d, strict=True))


X = np.random.default_rng(0).random((16, 8)).astype(np.float32)


@pytest.mark.parametrize("call, err, match", [
    (lambda: M.logistic_regression(5, 0), ArgumentError, "logistic_regression: num_classes"),
    (lambda: M.logistic_regression(5, -3), ArgumentError, "num_classes"),
    (lambda: M.logistic_regression(5.0, 2), ArgumentTypeError, "in_features"),
    (lambda: M.resnet((1, 8, 8), 10, num_blocks=-1), ArgumentError, "resnet: num_blocks"),
    (lambda: M.resnet((1, 8, 8), 10, num_blocks=0), ArgumentError, "num_blocks"),
    (lambda: M.resnet((8, 8), 10), ArgumentError, "resnet: input_shape"),
    (lambda: M.lenet(num_classes=0), ArgumentError, "lenet: num_classes"),
    (lambda: M.lenet((28, 28)), ArgumentError, "lenet: input_shape"),
    (lambda: M.lenet(channels=(1, 2, 3)), ArgumentError, "lenet: channels"),
    (lambda: M.lenet(hidden=(0,)), ArgumentError, r"lenet: hidden\[0\]"),
    (lambda: M.mlp("53"), ArgumentTypeError, "mlp: sizes"),
    (lambda: M.mlp([5.7, 3.2]), ArgumentTypeError, r"mlp: sizes\[0\]"),
    (lambda: M.mlp(5), ArgumentTypeError, "mlp: sizes"),
    (lambda: M.mlp([5, 0]), ArgumentError, r"sizes\[1\]"),
    (lambda: M.mlp([5, 3, 2], dropout="0.5"), ArgumentTypeError, "mlp: dropout"),
    (lambda: M.mlp([5, 3, 2], init="normal", init_std=-1), ArgumentError, "mlp: init_std"),
    (lambda: M.mlp([5, 3, 2], init="normal", init_std=float("nan")), ArgumentError, "init_std"),
    (lambda: M.mlp([5, 2], activation=3), ArgumentTypeError, "activation"),
    (lambda: M.mlp([5, 2], generator="a"), ArgumentTypeError, "mlp: generator"),
    (lambda: M.mlp([5, 2], generator=-1), ArgumentError, "mlp: generator"),
    (lambda: M.shallow_net(2, hidden=[8]), ArgumentTypeError, "shallow_net: hidden"),
    (lambda: M.ResidualMLP(2, 8, 2, num_blocks=0), ArgumentError, "ResidualMLP: num_blocks"),
    (lambda: M.LSTMClassifier(8, 0, 3), ArgumentError, "LSTMClassifier: hidden_size"),
    (lambda: M.Autoencoder(8, 2.5), ArgumentTypeError, "Autoencoder: hidden"),
    (lambda: M.get_model("mlp", (4,), 2, hidden="abc"), ArgumentTypeError, "model 'mlp'.*hidden"),
    (lambda: M.get_model("mlp", 4, 2), ArgumentTypeError, "model 'mlp'.*input_shape"),
    (lambda: M.get_model("mlp", (4,), 0), ArgumentError, "model 'mlp'.*num_classes"),
    (lambda: M.get_model("shallow", (4,), 3, hidden=[8]), ArgumentTypeError, "model 'shallow'.*hidden"),
    (lambda: M.get_model("cnn", (1, 8, 8), 3, channels=8), ArgumentTypeError, "model 'cnn'.*channels"),
    (lambda: M.get_model("lstm", (2, 3), 3), ArgumentError, "model 'lstm'"),
    (lambda: M.get_model("resnet", (1, 8, 8), 3, num_blocks=0), ArgumentError, "model 'resnet'.*num_blocks"),
    (lambda: M.get_model(None, (4,), 2), ArgumentError, "unknown model"),
    (lambda: M.pretrain_layerwise(X, [8, 4], batch_size=0), ArgumentError, "pretrain_layerwise: batch_size"),
    (lambda: M.pretrain_layerwise(X, [8, 4], batch_size=2.5), ArgumentTypeError, "batch_size"),
    (lambda: M.pretrain_layerwise(X, [8, 4], epochs=-1), ArgumentError, "pretrain_layerwise: epochs"),
    (lambda: M.pretrain_layerwise(X, [8, 4], lr=float("nan")), ArgumentError, "pretrain_layerwise: lr"),
    (lambda: M.pretrain_layerwise(X, [8, 4], lr=0), ArgumentError, "lr"),
    (lambda: M.pretrain_layerwise(X, [8, 4], seed=-1), ArgumentError, "pretrain_layerwise: seed"),
    (lambda: M.pretrain_layerwise(X, [8]), ArgumentError, "sizes"),
    (lambda: M.pretrain_layerwise(np.zeros((0, 8), np.float32), [8, 4], verbose=True), DataError, "empty"),
    (lambda: M.pretrain_layerwise(X, [9, 4]), DataError, r"shape \(N, 9\)"),
    (lambda: M.pretrain_layerwise(np.full((4, 8), np.nan), [8, 4]), DataError, "NaN"),
])
def test_builders_reject_bad_arguments(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_valid_arguments_still_accepted():
    assert M.mlp(np.array([4, 3, 2]))[0].weight.shape == (3, 4)
    assert M.mlp((np.int64(4), 2), dropout=0, init_std=0)[0].weight.shape == (2, 4)
    assert M.get_model("mlp", [4], 2, hidden=8)[1].weight.shape == (8, 4)
    assert M.get_model("mlp", (4,), 2, hidden=[])[1].weight.shape == (2, 4)
    assert M.get_model("cnn", (1, 8, 8), 3, hidden=16)(cr.randn(2, 1, 8, 8)).shape == (2, 3)
    assert M.get_model("logreg", (2, 3), 4)(cr.randn(5, 2, 3)).shape == (5, 4)
