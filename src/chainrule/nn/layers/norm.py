"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm.

Batch normalisation standardises each channel with the statistics of the batch while training, and
with running averages of them in evaluation; layer normalisation standardises each sample over its
last axes, the same way in training and evaluation. The math sits in :mod:`chainrule.functional.norm`.
"""

from __future__ import annotations

import numpy as np

from ...errors import ArgumentError, ShapeError
from ...functional.linalg import layer_input
from ...functional.norm import batch_norm, layer_norm
from .._model_args import check_device, flag, param_dtype, real
from ..module import Module, Parameter


class _BatchNorm(Module):
    """Shared code of BatchNorm1d and BatchNorm2d (parameters, buffers, running statistics).

    PyTorch's arguments: ``eps`` (>= 0), ``momentum`` (in [0, 1], or None for the cumulative average),
    ``affine``, ``track_running_stats``, ``device`` ('cpu' only), ``dtype`` and the keyword ``bias``
    (``bias=False``: a learnable scale and no shift, as in PyTorch 2.13).
    """

    _ndims: tuple = ()
    _layout: str = ""
    # as PyTorch: a state dict without the batch counter (saved before it existed, or exported without it)
    # loads, and the counter keeps its value
    _optional_state = ("num_batches_tracked",)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=None, *, bias: bool = True, device=None):
        super().__init__()
        where = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ArgumentError(f"{where}: num_features must be a positive integer, got {num_features!r}")
        self.momentum = None if momentum is None else real(where, "momentum (or None)", momentum, 0.0, 1.0,
                                                           open_high=False)
        self.num_features, self.eps = int(num_features), real(where, "eps", eps)
        self.affine = flag(where, "affine", affine)
        self.track_running_stats = flag(where, "track_running_stats", track_running_stats)
        use_bias = flag(where, "bias", bias) and self.affine
        check_device(where, device)
        dt = param_dtype(where, dtype)
        self.weight = Parameter(np.ones(self.num_features, dtype=dt)) if self.affine else None
        self.bias = Parameter(np.zeros(self.num_features, dtype=dt)) if use_bias else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dt))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked = np.array(0, dtype=np.int64)

    def _name(self) -> str:
        return f"{type(self).__name__}({self.num_features})"

    def forward(self, x):
        # lists: the default dtype; integers and other floats: the dtype of the weights (or running statistics)
        x = layer_input(x, self.weight if self.weight is not None else self.running_mean, type(self).__name__)
        shape = x.shape
        if len(shape) not in self._ndims:
            raise ShapeError(f"{self._name()}: expected input of shape {self._layout}, got {tuple(shape)}")
        if shape[1] != self.num_features:
            raise ShapeError(f"{self._name()}: input of shape {tuple(shape)} has {shape[1]} channels (axis 1), "
                             f"expected num_features={self.num_features}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked = np.array(int(self.num_batches_tracked) + 1, dtype=np.int64)
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / int(self.num_batches_tracked)
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return batch_norm(x, self.running_mean if track else None, self.running_var if track else None,
                          self.weight, self.bias, training=use_batch_stats, momentum=momentum, eps=self.eps,
                          _layer=self._name())

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C.

    Math: y = gamma * (x - mean) / sqrt(var + eps) + beta, with the batch's mean and (biased) variance
    over N (and L) in training, the running averages in evaluation; see :func:`chainrule.functional.batch_norm`.
    Parameters ``weight`` (gamma, ones) and ``bias`` (beta, zeros); buffers ``running_mean``,
    ``running_var`` and ``num_batches_tracked``, as in PyTorch.

    >>> import chainrule as cr
    >>> bn = cr.nn.BatchNorm1d(3)
    >>> bn(cr.randn(8, 3)).shape, sorted(bn.state_dict())
    ((8, 3), ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight'])
    """

    _ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, per channel C (statistics over N, H and W).

    Math: as :class:`BatchNorm1d`, with mean and variance taken over N, H and W.

    >>> import chainrule as cr
    >>> cr.nn.BatchNorm2d(4)(cr.randn(2, 4, 5, 5)).shape
    (2, 4, 5, 5)
    """

    _ndims = (4,)
    _layout = "(N, C, H, W)"


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` of each sample.

    Math: y = gamma * (x - mean) / sqrt(var + eps) + beta, mean and (biased) variance over the last
    len(normalized_shape) axes; see :func:`chainrule.functional.layer_norm`. ``weight`` (ones) and
    ``bias`` (zeros, unless ``bias=False``) have shape ``normalized_shape`` when ``elementwise_affine``.
    ``eps`` must be >= 0; ``device`` may only be 'cpu'.

    >>> import chainrule as cr
    >>> ln = cr.nn.LayerNorm(4)
    >>> y = ln(cr.randn(3, 4))
    >>> bool(abs(y.numpy().mean(axis=1)).max() < 1e-5)
    True
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=None, *, device=None):
        super().__init__()
        try:
            ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        except TypeError:
            ns = ()
        if not ns or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in ns):
            raise ArgumentError(f"LayerNorm: normalized_shape must be a positive int or a tuple of them, "
                                f"got {normalized_shape!r}")
        self.normalized_shape = tuple(int(n) for n in ns)
        self.eps = real(f"LayerNorm({self.normalized_shape})", "eps", eps)
        self.elementwise_affine = flag("LayerNorm", "elementwise_affine", elementwise_affine)
        use_bias = flag("LayerNorm", "bias", bias) and self.elementwise_affine
        check_device("LayerNorm", device)
        dt = param_dtype("LayerNorm", dtype)
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt)) if self.elementwise_affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt)) if use_bias else None

    def forward(self, x):
        x = layer_input(x, self.weight, "LayerNorm")
        ns = self.normalized_shape
        shape = tuple(x.shape)
        if len(shape) < len(ns) or shape[len(shape) - len(ns):] != ns:
            raise ShapeError(f"LayerNorm({ns}): input of shape {shape} must end in normalized_shape {ns}")
        return layer_norm(x, ns, self.weight, self.bias, self.eps, _layer=f"LayerNorm({ns})")

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
