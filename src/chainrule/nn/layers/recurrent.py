"""Recurrent layers: RNN, LSTM and GRU, stacked ``num_layers`` deep, with PyTorch's names and layouts.

Each layer of the stack runs its whole sequence as one fused op (:mod:`chainrule.functional.recurrent`):
the loop over time steps happens inside NumPy-level code, and the graph gets one node per layer.

With ``bidirectional=True`` each layer runs twice: forward over x_0 .. x_{L-1}, and a second, reverse
direction (its own parameters, suffixed ``_reverse``) over the time-reversed sequence, whose outputs are
reversed back, so that position t holds the reverse state after reading x_t .. x_{L-1}. The output is
[forward, reverse] joined along the features (2H); states are (num_layers * 2, N, H), ordered
layer 0 forward, layer 0 reverse, layer 1 forward, ...
"""

from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor, as_operand
from ...errors import ArgumentError, ArgumentTypeError, ShapeError
from ...functional.gru import GRULayer
from ...functional.linalg import layer_input
from ...functional.norm import dropout as _dropout
from ...functional.recurrent import LSTMLayer, RNNLayer
from ...functional.shape import concatenate, stack, unsqueeze
from .. import init
from .._model_args import as_generator, check_device, flag, param_dtype
from ..module import Module, Parameter


def _as_tensor(layer: str, v, what: str, weight=None) -> Tensor:
    """An input or state of a recurrent layer or cell as a Tensor in ``weight``'s dtype, else a clear error.

    The cast is that of the other layers (:func:`~chainrule.functional.linalg.layer_input`): lists become the
    default dtype, integers and other floats the weight's, so a float32 layer computes in float32 on float64
    data; a tensor that requires grad gets its gradient back in its own dtype. Same-dtype inputs pass as
    they are.
    """
    if isinstance(v, (list, tuple, int, float)) and not isinstance(v, bool):
        v = as_operand(v)  # Python numbers and lists: the default dtype, as cr.tensor makes them
    if not isinstance(v, (Tensor, np.ndarray)):
        raise ArgumentTypeError(f"{layer}: {what} must be a Tensor, an array or a list, got {type(v).__name__}")
    if weight is not None:
        v = layer_input(v, weight, layer)
    return v if isinstance(v, Tensor) else Tensor(v)


def _checked_input(layer: str, x, input_size: int, ndims: tuple, layouts: str, weight=None) -> Tensor:
    """x as a Tensor (in ``weight``'s dtype) whose number of axes is in ``ndims`` and whose last axis holds
    ``input_size`` features."""
    x = _as_tensor(layer, x, "input", weight)
    shape = tuple(x.shape)
    if len(shape) not in ndims:
        raise ShapeError(f"{layer}: expected input of shape {layouts}, got {shape} ({len(shape)}-D)")
    if shape[-1] != input_size:
        raise ShapeError(f"{layer}: input of shape {shape} has {shape[-1]} features in its last axis, "
                         f"expected input_size={input_size}")
    return x


