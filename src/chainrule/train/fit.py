"""The training loop: ``fit``, ``evaluate`` and ``predict``.

Each training step is the five lines every deep-learning course writes::

    model.train(); out = model(x); loss = loss_fn(out, y)
    optimizer.zero_grad(); loss.backward(); optimizer.step()

``fit`` adds what a practitioner needs around them: shuffled mini-batches, validation in eval mode
under ``no_grad``, metrics, a learning-rate schedule, callbacks (early stopping, checkpoints, logs), a
progress bar, a stop with a clear error when the loss turns NaN or inf, and exact resumption: each
epoch's shuffling and dropout are seeded from ``(seed, epoch)``, so training 2 epochs, saving, loading
and training 2 more gives the same weights, bit for bit, as 4 epochs straight.

How the data is read is in :mod:`chainrule.train._data`; the argument checks and the default metrics
(accuracy for classification losses, mse for regression) in :mod:`chainrule.train._args`.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from .. import backend
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from ..errors import ArgumentError, ArgumentTypeError, DataError, NonFiniteError, ShapeError
from . import _args as A
from . import _data as D
from .callbacks import EarlyStopping
from .history import History


# ------------------------------------------------------------------------------------------ steps
def _loss_value(loss, where: str) -> float:
    if not isinstance(loss, Tensor):
        raise ArgumentTypeError(f"{where}: loss_fn must return a Tensor, got {type(loss).__name__}")
    if loss.data.size != 1:
        raise ShapeError(f"{where}: loss_fn must return a scalar, got shape {loss.shape} (use reduction='mean')")
    return float(loss.data.reshape(()))


def _metric_logs(metric_fns, y_true: list, y_pred: list, prefix: str = "") -> dict:
    if not metric_fns or not y_true:
        return {}
    t, p = np.concatenate(y_true), np.concatenate(y_pred)
    return {prefix + name: float(fn(t, p)) for name, fn in metric_fns}


def _progress_bar(progress, total, desc: str):
    if progress is False or (progress is None and not (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, leave=False, unit="batch", dynamic_ncols=True)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _nonfinite_parameter(model) -> str | None:
    """The name of the first parameter holding NaN or inf, or None."""
    for name, p in model.named_parameters():
        if not np.isfinite(p.data).all():
            return name
    return None


def evaluate(model, loss_fn, data, *, metrics=None, batch_size: int = 256) -> dict:
    """Loss and metrics of ``model`` on ``data``, in eval mode and without recording a graph.

    Parameters
    ----------
    model : nn.Module
    loss_fn : callable or None
        ``loss_fn(output, target) -> scalar Tensor``; None to compute metrics only.
    data : (x, y) pair of arrays, or an iterable of (x, y) batches
    metrics : None, str or sequence
        Names from :data:`chainrule.train.metrics.METRICS`, functions ``fn(y_true, y_pred)`` or pairs;
        None picks them as ``fit`` does (accuracy for classification, mse for regression).
    batch_size : int
        Batch size when ``data`` is an (x, y) pair.

    Returns
    -------
    dict
        ``{'loss': ..., <metric>: ...}`` (the loss is the sample-weighted mean of the batch losses).
    """
    A.check_model(model, "evaluate")
    A.check_loss(loss_fn, "evaluate", optional=True)
    batch_size = A.check_int("evaluate", "batch_size", batch_size, 1)
    metric_fns = A.resolve_metrics(metrics, loss_fn, "evaluate")
    dtype = D.model_dtype(model)
    data = D.prepare(data, "data", dtype, "evaluate")
    was_training = getattr(model, "training", False)
    model.eval()
    total, count, ys, outs = 0.0, 0, [], []
    try:
        with no_grad():
            for xb, yb in D.batches(data, batch_size, False, None, dtype, where="evaluate"):
                if metric_fns is None:
                    metric_fns = A.resolve_metrics(A.default_metrics(loss_fn, yb), loss_fn, "evaluate")
                out = model(Tensor(xb))
                if loss_fn is not None:
                    total += _loss_value(loss_fn(out, Tensor(yb)), "evaluate") * len(xb)
                count += len(xb)
                if metric_fns:
                    ys.append(yb)
                    outs.append(D.array(out))
    finally:
        model.train(was_training)
    if count == 0:
        raise DataError("evaluate: the data yielded no samples")
    logs = {"loss": total / count} if loss_fn is not None else {}
    logs.update(_metric_logs(metric_fns, ys, outs))
    return logs


def predict(model, x, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for ``x``, in eval mode, as one array.

    ``x`` is an array or tensor of shape (N, ...), a list of rows (``np.asarray``, float), or an
    iterable of batches (arrays, or (x, y) tuples whose x is used), such as a DataLoader.

    >>> import chainrule as cr, numpy as np
    >>> predict(cr.nn.Linear(3, 2), np.ones((5, 3), np.float32)).shape
    (5, 2)
    >>> predict(cr.nn.Linear(3, 2), [[1, 2, 3], [4, 5, 6]]).shape
    (2, 2)
    """
    A.check_model(model, "predict")
    batch_size = A.check_int("predict", "batch_size", batch_size, 1)
    dtype = D.model_dtype(model)
    batches = D.predict_batches(x, batch_size, dtype)
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            outs = [D.array(model(Tensor(b))) for b in batches]
    finally:
        model.train(was_training)
    if not outs:
        raise DataError("predict: got no samples")
    return np.concatenate(outs)


