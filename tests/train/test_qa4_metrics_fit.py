"""QA sweep 4: metrics on bad input and cross-entropy's (N, C, d1, ...) layout; ReduceLROnPlateau's mode in fit."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, optim, train
from chainrule.errors import ArgumentError, DataError, ShapeError
from chainrule.optim.lr_scheduler import ReduceLROnPlateau
from chainrule.train import metrics as M


@pytest.mark.parametrize("labels", [[5, 1], [-1, 1]])
@pytest.mark.parametrize("classes", [2, 3])
def test_top_k_refuses_labels_out_of_range(labels, classes):
    scores = np.zeros((2, classes))
    with pytest.raises(DataError, match=rf"label {labels[0]} is out of range .* \(y_score of shape \(2, {classes}\)\)"):
        M.top_k_accuracy(labels, scores, k=5)  # k >= C used to give 1.0, k < C a silent miss
    with pytest.raises(DataError, match="out of range"):
        train.evaluate(nn.Identity(), None, (scores.astype(np.float32), np.array(labels)), metrics=["top_5_accuracy"])


@pytest.mark.parametrize("fn", [M.accuracy, M.mse, M.mae, M.r2_score, M.top_k_accuracy])
def test_ragged_or_text_input_is_a_chainrule_error(fn):
    with pytest.raises(cr.ChainruleError, match=r"y_(pred|score) cannot become an array"):
        fn([0, 1], [[1.0, 0.0], [0.0]])
    if fn in (M.mse, M.mae, M.r2_score):
        with pytest.raises(DataError, match="y_true must hold numbers, got dtype <U1"):
            fn(["a", "b"], [1.0, 2.0])


def test_accuracy_reads_cross_entropy_layout_per_position():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((4, 3, 5))
    labels = rng.integers(0, 3, (4, 5))
    want = float(np.mean(scores.argmax(axis=1) == labels))
    assert M.accuracy(labels, scores) == pytest.approx(want)
    assert M.accuracy(labels.astype(np.float32), scores) == pytest.approx(want)  # whole floats are labels
    probs = np.eye(3)[labels].transpose(0, 2, 1)  # targets of the scores' shape, as cross_entropy takes
    assert M.accuracy(probs, scores) == pytest.approx(want)
    with pytest.raises(ShapeError, match=r"need labels y_true of shape \(4, 5\)"):
        M.accuracy(labels[:, :4], scores)
    with pytest.raises(DataError, match="non-integer"):
        M.accuracy(labels + 0.5, scores)


def test_fit_and_evaluate_report_accuracy_for_a_sequence_model():
    """F.cross_entropy takes (N, C, L) logits and (N, L) labels; its default metric used to refuse them."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 2, 6)).astype(np.float32)
    y = rng.integers(0, 3, (8, 6))

    class PerPosition(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 3)

        def forward(self, t):  # (N, 2, L) -> (N, 3, L)
            return self.lin(t.transpose(0, 2, 1)).transpose(0, 2, 1)

    cr.manual_seed(0)
    model = PerPosition()
    h = train.fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.0), (x, y), (x, y), epochs=1,
                  batch_size=3, verbose=False, seed=0)
    out = train.predict(model, x)
    want = float(np.mean(out.argmax(axis=1) == y))
    assert h["accuracy"][0] == pytest.approx(want) and h["val_accuracy"][0] == pytest.approx(want)
    assert train.evaluate(model, F.cross_entropy, (x, y))["accuracy"] == pytest.approx(want)


def test_fit_refuses_a_plateau_scheduler_in_max_mode():
    """fit steps ReduceLROnPlateau with a loss; mode='max' cut the lr every epoch the loss fell."""
    x = np.random.default_rng(0).standard_normal((16, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ArgumentError, match="mode='max'.*use mode='min'"):
        train.fit(model, F.cross_entropy, opt, (x, y), epochs=3, verbose=False,
                  scheduler=ReduceLROnPlateau(opt, mode="max", patience=0))
    assert opt.param_groups[0]["lr"] == 0.1
    h = train.fit(model, F.cross_entropy, opt, (x, y), epochs=2, verbose=False,
                  scheduler=ReduceLROnPlateau(opt, mode="min", patience=0))
    assert len(h) == 2


def test_accuracy_leaves_out_the_labels_cross_entropy_ignores():
    scores = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
    assert M.accuracy([0, 1, -100, 1], scores) == 2 / 3  # the -100 is neither a hit nor a miss
    assert np.isnan(M.accuracy([-100] * 4, scores))
    for bad in (-1, 2):
        with pytest.raises(DataError, match=f"accuracy: label {bad} is out of range for scores of 2 classes"):
            M.accuracy([0, 1, bad, 1], scores)
    assert M.accuracy([1, -1, -1, 1], [0.7, -0.2, 0.3, 2.0]) == 0.75  # one score: hinge labels stay as they were
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 5)).astype(np.float32), rng.integers(0, 3, 40)
    y[::2] = -100
    model = cr.nn.Linear(5, 3)
    got = cr.train.evaluate(model, cr.functional.cross_entropy, (x, y))["accuracy"]
    hits = cr.train.predict(model, x).argmax(axis=1) == y
    assert got == hits[y != -100].mean()
