"""Networks: Module, Parameter, containers, layers, activations, losses and initialisers.

Names, constructor arguments, parameter names and shapes follow PyTorch, so a PyTorch state dict
loads into the same architecture.
"""

from . import init
from .layers import Flatten, Identity, Linear
from .module import Module, ModuleList, Parameter, Sequential