# ------------------------------------------------------------------------------------------ fit
def _non_finite_loss(model, value: float, epoch: int, step: int, global_step: int) -> NonFiniteError:
    where = f"fit: the training loss is {value} at epoch {epoch}, step {step} (global step {global_step})"
    bad = _nonfinite_parameter(model)
    if bad is None:
        return NonFiniteError(f"{where}; training stopped before this step changed any weight")
    return NonFiniteError(f"{where}; the weights already hold NaN or inf (parameter '{bad}'): an earlier step's "
                          "gradient was not finite although its loss was")


def _train_epoch(model, loss_fn, optimizer, data, epoch: int, global_step: int, ctx: dict):
    """One epoch of training steps; returns (loss, number of samples, targets, outputs, global step)."""
    dtype, metric_fns, bar = ctx["dtype"], ctx["metric_fns"], ctx["bar"]
    total, count, ys, outs = 0.0, 0, [], []
    shown = 0.0  # running, sample-weighted mean of the first metric, for the bar
    for step, (xb, yb) in enumerate(D.batches(data, ctx["batch_size"], ctx["shuffle"], ctx["rng"], dtype,
                                              ctx["drop_single"]), 1):
        global_step += 1
        if metric_fns is None:
            metric_fns = ctx["metric_fns"] = A.resolve_metrics(A.default_metrics(loss_fn, yb), loss_fn, "fit")
        if global_step == 1:
            A.check_targets(metric_fns, yb, "fit")
        try:
            out = model(Tensor(xb))
            loss = loss_fn(out, Tensor(yb))
            value = _loss_value(loss, "fit")
            if not math.isfinite(value):
                raise _non_finite_loss(model, value, epoch, step, global_step)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        except FloatingPointError as e:
            if isinstance(e, NonFiniteError):
                raise
            raise NonFiniteError(f"fit: a NaN or inf arose at epoch {epoch}, step {step} (global step "
                                 f"{global_step}): {e}") from e
        if ctx["scheduler"] is not None and ctx["scheduler_interval"] == "step":
            ctx["scheduler"].step()
        total += value * len(xb)
        count += len(xb)
        if metric_fns:
            ys.append(yb)
            outs.append(D.array(out))
        if bar is not None:
            post = {"loss": f"{total / count:.4f}"}
            if metric_fns:
                name, fn = metric_fns[0]
                shown += float(fn(yb, outs[-1])) * len(xb)
                post[name] = f"{shown / count:.4f}"
            bar.set_postfix(post, refresh=False)
            bar.update(1)
        for cb in ctx["callbacks"]:
            cb.on_batch_end(global_step, {"epoch": epoch, "step": step, "loss": value})
    return total, count, ys, outs, global_step


def _end_after_non_finite(error: NonFiniteError, callbacks, history: History) -> None:
    """Give callbacks their on_train_end, attach the History, and say in the message what was restored."""
    error.history = history
    for cb in callbacks:
        cb.on_train_end()
    restored = [cb.restored_epoch for cb in callbacks
                if isinstance(cb, EarlyStopping) and getattr(cb, "restored_epoch", None)]
    if restored:
        error.args = (f"{error.args[0]}; EarlyStopping(restore_best_weights=True) has put back the weights of "
                      f"epoch {restored[-1]}",) + error.args[1:]


