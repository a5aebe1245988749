"""Dropout: randomly silence units while training, a regulariser against co-adaptation."""

from __future__ import annotations

import numpy as np

from ...errors import ArgumentError
from ...functional.norm import dropout
from .._model_args import as_generator, flag
from ..module import Module


class Dropout(Module):
    """Inverted dropout: in training zero each value with probability ``p`` and scale the rest by 1 / (1 - p).

    Math: y = x * mask / (1 - p), mask ~ Bernoulli(1 - p) drawn anew at every call, so E[y] = x and the
    network needs no rescaling at test time; in evaluation y = x. dL/dx = dL/dy * mask / (1 - p).
    The masks come from chainrule's seeded generator (``cr.manual_seed``) unless ``generator`` (a seed or
    a NumPy Generator, keyword only) is given: a seed becomes one Generator here, whose stream then gives
    a new mask at every call.

    ``inplace`` is PyTorch's second argument: ``False`` is accepted; chainrule never overwrites its input, so
    ``inplace=True`` is an ``ArgumentError`` rather than a silent copy.

    >>> import chainrule as cr
    >>> drop = cr.nn.Dropout(0.5)
    >>> x = cr.ones(4, 6)
    >>> bool((drop(x).numpy() == 0).any()), bool((drop.eval()(x).numpy() == 1).all())
    (True, True)
    >>> drop
    Dropout(p=0.5, inplace=False)
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, generator=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0.0 <= p <= 1.0:
            raise ArgumentError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        if flag("Dropout", "inplace", inplace):
            raise ArgumentError("Dropout: inplace=True is not supported; chainrule has no in-place dropout (it never "
                                "overwrites its input). Use Dropout(p) and its returned value.")
        self.p, self.inplace = float(p), False
        self.generator = as_generator("Dropout", generator)

    def forward(self, x):
        return dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