class _RNNBase(Module):
    """Parameters, checks and the layer stack shared by RNN, LSTM and GRU."""

    _gates = 1
    _n_states = 1  # hidden states per layer: h (RNN, GRU) or h and c (LSTM)
    _projects = False  # only the LSTM has proj_size (weight_hr_l{k})

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None,
                 generator=None, proj_size: int = 0, device=None):
        super().__init__()
        name = type(self).__name__
        check_device(name, device)
        for arg, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ArgumentError(f"{name}: {arg} must be a positive integer, got {v!r}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, (int, np.integer)) or proj_size < 0:
            raise ArgumentError(f"{name}: proj_size must be a non-negative integer, got {proj_size!r}")
        if proj_size and not self._projects:
            raise ArgumentError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU; "
                                f"got proj_size={proj_size}")
        if proj_size >= hidden_size:
            raise ArgumentError(f"{name}: proj_size must be smaller than hidden_size ({hidden_size}), got {proj_size}")
        self.proj_size = int(proj_size)
        if (isinstance(dropout, bool) or not isinstance(dropout, (int, float, np.integer, np.floating))
                or not 0.0 <= dropout <= 1.0):
            raise ArgumentError(f"{name}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias, self.batch_first = flag(name, "bias", bias), flag(name, "batch_first", batch_first)
        self.dropout, self.bidirectional = float(dropout), flag(name, "bidirectional", bidirectional)
        dt = param_dtype(name, dtype)
        G, H = self._gates * self.hidden_size, self.hidden_size
        R = self.proj_size or H  # the rows of h: P with a projection
        D = 2 if self.bidirectional else 1
        for k in range(self.num_layers):  # insertion order = PyTorch's parameter order
            fan = self.input_size if k == 0 else D * R
            for sfx in ("", "_reverse")[:D]:  # per layer: the forward direction's, then the reverse one's
                setattr(self, f"weight_ih_l{k}{sfx}", Parameter(np.empty((G, fan), dtype=dt)))
                setattr(self, f"weight_hh_l{k}{sfx}", Parameter(np.empty((G, R), dtype=dt)))
                if self.bias:
                    setattr(self, f"bias_ih_l{k}{sfx}", Parameter(np.empty(G, dtype=dt)))
                    setattr(self, f"bias_hh_l{k}{sfx}", Parameter(np.empty(G, dtype=dt)))
                if self.proj_size:
                    setattr(self, f"weight_hr_l{k}{sfx}", Parameter(np.empty((self.proj_size, H), dtype=dt)))
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as in PyTorch.

        ``generator`` (a seed or a NumPy Generator) draws them all from one stream, so they are independent.
        """
        bound = 1.0 / math.sqrt(self.hidden_size)
        generator = as_generator(type(self).__name__, generator)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator)

    def flatten_parameters(self) -> None:
        """PyTorch's cuDNN memory-layout call: nothing to do in chainrule (kept so ported code runs)."""

    def _layer_params(self, k: int, sfx: str = "") -> list:
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        ps = [getattr(self, f"{n}_l{k}{sfx}") for n in names]
        ps = ps if self.bias else ps + [None, None]
        return ps + [getattr(self, f"weight_hr_l{k}{sfx}")] if self.proj_size else ps

    def _name(self) -> str:
        bi = ", bidirectional=True" if self.bidirectional else ""
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}, num_layers={self.num_layers}{bi})"

    def _run_layer(self, x, states, params):  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def _check_state(self, s, what: str, batched: bool, n: int):
        s = _as_tensor(self._name(), s, what, self.weight_ih_l0)
        layers = self.num_layers * 2 if self.bidirectional else self.num_layers
        size, size_name = (self.proj_size, "proj_size") if what == "h0" and self.proj_size else (
            self.hidden_size, "hidden_size")
        want = (layers, n, size) if batched else (layers, size)
        if tuple(s.shape) != want:
            first = "num_layers * 2" if self.bidirectional else "num_layers"
            layout = f"({first}, batch, {size_name})" if batched else f"({first}, {size_name})"
            raise ShapeError(f"{self._name()}: {what} has shape {tuple(s.shape)}, expected {layout} = {want}")
        return s if batched else unsqueeze(s, 1)

    def _forward(self, x, hx):
        """Run the stack; hx is None or a tuple of ``_n_states`` tensors of shape (num_layers * D, N, H)."""
        layout = "(N, L, I)" if self.batch_first else "(L, N, I)"
        x = _checked_input(self._name(), x, self.input_size, (2, 3), f"{layout} or unbatched (L, I)",
                           self.weight_ih_l0)
        batched = x.ndim == 3
        batch_first = self.batch_first and batched
        if not batched:  # one sequence: a batch of one, time-major
            x = unsqueeze(x, 1)
        n = x.shape[0] if batch_first else x.shape[1]
        states = [None] * self._n_states if hx is None else [self._check_state(s, w, batched, n)
                                                              for s, w in zip(hx, ("h0", "c0"))]
        finals = [[] for _ in range(self._n_states)]
        for k in range(self.num_layers):
            if k > 0 and self.dropout > 0 and self.training:
                x = _dropout(x, self.dropout, True)
            if self.bidirectional:
                x = self._run_both(x, states, k, batch_first, finals)
                continue
            layer_states = [None if s is None else s[k] for s in states]
            x, *ends = self._run_layer(x, layer_states, self._layer_params(k), batch_first)
            for f, e in zip(finals, ends):
                f.append(e)
        finals = [unsqueeze(f[0], 0) if len(f) == 1 else stack(f, axis=0) for f in finals]
        if not batched:
            x = x.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        return x, finals

    def _run_both(self, x, states, k: int, batch_first: bool, finals: list):
        """Layer k in both directions: [forward outputs, reverse outputs] along the features (..., 2H).

        The reverse direction is the same fused op run on the time-reversed x; flipping its outputs back
        puts at position t the state after reading x_{L-1} .. x_t. Appends the final states of both
        directions (forward first) to ``finals``.
        """
        flip = (slice(None), slice(None, None, -1)) if batch_first else (slice(None, None, -1),)
        ys = []
        for d, sfx, xd in ((0, "", x), (1, "_reverse", x[flip])):
            layer_states = [None if s is None else s[2 * k + d] for s in states]
            y, *ends = self._run_layer(xd, layer_states, self._layer_params(k, sfx), batch_first)
            ys.append(y)
            for f, e in zip(finals, ends):
                f.append(e)
        return concatenate([ys[0], ys[1][flip]], axis=-1)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:  # PyTorch's order
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


