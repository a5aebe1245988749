"""The notes' networks, as builders: from logistic regression to a small ResNet.

Every builder returns an ordinary :class:`~chainrule.nn.Module` whose output is *logits* (no sigmoid or
softmax at the end): train it with ``BCEWithLogitsLoss`` (one output) or ``CrossEntropyLoss`` (C outputs),
which fuse the last activation into the loss for numerical stability.

=============================  =====================================================================
builder                        network
=============================  =====================================================================
``logistic_regression``        z = x W^T + b (one unit for two classes, C units for C classes)
``shallow_net``                Linear -> tanh -> Linear (the notes' one-hidden-layer network)
``mlp``                        (Linear -> activation) x (L-1) -> Linear, with a choice of initialisation
``lenet``                      LeNet-style CNN: (conv -> ReLU -> max-pool) x 2 -> MLP, for 28x28 or 8x8
``LSTMClassifier``             image rows as time steps -> LSTM -> last hidden state -> Linear
``resnet``                     stem conv -> residual blocks -> global average pool -> Linear
``ResidualMLP``                Linear -> blocks of x + W2 relu(W1 x) -> Linear
``Autoencoder``                encoder / decoder pair for greedy layer-wise pre-training
=============================  =====================================================================

:func:`get_model` builds any of the command-line names ``logreg shallow mlp cnn lstm resnet`` for an input
shape and a number of outputs.

>>> import chainrule as cr
>>> from chainrule.nn import models
>>> net = models.mlp([4, 8, 3], activation="tanh", init="xavier")
>>> net(cr.randn(5, 4)).shape
(5, 3)
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import no_grad
from ..backend import get_generator
from ..errors import ArgumentError
from . import init as _init
from . import layers as L
from .module import Module, Sequential

MODEL_NAMES = ("logreg", "shallow", "mlp", "cnn", "lstm", "resnet")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "softplus", "identity")
INITS = ("he", "xavier", "normal", "zeros", "default")


def activation_module(name: str) -> Module:
    """The activation module called ``name`` (one of :data:`ACTIVATIONS`).

    >>> activation_module("tanh")
    Tanh()
    """
    table = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU", "elu": "ELU",
             "gelu": "GELU", "softplus": "Softplus", "identity": "Identity"}
    if name not in table:
        raise ArgumentError(f"activation: unknown name {name!r}; valid names: {', '.join(ACTIVATIONS)}")
    return getattr(L, table[name])()


def _init_linear(layer, scheme: str, nonlinearity: str, generator=None, std: float = 0.01) -> None:
    """Fill a Linear (or Conv2d) layer's weight by ``scheme``; biases start at zero except for 'default'."""
    w = layer.weight
    if scheme == "default":
        return
    if scheme == "he":
        gain_name = nonlinearity if nonlinearity in ("relu", "leaky_relu") else "relu"
        _init.kaiming_normal_(w, nonlinearity=gain_name, generator=generator)
    elif scheme == "xavier":
        _init.xavier_normal_(w, generator=generator)
    elif scheme == "normal":
        _init.normal_(w, 0.0, std, generator=generator)
    elif scheme == "zeros":
        _init.zeros_(w)
    else:
        raise ArgumentError(f"init: unknown scheme {scheme!r}; valid schemes: {', '.join(INITS)}")
    if layer.bias is not None:
        _init.zeros_(layer.bias)


# ---------------------------------------------------------------------------------------- fully connected
def logistic_regression(in_features: int, num_classes: int = 2) -> Module:
    """Logistic (two classes: one output unit) or softmax (C classes: C units) regression, z = x W^T + b.

    Math: p = sigmoid(z) with z = w . x + b for two classes; p = softmax(z) for C classes. The loss's
    gradient with respect to z is simply p - y, so dL/dW = (p - y)^T x / m.

    >>> logistic_regression(64, 2).weight.shape, logistic_regression(64, 10).weight.shape
    ((1, 64), (10, 64))
    """
    return L.Linear(in_features, 1 if num_classes <= 2 else num_classes)


def shallow_net(in_features: int, hidden: int = 16, out_features: int = 1, activation: str = "tanh",
                init: str = "xavier", generator=None) -> Sequential:
    """The notes' shallow network: Linear -> tanh -> Linear (logits; add a sigmoid only to read probabilities).

    Math: a1 = tanh(x W1^T + b1),  z2 = a1 W2^T + b2,  p = sigmoid(z2);
    dL/dz2 = p - y,  dL/da1 = dL/dz2 W2,  dL/dz1 = dL/da1 * (1 - a1^2).

    >>> shallow_net(2, 4)
    Sequential(
      (0): Linear(in_features=2, out_features=4, bias=True)
      (1): Tanh()
      (2): Linear(in_features=4, out_features=1, bias=True)
    )  # 17 parameters
    """
    net = Sequential(L.Linear(in_features, hidden), activation_module(activation), L.Linear(hidden, out_features))
    _init_linear(net[0], init, activation, generator)
    _init_linear(net[2], init, activation, generator)
    return net


