"""Metrics against scikit-learn, and their input handling."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ArgumentError, ShapeError
from chainrule.train import metrics as M


@pytest.fixture
def cls_data(rng):
    y = rng.integers(0, 4, 200)
    scores = rng.standard_normal((200, 4)) + np.eye(4)[y] * 1.0
    return y, scores


def test_classification_matches_sklearn(cls_data):
    skm = pytest.importorskip("sklearn.metrics")
    y, scores = cls_data
    pred = scores.argmax(1)
    assert M.accuracy(y, scores) == pytest.approx(skm.accuracy_score(y, pred))
    assert M.accuracy(np.eye(4)[y], pred) == M.accuracy(y, scores)  # one-hot targets, label predictions
    for k in (1, 2, 3):
        assert M.top_k_accuracy(y, scores, k=k) == pytest.approx(skm.top_k_accuracy_score(y, scores, k=k))
    np.testing.assert_array_equal(M.confusion_matrix(y, scores), skm.confusion_matrix(y, pred))
    r = M.precision_recall_f1(y, pred)
    p, rc, f, s = skm.precision_recall_fscore_support(y, pred, zero_division=0)
    np.testing.assert_allclose(r["per_class"]["precision"], p)
    np.testing.assert_allclose(r["per_class"]["recall"], rc)
    np.testing.assert_allclose(r["per_class"]["f1"], f)
    np.testing.assert_array_equal(r["support"], s)
    assert r["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))


def test_zero_division_and_unseen_classes():
    r = M.precision_recall_f1([0, 0, 1], [0, 0, 0], num_classes=3)
    assert r["per_class"]["precision"].tolist() == pytest.approx([2 / 3, 0.0, 0.0])
    assert r["per_class"]["recall"].tolist() == [1.0, 0.0, 0.0]
    assert M.confusion_matrix([0, 1], [1, 1], num_classes=3).shape == (3, 3)


def test_binary_single_column_predictions():
    y = np.array([0, 1, 1, 0])
    assert M.accuracy(y, np.array([0.2, 0.7, 0.6, 0.4])) == 1.0  # probabilities: threshold 0.5
    assert M.accuracy(y, np.array([[-1.0], [2.0], [0.3], [-0.1]])) == 1.0  # logits: threshold 0
    assert M.accuracy(y, cr.tensor(np.array([[0.1, 0.9]] * 4))) == 0.5  # tensors accepted


def test_regression_matches_sklearn(rng):
    skm = pytest.importorskip("sklearn.metrics")
    y = rng.standard_normal((50, 3))
    p = y + 0.3 * rng.standard_normal((50, 3))
    assert M.mse(y, p) == pytest.approx(skm.mean_squared_error(y, p))
    assert M.mae(y, p) == pytest.approx(skm.mean_absolute_error(y, p))
    assert M.r2_score(y, p) == pytest.approx(skm.r2_score(y, p))
    assert M.r2_score(y[:, 0], p[:, :1]) == pytest.approx(skm.r2_score(y[:, 0], p[:, 0]))
    const = np.ones(5)
    assert M.r2_score(const, const) == 1.0 and M.r2_score(const, const + 1) == 0.0


def test_registry_and_bad_input():
    assert set(M.METRICS) >= {"accuracy", "f1", "mse", "mae", "r2", "precision", "recall"}
    assert M.get_metric("mse") == ("mse", M.mse)
    assert M.get_metric(("acc", M.accuracy)) == ("acc", M.accuracy)
    assert M.get_metric(M.mae)[0] == "mae"
    with pytest.raises(ArgumentError, match="known"):
        M.get_metric("acuracy")
    with pytest.raises(ShapeError):
        M.accuracy([0, 1], [[0.1, 0.9]])
    with pytest.raises(ShapeError):
        M.mse(np.ones(3), np.ones(4))
    with pytest.raises(ArgumentError):
        M.accuracy([], [])
    with pytest.raises(ArgumentError):
        M.top_k_accuracy([0], [[1.0, 2.0]], k=0)
    with pytest.raises(ArgumentError):
        M.confusion_matrix([0, 5], [0, 1], num_classes=3)
