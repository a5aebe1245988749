"""The choices the model builders share: activation names and weight-initialisation schemes.

:data:`ACTIVATIONS` and :data:`INITS` are the names the builders (and the command line) accept;
:func:`activation_module` builds an activation by name and :func:`_init_linear` fills a layer's weights
by scheme. Used by :mod:`chainrule.nn.models` (which re-exports them) and :mod:`chainrule.nn.autoencoder`.
"""

from __future__ import annotations

from ..errors import ArgumentError, ArgumentTypeError
from . import init as _init
from . import layers as L
from .module import Module

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "softplus", "identity")
INITS = ("he", "xavier", "normal", "zeros", "default")


def activation_module(name: str) -> Module:
    """The activation module called ``name`` (one of :data:`ACTIVATIONS`).

    >>> activation_module("tanh")
    Tanh()
    """
    table = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU", "elu": "ELU",
             "gelu": "GELU", "softplus": "Softplus", "identity": "Identity"}
    if not isinstance(name, str):
        raise ArgumentTypeError(f"activation: expected a name ({', '.join(ACTIVATIONS)}), got {name!r}")
    if name not in table:
        raise ArgumentError(f"activation: unknown name {name!r}; valid names: {', '.join(ACTIVATIONS)}")
    return getattr(L, table[name])()


def _init_linear(layer, scheme: str, nonlinearity: str, generator=None, std: float = 0.01) -> None:
    """Fill a Linear (or Conv2d) layer's weight by ``scheme``; biases start at zero except for 'default'.

    'default' keeps the weights the layer drew when it was built (PyTorch's scheme): build the layer
    with the same ``generator``.
    """
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
