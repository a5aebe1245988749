"""Metrics summed batch by batch, so that ``fit`` and ``evaluate`` never keep an epoch's outputs.

An epoch's metric used to be ``fn(all targets, all outputs)``: every output of the epoch was kept and
concatenated at its end (for an autoencoder on 60,000 MNIST images, 188 MB of outputs and as much again
in float64). The registry's metrics are sums over samples, so each batch adds its share and drops its
arrays:

- accuracy and top-5 accuracy: (correct, samples), integers: the epoch's value is exactly the one over
  the whole epoch;
- precision, recall and F1: a confusion matrix summed over the batches (integers: exact too);
- mse and mae: the float64 sum of squared (absolute) errors and the element count; the result equals
  the whole-epoch mean up to float64 rounding of the summation order (about 1e-16 relative);
- r2: per output column, the residual sum of squares and the targets' count, mean and sum of squared
  deviations, merged across batches with Chan et al.'s pairwise update (no cancellation of
  sum(y^2) - n mean^2), again equal up to float64 rounding.

Any other function ``fn(y_true, y_pred)`` (a user's own) cannot be split into batches: its targets and
outputs are kept for the epoch and ``fn`` runs once at the end, as before.

>>> import numpy as np
>>> from chainrule.train import metrics as M
>>> acc = running([("accuracy", M.accuracy)])[0]
>>> acc.update(np.array([0, 1]), np.array([[2.0, 1.0], [0.0, 3.0]]))
>>> acc.update(np.array([1]), np.array([[5.0, 1.0]]))
>>> acc.result()
0.6666666666666666
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..errors import ArgumentTypeError
from . import metrics as M


class Running:
    """One metric over an epoch: ``update(y_true, y_pred)`` per batch, ``result()`` at the end.

    ``shown()`` is the value so far, for the progress bar.
    """

    def __init__(self, name: str) -> None:
        self.name, self.batches = name, 0

    def update(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        self._add(y_true, y_pred)
        self.batches += 1

    def _add(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def shown(self) -> float:
        return self.result()


class _Fraction(Running):
    """hits / samples, from a ``counts(y_true, y_pred) -> (hits, samples)`` per batch."""

    def __init__(self, name: str, counts) -> None:
        super().__init__(name)
        self.counts, self.hits, self.n = counts, 0, 0

    def _add(self, y_true, y_pred) -> None:
        hits, n = self.counts(y_true, y_pred)
        self.hits += hits
        self.n += n

    def result(self) -> float:
        return float(self.hits / self.n) if self.n else math.nan  # accuracy with every label ignored


class _MeanError(Running):
    """The mean over every element of |y_pred - y_true|^power (power 2: mse, 1: mae)."""

    def __init__(self, name: str, power: int) -> None:
        super().__init__(name)
        self.power, self.total, self.n = power, 0.0, 0

    def _add(self, y_true, y_pred) -> None:
        t, p = M.regression_pair(y_true, y_pred)
        d = p - t
        self.total += float(np.sum(d * d) if self.power == 2 else np.sum(np.abs(d)))
        self.n += d.size

    def result(self) -> float:
        return self.total / self.n


class _Confusion(Running):
    """precision, recall or F1 (macro) from a confusion matrix summed over the batches."""

    def __init__(self, name: str, key: str, from_logits: bool) -> None:
        super().__init__(name)
        self.key, self.from_logits = key, from_logits
        self.cm = np.zeros((0, 0), np.int64)

    def _add(self, y_true, y_pred) -> None:
        cm = M.confusion_matrix(y_true, y_pred, from_logits=self.from_logits)
        c = max(len(cm), len(self.cm))
        if c > len(self.cm):
            grown = np.zeros((c, c), np.int64)
            grown[:len(self.cm), :len(self.cm)] = self.cm
            self.cm = grown
        self.cm[:len(cm), :len(cm)] += cm

    def result(self) -> float:
        return M.prf_from_confusion(self.cm)[self.key]


class _R2(Running):
    """R^2 from per-column sums: residual sum of squares, and the targets' count, mean and sum of squared
    deviations (merged with Chan et al.'s update: m2 = m2_a + m2_b + delta^2 n_a n_b / n)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.n, self.mean, self.m2, self.ss_res = 0, 0.0, 0.0, 0.0

    def _add(self, y_true, y_pred) -> None:
        t, p = M.regression_pair(y_true, y_pred)
        t2, p2 = t.reshape(len(t), -1), p.reshape(len(p), -1)
        nb = len(t2)
        mean_b = t2.mean(axis=0)
        m2_b = ((t2 - mean_b) ** 2).sum(axis=0)
        self.ss_res = self.ss_res + ((t2 - p2) ** 2).sum(axis=0)
        if self.n == 0:
            self.mean, self.m2 = mean_b, m2_b
        else:
            n = self.n + nb
            delta = mean_b - self.mean
            self.mean = self.mean + delta * (nb / n)
            self.m2 = self.m2 + m2_b + delta * delta * (self.n * nb / n)
        self.n += nb

    def result(self) -> float:
        return M.r2_from_sums(np.asarray(self.ss_res), np.asarray(self.m2))


class _Kept(Running):
    """Any other function: the epoch's targets and outputs are kept, and ``fn`` sees them all at the end."""

    def __init__(self, name: str, fn) -> None:
        super().__init__(name)
        self.fn, self.ys, self.outs = fn, [], []
        self._shown_total, self._shown_n, self._seen = 0.0, 0, 0

    def _add(self, y_true, y_pred) -> None:
        self.ys.append(y_true)
        self.outs.append(y_pred)

    def result(self) -> float:
        value = self.fn(np.concatenate(self.ys), np.concatenate(self.outs))
        try:
            return float(value)
        except (TypeError, ValueError):  # None, an array of several numbers
            raise ArgumentTypeError(f"metric '{self.name}' must return one number, got "
                                    f"{type(value).__name__} {np.shape(value) if value is not None else ''}") from None

    def shown(self) -> float:
        """The sample-weighted mean of the batches' values (``fn`` over the whole epoch so far would cost
        a pass over it per batch)."""
        for t, p in zip(self.ys[self._seen:], self.outs[self._seen:]):
            self._shown_total += float(self.fn(t, p)) * len(t)
            self._shown_n += len(t)
        self._seen = len(self.ys)
        return self._shown_total / self._shown_n


def _from_logits(fn) -> tuple[object, bool] | None:
    """(the registry function under ``fn``, its from_logits), or None when ``fn`` carries other arguments."""
    if not isinstance(fn, functools.partial):
        return fn, True
    if fn.args or set(fn.keywords) - {"from_logits"} or isinstance(fn.func, functools.partial):
        return None
    return fn.func, bool(fn.keywords.get("from_logits", True))


def _running(name: str, fn) -> Running:
    found = _from_logits(fn)
    if found is not None:
        base, logits = found
        if base is M.accuracy:
            return _Fraction(name, functools.partial(M.accuracy_counts, from_logits=logits))
        if base in (M._precision, M._recall, M._f1):
            key = {M._precision: "precision", M._recall: "recall", M._f1: "f1"}[base]
            return _Confusion(name, key, logits)
        if base is M._top5 and logits:
            return _Fraction(name, functools.partial(M.top_k_counts, k=5))
        if base in (M.mse, M.mae) and logits:
            return _MeanError(name, 2 if base is M.mse else 1)
        if base is M.r2_score and logits:
            return _R2(name)
    return _Kept(name, fn)


def running(metric_fns) -> list[Running]:
    """A fresh accumulator per ``(name, fn)`` pair of ``resolve_metrics`` (one epoch's worth)."""
    return [_running(name, fn) for name, fn in metric_fns or ()]


def logs(accumulators: list[Running], prefix: str = "") -> dict:
    """``{prefix + name: value}`` at the end of an epoch; empty when no batch was seen."""
    return {prefix + acc.name: acc.result() for acc in accumulators if acc.batches}
