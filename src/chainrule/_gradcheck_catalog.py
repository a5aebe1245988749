"""``chainrule gradcheck``: every op and every layer, checked against central differences in float64.

Each entry is a small function of float64 inputs; :func:`chainrule.gradcheck` compares the analytic
gradient of ``fn(*inputs).sum()`` with ``(f(x + eps) - f(x - eps)) / (2 eps)`` for every input (and,
for layers, every parameter). Inputs keep away from kinks (ReLU at 0, |x| at 0, ties of max) where the
derivative is not defined.
"""

from __future__ import annotations

import numpy as np

from . import functional as F
from . import nn
from .autograd.gradcheck import gradcheck
from .autograd.tensor import Tensor
from .backend import get_default_dtype, manual_seed, set_default_dtype
from .errors import ChainruleError, GradcheckError

_RNG = np.random.default_rng(0)


def _x(*shape, low=-2.0, high=2.0, away=None) -> np.ndarray:
    x = _RNG.uniform(low, high, size=shape)
    if away is not None:  # keep 0.1 away from the kink
        near = np.abs(x - away) < 0.1
        x[near] = away + np.where(x[near] >= away, 0.2, -0.2)
    return x


def _pos(*shape) -> np.ndarray:
    return _x(*shape, low=0.5, high=2.0)


def _prob(*shape) -> np.ndarray:
    return _x(*shape, low=0.1, high=0.9)


def _labels(n, c) -> np.ndarray:
    return _RNG.integers(0, c, size=n)


def _W(shape) -> Tensor:
    """A fixed random weight (drawn once, when the table is built) to mix an op's outputs before the sum."""
    return Tensor(_x(*shape))


def _mixed(fn, shape):
    """fn's output times a fixed random weight, so that the checked sum depends on every output element."""
    m = _W(shape)
    return lambda *xs: fn(*xs) * m


def _against(loss, target):
    """loss(x, target) for a fixed target."""
    return lambda x: loss(x, target)


def _seeded(fn):
    """Re-seed before every call, so a random op (dropout) draws the same mask in every evaluation."""
    def wrapped(*xs):
        manual_seed(0)
        return fn(*xs)
    return wrapped


