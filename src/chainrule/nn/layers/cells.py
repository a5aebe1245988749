"""Recurrent cells: one time step of an RNN, LSTM or GRU, for loops written by hand.

``nn.LSTM`` runs a whole sequence as one fused op. A cell is the same step on its own, for the loops that
a sequence layer cannot express: a decoder that feeds its own output back in, attention over earlier
states, a learner stepping through the notes' equations one t at a time. Names, parameters (``weight_ih``,
``weight_hh``, ``bias_ih``, ``bias_hh``), shapes and initialisation are PyTorch's, so a PyTorch cell's
state dict loads as it is.

Each call runs the sequence op of its layer on a sequence of length 1, so the forward and the backward
are those of :class:`~chainrule.functional.recurrent.LSTMLayer`, :class:`~chainrule.functional.gru.GRULayer`
and :class:`~chainrule.functional.recurrent.RNNLayer`; unrolling a cell over x_0 .. x_{T-1} gives the
sequence layer's outputs.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import ArgumentError, ArgumentTypeError, ShapeError
from ...functional.gru import GRULayer
from ...functional.recurrent import LSTMLayer, RNNLayer
from ...functional.shape import unsqueeze
from .. import init
from .._model_args import as_generator, check_device, flag, param_dtype
from ..module import Module, Parameter
from .recurrent import _as_tensor, _checked_input


class _CellBase(Module):
    """Parameters, initialisation and input checks shared by the three cells.

    Inputs and states are cast to the weights' dtype as in the other layers (lists: the default dtype);
    ``generator`` (a seed or a NumPy Generator) draws the initial weights; ``device`` may only be 'cpu'.
    """

    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None, generator=None, *,
                 device=None):
        super().__init__()
        name = type(self).__name__
        for arg, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ArgumentError(f"{name}: {arg} must be a positive integer, got {v!r}")
        check_device(name, device)
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), flag(name, "bias", bias)
        dt = param_dtype(name, dtype)
        G = self._gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((G, self.input_size), dtype=dt))
        self.weight_hh = Parameter(np.empty((G, self.hidden_size), dtype=dt))
        if self.bias:
            self.bias_ih = Parameter(np.empty(G, dtype=dt))
            self.bias_hh = Parameter(np.empty(G, dtype=dt))
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as in PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        generator = as_generator(type(self).__name__, generator)  # one stream: independent weights
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator)

    def _params(self) -> list:
        if self.bias:
            return [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]
        return [self.weight_ih, self.weight_hh, None, None]

    def _name(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def _step_input(self, x):
        """x (N, I) or unbatched (I,) -> (a sequence of one step (1, N, I), batched?)."""
        x = _checked_input(self._name(), x, self.input_size, (1, 2), "(N, input_size) or unbatched (input_size,)",
                           self.weight_ih)
        batched = x.ndim == 2
        x = unsqueeze(x, 0) if batched else x.reshape(1, 1, self.input_size)
        return x, batched

    def _state(self, s, what: str, x, batched: bool):
        """A state (N, H) (or (H,) unbatched) as an (N, H) tensor; zeros when it is None."""
        n = x.shape[1]
        if s is None:
            dt = x.dtype if x.dtype.kind == "f" else np.result_type(x.dtype, np.float32)
            return np.zeros((n, self.hidden_size), dtype=dt)
        s = _as_tensor(self._name(), s, what, self.weight_ih)
        want = (n, self.hidden_size) if batched else (self.hidden_size,)
        if tuple(s.shape) != want:
            layout = "(batch, hidden_size)" if batched else "(hidden_size,)"
            raise ShapeError(f"{self._name()}: {what} has shape {tuple(s.shape)}, expected {layout} = {want}")
        return s if batched else s.reshape(1, self.hidden_size)

    @staticmethod
    def _out(s, batched: bool):
        return s if batched else s.reshape(s.shape[-1])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
        nonlinearity = getattr(self, "nonlinearity", "tanh")  # RNNCell's, printed as PyTorch does
        return s if nonlinearity == "tanh" else s + f", nonlinearity={nonlinearity}"


class RNNCell(_CellBase):
    """One Elman RNN step: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu).

    ``forward(input, hx=None)``: input (N, input_size) or unbatched (input_size,), hx of the matching
    shape (N, hidden_size) or (hidden_size,) (zeros when None); returns h'. Parameters ``weight_ih``
    (H, I), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H,).

    >>> import chainrule as cr
    >>> cell = cr.nn.RNNCell(3, 5)
    >>> h = cell(cr.randn(4, 3)); h = cell(cr.randn(4, 3), h); h.shape
    (4, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype=None, generator=None, *, device=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, dtype, generator, device=device)
        self.nonlinearity = nonlinearity

    def forward(self, x, hx=None):
        x, batched = self._step_input(x)
        h = self._state(hx, "hx", x, batched)
        _, h1 = RNNLayer.apply(x, h, *self._params(), nonlinearity=self.nonlinearity)
        return self._out(h1, batched)


class LSTMCell(_CellBase):
    """One LSTM step, gates i, f, g, o as in PyTorch:

    i, f, o = sigmoid(.), g = tanh(.) of W_ih x + b_ih + W_hh h + b_hh (split in four);
    c' = f * c + i * g,  h' = o * tanh(c').

    ``forward(input, hx=None)``: input (N, input_size) or unbatched (input_size,), hx = (h, c), each
    (N, hidden_size) or (hidden_size,) (zeros when None); returns (h', c'). Parameters ``weight_ih``
    (4H, I), ``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh`` (4H,).

    >>> import chainrule as cr
    >>> cell = cr.nn.LSTMCell(3, 5)
    >>> h, c = cell(cr.randn(4, 3))
    >>> h, c = cell(cr.randn(4, 3), (h, c)); h.shape, c.shape
    ((4, 5), (4, 5))
    """

    _gates = 4

    def forward(self, x, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ArgumentTypeError(f"{self._name()}: hx must be a tuple (h, c), got {type(hx).__name__}")
        x, batched = self._step_input(x)
        h = self._state(None if hx is None else hx[0], "h", x, batched)
        c = self._state(None if hx is None else hx[1], "c", x, batched)
        _, h1, c1 = LSTMLayer.apply(x, h, c, *self._params())
        return self._out(h1, batched), self._out(c1, batched)


class GRUCell(_CellBase):
    """One GRU step, gates r, z, n as in PyTorch:

    r, z = sigmoid(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z}),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h.

    ``forward(input, hx=None)``: input (N, input_size) or unbatched (input_size,), hx (N, hidden_size)
    or (hidden_size,) (zeros when None); returns h'. Parameters ``weight_ih`` (3H, I), ``weight_hh``
    (3H, H), ``bias_ih``, ``bias_hh`` (3H,).

    >>> import chainrule as cr
    >>> cr.nn.GRUCell(3, 5)(cr.randn(3)).shape  # unbatched
    (5,)
    """

    _gates = 3

    def forward(self, x, hx=None):
        x, batched = self._step_input(x)
        h = self._state(hx, "hx", x, batched)
        _, h1 = GRULayer.apply(x, h, *self._params())
        return self._out(h1, batched)