def mlp(sizes, activation: str = "relu", init: str = "he", dropout: float = 0.0, batchnorm: bool = False,
        init_std: float = 0.01, generator=None) -> Sequential:
    """The deep L-layer network: (Linear -> [BatchNorm1d] -> activation -> [Dropout]) x (L-1) -> Linear.

    Parameters
    ----------
    sizes : list of int
        Layer widths ``[n_x, n_1, ..., n_L]``: input features, hidden widths, outputs.
    activation : str
        The hidden activation, one of :data:`ACTIVATIONS`.
    init : {'he', 'xavier', 'normal', 'zeros', 'default'}
        He (Var w = 2/fan_in, for ReLU), Xavier (Var w = 2/(fan_in + fan_out), for tanh/sigmoid), N(0, init_std^2),
        all zeros (every hidden unit stays identical: the symmetry problem) or PyTorch's default.
    dropout : float
        Drop probability after each hidden activation (0 disables dropout).
    batchnorm : bool
        Normalise each hidden pre-activation with BatchNorm1d.

    >>> net = mlp([3, 5, 5, 2], init="zeros")
    >>> float(abs(net[0].weight.numpy()).sum())
    0.0
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ArgumentError(f"mlp: sizes must be at least [in, out] with positive widths, got {sizes}")
    if not 0.0 <= dropout < 1.0:
        raise ArgumentError(f"mlp: dropout must be in [0, 1), got {dropout}")
    act_name = activation
    mods = []
    for i in range(len(sizes) - 1):
        lin = L.Linear(sizes[i], sizes[i + 1])
        _init_linear(lin, init, act_name, generator, init_std)
        mods.append(lin)
        if i < len(sizes) - 2:
            if batchnorm:
                mods.append(L.BatchNorm1d(sizes[i + 1]))
            mods.append(activation_module(act_name))
            if dropout > 0:
                mods.append(L.Dropout(dropout))
    return Sequential(*mods)


class ResidualMLP(Module):
    """A residual MLP: h = Linear(x); h <- h + W2 relu(W1 h) per block; logits = Linear(relu(h)).

    Math: each block computes h + F(h), so dL/dh = dL/dh' (I + dF/dh): the identity path carries the
    gradient unchanged through depth, which is why very deep residual networks still train.

    >>> import chainrule as cr
    >>> ResidualMLP(2, 16, 3, num_blocks=4)(cr.randn(7, 2)).shape
    (7, 3)
    """

    def __init__(self, in_features: int, hidden: int, out_features: int, num_blocks: int = 2,
                 activation: str = "relu"):
        super().__init__()
        self.stem = L.Linear(in_features, hidden)
        self.blocks = [Sequential(L.Linear(hidden, hidden), activation_module(activation), L.Linear(hidden, hidden))
                       for _ in range(num_blocks)]
        for b in self.blocks:  # start each block near the identity
            _init_linear(b[0], "he", activation)
            _init.normal_(b[2].weight, 0.0, 0.1 / np.sqrt(hidden))
            _init.zeros_(b[2].bias)
        self.act = activation_module(activation)
        self.head = L.Linear(hidden, out_features)

    def forward(self, x):
        h = self.stem(x)
        for b in self.blocks:
            h = h + b(h)
        return self.head(self.act(h))


# ---------------------------------------------------------------------------------------------- images
def _conv_out(n: int, k: int, s: int = 1, p: int = 0) -> int:
    return (n + 2 * p - k) // s + 1


def lenet(input_shape=(1, 28, 28), num_classes: int = 10, channels=(6, 16), hidden=(120, 84)) -> Sequential:
    """A LeNet-style CNN: (Conv -> ReLU -> MaxPool 2x2) x 2 -> Flatten -> Linear -> ReLU -> ... -> Linear.

    For 28x28 inputs the convolutions are 5x5 (the first padded by 2), as in LeNet-5; for small images
    such as the 8x8 digits they are 3x3 with padding 1, so two poolings leave a 2x2 map.

    >>> import chainrule as cr
    >>> lenet((1, 8, 8), 10, channels=(8, 16), hidden=(32,))(cr.randn(2, 1, 8, 8)).shape
    (2, 10)
    """
    c, h, w = (int(v) for v in input_shape)
    small = min(h, w) < 16
    k, p1, p2 = (3, 1, 1) if small else (5, 2, 0)
    c1, c2 = channels
    mods = [L.Conv2d(c, c1, k, padding=p1), L.ReLU(), L.MaxPool2d(2),
            L.Conv2d(c1, c2, k, padding=p2), L.ReLU(), L.MaxPool2d(2), L.Flatten()]
    h, w = _conv_out(h, k, 1, p1) // 2, _conv_out(w, k, 1, p1) // 2
    h, w = _conv_out(h, k, 1, p2) // 2, _conv_out(w, k, 1, p2) // 2
    if h < 1 or w < 1:
        raise ArgumentError(f"lenet: input_shape {tuple(input_shape)} is too small for two conv + pool stages")
    width = c2 * h * w
    for n in hidden:
        mods += [L.Linear(width, n), L.ReLU()]
        width = n
    mods.append(L.Linear(width, num_classes))
    return Sequential(*mods)


class LSTMClassifier(Module):
    """Read an image row by row (or a feature vector one value at a time) with an LSTM, classify the last state.

    Input (N, C, H, W) becomes a sequence of H steps of C*W features; input (N, F) becomes F steps of 1
    feature. The last hidden state h_T goes through a Linear layer to give the logits.

    >>> import chainrule as cr
    >>> LSTMClassifier(8, 16, 10)(cr.randn(3, 1, 8, 8)).shape
    (3, 10)
    """

    def __init__(self, input_size: int, hidden_size: int, num_classes: int, num_layers: int = 1):
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.lstm = L.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = L.Linear(hidden_size, num_classes)

    def forward(self, x):
        if x.ndim == 4:  # (N, C, H, W) -> (N, H, C*W): rows are time steps
            n, c, h, w = x.shape
            x = x.reshape(n, h, w) if c == 1 else x.transpose(0, 2, 1, 3).reshape(n, h, c * w)
        elif x.ndim == 2:
            x = x.reshape(x.shape[0], x.shape[1], 1)
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :])


class _GlobalAvgPool(Module):
    """y[n, c] = mean over h, w of x[n, c, h, w]."""

    def forward(self, x):
        return x.mean(axis=(2, 3))


def resnet(input_shape=(1, 28, 28), num_classes: int = 10, channels: int = 16, num_blocks: int = 2) -> Sequential:
    """A small ResNet: Conv 3x3 -> BatchNorm -> ReLU -> ResidualBlock x num_blocks -> global average pool -> Linear.

    >>> import chainrule as cr
    >>> resnet((1, 8, 8), 10, channels=8, num_blocks=1)(cr.randn(2, 1, 8, 8)).shape
    (2, 10)
    """
    c = int(input_shape[0])
    mods = [L.Conv2d(c, channels, 3, padding=1, bias=False), L.BatchNorm2d(channels), L.ReLU()]
    mods += [L.ResidualBlock(channels) for _ in range(num_blocks)]
    mods += [_GlobalAvgPool(), L.Linear(channels, num_classes)]
    return Sequential(*mods)


# ------------------------------------------------------------------------------------------ autoencoders
class Autoencoder(Module):
    """x -> encoder -> code -> decoder -> x_hat, trained to make x_hat close to x (no labels needed).

    Math: h = act(x W_e^T + b_e),  x_hat = h W_d^T + b_d,  L = mean (x_hat - x)^2.
    Stacking the encoders of autoencoders trained one after another (each on the codes of the previous)
    is the notes' greedy layer-wise unsupervised pre-training: see :func:`pretrain_layerwise`.

    >>> import chainrule as cr
    >>> ae = Autoencoder(8, 3)
    >>> ae(cr.randn(4, 8)).shape, ae.encode(cr.randn(4, 8)).shape
    ((4, 8), (4, 3))
    """

    def __init__(self, in_features: int, hidden: int, activation: str = "sigmoid"):
        super().__init__()
        self.encoder = Sequential(L.Linear(in_features, hidden), activation_module(activation))
        self.decoder = L.Linear(hidden, in_features)

    def encode(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def pretrain_layerwise(x: np.ndarray, sizes, activation: str = "sigmoid", epochs: int = 5, lr: float = 0.5,
                       batch_size: int = 64, seed=0, verbose: bool = False) -> list:
    """Greedy layer-wise pre-training: train one autoencoder per hidden layer on the previous layer's codes.

    Plain minibatch gradient descent, w <- w - lr * dL/dw, on the reconstruction error.

    Parameters
    ----------
    x : ndarray, shape (N, sizes[0])
    sizes : list of int
        ``[n_x, n_1, ..., n_k]``: the widths of the hidden layers to pre-train.

    Returns
    -------
    list of Autoencoder
        One per hidden layer; ``ae.encoder[0]`` is the pre-trained Linear layer to copy into a network.
    """
    from ..autograd.tensor import Tensor

    rng = get_generator(seed)
    codes = np.asarray(x)
    aes = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        ae = Autoencoder(n_in, n_out, activation)
        for epoch in range(epochs):
            order = rng.permutation(len(codes))
            total = 0.0
            for start in range(0, len(codes), batch_size):
                xb = Tensor(codes[order[start:start + batch_size]])
                loss = ((ae(xb) - xb) ** 2).mean()
                ae.zero_grad()
                loss.backward()
                for p in ae.parameters():
                    p.data -= np.asarray(lr, p.dtype) * p.grad
                total += loss.item() * len(xb)
            if verbose:
                print(f"autoencoder {n_in}->{n_out} epoch {epoch + 1}: reconstruction mse {total / len(codes):.4f}")
        with no_grad():
            codes = ae.encode(Tensor(codes)).numpy()
        aes.append(ae)
    return aes


# ------------------------------------------------------------------------------------------------ registry
def _flat(input_shape) -> int:
    return int(np.prod(input_shape))


def get_model(name: str, input_shape, num_classes: int, **kw) -> Module:
    """Build the command-line network ``name`` for inputs of ``input_shape`` (one sample) and ``num_classes`` outputs.

    ``num_classes`` is the number of output units: C for C-class classification, 1 for regression.
    Keyword arguments go to the builder: ``hidden`` (an int, or a list of widths for ``mlp``), ``activation``,
    ``init``, ``dropout``, ``batchnorm``, ``channels``, ``num_blocks``, ``num_layers``.

    ========  ==========================================================================================
    name      network
    ========  ==========================================================================================
    logreg    Flatten -> Linear(n_x, num_classes)
    shallow   Flatten -> Linear -> tanh -> Linear (hidden=32)
    mlp       Flatten -> deep L-layer ReLU network (hidden=[256, 128], He initialisation)
    cnn       LeNet-style CNN (images only)
    lstm      LSTM over image rows (or over the features of a vector), hidden=64
    resnet    small ResNet for images; a residual MLP for vectors
    ========  ==========================================================================================

    >>> get_model("mlp", (2,), 3, hidden=[8]).state_dict()["1.weight"].shape
    (8, 2)
    """
    shape = tuple(int(s) for s in input_shape)
    kw = dict(kw)

    def take(key, default):
        return kw.pop(key, default)

    if name == "logreg":
        net = Sequential(L.Flatten(), L.Linear(_flat(shape), num_classes))
    elif name == "shallow":
        net = Sequential(L.Flatten(), *shallow_net(_flat(shape), int(take("hidden", 32)), num_classes,
                                                   take("activation", "tanh"), take("init", "xavier")))
    elif name == "mlp":
        hidden = take("hidden", [256, 128])
        hidden = [int(hidden)] if isinstance(hidden, (int, np.integer)) else [int(h) for h in hidden]
        net = Sequential(L.Flatten(), *mlp([_flat(shape), *hidden, num_classes], take("activation", "relu"),
                                           take("init", "he"), float(take("dropout", 0.0)),
                                           bool(take("batchnorm", False))))
    elif name == "cnn":
        if len(shape) != 3:
            raise ArgumentError(f"model 'cnn' needs image inputs of shape (C, H, W), got samples of shape {shape}; "
                                "use mlp, shallow, logreg, lstm or resnet for vectors")
        small = min(shape[1:]) < 16
        net = lenet(shape, num_classes, channels=tuple(take("channels", (16, 32) if small else (6, 16))),
                    hidden=tuple(take("hidden", (64,) if small else (120, 84))))
    elif name == "lstm":
        size = shape[0] * shape[2] if len(shape) == 3 else 1
        if len(shape) not in (1, 3):
            raise ArgumentError(f"model 'lstm' needs samples of shape (C, H, W) or (F,), got {shape}")
        net = LSTMClassifier(size, int(take("hidden", 64)), num_classes, int(take("num_layers", 1)))
    elif name == "resnet":
        if len(shape) == 3:
            net = resnet(shape, num_classes, int(take("channels", 16)), int(take("num_blocks", 2)))
        else:
            net = Sequential(L.Flatten(), ResidualMLP(_flat(shape), int(take("hidden", 64)), num_classes,
                                                      int(take("num_blocks", 2))))
    else:
        raise ArgumentError(f"unknown model {name!r}; valid models: {', '.join(MODEL_NAMES)}")
    if kw:
        raise ArgumentError(f"model {name!r}: unknown option(s) {', '.join(sorted(kw))}")
    return net