def op_entries() -> list:
    """(name, fn, inputs) for every differentiable op of chainrule.functional."""
    lab, p = _labels(4, 3), _prob(4, 3)
    tgt = p / p.sum(axis=1, keepdims=True)
    return [
        ("add", F.add, (_x(3, 4), _x(4))), ("sub", F.sub, (_x(3, 4), _x(3, 1))),
        ("mul", F.mul, (_x(3, 4), _x(3, 4))), ("div", F.div, (_x(3, 4), _pos(3, 4))),
        ("pow", F.pow, (_pos(3, 4), _x(3, 4, low=-1.5, high=1.5))), ("neg", F.neg, (_x(3, 4),)),
        ("maximum", F.maximum, (_x(3, 4), _x(3, 4))), ("minimum", F.minimum, (_x(3, 4), _x(3, 4))),
        ("where", lambda a, b: F.where(a.data > 0, a, b), (_x(3, 4, away=0), _x(3, 4))),
        ("clip", lambda a: F.clip(a, -1.0, 1.0), (_x(3, 4, away=1.0),)),
        ("exp", F.exp, (_x(3, 4),)), ("log", F.log, (_pos(3, 4),)), ("sqrt", F.sqrt, (_pos(3, 4),)),
        ("abs", F.abs, (_x(3, 4, away=0),)), ("tanh", F.tanh, (_x(3, 4),)), ("sigmoid", F.sigmoid, (_x(3, 4),)),
        ("relu", F.relu, (_x(3, 4, away=0),)), ("leaky_relu", lambda a: F.leaky_relu(a, 0.1), (_x(3, 4, away=0),)),
        ("elu", F.elu, (_x(3, 4, away=0),)), ("gelu", F.gelu, (_x(3, 4),)), ("softplus", F.softplus, (_x(3, 4),)),
        ("softmax", _mixed(lambda a: F.softmax(a), (3, 4)), (_x(3, 4),)),
        ("log_softmax", _mixed(lambda a: F.log_softmax(a), (3, 4)), (_x(3, 4),)),
        ("logsumexp", F.logsumexp, (_x(3, 4),)),
        ("matmul", F.matmul, (_x(2, 3, 4), _x(4, 5))), ("linear", F.linear, (_x(3, 4), _x(5, 4), _x(5))),
        ("sum", lambda a: F.sum(a, axis=1), (_x(3, 4),)), ("mean", lambda a: F.mean(a, axis=0), (_x(3, 4),)),
        ("var", _mixed(lambda a: F.var(a, axis=1), (3,)), (_x(3, 4),)),
        ("max", lambda a: F.max(a, axis=1), (_x(3, 4),)), ("min", lambda a: F.min(a, axis=0), (_x(3, 4),)),
        ("reshape", _mixed(lambda a: F.reshape(a, 4, 3), (4, 3)), (_x(3, 4),)),
        ("transpose", _mixed(lambda a: F.transpose(a), (4, 3)), (_x(3, 4),)),
        ("broadcast_to", _mixed(lambda a: F.broadcast_to(a, (2, 3, 4)), (2, 3, 4)), (_x(3, 1),)),
        ("getitem", lambda a: a[np.array([0, 2, 0]), 1:], (_x(3, 4),)),
        ("concatenate", _mixed(lambda a, b: F.concatenate([a, b], axis=1), (3, 6)), (_x(3, 4), _x(3, 2))),
        ("stack", _mixed(lambda a, b: F.stack([a, b]), (2, 3, 4)), (_x(3, 4), _x(3, 4))),
        ("pad", _mixed(lambda a: F.pad(a, ((1, 0), (0, 2))), (4, 6)), (_x(3, 4),)),
        ("conv2d", lambda a, w, b: F.conv2d(a, w, b, stride=1, padding=1), (_x(2, 2, 5, 5), _x(3, 2, 3, 3), _x(3))),
        ("conv2d stride 2", lambda a, w: F.conv2d(a, w, stride=2), (_x(1, 2, 5, 5), _x(2, 2, 3, 3))),
        ("max_pool2d", lambda a: F.max_pool2d(a, 2), (_x(2, 2, 4, 4),)),
        ("avg_pool2d", lambda a: F.avg_pool2d(a, 2), (_x(2, 2, 4, 4),)),
        ("batch_norm", _mixed(lambda a, w, b: F.batch_norm(a, None, None, w, b, training=True), (4, 3)),
         (_x(4, 3), _pos(3), _x(3))),
        ("layer_norm", _mixed(lambda a, w, b: F.layer_norm(a, (4,), w, b), (3, 4)), (_x(3, 4), _pos(4), _x(4))),
        ("dropout", _seeded(lambda a: F.dropout(a, 0.5, True)), (_x(3, 4),)),
        ("embedding", _mixed(lambda w: F.embedding(np.array([[0, 2], [1, 0]]), w), (2, 2, 3)), (_x(3, 3),)),
        ("mse_loss", F.mse_loss, (_x(4, 3), _x(4, 3))), ("l1_loss", F.l1_loss, (_x(4, 3), _x(4, 3) + 3)),
        ("huber_loss", F.huber_loss, (_x(4, 3), _x(4, 3, low=3, high=4))),
        ("binary_cross_entropy", _against(F.binary_cross_entropy, _prob(4, 3)), (_prob(4, 3),)),
        ("binary_cross_entropy_with_logits", _against(F.binary_cross_entropy_with_logits, _prob(4, 3)),
         (_x(4, 3),)),
        ("cross_entropy", lambda a: F.cross_entropy(a, lab), (_x(4, 3),)),
        ("cross_entropy (probabilities)", lambda a: F.cross_entropy(a, tgt, label_smoothing=0.1), (_x(4, 3),)),
        ("nll_loss", lambda a: F.nll_loss(a, lab), (_x(4, 3),)),
        ("hinge_loss", lambda a: F.hinge_loss(a, lab), (_x(4, 3) * 3,)),
        ("l2_penalty", lambda a: F.l2_penalty([a]), (_x(3, 4),)),
    ]


