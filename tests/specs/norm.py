"""Rows for normalisation, dropout, embedding and the fused recurrent layers."""

import numpy as np

import chainrule as cr
import chainrule.functional as F
from chainrule.functional.gru import gru_layer
from chainrule.functional.recurrent import lstm_layer, rnn_layer

from . import Arg, OpSpec

A = Arg
POS = dict(low=0.5, high=2.0)


# ------------------------------------------------------------------------------------- NumPy references
def _bn_ref(x, w=None, b=None, mean=None, var=None, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if mean is None:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    else:
        mean, var = mean.reshape(shape).astype(x.dtype), var.reshape(shape).astype(x.dtype)
    y = (x - mean) / np.sqrt(var + eps)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


def _ln_ref(x, k, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return y if w is None else y * w + b


def _sig(z):
    return 1 / (1 + np.exp(-z))


def _loop_ref(step, x, states, batch_first):
    xs = x.swapaxes(0, 1) if batch_first else x
    ys = []
    for xt in xs:
        states = step(xt, *states)
        ys.append(states[0])
    y = np.stack(ys, axis=1 if batch_first else 0)
    return np.concatenate([y.reshape(-1)] + [s.reshape(-1) for s in states])


def _lstm_ref(x, h, c, wih, whh, bih, bhh, batch_first=False):
    def step(xt, h, c):
        i, f, g, o = np.split(xt @ wih.T + bih + h @ whh.T + bhh, 4, axis=-1)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        return _sig(o) * np.tanh(c), c

    return _loop_ref(step, x, (h, c), batch_first)


def _gru_ref(x, h, wih, whh, bih, bhh, batch_first=False):
    def step(xt, h):
        xr, xz, xn = np.split(xt @ wih.T + bih, 3, axis=-1)
        hr, hz, hn = np.split(h @ whh.T + bhh, 3, axis=-1)
        r, z = _sig(xr + hr), _sig(xz + hz)
        n = np.tanh(xn + r * hn)
        return ((1 - z) * n + z * h,)

    return _loop_ref(step, x, (h,), batch_first)


def _rnn_ref(x, h, wih, whh, bih, bhh, act=np.tanh):
    return _loop_ref(lambda xt, h: (act(xt @ wih.T + bih + h @ whh.T + bhh),), x, (h,), False)


# ---------------------------------------------------------------------- chainrule side: outputs joined
def _joined(outs):
    return cr.concatenate([o.reshape(-1) for o in outs])


def _torch_rnn(t, kind, x, states, ws, batch_first=False, **kw):
    """Run torch.nn.<kind> with the given tensors as its parameters; outputs joined like _joined."""
    I, H = ws[0].shape[1], ws[1].shape[1]
    mod = getattr(t.nn, kind)(I, H, batch_first=batch_first, bias=len(ws) == 4, dtype=t.float64, **kw)
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"][: len(ws)]
    hx = tuple(s.unsqueeze(0) for s in states)
    y, hn = t.func.functional_call(mod, dict(zip(names, ws)), (x, hx if kind == "LSTM" else hx[0]))
    hn = hn if kind == "LSTM" else (hn,)
    return t.cat([y.reshape(-1)] + [s.reshape(-1) for s in hn])


# rows with running statistics build fresh buffers on every call, so repeated calls (gradcheck) agree
RM, RV = np.linspace(-0.5, 0.5, 3), np.linspace(0.5, 2.0, 3)
T, N, I, H = 3, 2, 3, 2
IDS = np.array([[0, 3, 3], [4, 0, 3]])
W64, B64 = np.linspace(0.5, 2.0, 3), np.linspace(-1.0, 1.0, 3)  # float64 NumPy weights

SPECS = [
    OpSpec("batch_norm_train_2d", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           [A((6, 3)), A((3,)), A((3,))], lambda x, w, b: _bn_ref(x, w, b),
           lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, training=True)),
    OpSpec("batch_norm_train_4d_tracked",
           lambda x, w, b: F.batch_norm(x, np.zeros(3), np.ones(3), w, b, training=True, momentum=0.3),
           [A((2, 3, 2, 3)), A((3,)), A((3,))], lambda x, w, b: _bn_ref(x, w, b),
           lambda t, x, w, b: t.nn.functional.batch_norm(x, t.zeros(3, dtype=x.dtype), t.ones(3, dtype=x.dtype), w,
                                                         b, training=True, momentum=0.3)),
    OpSpec("batch_norm_train_3d_no_affine", lambda x: F.batch_norm(x, None, None, training=True),
           [A((4, 2, 5))], _bn_ref, lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True)),
    OpSpec("batch_norm_eval_3d", lambda x, w, b: F.batch_norm(x, RM.copy(), RV.copy(), w, b, training=False),
           [A((4, 3, 2)), A((3,)), A((3,))], lambda x, w, b: _bn_ref(x, w, b, RM, RV),
           lambda t, x, w, b: t.nn.functional.batch_norm(x, t.tensor(RM), t.tensor(RV), w, b, training=False)),
    OpSpec("layer_norm_last", lambda x, w, b: F.layer_norm(x, 4, w, b), [A((3, 4)), A((4,)), A((4,))],
           lambda x, w, b: _ln_ref(x, 1, w, b), lambda t, x, w, b: t.nn.functional.layer_norm(x, (4,), w, b)),
    OpSpec("layer_norm_two_axes", lambda x, w, b: F.layer_norm(x, (3, 2), w, b, eps=1e-3),
           [A((2, 2, 3, 2)), A((3, 2)), A((3, 2))], lambda x, w, b: _ln_ref(x, 2, w, b, eps=1e-3),
           lambda t, x, w, b: t.nn.functional.layer_norm(x, (3, 2), w, b, eps=1e-3)),
    OpSpec("layer_norm_no_affine", lambda x: F.layer_norm(x, (5,)), [A((2, 3, 5))], lambda x: _ln_ref(x, 1),
           lambda t, x: t.nn.functional.layer_norm(x, (5,))),
    OpSpec("embedding_repeated_ids", lambda w: F.embedding(IDS, w), [A((5, 3))], lambda w: w[IDS],
           lambda t, w: t.nn.functional.embedding(t.tensor(IDS), w)),
    OpSpec("embedding_padding_idx", lambda w: F.embedding(IDS, w, padding_idx=3), [A((5, 3))], lambda w: w[IDS],
           lambda t, w: t.nn.functional.embedding(t.tensor(IDS), w, padding_idx=3), gradcheck=False),
    # float64 NumPy statistics and weights with a float32 input: computed and returned in the input's dtype
    # (QA2 numerics #7; the forward test checks the output dtype in float32 and float64)
    OpSpec("batch_norm_train_float64_numpy_params",
           lambda x: F.batch_norm(x, np.zeros(3), np.ones(3), W64.copy(), B64.copy(), training=True, momentum=0.3),
           [A((5, 3))], lambda x: _bn_ref(x, W64.astype(x.dtype), B64.astype(x.dtype)),
           lambda t, x: t.nn.functional.batch_norm(x, t.zeros(3, dtype=x.dtype), t.ones(3, dtype=x.dtype),
                                                   t.tensor(W64), t.tensor(B64), training=True, momentum=0.3)),
    OpSpec("batch_norm_eval_float64_numpy_params",
           lambda x: F.batch_norm(x, RM.copy(), RV.copy(), W64.copy(), B64.copy(), training=False),
           [A((4, 3, 2))], lambda x: _bn_ref(x, W64.astype(x.dtype), B64.astype(x.dtype), RM, RV),
           lambda t, x: t.nn.functional.batch_norm(x, t.tensor(RM), t.tensor(RV), t.tensor(W64), t.tensor(B64),
                                                   training=False)),
    OpSpec("layer_norm_float64_numpy_params", lambda x: F.layer_norm(x, 3, W64.copy(), B64.copy()),
           [A((4, 3))], lambda x: _ln_ref(x, 1, W64.astype(x.dtype), B64.astype(x.dtype)),
           lambda t, x: t.nn.functional.layer_norm(x, (3,), t.tensor(W64), t.tensor(B64))),
    OpSpec("embedding_negative_padding_idx", lambda w: F.embedding(IDS, w, padding_idx=-2), [A((5, 3))],
           lambda w: w[IDS], lambda t, w: t.nn.functional.embedding(t.tensor(IDS), w, padding_idx=-2),
           gradcheck=False),
    OpSpec("dropout_seeded", lambda x: F.dropout(x, 0.3, generator=7), [A((4, 5))],
           lambda x: x * (np.random.default_rng(7).random(x.shape, dtype=x.dtype) >= 0.3) / x.dtype.type(0.7)),
    OpSpec("dropout_eval_identity", lambda x: F.dropout(x, 0.3, training=False), [A((4, 5))], lambda x: x,
           lambda t, x: t.nn.functional.dropout(x, 0.3, training=False)),
    OpSpec("lstm_layer",
           lambda x, h, c, wih, whh, bih, bhh: _joined(lstm_layer(x, h, c, wih, whh, bih, bhh)),
           [A((T, N, I)), A((N, H)), A((N, H)), A((4 * H, I)), A((4 * H, H)), A((4 * H,)), A((4 * H,))],
           _lstm_ref, lambda t, x, h, c, *ws: _torch_rnn(t, "LSTM", x, (h, c), ws)),
    OpSpec("lstm_layer_batch_first",
           lambda x, h, c, wih, whh, bih, bhh: _joined(lstm_layer(x, h, c, wih, whh, bih, bhh, batch_first=True)),
           [A((N, T, I)), A((N, H)), A((N, H)), A((4 * H, I)), A((4 * H, H)), A((4 * H,)), A((4 * H,))],
           lambda *a: _lstm_ref(*a, batch_first=True),
           lambda t, x, h, c, *ws: _torch_rnn(t, "LSTM", x, (h, c), ws, batch_first=True)),
    OpSpec("gru_layer", lambda x, h, wih, whh, bih, bhh: _joined(gru_layer(x, h, wih, whh, bih, bhh)),
           [A((T, N, I)), A((N, H)), A((3 * H, I)), A((3 * H, H)), A((3 * H,)), A((3 * H,))],
           _gru_ref, lambda t, x, h, *ws: _torch_rnn(t, "GRU", x, (h,), ws)),
    OpSpec("gru_layer_batch_first",
           lambda x, h, wih, whh, bih, bhh: _joined(gru_layer(x, h, wih, whh, bih, bhh, batch_first=True)),
           [A((N, T, I)), A((N, H)), A((3 * H, I)), A((3 * H, H)), A((3 * H,)), A((3 * H,))],
           lambda *a: _gru_ref(*a, batch_first=True),
           lambda t, x, h, *ws: _torch_rnn(t, "GRU", x, (h,), ws, batch_first=True)),
    OpSpec("rnn_layer_tanh", lambda x, h, wih, whh, bih, bhh: _joined(rnn_layer(x, h, wih, whh, bih, bhh)),
           [A((T, N, I)), A((N, H)), A((H, I)), A((H, H)), A((H,)), A((H,))],
           _rnn_ref, lambda t, x, h, *ws: _torch_rnn(t, "RNN", x, (h,), ws)),
    OpSpec("rnn_layer_relu",
           lambda x, h, wih, whh, bih, bhh: _joined(rnn_layer(x, h, wih, whh, bih, bhh, nonlinearity="relu")),
           [A((T, N, I), low=0.1, high=1.0), A((N, H), low=0.1, high=1.0), A((H, I), low=0.1, high=1.0),
            A((H, H), low=0.1, high=1.0), A((H,), low=0.1, high=1.0), A((H,), low=0.1, high=1.0)],
           lambda *a: _rnn_ref(*a, act=lambda z: np.maximum(z, 0)),
           lambda t, x, h, *ws: _torch_rnn(t, "RNN", x, (h,), ws, nonlinearity="relu")),
    # an empty batch (N = 0): empty outputs and input gradients, zero weight gradients (QA2 numerics #3, models #5)
    OpSpec("lstm_layer_empty_batch",
           lambda x, h, c, wih, whh, bih, bhh: _joined(lstm_layer(x, h, c, wih, whh, bih, bhh)),
           [A((T, 0, I)), A((0, H)), A((0, H)), A((4 * H, I)), A((4 * H, H)), A((4 * H,)), A((4 * H,))],
           _lstm_ref, lambda t, x, h, c, *ws: _torch_rnn(t, "LSTM", x, (h, c), ws)),
    OpSpec("gru_layer_empty_batch",
           lambda x, h, wih, whh, bih, bhh: _joined(gru_layer(x, h, wih, whh, bih, bhh, batch_first=True)),
           [A((0, T, I)), A((0, H)), A((3 * H, I)), A((3 * H, H)), A((3 * H,)), A((3 * H,))],
           lambda *a: _gru_ref(*a, batch_first=True),
           lambda t, x, h, *ws: _torch_rnn(t, "GRU", x, (h,), ws, batch_first=True)),
    OpSpec("rnn_layer_empty_batch", lambda x, h, wih, whh, bih, bhh: _joined(rnn_layer(x, h, wih, whh, bih, bhh)),
           [A((T, 0, I)), A((0, H)), A((H, I)), A((H, H)), A((H,)), A((H,))],
           _rnn_ref, lambda t, x, h, *ws: _torch_rnn(t, "RNN", x, (h,), ws)),
]
