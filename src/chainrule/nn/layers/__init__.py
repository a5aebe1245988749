"""Layers, one file per family."""

from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .cells import GRUCell, LSTMCell, RNNCell
from .conv import Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .linear import Flatten, Identity, Linear
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .pool import AvgPool2d, MaxPool2d
from .recurrent import GRU, LSTM, RNN
from .residual import Residual, ResidualBlock