def layer_entries() -> list:
    """(name, module factory, input) for every layer; the module's parameters are checked too."""
    def seq(*ms):
        return lambda: nn.Sequential(*ms)

    return [
        ("Linear", lambda: nn.Linear(4, 3), _x(5, 4)),
        ("Conv2d", lambda: nn.Conv2d(2, 3, 3, padding=1), _x(2, 2, 4, 4)),
        ("MaxPool2d", lambda: nn.MaxPool2d(2), _x(2, 2, 4, 4)), ("AvgPool2d", lambda: nn.AvgPool2d(2), _x(2, 2, 4, 4)),
        ("BatchNorm1d", seq(nn.BatchNorm1d(3), nn.Tanh()), _x(6, 3)),
        ("BatchNorm2d", seq(nn.BatchNorm2d(2), nn.Tanh()), _x(3, 2, 2, 2)),
        ("LayerNorm", seq(nn.LayerNorm(4), nn.Tanh()), _x(3, 4)), ("Embedding", None, None),
        ("RNN", lambda: _first(nn.RNN(2, 3)), _x(4, 2, 2)), ("LSTM", lambda: _first(nn.LSTM(2, 3)), _x(4, 2, 2)),
        ("GRU", lambda: _first(nn.GRU(2, 3)), _x(4, 2, 2)),
        ("Residual", lambda: nn.Residual(nn.Sequential(nn.Linear(3, 3), nn.Tanh())), _x(4, 3)),
        ("ResidualBlock", lambda: nn.ResidualBlock(2), _x(2, 2, 3, 3)),
        ("Sigmoid", nn.Sigmoid, _x(3, 4)), ("Tanh", nn.Tanh, _x(3, 4)), ("ReLU", nn.ReLU, _x(3, 4, away=0)),
        ("LeakyReLU", nn.LeakyReLU, _x(3, 4, away=0)), ("ELU", nn.ELU, _x(3, 4, away=0)), ("GELU", nn.GELU, _x(3, 4)),
        ("Softplus", nn.Softplus, _x(3, 4)), ("Softmax", seq(nn.Softmax(), nn.Linear(4, 2)), _x(3, 4)),
        ("LogSoftmax", seq(nn.LogSoftmax(), nn.Linear(4, 2)), _x(3, 4)),
    ]


class _First(nn.Module):
    """The output sequence of a recurrent layer (dropping its final states), so its sum is differentiable."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


def _first(rnn):
    return _First(rnn)


def _check_module(make, x):
    """Gradcheck of a module with respect to its input and every parameter (bound in place for each call)."""
    old = get_default_dtype()
    set_default_dtype(np.float64)
    try:
        manual_seed(0)
        module = make()
    finally:
        set_default_dtype(old)
    module.double()
    owners = []
    for _, m in module.named_modules():
        for pname, p in m.named_parameters(recurse=False):
            owners.append((m, pname, p))

    def fn(xt, *ps):
        for (m, pname, _), t in zip(owners, ps):
            setattr(m, pname, t)
        return module(xt)

    inputs = [Tensor(x, requires_grad=True)] + [Tensor(p.data.copy(), requires_grad=True) for _, _, p in owners]
    try:
        return gradcheck(fn, *inputs)
    finally:
        for m, pname, p in owners:
            setattr(m, pname, p)


def _row(name, check):
    try:
        r = check()
        return name, r.max_abs_error, r.max_rel_error, True, ""
    except GradcheckError as e:
        return name, None, None, False, str(e)
    except (ChainruleError, AttributeError, TypeError, ValueError) as e:
        return name, None, None, False, f"{type(e).__name__}: {e}"


def run_all(only: str | None = None) -> list:
    """Rows (name, max abs error, max rel error, ok, note) for every op and layer (``only``: a name filter)."""
    rows = []
    with np.errstate(all="ignore"):  # finite differences may touch the edge of a domain; errors show in the table
        for name, fn, inputs in op_entries():
            if only and only.lower() not in name.lower():
                continue
            rows.append(_row(name, lambda fn=fn, inputs=inputs: gradcheck(fn, *inputs)))
        for name, make, x in layer_entries():
            label = f"nn.{name}"
            if only and only.lower() not in label.lower():
                continue
            if name == "Embedding":
                ids = np.array([[0, 2], [1, 0]])
                rows.append(_row(label, lambda ids=ids: _check_embedding(ids)))
                continue
            rows.append(_row(label, lambda make=make, x=x: _check_module(make, x)))
    return rows


def _check_embedding(ids):
    w = Tensor(_x(3, 4), requires_grad=True)
    weights = _W((2, 2, 4))
    emb = nn.Embedding(3, 4)

    def fn(weight):
        emb.weight = weight
        return emb(ids) * weights

    return gradcheck(fn, w)
