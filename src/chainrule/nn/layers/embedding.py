"""Embedding: a learnable lookup table from integer ids (words, items, classes) to vectors."""

from __future__ import annotations

import numpy as np

from ...backend import get_default_dtype
from ...errors import ArgumentError
from ...functional.norm import embedding
from .. import init
from ..module import Module, Parameter


class Embedding(Module):
    """Map each integer id in [0, num_embeddings) to a learnable vector of ``embedding_dim`` values.

    Math: y[..., :] = W[ids[...], :];  dL/dW[v] = sum of dL/dy over the positions holding id v.
    ``weight`` has shape (num_embeddings, embedding_dim), initialised N(0, 1) as in PyTorch; the row at
    ``padding_idx`` (if given) starts at zero and receives no gradient.

    >>> import chainrule as cr, numpy as np
    >>> emb = cr.nn.Embedding(10, 3, padding_idx=0)
    >>> emb(np.array([[1, 2], [0, 9]])).shape, emb.weight.numpy()[0].tolist()
    ((2, 2, 3), [0.0, 0.0, 0.0])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, dtype=None,
                 generator=None):
        super().__init__()
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ArgumentError(f"Embedding: {name} must be a positive integer, got {v!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ArgumentError(f"Embedding: padding_idx must be in [-{self.num_embeddings}, "
                                    f"{self.num_embeddings}), got {padding_idx}")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        dt = np.dtype(dtype or get_default_dtype())
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dt))
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        init.normal_(self.weight, 0.0, 1.0, generator)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, ids):
        return embedding(ids, self.weight, self.padding_idx,
                         _layer=f"Embedding({self.num_embeddings}, {self.embedding_dim})")

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
