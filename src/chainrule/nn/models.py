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
shape and a number of outputs. ``Autoencoder`` and ``pretrain_layerwise`` live in
``autoencoder.py``, the activation and initialisation choices (``ACTIVATIONS``, ``INITS``,
``activation_module``) in ``_model_parts.py``; both are re-exported here.

>>> import chainrule as cr
>>> from chainrule.nn import models
>>> net = models.mlp([4, 8, 3], activation="tanh", init="xavier")
>>> net(cr.randn(5, 4)).shape
(5, 3)
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from ..functional.linalg import layer_input
from . import init as _init
from . import layers as L
from ._model_args import as_generator, check_choice, flag, pos_int, pos_ints, real, sample_shape
from ._model_parts import ACTIVATIONS, INITS, _init_linear, activation_module
from .autoencoder import Autoencoder, pretrain_layerwise  # noqa: F401  (re-exported)
from .module import Module, Sequential

MODEL_NAMES = ("logreg", "shallow", "mlp", "cnn", "lstm", "resnet")


# ---------------------------------------------------------------------------------------- fully connected
def logistic_regression(in_features: int, num_classes: int = 2, generator=None) -> Module:
    """Logistic (two classes: one output unit) or softmax (C classes: C units) regression, z = x W^T + b.

    Math: p = sigmoid(z) with z = w . x + b for two classes; p = softmax(z) for C classes. The loss's
    gradient with respect to z is simply p - y, so dL/dW = (p - y)^T x / m.

    ``generator`` (a seed or a NumPy Generator) draws the initial weights; by default the global one
    (``cr.manual_seed``).

    >>> logistic_regression(64, 2).weight.shape, logistic_regression(64, 10).weight.shape
    ((1, 64), (10, 64))
    """
    where = "logistic_regression"
    n_in, c = pos_int(where, "in_features", in_features), pos_int(where, "num_classes", num_classes)
    return L.Linear(n_in, 1 if c <= 2 else c, generator=as_generator(where, generator))


