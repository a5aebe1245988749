"""Binary accuracy with hinge-loss labels {-1, +1} and one score per sample compares sign(score) with the
label; fit's default metric for nn.HingeLoss / F.hinge_loss on 1-D scores reports that accuracy."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import data, nn, optim, train
from chainrule.train import metrics


def _sign_accuracy(y, score):
    return float(np.mean(np.where(np.asarray(score).reshape(-1) > 0, 1, -1) == np.asarray(y).reshape(-1)))


@pytest.mark.parametrize("shape", [(8,), (8, 1)])
def test_accuracy_with_minus_one_plus_one_labels(shape):
    y = np.array([1, -1, -1, 1, 1, -1, 1, -1])
    s = np.array([0.7, -0.2, 0.3, 2.0, -1.0, -5.0, 0.1, 0.0], np.float32).reshape(shape)
    assert metrics.accuracy(y, s) == _sign_accuracy(y, s) == 0.75
    assert metrics.accuracy(y.astype(np.float32), s) == 0.75  # float targets, as fit passes them
    assert metrics.accuracy(np.ones(3), np.array([1.0, -1.0, 2.0])) == pytest.approx(2 / 3)  # one class only
    assert metrics.accuracy(-np.ones(3), np.array([1.0, -1.0, -2.0])) == pytest.approx(2 / 3)
    sklearn = pytest.importorskip("sklearn.metrics")
    pred = np.where(s.reshape(-1) > 0, 1, -1)
    assert metrics.accuracy(y, s) == pytest.approx(sklearn.accuracy_score(y, pred))
    r = metrics.precision_recall_f1(y, s)
    assert r["f1"] == pytest.approx(sklearn.f1_score(y, pred, average="macro"))


def test_zero_one_labels_and_class_indices_unchanged():
    assert metrics.accuracy([0, 1, 1], [-0.5, 0.5, -0.1]) == pytest.approx(2 / 3)
    assert metrics.accuracy([-1, 1], np.array([-1, 1])) == 1.0  # integer predictions compare as they are


@pytest.mark.parametrize("loss", [nn.HingeLoss(), F.hinge_loss])
def test_fit_default_metric_for_hinge_loss(loss):
    x, y = data.make_moons(200, noise=0.05, seed=0)
    t = np.where(y == 1, 1.0, -1.0).astype(np.float32)
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1), nn.Flatten(0))  # 1-D scores
    hist = train.fit(model, loss, optim.SGD(model.parameters(), lr=0.1), (x, t), val_data=(x, t), epochs=15,
                     verbose=False, progress=False, seed=0)
    expected = _sign_accuracy(t, train.predict(model, x))
    assert expected > 0.8
    assert hist.last["val_accuracy"] == pytest.approx(expected)
    assert train.evaluate(model, loss, (x, t))["accuracy"] == pytest.approx(expected)
