"""Metrics on NumPy arrays: classification (accuracy, top-k, precision/recall/F1, confusion matrix) and
regression (MSE, MAE, R^2), plus the name -> function registry that ``fit(metrics=...)`` uses.

Every function takes ``(y_true, y_pred)`` in that order (scikit-learn's), accepts NumPy arrays or
tensors, and returns plain Python floats (or NumPy arrays for per-class results).

For classification, ``y_true`` holds class labels: integers (floats only if they are whole numbers, such
as BCE's 0./1. targets) of shape (N,) or (N, 1), or one-hot rows of shape (N, C). A regression target
(0.37) raises a DataError: use ``mse``, ``mae`` or ``r2`` for regression. ``y_pred`` may be

- integer class indices of shape (N,);
- scores of shape (N, C), C >= 2: the argmax is the prediction (logits, log-probabilities or probabilities);
- for ``accuracy``, scores of shape (N, C, d1, ...) (cross-entropy's layout for sequences and images)
  against labels (N, d1, ...): every position counts as a sample;
- one float score per sample, of shape (N,) or (N, 1), for two classes. The rule depends on the shape
  and on ``from_logits`` only, never on the values: with ``from_logits=True`` (the default, since
  chainrule's models output logits) class 1 is ``score > 0``, that is sigmoid(score) > 0.5; with
  ``from_logits=False`` the scores are probabilities and class 1 is ``p > 0.5``. Labels in {-1, +1}
  (the hinge loss's) count +1 as class 1 and -1 as class 0, so the prediction is sign(score).

``fit`` and ``evaluate`` pick ``from_logits`` from the loss: False for ``nn.BCELoss`` and
``F.binary_cross_entropy`` (which take probabilities), True otherwise.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..errors import ArgumentError, DataError, ShapeError

#: the label that :func:`accuracy` leaves out with class scores, as cross-entropy's default ``ignore_index``
IGNORE_INDEX = -100


def _np(a, name: str) -> np.ndarray:
    try:
        a = np.asarray(getattr(a, "data", a))
    except (ValueError, TypeError) as e:  # a ragged list
        raise DataError(f"metrics: {name} cannot become an array (rows of different lengths?): {e}") from None
    if a.ndim == 0:
        raise ShapeError(f"metrics: {name} must have a sample axis, got a scalar")
    return a


def _class_ids(y: np.ndarray, where: str) -> np.ndarray:
    """``y`` (any shape) as int64 class labels; floats only if they are whole numbers, else a DataError."""
    if y.dtype.kind in "biu":
        return y.astype(np.int64, copy=False)
    if y.dtype.kind != "f":
        raise DataError(f"{where}: y_true must hold class labels (integers), got dtype {y.dtype}")
    whole = np.isfinite(y) & (y == np.round(y))
    if not whole.all():
        bad = y[~whole][0]
        raise DataError(f"{where} needs class labels, but y_true holds non-integer values such as {bad!r}; "
                        "for regression use metrics=('mse',) (or 'mae', 'r2')")
    return y.astype(np.int64)


def _labels(y_true, where: str = "metrics") -> np.ndarray:
    y = _np(y_true, "y_true")
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] != 1):
        raise ShapeError(f"{where}: y_true must hold class labels of shape (N,) or (N, 1), or one-hot rows "
                         f"(N, C), got shape {y.shape}")
    return _class_ids(y.reshape(len(y)), where)


def check_labels(y_true, where: str) -> None:
    """Raise the DataError (or ShapeError) a classification metric would raise on these targets.

    Targets of more than 2 dimensions (N, d1, d2, ...) are class labels per position, read against
    scores (N, C, d1, d2, ...) (see :func:`accuracy`): only their values are checked here."""
    y = _np(y_true, "y_true")
    if y.ndim > 2:
        _class_ids(y, where)
    else:
        _labels(y, where)


def _dense_pair(y_true, y_pred, where: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(labels, predicted labels) per position for scores (N, C, d1, ...) (cross-entropy's layout for
    sequences and images) against labels (N, d1, ...) or probabilities of the scores' shape; None otherwise."""
    p = _np(y_pred, "y_pred")
    if p.ndim < 3:
        return None
    t = _np(y_true, "y_true")
    if t.shape == p.shape:
        return t.argmax(axis=1), p.argmax(axis=1)
    if t.shape != p.shape[:1] + p.shape[2:]:
        raise ShapeError(f"{where}: scores y_pred of shape {p.shape} (N, C, d1, ...) need labels y_true of shape "
                         f"{p.shape[:1] + p.shape[2:]} (N, d1, ...) or of the scores' shape, got {t.shape}")
    if t.size == 0:
        raise ArgumentError(f"{where}: got no samples")
    return _class_ids(t, where), p.argmax(axis=1)


