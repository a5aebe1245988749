"""The notes' networks (nn.models): shapes, initialisation schemes, the registry, and that each one learns.

Every "learns" test trains a seeded model on a small generated task, offline, in a second or two, and states
the accuracy it must reach.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, nn, optim, train
from chainrule.errors import ArgumentError
from chainrule.nn import models


def _fit(model, x, y, epochs, lr=0.01, loss=None, batch_size=32):
    opt = optim.Adam(model.parameters(), lr=lr)
    train.fit(model, loss or nn.CrossEntropyLoss(), opt, (x, y), epochs=epochs, batch_size=batch_size, seed=0,
              verbose=False, metrics=(), progress=False)
    return model


def _acc(model, x, y):
    out = train.predict(model, x)
    pred = out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0).astype(int)
    return float(np.mean(pred == np.asarray(y).reshape(-1)))


@pytest.fixture(scope="module")
def digits_small():
    (x, y), (xt, yt) = data.load_digits()
    return x[:1200], y[:1200], xt[:400], yt[:400]


# ------------------------------------------------------------------------------------------ shapes
def test_logistic_regression_units():
    assert models.logistic_regression(5, 2).weight.shape == (1, 5)
    assert models.logistic_regression(5, 4).weight.shape == (4, 5)


def test_mlp_layout_and_options():
    net = models.mlp([4, 8, 6, 3], activation="tanh", init="xavier", dropout=0.2, batchnorm=True)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear"]
    assert net(cr.randn(5, 4)).shape == (5, 3)
    with pytest.raises(ArgumentError, match="sizes"):
        models.mlp([4])
    with pytest.raises(ArgumentError, match="dropout"):
        models.mlp([4, 2], dropout=1.5)
    with pytest.raises(ArgumentError, match="valid names"):
        models.mlp([4, 3, 2], activation="swishy")
    with pytest.raises(ArgumentError, match="valid schemes"):
        models.mlp([4, 3, 2], init="orthogonalish")


@pytest.mark.parametrize("scheme, expected_var", [("he", 2 / 400), ("xavier", 2 / (400 + 300)),
                                                  ("normal", 0.01 ** 2)])
def test_init_schemes_set_the_variance(scheme, expected_var):
    net = models.mlp([400, 300, 2], init=scheme, generator=np.random.default_rng(0))
    w = net[0].weight.numpy()
    assert w.var() == pytest.approx(expected_var, rel=0.05)
    assert np.all(net[0].bias.numpy() == 0)


def test_zero_init_never_breaks_symmetry():
    x, y = data.make_moons(200, noise=0.1, seed=0)
    net = models.mlp([2, 8, 8, 2], activation="tanh", init="zeros")
    _fit(net, x, y, epochs=5, lr=0.05)
    w1 = net[0].weight.numpy()
    assert np.allclose(w1, w1[0])  # every hidden unit of the first layer is still the same unit
    net = models.mlp([2, 8, 8, 2], activation="tanh", init="xavier", generator=np.random.default_rng(0))
    assert len(np.unique(net[0].weight.numpy().round(6), axis=0)) == 8


def test_lenet_shapes_for_28_and_8_pixels():
    assert models.lenet((1, 28, 28), 10)(cr.randn(2, 1, 28, 28)).shape == (2, 10)
    assert models.lenet((1, 8, 8), 10)(cr.randn(3, 1, 8, 8)).shape == (3, 10)
    with pytest.raises(ArgumentError, match="too small"):
        models.lenet((1, 2, 2), 10)


def test_lstm_classifier_reads_rows_or_features():
    assert models.LSTMClassifier(8, 6, 3)(cr.randn(4, 1, 8, 8)).shape == (4, 3)
    assert models.LSTMClassifier(1, 6, 3)(cr.randn(4, 5)).shape == (4, 3)
    assert models.LSTMClassifier(16, 6, 3)(cr.randn(4, 2, 8, 8)).shape == (4, 3)


def test_autoencoder_and_layerwise_pretraining_reduce_the_error():
    x, _ = data.make_spirals(300, noise=0.0, seed=0)
    x = np.concatenate([x, x ** 2], axis=1).astype(np.float32)
    before = models.Autoencoder(4, 3)
    err0 = float(((before(cr.tensor(x)) - cr.tensor(x)) ** 2).mean().item())
    aes = models.pretrain_layerwise(x, [4, 3, 2], epochs=30, lr=0.5, seed=0)
    assert [ae.encoder[0].weight.shape for ae in aes] == [(3, 4), (2, 3)]
    err = float(((aes[0](cr.tensor(x)) - cr.tensor(x)) ** 2).mean().item())
    assert err < 0.5 * err0


# ------------------------------------------------------------------------------------------ registry
@pytest.mark.parametrize("name", models.MODEL_NAMES)
def test_get_model_builds_every_name_for_images(name):
    net = models.get_model(name, (1, 8, 8), 10)
    assert net(cr.randn(2, 1, 8, 8)).shape == (2, 10)
    rebuilt = models.get_model(name, (1, 8, 8), 10)
    rebuilt.load_state_dict(net.state_dict())  # the same architecture from the same arguments


@pytest.mark.parametrize("name", [n for n in models.MODEL_NAMES if n != "cnn"])
def test_get_model_builds_every_vector_model(name):
    assert models.get_model(name, (5,), 3)(cr.randn(4, 5)).shape == (4, 3)


def test_get_model_rejects_bad_names_and_options():
    with pytest.raises(ArgumentError, match="valid models: logreg, shallow, mlp, cnn, lstm, resnet"):
        models.get_model("transformer", (4,), 2)
    with pytest.raises(ArgumentError, match=r"needs image inputs of shape \(C, H, W\)"):
        models.get_model("cnn", (4,), 2)
    with pytest.raises(ArgumentError, match="unknown option"):
        models.get_model("logreg", (4,), 2, hidden=[3])


def test_get_model_passes_options():
    net = models.get_model("mlp", (6,), 2, hidden=[7, 5], activation="tanh", batchnorm=True, dropout=0.1)
    assert [type(m).__name__ for m in net][:5] == ["Flatten", "Linear", "BatchNorm1d", "Tanh", "Dropout"]
    assert net[1].weight.shape == (7, 6)


# ------------------------------------------------------------------------------------------ they learn
def test_logistic_regression_learns_a_linear_boundary():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 2)).astype(np.float32)
    y = (x @ np.array([2.0, -1.0]) > 0.3).astype(np.float32).reshape(-1, 1)
    model = _fit(models.logistic_regression(2, 2), x, y, epochs=30, lr=0.05, loss=nn.BCEWithLogitsLoss())
    assert _acc(model, x, y) >= 0.97


def test_shallow_net_learns_moons():
    x, y = data.make_moons(400, noise=0.1, seed=0)
    model = _fit(models.shallow_net(2, 16, 1), x, y.astype(np.float32)[:, None], epochs=60, lr=0.03,
                 loss=nn.BCEWithLogitsLoss())
    assert _acc(model, x, y) >= 0.97


def test_mlp_learns_circles():
    x, y = data.make_circles(400, noise=0.05, seed=0)
    model = _fit(models.mlp([2, 32, 32, 2]), x, y, epochs=40)
    assert _acc(model, x, y) >= 0.97


def test_residual_mlp_learns_spirals():
    x, y = data.make_spirals(400, noise=0.02, seed=0)
    model = _fit(models.ResidualMLP(2, 32, 2, num_blocks=3), x, y, epochs=80)
    assert _acc(model, x, y) >= 0.95


def test_cnn_learns_digits(digits_small):
    x, y, xt, yt = digits_small
    model = _fit(models.get_model("cnn", (1, 8, 8), 10), x, y, epochs=6, lr=0.003)
    assert _acc(model, xt, yt) >= 0.85


def test_lstm_learns_digits(digits_small):
    x, y, xt, yt = digits_small
    model = _fit(models.get_model("lstm", (1, 8, 8), 10), x, y, epochs=12, lr=0.01)
    assert _acc(model, xt, yt) >= 0.80


def test_resnet_learns_digits(digits_small):
    x, y, xt, yt = digits_small
    model = _fit(models.get_model("resnet", (1, 8, 8), 10, channels=16, num_blocks=1), x, y, epochs=6, lr=0.01)
    assert _acc(model, xt, yt) >= 0.85


def test_sequential_runs_relu_then_max_pool_as_pool_then_relu_bit_for_bit(rng, monkeypatch):
    """Sequential swaps ReLU -> MaxPool2d (they commute); outputs and every gradient stay bit-identical to
    the ops applied in the written order, ties and all-negative windows included."""
    from chainrule.nn.layers import activation

    seen = []
    relu_fn = activation.E.relu
    monkeypatch.setattr(activation.E, "relu", lambda x: (seen.append(x.shape), relu_fn(x))[1])
    conv, relu, pool = cr.nn.Conv2d(2, 3, 3, padding=1, generator=0), cr.nn.ReLU(), cr.nn.MaxPool2d(2)
    x = rng.standard_normal((4, 2, 8, 8)).astype(np.float32)
    x[0, :, :4, :4] = -1.0  # windows whose maximum is negative; and ties: equal values in a window
    x[1, :, :2, :2] = 0.5
    grads = []
    for run in ("written order", "Sequential"):
        xt = cr.tensor(x, requires_grad=True)
        conv.zero_grad()
        if run == "Sequential":
            y = cr.nn.Sequential(conv, relu, pool)(xt)
        else:
            y = pool(relu(conv(xt)))
        (y * cr.tensor(np.arange(y.size, dtype=np.float32).reshape(y.shape) % 7)).sum().backward()
        grads.append([y.numpy(), xt.grad, conv.weight.grad, conv.bias.grad])
    assert seen == [(4, 3, 8, 8), (4, 3, 4, 4)]  # the written order, then the swapped one
    for a, b in zip(*grads, strict=True):
        np.testing.assert_array_equal(a, b)


def test_sequential_leaves_subclasses_of_relu_in_place():
    calls = []

    class LoudReLU(cr.nn.ReLU):
        def forward(self, x):
            calls.append(x.shape)
            return super().forward(x)

    cr.nn.Sequential(LoudReLU(), cr.nn.MaxPool2d(2))(cr.randn(1, 1, 4, 4))
    assert calls == [(1, 1, 4, 4)]  # ran before the pooling, as written
