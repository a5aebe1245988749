"""Metrics summed batch by batch equal the whole-epoch ones, and fit/evaluate keep no outputs (QA2 practice #4)."""

import functools
import weakref

import numpy as np
import pytest

from chainrule import nn, optim, train
from chainrule.train import _stream as S
from chainrule.train import metrics as M


def _batches(n, size):
    return [slice(i, i + size) for i in range(0, n, size)]


def _streamed(name_fn, t, p, size=7):
    acc = S.running([name_fn])[0]
    for s in _batches(len(t), size):
        acc.update(t[s], p[s])
    return acc


def _cases():
    rng = np.random.default_rng(0)
    n = 101
    labels = rng.integers(0, 5, n)
    scores = rng.standard_normal((n, 5)).astype(np.float32)
    labels[:3] = 4  # class 4 only in the first batch: the confusion matrix grows
    binary = rng.integers(0, 2, n).astype(np.float32)[:, None]
    logit = rng.standard_normal((n, 1)).astype(np.float32)
    hinge = np.where(rng.random(n) > 0.5, 1, -1)
    target = rng.standard_normal((n, 3)).astype(np.float32) * 3 + 100  # a large mean: no cancellation allowed
    pred = target + rng.standard_normal((n, 3)).astype(np.float32)
    return [
        ("accuracy", labels, scores), ("accuracy", binary, logit), ("accuracy", hinge, logit[:, 0]),
        ("top_5_accuracy", labels, np.concatenate([scores, scores], axis=1)),
        ("precision", labels, scores), ("recall", labels, scores), ("f1", labels, scores), ("f1", hinge, logit),
        ("mse", target, pred), ("mae", target, pred), ("r2", target, pred), ("r2", target[:, :1], pred[:, 0]),
    ]


@pytest.mark.parametrize("name,t,p", _cases())
def test_streamed_equals_the_whole_epoch(name, t, p):
    pair = M.get_metric(name)
    acc = _streamed(pair, t, p)
    assert type(acc).__name__ != "_Kept", "a registry metric must be summed, not kept"
    whole = pair[1](t, p)
    if name in ("mse", "mae", "r2"):
        assert acc.result() == pytest.approx(whole, rel=1e-12, abs=1e-15)  # float64 summation order only
    else:
        assert acc.result() == whole  # integer counts: exactly the same number


def test_probabilities_and_custom_functions():
    rng = np.random.default_rng(1)
    t = rng.integers(0, 2, 50).astype(np.float32)[:, None]
    p = rng.random((50, 1)).astype(np.float32)
    for name in ("accuracy", "precision", "f1"):
        pair = M.get_metric(name, from_logits=False)
        assert _streamed(pair, t, p).result() == pair[1](t, p)

    def median_error(y_true, y_pred):
        return float(np.median(np.abs(y_true - y_pred)))

    acc = _streamed(("median_error", median_error), t, p)
    assert type(acc).__name__ == "_Kept" and acc.result() == median_error(t, p)  # needs the whole epoch
    odd = functools.partial(M.top_k_accuracy, k=1)
    assert type(_streamed(("top1", odd), rng.integers(0, 3, 9), rng.random((9, 3)))).__name__ == "_Kept"


class _Watch(nn.Module):
    """Counts, at each forward, how many earlier outputs are still alive."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.refs, self.alive = [], []

    def forward(self, x):
        self.alive.append(sum(r() is not None for r in self.refs))
        out = self.lin(x)
        self.refs.append(weakref.ref(out.data))
        return out


@pytest.mark.parametrize("metrics", [("mse", "mae", "r2"), ("accuracy", "f1", "top_5_accuracy")])
def test_fit_and_evaluate_keep_no_outputs(metrics):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = x if "mse" in metrics else rng.integers(0, 4, 64)
    loss = nn.L1Loss() if "mse" in metrics else nn.CrossEntropyLoss()
    model = _Watch()
    h = train.fit(model, loss, optim.SGD(model.parameters(), lr=0.1), (x, y), (x, y), epochs=2, batch_size=8,
                  metrics=metrics, verbose=False)
    assert max(model.alive) <= 1, f"outputs kept during the epoch: {model.alive}"
    assert set(metrics) <= set(h.keys()) and {"val_" + m for m in metrics} <= set(h.keys())
    model.refs.clear()
    model.alive.clear()
    logs = train.evaluate(model, loss, (x, y), metrics=metrics, batch_size=8)
    assert max(model.alive) <= 1
    out = train.predict(model, x)
    for m in metrics:
        assert logs[m] == pytest.approx(M.get_metric(m)[1](y, out), rel=1e-6)
