"""Dropout: randomly silence units while training, a regulariser against co-adaptation."""

from __future__ import annotations

from ...errors import ArgumentError
from ...functional.norm import dropout
from ..module import Module


class Dropout(Module):
    """Inverted dropout: in training zero each value with probability ``p`` and scale the rest by 1 / (1 - p).

    Math: y = x * mask / (1 - p), mask ~ Bernoulli(1 - p) drawn anew at every call, so E[y] = x and the
    network needs no rescaling at test time; in evaluation y = x. dL/dx = dL/dy * mask / (1 - p).
    The mask comes from chainrule's seeded generator (``cr.manual_seed``) unless ``generator`` is given.

    >>> import chainrule as cr
    >>> drop = cr.nn.Dropout(0.5)
    >>> x = cr.ones(4, 6)
    >>> bool((drop(x).numpy() == 0).any()), bool((drop.eval()(x).numpy() == 1).all())
    (True, True)
    """

    def __init__(self, p: float = 0.5, generator=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ArgumentError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.generator = generator

    def forward(self, x):
        return dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"