def _predicted_labels(y_pred, n: int, from_logits: bool = True) -> np.ndarray:
    p = _np(y_pred, "y_pred")
    if len(p) != n:
        raise ShapeError(f"metrics: y_true has {n} samples, y_pred has {len(p)}")
    if p.ndim == 2 and p.shape[1] > 1:
        return p.argmax(axis=1)
    if p.size != n:
        raise ShapeError(f"metrics: y_pred must have shape (N,), (N, 1) or (N, C), got {p.shape}")
    p = p.reshape(n)
    if p.dtype.kind == "f":  # one score per sample: two classes; the rule never looks at the values
        return (p > (0.0 if from_logits else 0.5)).astype(np.int64)
    return p.astype(np.int64, copy=False)


def _pair(y_true, y_pred, from_logits: bool = True, where: str = "metrics") -> tuple[np.ndarray, np.ndarray]:
    t = _labels(y_true, where)
    if t.size == 0:
        raise ArgumentError(f"{where}: got no samples")
    p = _predicted_labels(y_pred, len(t), from_logits)
    if _is_score(y_pred) and t.min() == -1 and np.all((t == -1) | (t == 1)):
        # hinge-loss labels {-1, +1} against one score per sample: class 1 is +1 (sign(score) = +1), and -1
        # is class 0, the class a score <= 0 predicts
        t = (t == 1).astype(np.int64)
    return t, p


def _is_score(y_pred) -> bool:
    """One floating score per sample (shape (N,) or (N, 1)): the two-class case."""
    p = np.asarray(getattr(y_pred, "data", y_pred))
    return p.dtype.kind == "f" and (p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1))


def accuracy(y_true, y_pred, *, from_logits: bool = True) -> float:
    """The fraction of samples whose predicted class is the true class.

    Math: acc = (1/N) sum_i [argmax(y_pred_i) == y_i]; for one score per sample, the prediction is
    [score > 0] (logits, the default) or [p > 0.5] (``from_logits=False``: probabilities). Scores
    (N, C, d1, ...) against labels (N, d1, ...), cross-entropy's layout for sequences and images, give the
    fraction of positions whose argmax over axis 1 is the label. With class scores, a label of -100
    (cross-entropy's default ``ignore_index``) is left out, as the loss leaves it out (all left out: nan),
    and any other label outside 0..C-1 is a DataError.

    >>> accuracy([0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    0.6666666666666666
    >>> accuracy([1, 1, 0], [0.2, 0.6, -1.5]), accuracy([1, 1, 0], [0.2, 0.6, 0.1], from_logits=False)
    (1.0, 0.6666666666666666)
    >>> accuracy([1, -1, -1, 1], [0.7, -0.2, 0.3, 2.0])  # hinge labels {-1, +1}: sign(score) against the label
    0.75
    >>> accuracy([[0, 1, 1]], [[[2.0, 0.0, 0.0], [1.0, 3.0, -1.0]]])  # (N, C, L) scores, (N, L) labels
    0.6666666666666666
    """
    hits, n = accuracy_counts(y_true, y_pred, from_logits=from_logits)
    return float(hits / n) if n else math.nan  # every label ignored: 0 / 0, as the loss's mean


def accuracy_counts(y_true, y_pred, *, from_logits: bool = True) -> tuple[int, int]:
    """(correct predictions, samples): :func:`accuracy`'s numerator and denominator, for summing over batches.

    For scores (N, C, d1, ...) and labels (N, d1, ...) every position counts as a sample."""
    dense = _dense_pair(y_true, y_pred, "accuracy")
    t, p = _pair(y_true, y_pred, from_logits, "accuracy") if dense is None else dense
    scores = _np(y_pred, "y_pred")
    if scores.ndim >= 2 and scores.shape[1] > 1:  # class scores: labels are 0..C-1, or the ignored -100
        c = scores.shape[1]
        if t.min() < 0:
            keep = t != IGNORE_INDEX  # cross-entropy's default ignore_index: positions the loss leaves out
            t, p = t[keep], p[keep]
        if t.size and (t.min() < 0 or t.max() >= c):
            bad = t[(t < 0) | (t >= c)][0]
            raise DataError(f"accuracy: label {bad} is out of range for scores of {c} classes (y_pred of shape "
                            f"{scores.shape}), expected labels in 0..{c - 1} (or {IGNORE_INDEX}, left out)")
    return int(np.count_nonzero(t == p)), t.size


