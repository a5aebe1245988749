"""Optimizers, gradient clipping and learning-rate schedules, with PyTorch's names and update rules.

>>> import chainrule as cr
>>> from chainrule import optim
>>> w = cr.nn.Parameter(cr.tensor([1.0]))
>>> opt = optim.SGD([w], lr=0.5)
>>> (w * w).sum().backward(); opt.step(); w.numpy()
array([0.], dtype=float32)
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "clip_grad_norm_", "clip_grad_value_", "lr_scheduler",
           "OPTIMIZERS"]