def fit(model, loss_fn, optimizer, train_data, val_data=None, *, epochs: int = 1, batch_size: int = 32,
        shuffle: bool = True, scheduler=None, scheduler_interval: str = "epoch", metrics=None,
        callbacks=(), progress: bool | None = None, seed: int | None = None, verbose: bool = True,
        initial_epoch: int = 0, history: History | None = None) -> History:
    """Train ``model`` on ``train_data`` for epochs ``initial_epoch + 1 .. epochs``; return the History.

    Parameters
    ----------
    model : nn.Module
    loss_fn : callable
        ``loss_fn(output, target) -> scalar Tensor``: an instance such as ``nn.CrossEntropyLoss()``, or a
        function such as ``F.mse_loss``.
    optimizer : optim.Optimizer
        An instance, e.g. ``optim.SGD(model.parameters(), lr=0.1)``.
    train_data, val_data : (x, y) arrays, or an iterable of (x, y) batches (a DataLoader)
        Arrays: x of shape (N, ...), y of shape (N, ...): NumPy arrays, tensors or lists (a list x
        becomes the model's float dtype; integer labels stay integers); batches are cut with a seeded
        permutation. A tuple or list whose elements are (x, y) batches, a DataLoader or any other
        iterable is used as it is (``batch_size`` and ``shuffle`` do not apply); if it has
        ``set_epoch(epoch)`` that is called before each epoch. Floating data is cast to the model's dtype.
    epochs : int
        The number of the last epoch (Keras' convention): ``fit(..., epochs=4, initial_epoch=2)`` trains
        epochs 3 and 4.
    batch_size : int
        When the model holds batch norm (in training mode) and the last batch of an epoch would hold a
        single sample, that batch is left out (PyTorch's ``drop_last``, only for this case): batch norm
        cannot take a variance over one sample. The sample is not lost for good: shuffling puts another
        one last in the next epoch.
    shuffle : bool
        Shuffle (x, y) arrays every epoch.
    scheduler : LRScheduler or ReduceLROnPlateau, optional
        Built on ``optimizer``; stepped after every epoch (``scheduler_interval='epoch'``) or every batch
        (``'step'``). ReduceLROnPlateau is stepped per epoch with 'val_loss' (or 'loss' without validation
        data). With per-epoch steps, epoch k trains at the schedule's t = k - 1: a decay that should
        reach ``lr_end`` in the last of E epochs needs ``total_steps=E - 1``.
    metrics : None, str or sequence
        Names (``'accuracy'``, ``'f1'``, ``'mse'``, ...; see ``train.metrics.METRICS``), functions
        ``fn(y_true, y_pred) -> float`` or ``(name, fn)`` pairs; computed on each epoch's outputs. None
        (the default) reports ``accuracy`` for a classification loss and ``mse`` for a regression loss
        (MSE, L1, Huber); for a loss function fit does not know, integer targets mean classification and
        float targets regression. A single output column is read as logits (class 1 where it is > 0),
        or as probabilities (> 0.5) when the loss is ``nn.BCELoss`` / ``F.binary_cross_entropy``.
    callbacks : Callback or sequence of Callback
    progress : bool or None
        A tqdm bar per epoch: None shows it when stdout is a terminal and tqdm is installed.
    seed : int, optional
        Makes the run reproducible: ``cr.manual_seed(seed)`` at the start, and each epoch's shuffling
        of (x, y) arrays and its dropout are seeded from (seed, epoch), so a resumed run repeats the
        straight run exactly. A DataLoader shuffles with its own seed, which fit does not change: give
        it ``seed=``, or build it after ``cr.manual_seed(...)`` (a loader without ``seed`` draws one from
        the global generator when it is made, before fit runs).
    verbose : bool
        Print one line per epoch.
    initial_epoch : int
        The number of epochs already done (resuming from a checkpoint's ``epoch``).
    history : History, optional
        A history to append to (e.g. the one of the run being resumed); a new one otherwise.

    Returns
    -------
    History
        One record per epoch: ``epoch, loss, <metrics>, val_loss, val_<metrics>, lr, time``.

    Raises
    ------
    NonFiniteError
        When the training loss is NaN or inf (raised before that step updates any weight, naming the
        epoch and step, and saying whether the weights already hold NaN or inf), or the validation loss
        is, or the weights are at the end of an epoch. Callbacks still get ``on_train_end`` (so
        ``EarlyStopping(restore_best_weights=True)`` puts back its best weights) and the error carries
        the History of the finished epochs as ``error.history``.
    """
    A.check_model(model, "fit")
    A.check_loss(loss_fn, "fit")
    A.check_optimizer(optimizer)
    epochs, initial_epoch = A.check_int("fit", "epochs", epochs, 0), A.check_int("fit", "initial_epoch",
                                                                                  initial_epoch, 0)
    batch_size = A.check_int("fit", "batch_size", batch_size, 1)
    if initial_epoch > epochs:
        raise ArgumentError(f"fit: initial_epoch ({initial_epoch}) is past epochs ({epochs}); epochs is the "
                            "number of the last epoch, not a count of further epochs")
    if scheduler_interval not in ("epoch", "step"):
        raise ArgumentError(f"fit: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
    A.check_scheduler(scheduler, optimizer)
    from ..optim.lr_scheduler import ReduceLROnPlateau

    plateau = isinstance(scheduler, ReduceLROnPlateau)
    if plateau and scheduler_interval == "step":
        raise ArgumentError("fit: ReduceLROnPlateau needs a monitored value once per epoch; "
                            "use scheduler_interval='epoch'")
    if history is not None and not isinstance(history, History):
        raise ArgumentTypeError(f"fit: history must be a train.History, got {type(history).__name__}")
    if seed is not None:
        backend.manual_seed(seed)
    metric_fns = A.resolve_metrics(metrics, loss_fn, "fit")
    callbacks = A.callback_list(callbacks)
    dtype = D.model_dtype(model)
    train_data = D.prepare(train_data, "train_data", dtype)
    if val_data is not None:
        val_data = D.prepare(val_data, "val_data", dtype)
    history = History() if history is None else history
    params = {"epochs": epochs, "initial_epoch": initial_epoch, "seed": seed, "batch_size": batch_size,
              "do_validation": val_data is not None}
    for cb in callbacks:
        cb.model, cb.optimizer, cb.scheduler, cb.history, cb.params = model, optimizer, scheduler, history, params
        cb.stop_training = False
        cb.on_train_begin()

    n_batches = D.n_batches(train_data, batch_size)
    ctx = {"dtype": dtype, "metric_fns": metric_fns, "batch_size": batch_size, "shuffle": shuffle,
           "scheduler": scheduler, "scheduler_interval": scheduler_interval, "callbacks": callbacks}
    global_step = 0
    try:
        for epoch in range(initial_epoch + 1, epochs + 1):
            if seed is not None:
                backend.manual_seed(A.seed_for(seed, epoch, 1))  # dropout and any other draw of this epoch
                ctx["rng"] = np.random.default_rng(A.seed_for(seed, epoch, 0))
            else:
                ctx["rng"] = backend.default_generator()
            if hasattr(train_data, "set_epoch"):
                train_data.set_epoch(epoch)
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            lr = float(optimizer.param_groups[0]["lr"])
            start = time.perf_counter()
            model.train()
            ctx["drop_single"] = drop = D.batchnorm_training(model)
            short = drop and isinstance(train_data, D.Arrays) and len(train_data.x) % batch_size == 1 < n_batches
            ctx["bar"] = bar = _progress_bar(progress, n_batches - short if n_batches else n_batches,
                                             f"epoch {epoch}/{epochs}")
            try:
                total, count, ys, outs, global_step = _train_epoch(model, loss_fn, optimizer, train_data, epoch,
                                                                   global_step, ctx)
            finally:
                if bar is not None:
                    bar.close()
            if count == 0:
                raise DataError(f"fit: train_data yielded no batches in epoch {epoch} (a generator used up?)")
            bad = _nonfinite_parameter(model)
            if bad is not None:
                raise NonFiniteError(f"fit: parameter '{bad}' holds NaN or inf at the end of epoch {epoch}")
            record = {"epoch": epoch, "loss": total / count}
            record.update(_metric_logs(ctx["metric_fns"], ys, outs))
            del ys, outs
            if val_data is not None:
                val = evaluate(model, loss_fn, val_data, metrics=ctx["metric_fns"] or (),
                               batch_size=max(batch_size, 256))
                if not math.isfinite(val["loss"]):
                    raise NonFiniteError(f"fit: the validation loss is {val['loss']} after epoch {epoch}")
                record.update({f"val_{k}": v for k, v in val.items()})
            record["lr"] = lr
            record["time"] = time.perf_counter() - start
            history.append(record)
            if scheduler is not None and scheduler_interval == "epoch":
                if plateau:
                    scheduler.step(record.get("val_loss", record["loss"]))
                else:
                    scheduler.step()
            for cb in callbacks:
                cb.on_epoch_end(epoch, record)
            if verbose:
                print(f"epoch {epoch}/{epochs}  " + "  ".join(f"{k} {_fmt(v)}" for k, v in record.items()
                                                               if k != "epoch") + "s", flush=True)
            if any(cb.stop_training for cb in callbacks):
                break
    except NonFiniteError as e:
        _end_after_non_finite(e, callbacks, history)
        raise
    for cb in callbacks:
        cb.on_train_end()
    return history