def shallow_net(in_features: int, hidden: int = 16, out_features: int = 1, activation: str = "tanh",
                init: str = "xavier", generator=None) -> Sequential:
    """The notes' shallow network: Linear -> tanh -> Linear (logits; add a sigmoid only to read probabilities).

    Math: a1 = tanh(x W1^T + b1),  z2 = a1 W2^T + b2,  p = sigmoid(z2);
    dL/dz2 = p - y,  dL/da1 = dL/dz2 W2,  dL/dz1 = dL/da1 * (1 - a1^2).

    ``init`` is a scheme of :func:`mlp`; ``generator`` (a seed or a NumPy Generator) draws every weight.

    >>> shallow_net(2, 4)
    Sequential(
      (0): Linear(in_features=2, out_features=4, bias=True)
      (1): Tanh()
      (2): Linear(in_features=4, out_features=1, bias=True)
    )  # 17 parameters
    """
    where = "shallow_net"
    n_in, n_h = pos_int(where, "in_features", in_features), pos_int(where, "hidden", hidden)
    n_out = pos_int(where, "out_features", out_features)
    check_choice(where, "activation", activation, ACTIVATIONS)
    check_choice(where, "init", init, INITS)
    gen = as_generator(where, generator)
    net = Sequential(L.Linear(n_in, n_h, generator=gen), activation_module(activation),
                     L.Linear(n_h, n_out, generator=gen))
    _init_linear(net[0], init, activation, gen)
    _init_linear(net[2], init, activation, gen)
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
        Drop probability after each hidden activation (0 disables dropout). The masks come from the
        global generator (``cr.manual_seed``, or ``fit``'s seed), not from ``generator``.
    batchnorm : bool
        Normalise each hidden pre-activation with BatchNorm1d.
    init_std : float
        The standard deviation of the 'normal' scheme (finite, >= 0).
    generator : int, numpy Generator or None
        Draws every initial weight (whatever the scheme); None: the global generator.

    >>> net = mlp([3, 5, 5, 2], init="zeros")
    >>> float(abs(net[0].weight.numpy()).sum())
    0.0
    """
    where = "mlp"
    sizes = pos_ints(where, "sizes", sizes, min_len=2)
    check_choice(where, "activation", activation, ACTIVATIONS)
    check_choice(where, "init", init, INITS)
    dropout = real(where, "dropout", dropout, 0.0, 1.0)
    batchnorm = flag(where, "batchnorm", batchnorm)
    init_std = real(where, "init_std", init_std)
    gen = as_generator(where, generator)
    mods = []
    for i in range(len(sizes) - 1):
        lin = L.Linear(sizes[i], sizes[i + 1], generator=gen)
        _init_linear(lin, init, activation, gen, init_std)
        mods.append(lin)
        if i < len(sizes) - 2:
            if batchnorm:
                mods.append(L.BatchNorm1d(sizes[i + 1]))
            mods.append(activation_module(activation))
            if dropout > 0:
                mods.append(L.Dropout(dropout))
    return Sequential(*mods)


class ResidualMLP(Module):
    """A residual MLP: h = Linear(x); h <- h + W2 relu(W1 h) per block; logits = Linear(relu(h)).

    Math: each block computes h + F(h), so dL/dh = dL/dh' (I + dF/dh): the identity path carries the
    gradient unchanged through depth, which is why very deep residual networks still train.
    ``generator`` (a seed or a NumPy Generator) draws every weight; by default the global one.

    >>> import chainrule as cr
    >>> ResidualMLP(2, 16, 3, num_blocks=4)(cr.randn(7, 2)).shape
    (7, 3)
    """

    def __init__(self, in_features: int, hidden: int, out_features: int, num_blocks: int = 2,
                 activation: str = "relu", generator=None):
        super().__init__()
        where = "ResidualMLP"
        n_in, hidden = pos_int(where, "in_features", in_features), pos_int(where, "hidden", hidden)
        n_out, num_blocks = pos_int(where, "out_features", out_features), pos_int(where, "num_blocks", num_blocks)
        check_choice(where, "activation", activation, ACTIVATIONS)
        gen = as_generator(where, generator)
        self.stem = L.Linear(n_in, hidden, generator=gen)
        self.blocks = [Sequential(L.Linear(hidden, hidden, generator=gen), activation_module(activation),
                                  L.Linear(hidden, hidden, generator=gen)) for _ in range(num_blocks)]
        for b in self.blocks:  # start each block near the identity
            _init_linear(b[0], "he", activation, gen)
            _init.normal_(b[2].weight, 0.0, 0.1 / np.sqrt(hidden), generator=gen)
            _init.zeros_(b[2].bias)
        self.act = activation_module(activation)
        self.head = L.Linear(hidden, n_out, generator=gen)

    def forward(self, x):
        h = self.stem(x)
        for b in self.blocks:
            h = h + b(h)
        return self.head(self.act(h))


# ---------------------------------------------------------------------------------------------- images
def _conv_out(n: int, k: int, s: int = 1, p: int = 0) -> int:
    return (n + 2 * p - k) // s + 1


def lenet(input_shape=(1, 28, 28), num_classes: int = 10, channels=(6, 16), hidden=(120, 84),
          generator=None) -> Sequential:
    """A LeNet-style CNN: (Conv -> ReLU -> MaxPool 2x2) x 2 -> Flatten -> Linear -> ReLU -> ... -> Linear.

    For 28x28 inputs the convolutions are 5x5 (the first padded by 2), as in LeNet-5; for small images
    such as the 8x8 digits they are 3x3 with padding 1, so two poolings leave a 2x2 map.
    ``input_shape`` is one image's (C, H, W), ``channels`` the two convolutions' widths, ``hidden`` the
    widths of the fully connected layers, ``generator`` (a seed or a NumPy Generator) draws every weight.

    >>> import chainrule as cr
    >>> lenet((1, 8, 8), 10, channels=(8, 16), hidden=(32,))(cr.randn(2, 1, 8, 8)).shape
    (2, 10)
    """
    where = "lenet"
    c, h, w = sample_shape(where, input_shape, (3,))
    num_classes = pos_int(where, "num_classes", num_classes)
    c1, c2 = pos_ints(where, "channels", channels, length=2)
    hidden = pos_ints(where, "hidden", hidden)
    gen = as_generator(where, generator)
    small = min(h, w) < 16
    k, p1, p2 = (3, 1, 1) if small else (5, 2, 0)
    shape = (c, h, w)
    h, w = _conv_out(h, k, 1, p1) // 2, _conv_out(w, k, 1, p1) // 2
    h, w = _conv_out(h, k, 1, p2) // 2, _conv_out(w, k, 1, p2) // 2
    if h < 1 or w < 1:
        raise ArgumentError(f"lenet: input_shape {shape} is too small for two conv + pool stages")
    mods = [L.Conv2d(c, c1, k, padding=p1, generator=gen), L.ReLU(), L.MaxPool2d(2),
            L.Conv2d(c1, c2, k, padding=p2, generator=gen), L.ReLU(), L.MaxPool2d(2), L.Flatten()]
    width = c2 * h * w
    for n in hidden:
        mods += [L.Linear(width, n, generator=gen), L.ReLU()]
        width = n
    mods.append(L.Linear(width, num_classes, generator=gen))
    return Sequential(*mods)


class LSTMClassifier(Module):
    """Read an image row by row (or a feature vector one value at a time) with an LSTM, classify the last state.

    Input (N, C, H, W) becomes a sequence of H steps of C*W features; input (N, F) becomes F steps of 1
    feature. The last hidden state h_T goes through a Linear layer to give the logits. ``generator``
    (a seed or a NumPy Generator) draws every weight; by default the global one.

    ``input_shape``, one sample's (C, H, W) or (F,), is what the model was built for (``get_model`` passes
    it): inputs are then checked against it, C and W for images (H, the number of steps, may vary), F
    for vectors, with a ``ShapeError`` naming it. Lists become arrays, as the layers take them.

    >>> import chainrule as cr
    >>> LSTMClassifier(8, 16, 10)(cr.randn(3, 1, 8, 8)).shape
    (3, 10)
    >>> LSTMClassifier(1, 16, 3, input_shape=(4,))([[1.0, 2.0, 3.0, 4.0]]).shape
    (1, 3)
    """

    def __init__(self, input_size: int, hidden_size: int, num_classes: int, num_layers: int = 1, generator=None,
                 input_shape=None):
        super().__init__()
        where = "LSTMClassifier"
        self.input_size = pos_int(where, "input_size", input_size)
        self.hidden_size = pos_int(where, "hidden_size", hidden_size)
        num_classes, num_layers = pos_int(where, "num_classes", num_classes), pos_int(where, "num_layers", num_layers)
        self.input_shape = None if input_shape is None else sample_shape(where, input_shape, (1, 3))
        if self.input_shape is not None:
            s = self.input_shape
            size = s[0] * s[2] if len(s) == 3 else 1
            if size != self.input_size:
                raise ArgumentError(f"{where}: input_shape {s} gives {size} features per step "
                                    f"({'C * W' if len(s) == 3 else 'one value of the vector'}), but input_size is "
                                    f"{self.input_size}")
        gen = as_generator(where, generator)
        self.lstm = L.LSTM(self.input_size, self.hidden_size, num_layers=num_layers, batch_first=True, generator=gen)
        self.head = L.Linear(self.hidden_size, num_classes, generator=gen)

    def _check(self, shape: tuple) -> None:
        """The sample shape of the input against ``input_shape`` (images: C and W; vectors: F)."""
        want = self.input_shape
        if len(want) == 3:
            ok = len(shape) == 4 and shape[1] == want[0] and shape[3] == want[2]
            expected = f"(N, {want[0]}, H, {want[2]}) (images of {want}; rows are the time steps)"
        else:
            ok = len(shape) == 2 and shape[1] == want[0]
            expected = f"(N, {want[0]}) ({want[0]} features)"
        if not ok:
            raise ShapeError(f"LSTMClassifier(input_shape={want}): expected input of shape {expected}, "
                             f"got {shape}")

    def forward(self, x):
        x = layer_input(x, self.lstm.weight_ih_l0)  # lists become arrays; the LSTM's dtype
        if self.input_shape is not None:
            self._check(tuple(x.shape))
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


def resnet(input_shape=(1, 28, 28), num_classes: int = 10, channels: int = 16, num_blocks: int = 2,
           generator=None) -> Sequential:
    """A small ResNet: Conv 3x3 -> BatchNorm -> ReLU -> ResidualBlock x num_blocks -> global average pool -> Linear.

    ``generator`` (a seed or a NumPy Generator) draws every weight; by default the global one.

    >>> import chainrule as cr
    >>> resnet((1, 8, 8), 10, channels=8, num_blocks=1)(cr.randn(2, 1, 8, 8)).shape
    (2, 10)
    """
    where = "resnet"
    c = sample_shape(where, input_shape, (3,))[0]
    num_classes, channels = pos_int(where, "num_classes", num_classes), pos_int(where, "channels", channels)
    num_blocks = pos_int(where, "num_blocks", num_blocks)
    gen = as_generator(where, generator)
    mods = [L.Conv2d(c, channels, 3, padding=1, bias=False, generator=gen), L.BatchNorm2d(channels), L.ReLU()]
    mods += [L.ResidualBlock(channels, generator=gen) for _ in range(num_blocks)]
    mods += [_GlobalAvgPool(), L.Linear(channels, num_classes, generator=gen)]
    return Sequential(*mods)


# ------------------------------------------------------------------------------------------------ registry
def _flat(input_shape) -> int:
    return int(np.prod(input_shape))


def _widths(name: str, v) -> list:
    """``hidden`` or ``channels`` given as one int or a list of them."""
    return [pos_int(f"model {name!r}", "hidden", v)] if isinstance(v, (int, np.integer)) and not isinstance(
        v, bool) else pos_ints(f"model {name!r}", "hidden", v)


def get_model(name: str, input_shape, num_classes: int, **kw) -> Module:
    """Build the command-line network ``name`` for inputs of ``input_shape`` (one sample) and ``num_classes`` outputs.

    ``num_classes`` is the number of output units: C for C-class classification, 1 for regression.
    Keyword arguments go to the builder: ``hidden`` (an int, or a list of widths for ``mlp`` and ``cnn``),
    ``activation``, ``init``, ``dropout``, ``batchnorm``, ``channels``, ``num_blocks``, ``num_layers``, and
    ``generator`` (a seed or a NumPy Generator drawing every initial weight; default: the global one).

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
    if not isinstance(name, str) or name not in MODEL_NAMES:
        raise ArgumentError(f"unknown model {name!r}; valid models: {', '.join(MODEL_NAMES)}")
    where = f"model {name!r}"
    shape = sample_shape(where, input_shape, (1, 2, 3))
    num_classes = pos_int(where, "num_classes", num_classes)
    kw = dict(kw)
    gen = as_generator(where, kw.pop("generator", None))

    def take(key, default):
        return kw.pop(key, default)

    try:
        if name == "logreg":
            net = Sequential(L.Flatten(), L.Linear(_flat(shape), num_classes, generator=gen))
        elif name == "shallow":
            net = Sequential(L.Flatten(), *shallow_net(_flat(shape), take("hidden", 32), num_classes,
                                                       take("activation", "tanh"), take("init", "xavier"), gen))
        elif name == "mlp":
            hidden = _widths(name, take("hidden", [256, 128]))
            net = Sequential(L.Flatten(), *mlp([_flat(shape), *hidden, num_classes], take("activation", "relu"),
                                               take("init", "he"), take("dropout", 0.0),
                                               take("batchnorm", False), generator=gen))
        elif name == "cnn":
            if len(shape) != 3:
                raise ArgumentError(f"model 'cnn' needs image inputs of shape (C, H, W), got samples of shape "
                                    f"{shape}; use mlp, shallow, logreg, lstm or resnet for vectors")
            small = min(shape[1:]) < 16
            net = lenet(shape, num_classes, channels=take("channels", (16, 32) if small else (6, 16)),
                        hidden=_widths(name, take("hidden", (64,) if small else (120, 84))), generator=gen)
        elif name == "lstm":
            if len(shape) not in (1, 3):
                raise ArgumentError(f"model 'lstm' needs samples of shape (C, H, W) or (F,), got {shape}")
            size = shape[0] * shape[2] if len(shape) == 3 else 1
            net = LSTMClassifier(size, take("hidden", 64), num_classes, take("num_layers", 1), generator=gen,
                                 input_shape=shape)
        elif len(shape) == 3:  # resnet on images
            net = resnet(shape, num_classes, take("channels", 16), take("num_blocks", 2), generator=gen)
        else:  # resnet on vectors
            net = Sequential(L.Flatten(), ResidualMLP(_flat(shape), take("hidden", 64), num_classes,
                                                      take("num_blocks", 2), generator=gen))
    except (ArgumentError, ArgumentTypeError) as e:
        msg = str(e)
        raise type(e)(msg if msg.startswith(where) else f"{where}: {msg}") from None
    if kw:
        why = ""
        if name == "resnet" and set(kw) & {"channels", "hidden"}:  # each applies to one kind of input
            why = (" (resnet takes channels on images and hidden on vectors; these samples have shape "
                   f"{tuple(shape)})")
        raise ArgumentError(f"model {name!r}: unknown option(s) {', '.join(sorted(kw))}{why}")
    return net