def top_k_accuracy(y_true, y_score, k: int = 5) -> float:
    """The fraction of samples whose true class is among the ``k`` highest scores.

    >>> top_k_accuracy([2, 0], [[0.1, 0.5, 0.4], [0.1, 0.5, 0.4]], k=2)
    0.5
    """
    hits, n = top_k_counts(y_true, y_score, k)
    return float(hits / n)


def top_k_counts(y_true, y_score, k: int = 5) -> tuple[int, int]:
    """(samples whose class is among the k best scores, samples), for summing over batches."""
    t = _labels(y_true, "top_k_accuracy")
    s = _np(y_score, "y_score")
    if s.ndim != 2 or len(s) != len(t):
        raise ShapeError(f"top_k_accuracy: y_score must have shape (N, C) with N = {len(t)}, got {s.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ArgumentError(f"top_k_accuracy: k must be a positive integer, got {k!r}")
    if len(t) and (t.min() < 0 or t.max() >= s.shape[1]):
        bad = t[(t < 0) | (t >= s.shape[1])][0]
        raise DataError(f"top_k_accuracy: label {bad} is out of range for scores of {s.shape[1]} classes "
                        f"(y_score of shape {s.shape}), expected labels in 0..{s.shape[1] - 1}")
    if k >= s.shape[1]:
        return len(t), len(t)
    top = np.argpartition(-s, k - 1, axis=1)[:, :k]
    return int(np.count_nonzero((top == t[:, None]).any(axis=1))), len(t)


def confusion_matrix(y_true, y_pred, num_classes: int | None = None, *, from_logits: bool = True) -> np.ndarray:
    """Counts C[i, j] of samples of true class i predicted as class j, shape (C, C), int64.

    C is ``num_classes``, or 1 + the largest label in ``y_true`` and the predictions.

    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 0, 2]).tolist()
    [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    """
    t, p = _pair(y_true, y_pred, from_logits, "confusion_matrix")
    t, p = t.astype(np.int64), p.astype(np.int64)
    c = int(max(t.max(), p.max()) + 1) if num_classes is None else int(num_classes)
    if min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= c:
        raise ArgumentError(f"confusion_matrix: labels must lie in [0, {c}), got {min(t.min(), p.min())}.."
                            f"{max(t.max(), p.max())}")
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c)


def precision_recall_f1(y_true, y_pred, num_classes: int | None = None, *, from_logits: bool = True) -> dict:
    """Per-class and macro-averaged precision, recall and F1 (0 where a ratio is 0/0).

    Math: for class c with tp, fp, fn its true/false positives and false negatives,
    precision = tp / (tp + fp), recall = tp / (tp + fn), F1 = 2 P R / (P + R); macro = mean over the
    averaged classes: those that occur in ``y_true`` or in the predictions (scikit-learn's default,
    ``labels=None``), or all of ``0 .. num_classes - 1`` when ``num_classes`` is given.

    Returns ``{'precision', 'recall', 'f1'}`` (macro, floats), ``'labels'`` (the averaged classes),
    ``'support'`` (samples per class) and ``'per_class'``: ``{'precision', 'recall', 'f1'}`` arrays of
    shape (C,), indexed by class (0 for a class that never occurs).

    >>> r = precision_recall_f1([0, 0, 1, 1], [0, 1, 1, 1])
    >>> round(r['precision'], 4), round(r['recall'], 4), r['per_class']['recall'].tolist()
    (0.8333, 0.75, [0.5, 1.0])
    >>> precision_recall_f1([0, 2, 2, 0], [0, 2, 2, 0])['f1']  # class 1 never occurs: not averaged
    1.0
    """
    return prf_from_confusion(confusion_matrix(y_true, y_pred, num_classes, from_logits=from_logits),
                              num_classes is not None)


def prf_from_confusion(cm: np.ndarray, all_classes: bool = False) -> dict:
    """:func:`precision_recall_f1`'s result from a confusion matrix (all its classes averaged if ``all_classes``)."""
    tp = np.diag(cm).astype(np.float64)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    present = np.ones(len(tp), dtype=bool) if all_classes else (support > 0) | (predicted > 0)
    return {
        "precision": float(precision[present].mean()), "recall": float(recall[present].mean()),
        "f1": float(f1[present].mean()), "labels": np.flatnonzero(present), "support": support,
        "per_class": {"precision": precision, "recall": recall, "f1": f1},
    }


