"""Metrics against scikit-learn, and their input handling."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ArgumentError, DataError, ShapeError
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
    assert M.accuracy(y, np.array([[-1.0], [2.0], [0.3], [-0.1]])) == 1.0  # logits (the default): threshold 0
    probs = np.array([0.2, 0.7, 0.6, 0.4])
    assert M.accuracy(y, probs, from_logits=False) == 1.0  # probabilities: threshold 0.5
    assert M.accuracy(y, probs) == 0.5  # read as logits, all four are > 0: class 1
    assert M.accuracy(y, cr.tensor(np.array([[0.1, 0.9]] * 4))) == 0.5  # tensors accepted; 2 columns: argmax
    assert M.accuracy(y, np.array([0, 1, 0, 0])) == 0.75  # integer predictions are labels
    assert M.accuracy(y.astype(np.float32).reshape(-1, 1), probs.reshape(-1, 1), from_logits=False) == 1.0


def test_binary_rule_never_depends_on_the_values():
    """Logits that happen to lie in [0, 1] stay logits (QA finding 4): sigmoid(0.2) > 0.5 is class 1."""
    ones = [1, 1, 1, 1]
    assert M.accuracy(ones, [[0.2], [0.4], [0.6], [0.9]]) == 1.0
    assert M.accuracy(ones, [[0.2], [0.4], [0.6], [0.9]], from_logits=False) == 0.5
    logits = np.array([[0.2], [-0.4], [3.0], [0.9]])
    for batch in (logits[:2], logits[2:], logits):  # the same rule in every batch
        assert M.accuracy(np.ones(len(batch), int), batch) == np.mean(batch > 0)
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y, z = rng.integers(0, 2, 50), rng.standard_normal(50)
    assert M.accuracy(y, z) == pytest.approx(skm.accuracy_score(y, z > 0))
    p = 1 / (1 + np.exp(-z))
    assert M.accuracy(y, p, from_logits=False) == M.accuracy(y, z)
    assert M.precision_recall_f1(y, p, from_logits=False)["f1"] == pytest.approx(
        skm.f1_score(y, z > 0, average="macro"))
    assert M.get_metric("accuracy", from_logits=False)[1](y, p) == M.accuracy(y, z)


@pytest.mark.parametrize("y_true,y_pred", [
    ([0, 2, 2, 0], [0, 2, 2, 0]),  # perfect, class 1 absent from both
    ([0, 2, 2, 0], [2, 0, 0, 2]),  # all wrong
    ([0, 0, 1, 1, 1, 0], [0, 1, 1, 1, 0, 0]),  # binary
    ([0, 3, 3, 5, 5, 5], [0, 3, 5, 5, 5, 3]),  # classes 1, 2, 4 never occur
    ([1, 1, 4, 4], [1, 2, 4, 4]),  # class 2 only predicted; 0 and 3 nowhere
    ([2, 2, 2], [2, 2, 2]),  # one class
])
def test_macro_averages_match_sklearn_over_present_classes(y_true, y_pred):
    """Macro precision/recall/F1 average over the classes in y_true or y_pred (QA finding 3)."""
    skm = pytest.importorskip("sklearn.metrics")
    r = M.precision_recall_f1(y_true, y_pred)
    kw = dict(average="macro", zero_division=0)
    assert r["precision"] == pytest.approx(skm.precision_score(y_true, y_pred, **kw))
    assert r["recall"] == pytest.approx(skm.recall_score(y_true, y_pred, **kw))
    assert r["f1"] == pytest.approx(skm.f1_score(y_true, y_pred, **kw))
    assert r["labels"].tolist() == sorted(set(y_true) | set(y_pred))
    assert M.METRICS["f1"](y_true, y_pred) == r["f1"]
    c = max(max(y_true), max(y_pred)) + 2  # num_classes given: every class 0..C-1 counts, as labels=range(C)
    assert M.precision_recall_f1(y_true, y_pred, num_classes=c)["f1"] == pytest.approx(
        skm.f1_score(y_true, y_pred, labels=list(range(c)), **kw))


def test_classification_metrics_refuse_regression_targets():
    """accuracy on real-valued targets is a DataError, not 0.0 (QA finding 6)."""
    with pytest.raises(DataError, match=r"accuracy needs class labels.*mse"):
        M.accuracy([0.1, 0.7, 1.3], [[0.1], [0.7], [1.3]])
    with pytest.raises(DataError, match="class labels"):
        M.precision_recall_f1(np.array([0.5, 1.0]), np.array([0, 1]))
    with pytest.raises(DataError):
        M.accuracy(np.array([0.0, np.nan]), np.array([0, 1]))
    assert M.accuracy(np.array([0.0, 1.0, 2.0]), np.array([0, 1, 1])) == pytest.approx(2 / 3)  # whole floats: labels


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