def _zeros_if_none(s, x, batch_first, H):
    if s is not None:
        return s
    n = x.shape[0] if batch_first else x.shape[1]
    return np.zeros((n, H), dtype=np.result_type(x.dtype, np.float32) if x.dtype.kind != "f" else x.dtype)


class RNN(_RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), stacked ``num_layers`` deep.

    Math: see :class:`chainrule.functional.recurrent.RNNLayer` (forward and backward through time).
    Parameters ``weight_ih_l{k}`` (H, I or H), ``weight_hh_l{k}`` (H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}``
    (H,), all ~ U(-1/sqrt(H), 1/sqrt(H)). ``forward(x, h0=None)`` takes x of shape (L, N, I) ((N, L, I)
    with ``batch_first``, or unbatched (L, I)) and h0 (num_layers, N, H); it returns
    ``(output, h_n)``, output (L, N, H) holding the last layer's h_t, h_n (num_layers, N, H).
    With ``bidirectional=True``: output (L, N, 2H), [forward, reverse]; h0 and h_n (num_layers * 2, N, H).

    >>> import chainrule as cr
    >>> rnn = cr.nn.RNN(3, 5, num_layers=2)
    >>> out, h = rnn(cr.randn(7, 4, 3))
    >>> out.shape, h.shape
    ((7, 4, 5), (2, 4, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=None, generator=None, proj_size: int = 0, *, device=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype,
                         generator, proj_size, device)
        self.nonlinearity = nonlinearity

    def _run_layer(self, x, states, params, batch_first):
        h0 = _zeros_if_none(states[0], x, batch_first, self.hidden_size)
        return RNNLayer.apply(x, h0, *params, nonlinearity=self.nonlinearity, batch_first=batch_first)

    def forward(self, x, h0=None):
        out, (h_n,) = self._forward(x, None if h0 is None else (h0,))
        return out, h_n


class LSTM(_RNNBase):
    """Long short-term memory, stacked ``num_layers`` deep; gates i, f, g, o as in PyTorch.

    Math: i, f, o = sigmoid(.), g = tanh(.) of W_ih x_t + b_ih + W_hh h_{t-1} + b_hh (split in four),
    c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t); the backward through time is in
    :class:`chainrule.functional.recurrent.LSTMLayer`. Parameters ``weight_ih_l{k}`` (4H, I or H),
    ``weight_hh_l{k}`` (4H, H), biases (4H,), all ~ U(-1/sqrt(H), 1/sqrt(H)).
    ``forward(x, hx=None)`` with hx = (h0, c0), each (num_layers, N, H); returns
    ``(output, (h_n, c_n))``. With ``bidirectional=True`` the output has 2H features and the states
    num_layers * 2 rows (see the module docstring).

    ``proj_size=P`` (0 < P < H, PyTorch's LSTMP) adds ``weight_hr_l{k}`` (P, H) per layer and direction:
    h_t = W_hr (o * tanh(c_t)). The output, h0 and h_n then have P features, ``weight_hh_l{k}`` is
    (4H, P), and layers above the first take P (2P bidirectional) inputs; c keeps H.

    >>> import chainrule as cr
    >>> lstm = cr.nn.LSTM(28, 16, batch_first=True)
    >>> out, (h, c) = lstm(cr.randn(8, 28, 28))
    >>> out.shape, h.shape, c.shape
    ((8, 28, 16), (1, 8, 16), (1, 8, 16))
    >>> out, (h, c) = cr.nn.LSTM(28, 16, num_layers=2, batch_first=True, bidirectional=True)(cr.randn(8, 28, 28))
    >>> out.shape, h.shape, c.shape
    ((8, 28, 32), (4, 8, 16), (4, 8, 16))
    >>> out, (h, c) = cr.nn.LSTM(28, 16, proj_size=4)(cr.randn(28, 8, 28))
    >>> out.shape, h.shape, c.shape
    ((28, 8, 4), (1, 8, 4), (1, 8, 16))
    """

    _gates = 4
    _n_states = 2
    _projects = True

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 dtype=None, generator=None, *, device=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype,
                         generator, proj_size, device)

    def _run_layer(self, x, states, params, batch_first):
        h0 = _zeros_if_none(states[0], x, batch_first, self.proj_size or self.hidden_size)
        c0 = _zeros_if_none(states[1], x, batch_first, self.hidden_size)
        return LSTMLayer.apply(x, h0, c0, *params, batch_first=batch_first)

    def forward(self, x, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            got = f"a {type(hx).__name__} of {len(hx)}" if isinstance(hx, (tuple, list)) else f"a {type(hx).__name__}"
            raise ArgumentTypeError(f"{self._name()}: hx must be a tuple of 2, (h0, c0), got {got}")
        out, (h_n, c_n) = self._forward(x, hx)
        return out, (h_n, c_n)


class GRU(_RNNBase):
    """Gated recurrent unit, stacked ``num_layers`` deep; gates r, z, n as in PyTorch.

    Math: r, z = sigmoid(.), n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn)),
    h_t = (1 - z) * n + z * h_{t-1}; the backward through time is in
    :class:`chainrule.functional.gru.GRULayer`. Parameters ``weight_ih_l{k}`` (3H, I or H),
    ``weight_hh_l{k}`` (3H, H), biases (3H,), all ~ U(-1/sqrt(H), 1/sqrt(H)).
    ``forward(x, h0=None)`` returns ``(output, h_n)``.

    >>> import chainrule as cr
    >>> out, h = cr.nn.GRU(3, 5)(cr.randn(6, 3))  # unbatched: (L, I)
    >>> out.shape, h.shape
    ((6, 5), (1, 5))
    """

    _gates = 3

    def _run_layer(self, x, states, params, batch_first):
        h0 = _zeros_if_none(states[0], x, batch_first, self.hidden_size)
        return GRULayer.apply(x, h0, *params, batch_first=batch_first)

    def forward(self, x, h0=None):
        out, (h_n,) = self._forward(x, None if h0 is None else (h0,))
        return out, h_n