def regression_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = _np(y_true, "y_true"), _np(y_pred, "y_pred")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.dtype.kind not in "biuf":
            raise DataError(f"metrics: {name} must hold numbers, got dtype {a.dtype}")
    t, p = t.astype(np.float64, copy=False), p.astype(np.float64, copy=False)
    if t.size == 0:
        raise ArgumentError("metrics: got no samples")
    if t.shape != p.shape:
        if t.size == p.size and len(t) == len(p):  # (N,) against (N, 1)
            p = p.reshape(t.shape)
        else:
            raise ShapeError(f"metrics: y_true has shape {t.shape}, y_pred has {p.shape}")
    return t, p


def mse(y_true, y_pred) -> float:
    """Mean squared error: (1/N) sum (y_pred - y_true)^2 over every element.

    >>> mse([1.0, 2.0], [1.0, 4.0])
    2.0
    """
    t, p = regression_pair(y_true, y_pred)
    d = p - t
    return float(np.mean(d * d))


def mae(y_true, y_pred) -> float:
    """Mean absolute error: (1/N) sum |y_pred - y_true| over every element.

    >>> mae([1.0, 2.0], [1.0, 4.0])
    1.0
    """
    t, p = regression_pair(y_true, y_pred)
    return float(np.mean(np.abs(p - t)))


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination, averaged over output columns (scikit-learn's 'uniform_average').

    Math: R^2 = 1 - sum (y - y_pred)^2 / sum (y - mean(y))^2; a constant target gives 1 when predicted
    exactly and 0 otherwise.

    >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    t, p = regression_pair(y_true, y_pred)
    t2, p2 = t.reshape(len(t), -1), p.reshape(len(p), -1)
    ss_res = ((t2 - p2) ** 2).sum(axis=0)
    ss_tot = ((t2 - t2.mean(axis=0)) ** 2).sum(axis=0)
    return r2_from_sums(ss_res, ss_tot)


def r2_from_sums(ss_res: np.ndarray, ss_tot: np.ndarray) -> float:
    """:func:`r2_score` from the per-column residual and total sums of squares."""
    ok = ss_tot > 0
    scores = np.where(ss_res == 0, 1.0, 0.0)
    np.divide(ss_res, ss_tot, out=scores, where=ok)
    scores[ok] = 1.0 - scores[ok]
    return float(scores.mean())


# ------------------------------------------------------------------------------------------ registry
def _precision(y_true, y_pred, *, from_logits: bool = True) -> float:
    return precision_recall_f1(y_true, y_pred, from_logits=from_logits)["precision"]


def _recall(y_true, y_pred, *, from_logits: bool = True) -> float:
    return precision_recall_f1(y_true, y_pred, from_logits=from_logits)["recall"]


def _f1(y_true, y_pred, *, from_logits: bool = True) -> float:
    return precision_recall_f1(y_true, y_pred, from_logits=from_logits)["f1"]


def _top5(y_true, y_score) -> float:
    return top_k_accuracy(y_true, y_score, k=5)


METRICS = {
    "accuracy": accuracy,
    "top_5_accuracy": _top5,
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
    "mse": mse,
    "mae": mae,
    "r2": r2_score,
}


#: the registry's metrics that read one score per sample as a logit or a probability (``from_logits``)
BINARY_SCORE_METRICS = ("accuracy", "precision", "recall", "f1")


def get_metric(metric, *, from_logits: bool = True) -> tuple[str, object]:
    """(name, function) for a registry name, a ``(name, fn)`` pair or a function ``fn(y_true, y_pred)``.

    ``from_logits=False`` makes the registry's classification metrics read a single output column as
    probabilities (see the module docstring); functions and pairs are returned as they are.
    """
    if isinstance(metric, str):
        if metric not in METRICS:
            raise ArgumentError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
        if not from_logits and metric in BINARY_SCORE_METRICS:
            return metric, functools.partial(METRICS[metric], from_logits=False)
        return metric, METRICS[metric]
    if isinstance(metric, tuple) and len(metric) == 2 and isinstance(metric[0], str) and callable(metric[1]):
        return metric
    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric
    raise ArgumentError(f"a metric must be a name ({', '.join(METRICS)}), a function or a (name, function) pair, "
                        f"got {metric!r}")
