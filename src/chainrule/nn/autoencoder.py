"""Autoencoders and the notes' greedy layer-wise unsupervised pre-training.

:class:`Autoencoder` learns to reconstruct its input through a narrower code; :func:`pretrain_layerwise`
trains one per hidden layer, each on the codes of the previous one. Both are re-exported by
:mod:`chainrule.nn.models`.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import no_grad
from ..backend import get_default_dtype, get_generator
from ..errors import DataError
from . import layers as L
from ._model_args import as_generator, check_choice, pos_int, pos_ints, real
from ._model_parts import ACTIVATIONS, activation_module
from .module import Module, Sequential


class Autoencoder(Module):
    """x -> encoder -> code -> decoder -> x_hat, trained to make x_hat close to x (no labels needed).

    Math: h = act(x W_e^T + b_e),  x_hat = h W_d^T + b_d,  L = mean (x_hat - x)^2.
    Stacking the encoders of autoencoders trained one after another (each on the codes of the previous)
    is the notes' greedy layer-wise unsupervised pre-training: see :func:`pretrain_layerwise`.
    ``generator`` (a seed or a NumPy Generator) draws every weight; by default the global one.

    >>> import chainrule as cr
    >>> ae = Autoencoder(8, 3)
    >>> ae(cr.randn(4, 8)).shape, ae.encode(cr.randn(4, 8)).shape
    ((4, 8), (4, 3))
    """

    def __init__(self, in_features: int, hidden: int, activation: str = "sigmoid", generator=None):
        super().__init__()
        where = "Autoencoder"
        n_in, hidden = pos_int(where, "in_features", in_features), pos_int(where, "hidden", hidden)
        check_choice(where, "activation", activation, ACTIVATIONS)
        gen = as_generator(where, generator)
        self.encoder = Sequential(L.Linear(n_in, hidden, generator=gen), activation_module(activation))
        self.decoder = L.Linear(hidden, n_in, generator=gen)

    def encode(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def _pretrain_data(where: str, x, n_x: int) -> np.ndarray:
    """The pre-training inputs: a non-empty, finite (N, n_x) array in the default dtype (the weights')."""
    from ..autograd.tensor import Tensor

    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise DataError(f"{where}: x must be a numeric array, got dtype {a.dtype}")
    if a.ndim != 2 or a.shape[1] != n_x:
        raise DataError(f"{where}: x must have shape (N, {n_x}) (sizes[0] = {n_x} features), got {a.shape}")
    if a.shape[0] == 0:
        raise DataError(f"{where}: x is empty (shape {a.shape}); nothing to pre-train on")
    a = a.astype(get_default_dtype(), copy=False)
    if not np.isfinite(a).all():
        raise DataError(f"{where}: x holds NaN or inf (after conversion to {a.dtype})")
    return a


def pretrain_layerwise(x: np.ndarray, sizes, activation: str = "sigmoid", epochs: int = 5, lr: float = 0.5,
                       batch_size: int = 64, seed=0, verbose: bool = False) -> list:
    """Greedy layer-wise pre-training: train one autoencoder per hidden layer on the previous layer's codes.

    Plain minibatch gradient descent, w <- w - lr * dL/dw, on the reconstruction error.

    Parameters
    ----------
    x : ndarray, shape (N, sizes[0])
        The inputs (N >= 1, finite); computed in the default dtype.
    sizes : list of int
        ``[n_x, n_1, ..., n_k]``: the widths of the hidden layers to pre-train.
    activation : str
        The encoders' activation, one of :data:`ACTIVATIONS`.
    epochs, batch_size : int
        Passes over the data per autoencoder (>= 1), and samples per step (>= 1).
    lr : float
        The step size (finite, > 0).
    seed : int, numpy Generator or None
        Seeds everything drawn: every autoencoder's initial weights and the batch order, so two calls
        with the same seed give the same autoencoders. None: chainrule's global generator.
    verbose : bool
        Print the reconstruction error after each epoch.

    Returns
    -------
    list of Autoencoder
        One per hidden layer; ``ae.encoder[0]`` is the pre-trained Linear layer to copy into a network.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((32, 6))
    >>> aes = pretrain_layerwise(x, [6, 4, 2], epochs=1, seed=0)
    >>> [ae.encoder[0].weight.shape for ae in aes]
    [(4, 6), (2, 4)]
    """
    from ..autograd.tensor import Tensor

    where = "pretrain_layerwise"
    sizes = pos_ints(where, "sizes", sizes, min_len=2)
    check_choice(where, "activation", activation, ACTIVATIONS)
    epochs, batch_size = pos_int(where, "epochs", epochs), pos_int(where, "batch_size", batch_size)
    lr = real(where, "lr", lr, open_low=True)
    gen = as_generator(where, seed, "seed")
    rng = gen if gen is not None else get_generator(None)  # one generator: weights and batch order
    codes = _pretrain_data(where, x, sizes[0])
    aes = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        ae = Autoencoder(n_in, n_out, activation, generator=rng)
        for epoch in range(epochs):
            order = rng.permutation(len(codes))
            total = 0.0
            for start in range(0, len(codes), batch_size):
                xb = Tensor(codes[order[start:start + batch_size]])
                loss = ((ae(xb) - xb) ** 2).mean()
                ae.zero_grad()
                loss.backward()
                for p in ae.parameters():
                    p.data -= np.asarray(lr, p.dtype) * p.grad
                total += loss.item() * len(xb)
            if verbose:
                print(f"autoencoder {n_in}->{n_out} epoch {epoch + 1}: reconstruction mse {total / len(codes):.4f}")
        with no_grad():
            codes = ae.encode(Tensor(codes)).numpy()
        aes.append(ae)
    return aes
