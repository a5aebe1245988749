"""Embedding: a learnable lookup table from integer ids (words, items, classes) to vectors."""

from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor, _as_array
from ...backend import foreign_array, get_default_dtype
from ...errors import ArgumentError, ArgumentTypeError, ShapeError
from ...functional.norm import embedding
from .. import init
from .._model_args import as_generator, check_device, flag, param_dtype, real
from ..module import Module, Parameter


def _norm_type(v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not v > 0:
        raise ArgumentError(f"Embedding: norm_type must be a number > 0 (the p of the p-norm; inf allowed), got {v!r}")
    return float(v)


class Embedding(Module):
    """Map each integer id in [0, num_embeddings) to a learnable vector of ``embedding_dim`` values.

    Math: y[..., :] = W[ids[...], :];  dL/dW[v] = sum of dL/dy over the positions holding id v.
    ``weight`` has shape (num_embeddings, embedding_dim), initialised N(0, 1) as in PyTorch; the row at
    ``padding_idx`` (if given) starts at zero and receives no gradient.

    PyTorch's arguments: with ``max_norm``, every row looked up whose ``norm_type``-norm exceeds ``max_norm``
    is first rescaled in place (no gradient) to norm max_norm: W[v] <- W[v] * max_norm / (||W[v]|| + 1e-7).
    As in PyTorch, the weight then changes during the forward pass: an op that used it earlier in the same
    graph (a tied output layer) sees the rescaled values in its backward. ``sparse=True`` is accepted (the
    gradient is then an ordinary dense array: same numbers); ``scale_grad_by_freq=True`` is not supported.
    ``dtype`` (floating), ``generator`` (a seed or a NumPy Generator for the initial weights) and ``device``
    ('cpu' only) are keywords. :meth:`from_pretrained` builds one from a given table.

    >>> import chainrule as cr, numpy as np
    >>> emb = cr.nn.Embedding(10, 3, padding_idx=0)
    >>> emb(np.array([[1, 2], [0, 9]])).shape, emb.weight.numpy()[0].tolist()
    ((2, 2, 3), [0.0, 0.0, 0.0])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, *, device=None, dtype=None,
                 generator=None):
        super().__init__()
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ArgumentError(f"Embedding: {name} must be a positive integer, got {v!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
                raise ArgumentTypeError(f"Embedding: padding_idx must be an integer or None, got {padding_idx!r}")
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ArgumentError(f"Embedding: padding_idx must be in [-{self.num_embeddings}, "
                                    f"{self.num_embeddings}), got {padding_idx}")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = None if max_norm is None else real("Embedding", "max_norm", max_norm, open_low=True)
        self.norm_type = _norm_type(norm_type)
        if flag("Embedding", "scale_grad_by_freq", scale_grad_by_freq):
            raise ArgumentError("Embedding: scale_grad_by_freq=True is not supported (chainrule's embedding "
                                "gradient is the plain sum over the positions); leave it False")
        self.scale_grad_by_freq, self.sparse = False, flag("Embedding", "sparse", sparse)
        check_device("Embedding", device)
        if _weight is None:
            dt = param_dtype("Embedding", dtype)
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dt))
            self.reset_parameters(generator)
        else:  # PyTorch's private argument (from_pretrained's): this table, as it is
            w = _table(_weight, dtype)
            if w.shape != (self.num_embeddings, self.embedding_dim):
                raise ShapeError(f"Embedding: _weight has shape {w.shape}, expected (num_embeddings, embedding_dim) "
                                 f"= {(self.num_embeddings, self.embedding_dim)}")
            self.weight = Parameter(w, requires_grad=not flag("Embedding", "_freeze", _freeze))

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding holding a copy of ``embeddings`` (num_embeddings, embedding_dim), as PyTorch's.

        ``freeze=True`` (the default) leaves the table out of training (``weight.requires_grad`` is False).
        Floating tables keep their dtype; lists and integer tables become the default dtype.

        >>> import chainrule as cr
        >>> emb = cr.nn.Embedding.from_pretrained([[1.0, 2.0], [3.0, 4.0]])
        >>> emb([1]).numpy().tolist(), emb.weight.requires_grad
        ([[3.0, 4.0]], False)
        """
        w = _table(embeddings, None)
        if w.ndim != 2:
            raise ShapeError(f"Embedding.from_pretrained: embeddings must be 2-D (num_embeddings, embedding_dim), "
                             f"got shape {w.shape}")
        return cls(w.shape[0], w.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=w,
                   _freeze=freeze)

    def reset_parameters(self, generator=None) -> None:
        init.normal_(self.weight, 0.0, 1.0, as_generator("Embedding", generator))
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def _renorm(self, ids) -> None:
        """max_norm: rescale (in place, no gradient) the looked-up rows whose norm exceeds it."""
        a = ids.data if isinstance(ids, Tensor) else np.asarray(ids) if isinstance(ids, (list, tuple)) else ids
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "iu" or a.size == 0:
            return  # embedding() names what is wrong with the ids
        rows = np.unique(a)
        if rows[0] < 0 or rows[-1] >= self.num_embeddings:
            return
        w = self.weight.data
        norms = np.linalg.norm(w[rows], ord=self.norm_type, axis=1)
        big = norms > self.max_norm
        if big.any():
            scale = self.max_norm / (norms[big].astype(np.float64) + 1e-7)
            w[rows[big]] *= scale.astype(w.dtype)[:, None]

    def forward(self, ids):
        if self.max_norm is not None:
            self._renorm(ids)
        return embedding(ids, self.weight, self.padding_idx,
                         _layer=f"Embedding({self.num_embeddings}, {self.embedding_dim})")

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s + (", sparse=True" if self.sparse else "")


def _table(embeddings, dtype) -> np.ndarray:
    """A copy of an embedding table (array, Tensor, list or PyTorch tensor) in a floating dtype."""
    if not isinstance(embeddings, Tensor):
        embeddings = foreign_array(embeddings)  # a PyTorch tensor as an array (bfloat16 widened)
    w = _as_array(embeddings)
    dt = param_dtype("Embedding", dtype) if dtype is not None else (
        w.dtype if w.dtype.kind == "f" else get_default_dtype())
    if w.dtype.kind not in "biuf":
        raise ArgumentTypeError(f"Embedding: the embedding table must hold numbers, got dtype {w.dtype}")
    return w.astype(dt, copy=True)
