"""Networks: Module, Parameter, containers, layers, activations, losses and initialisers.

Names, constructor arguments, parameter names and shapes follow PyTorch, so a PyTorch state dict
loads into the same architecture.
"""

from . import init, models
from .containers import ModuleDict
from .layers import (
    ELU,
    GELU,
    GRU,
    LSTM,
    RNN,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    GRUCell,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    LSTMCell,
    MaxPool2d,
    ReLU,
    Residual,
    ResidualBlock,
    RNNCell,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from .module import Module, ModuleList, Parameter, Sequential
