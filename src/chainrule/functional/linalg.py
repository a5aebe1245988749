"""Matrix products: ``a @ b`` (vectors, matrices, batches with broadcast batch axes) and ``linear``.

For Y = A B the chain rule gives dL/dA = dL/dY B^T and dL/dB = A^T dL/dY: the backward of a matrix
product is two more matrix products. Batch axes broadcast like NumPy and are summed back by the engine.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_operand
from ..backend import get_default_dtype
from ..errors import ChainruleError, DTypeError, ShapeError
from .elementwise import astype


class MatMul(Function):
    """Y = A @ B;  dL/dA = dL/dY @ B^T,  dL/dB = A^T @ dL/dY  (1-D operands as row / column vectors)."""

    fresh_grads = True  # every gradient below is a new product (or a view of one, which the engine copies)

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.matmul(a, b)

    def backward(self, gy):
        a, b = self.a, self.b
        if a.ndim == 2 and b.ndim == 2:  # the hot path of every linear layer
            ga = gy @ b.T if self.needs_input_grad[0] else None
            gb = a.T @ gy if self.needs_input_grad[1] else None
            return ga, gb
        if a.ndim == 1 and b.ndim == 1:  # the dot product y = a . b
            return (gy * b if self.needs_input_grad[0] else None), (gy * a if self.needs_input_grad[1] else None)
        # vectors become a row (a) or a column (b), as matmul treats them
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = gy
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = np.matmul(g2, np.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                ga = ga[..., 0, :]
        if self.needs_input_grad[1]:
            gb = np.matmul(np.swapaxes(a2, -1, -2), g2)
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb


class Linear(Function):
    """Y = X W^T + b, one fused op;  dL/dX = dL/dY W,  dL/dW = dL/dY^T X,  dL/db = sum_n dL/dY_n.

    X has shape (N, in) or (..., in); W is (out, in) as in PyTorch; b is (out,) or absent.
    """

    fresh_grads = True  # gx, gw, gb are new arrays: the engine may hand gw and gb to the weights uncopied

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        y = x @ w.T
        if b is not None:
            y += b  # y is a fresh array: adding in place saves a temporary of the output's size
        return y

    def backward(self, gy):
        x, w = self.x, self.w
        needs = self.needs_input_grad
        gx = gy @ w if needs[0] else None
        if x.ndim != 2:  # flatten leading axes so that the weight gradient is one matrix product
            x = x.reshape(-1, x.shape[-1])
            gy = gy.reshape(-1, gy.shape[-1])
        gw = gy.T @ x if needs[1] else None
        if len(needs) < 3:
            return gx, gw
        gb = _column_sums(gy) if needs[2] else None
        return gx, gw, gb


def _column_sums(g: np.ndarray) -> np.ndarray:
    """``g.sum(axis=0)`` of a 2-D array, as the product ones^T g for float32/64: BLAS's gemv reads g once
    at full speed (a (128, 512) float32 block: about 4 against 10 us for NumPy's sum)."""
    if g.dtype.char in "fd" and g.size >= 4096:
        return np.ones(g.shape[0], g.dtype) @ g
    return g.sum(axis=0)


def _shape(v):
    return np.shape(v.data if isinstance(v, Tensor) else v)


def _kind(v):
    if isinstance(v, Tensor):
        v = v.data
    return f"an array of dtype {v.dtype}" if isinstance(v, np.ndarray) else f"a {type(v).__name__}"


def matmul(a, b):
    """Matrix product ``a @ b`` (the ``@`` operator), with NumPy's rules for vectors and batches.

    Math
    ----
    Y = A B,  Y_ij = sum_k A_ik B_kj;  dL/dA = dL/dY B^T,  dL/dB = A^T dL/dY
    (a 1-D a is a row vector, a 1-D b a column vector; batch axes broadcast; see :class:`MatMul`).

    Parameters
    ----------
    a : Tensor or array, shape (n,), (m, n) or (..., m, n)
    b : Tensor or array, shape (n,), (n, p) or (..., n, p)
        The last axis of a must equal the second-to-last (or only) axis of b; leading batch axes
        broadcast against each other.

    Returns
    -------
    Tensor of shape (..., m, p), with the axes of 1-D operands dropped: (m, n) @ (n,) gives (m,) and
    (n,) @ (n,) a 0-d tensor.

    >>> import chainrule as cr
    >>> a = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> b = cr.tensor([1.0, 1.0], requires_grad=True)
    >>> y = cr.matmul(a, b)  # (2, 2) @ (2,) -> (2,)
    >>> y.sum().backward()
    >>> y, b.grad
    (tensor([3., 7.], grad_fn=MatMul), array([4., 6.], dtype=float32))
    >>> a.grad
    array([[1., 1.],
           [1., 1.]], dtype=float32)
    """
    try:
        return MatMul.apply(a, b)
    except ChainruleError:
        raise
    except TypeError:  # e.g. a string operand: NumPy has no product loop for it
        raise DTypeError(f"matmul: operands must hold numbers, got {_kind(a)} and {_kind(b)}") from None
    except ValueError:
        sa, sb = _shape(a), _shape(b)
        raise ShapeError(
            f"matmul: shapes {sa} and {sb} do not fit: the last axis of the first ({sa[-1] if sa else '-'}) "
            f"must equal the {'only' if len(sb) == 1 else 'second-to-last'} axis of the second "
            f"({sb[-2] if len(sb) >= 2 else (sb[0] if sb else '-')}), and batch axes must broadcast"
        ) from None


def check_real(x, where: str) -> None:
    """Refuse an input that holds no real numbers (strings, objects, complex), which NumPy would otherwise
    fail on deep inside an op with its own message, or compute with in complex numbers."""
    a = x.data if isinstance(x, Tensor) else x
    if a.dtype.kind not in "biuf":
        raise DTypeError(f"{where}: expected an input of real numbers (floats, integers or booleans), "
                         f"got dtype {a.dtype} with shape {a.shape}")


def layer_input(x, weight=None, where: str = "layer"):
    """A layer's input as its ops take it, in the dtype of the layer's weight.

    - Python numbers and lists become arrays of the default dtype (as ``cr.tensor`` makes them);
    - integer or boolean arrays become the weight's floating dtype (the default without a weight), so a
      network on integer features still computes in float32;
    - a floating input of another dtype than a floating weight is cast to the weight's dtype, so a float32
      layer given float64 data computes in float32 (as ``train.fit`` casts), not silently in float64 at
      twice the cost. A tensor that requires grad is cast with the differentiable ``astype``: its
      gradient flows back in its own dtype.

    Inputs already in the weight's dtype (the common path) pass unchanged; strings, objects and complex
    numbers are refused (:func:`check_real`, naming ``where``).

    >>> import chainrule as cr, numpy as np
    >>> layer_input(np.ones(2), cr.zeros(3, 2)).dtype
    dtype('float32')
    """
    x = as_operand(x)
    a = x.data if isinstance(x, Tensor) else x
    w = weight.data if isinstance(weight, Tensor) else weight
    if w is not None and a.dtype == w.dtype:  # the common path: nothing to do
        return x
    check_real(a, where)
    kind = a.dtype.kind
    if kind in "biu":
        dt = w.dtype if isinstance(w, np.ndarray) and w.dtype.kind == "f" else get_default_dtype()
        return a.astype(dt)  # an integer tensor has no gradient: the plain array is all the op needs
    if kind == "f" and isinstance(w, np.ndarray) and w.dtype.kind == "f":
        # a tensor through the differentiable cast (its gradient returns in its own dtype), an array plainly
        return astype(x, w.dtype) if isinstance(x, Tensor) else a.astype(w.dtype)
    return x


def linear(x, weight, bias=None, *, _layer: str = "linear"):
    """``x @ weight.T + bias``: the affine map of a fully connected layer, as one fused op.

    Math
    ----
    Y = X W^T + b;  dL/dX = dL/dY W,  dL/dW = dL/dY^T X,  dL/db = sum_n dL/dY_n  (summed over every
    leading axis of a (..., in) input; see :class:`Linear`).

    Parameters
    ----------
    x : Tensor, shape (N, in_features) or (..., in_features)
        Lists become the default dtype and integer arrays the weight's dtype (see :func:`layer_input`).
    weight : Tensor, shape (out_features, in_features)
    bias : Tensor, shape (out_features,), optional

    Returns
    -------
    Tensor of shape (N, out_features) or (..., out_features).

    >>> import chainrule as cr, chainrule.functional as F
    >>> F.linear(cr.ones(2, 3), cr.ones(4, 3), cr.zeros(4)).shape
    (2, 4)
    >>> x = cr.tensor([[1.0, 2.0]], requires_grad=True)
    >>> w = cr.tensor([[1.0, 0.0], [1.0, 1.0]], requires_grad=True)
    >>> b = cr.tensor([0.5, -0.5], requires_grad=True)
    >>> y = F.linear(x, w, b)
    >>> y.sum().backward()
    >>> y, x.grad, b.grad
    (tensor([[1.5, 2.5]], grad_fn=Linear), array([[2., 1.]], dtype=float32), array([1., 1.], dtype=float32))
    >>> w.grad
    array([[1., 2.],
           [1., 2.]], dtype=float32)
    """
    x = layer_input(x, weight, _layer)
    xs, ws = _shape(x), _shape(weight)
    if len(ws) != 2:
        raise ShapeError(f"{_layer}: weight must have shape (out_features, in_features), got {ws}")
    if len(xs) < 1 or xs[-1] != ws[1]:
        raise ShapeError(
            f"{_layer}: input of shape {xs} has {xs[-1] if xs else 0} features in its last axis, "
            f"expected in_features={ws[1]} (weight shape {ws})"
        )
    if bias is None:
        return Linear.apply(x, weight)
    bs = _shape(bias)
    if bs != (ws[0],):
        raise ShapeError(f"{_layer}: bias must have shape ({ws[0]},), got {bs}")
    return Linear.apply(x, weight, bias)
