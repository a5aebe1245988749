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
(accuracy for classification losses, mse for regression losses other than MSE) in
:mod:`chainrule.train._args`; metrics are summed batch by batch in :mod:`chainrule.train._stream`.
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
from . import _stream as S
from .callbacks import EarlyStopping
from .history import History


# ------------------------------------------------------------------------------------------ steps
def _loss_value(loss, where: str) -> float:
    if not isinstance(loss, Tensor):
        raise ArgumentTypeError(f"{where}: loss_fn must return a Tensor, got {type(loss).__name__}")
    if loss.data.size != 1:
        raise ShapeError(f"{where}: loss_fn must return a scalar, got shape {loss.shape} (use reduction='mean')")
    return float(loss.data.reshape(()))


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
        None picks them as ``fit`` does (accuracy for classification, mse for a regression loss other
        than the mean squared error itself). The registry's metrics are summed batch by batch (see
        :mod:`chainrule.train._stream`); only a function of your own sees all targets and outputs at once.
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
    metric_fns = A.early_metrics(metrics, loss_fn, "evaluate")
    accs = S.running(metric_fns)
    dtype = D.model_dtype(model)
    data = D.prepare(data, "data", dtype, "evaluate")
    modes = _modes(model)
    model.eval()
    total, count = 0.0, 0
    try:
        with no_grad():
            for xb, yb in D.batches(data, batch_size, False, None, dtype, where="evaluate"):
                if metric_fns is None:
                    metric_fns = A.resolve_metrics(A.default_metrics(loss_fn, yb), loss_fn, "evaluate")
                    accs = S.running(metric_fns)
                with np.errstate(over="ignore", invalid="ignore"):  # outputs and loss are checked, with a cause
                    out = model(Tensor(xb))
                    for a in D.arrays_of(out):  # a tuple output (an LSTM's) is the loss's business
                        _check_outputs(a, xb, count, "evaluate")
                    if loss_fn is not None:
                        total += _loss_value(loss_fn(out, Tensor(yb)), "evaluate") * len(xb)
                count += len(xb)
                for acc in accs:
                    acc.update(yb, D.array(out, "evaluate"))
    finally:
        _restore_modes(model, modes)
    if count == 0:
        raise DataError("evaluate: the data yielded no samples")
    logs = {"loss": total / count} if loss_fn is not None else {}
    if loss_fn is not None and not math.isfinite(logs["loss"]):
        raise NonFiniteError(f"evaluate: the loss is {logs['loss']} (the outputs are finite): outputs too large for "
                             f"{dtype} or the loss, from inputs far outside the range the network was trained on?")
    logs.update(S.logs(accs))
    return logs


def predict(model, x, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for ``x``, in eval mode, as one array.

    ``x`` is read as ``fit`` reads its x:

    - an array or tensor of shape (N, ...), cut into batches of ``batch_size``;
    - a list or tuple of samples: rows of numbers, or equal-shaped arrays or tensors, one per sample
      (``list(images)``), stacked into one (N, ...) array (floats take the model's dtype);
    - a list of batches, tuples ``(x,)`` or ``(x, y)`` (the x is used), or any other iterable of batches
      or of such tuples, such as a DataLoader.

    >>> import chainrule as cr, numpy as np
    >>> predict(cr.nn.Linear(3, 2), np.ones((5, 3), np.float32)).shape
    (5, 2)
    >>> predict(cr.nn.Linear(3, 2), [[1, 2, 3], [4, 5, 6]]).shape
    (2, 2)
    >>> predict(cr.nn.Linear(3, 2), list(np.ones((5, 3), np.float32))).shape  # five samples
    (5, 2)
    >>> predict(cr.nn.Linear(3, 2), [(np.ones((4, 3)),), (np.ones((1, 3)),)]).shape  # two batches
    (5, 2)
    """
    A.check_model(model, "predict")
    batch_size = A.check_int("predict", "batch_size", batch_size, 1)
    dtype = D.model_dtype(model)
    batches = D.predict_batches(x, batch_size, dtype)
    modes = _modes(model)
    model.eval()
    outs, seen = [], 0
    try:
        with no_grad(), np.errstate(over="ignore", invalid="ignore"):  # checked below, with the samples named
            for b in batches:
                outs.append(D.array(model(Tensor(b)), "predict"))
                _check_outputs(outs[-1], b, seen, "predict")
                seen += len(outs[-1])
    finally:
        _restore_modes(model, modes)
    if not outs:
        raise DataError("predict: got no samples")
    return np.concatenate(outs)


def _modes(model) -> list:
    """Every module's own train/eval flag (a frozen batch-norm layer in eval mode inside a training model)."""
    modules = model.modules() if hasattr(model, "modules") else [model]
    return [(m, m.training) for m in modules if hasattr(m, "training")]


def _restore_modes(model, modes: list) -> None:
    for m, training in modes:
        m.training = training


def _check_outputs(out: np.ndarray, x, first: int, where: str) -> None:
    """A NaN in the model's outputs is an error naming the sample, never a silent result: usually inputs far
    outside the range the network was trained on (3e38 overflows float32 in the first layer), or broken
    weights. inf alone may be meant (log-probabilities of impossible classes) and passes."""
    if out.dtype.kind != "f" or not np.isnan(np.max(out, initial=-np.inf)):
        return
    out = out.reshape(1) if out.ndim == 0 else out
    rows = np.flatnonzero(np.isnan(out.reshape(len(out), -1)).any(axis=1))
    xs = np.asarray(x.data if isinstance(x, Tensor) else x)
    big = float(np.max(np.abs(xs[rows[0]]), initial=0.0)) if xs.dtype.kind in "fiu" and len(xs) == len(out) else None
    raise NonFiniteError(
        f"{where}: the model's output is NaN for {len(rows)} of {len(out)} samples in a batch, the first at sample "
        f"{first + int(rows[0])}" + (f" (its largest |input| is {big:.3g})" if big is not None else "")
        + ": inputs far outside the range the network was trained on, or weights that are not finite?")


# ------------------------------------------------------------------------------------------ fit
def _non_finite_loss(model, value: float, epoch: int, step: int, global_step: int, xb=None,
                     yb=None) -> NonFiniteError:
    where = f"fit: the training loss is {value} at epoch {epoch}, step {step} (global step {global_step})"
    for name, b in (("inputs", xb), ("targets", yb)):
        if isinstance(b, np.ndarray) and b.dtype.kind == "f" and not np.isfinite(b).all():
            where += f"; the batch's {name} hold NaN or inf (clean the data first)"
    bad = _nonfinite_parameter(model)
    if bad is None:
        return NonFiniteError(f"{where}; training stopped before this step changed any weight")
    return NonFiniteError(f"{where}; the weights already hold NaN or inf (parameter '{bad}'): an earlier step's "
                          "gradient was not finite although its loss was")


def _train_epoch(model, loss_fn, optimizer, data, epoch: int, global_step: int, ctx: dict):
    """One epoch of training steps; returns (loss, number of samples, metric accumulators, global step)."""
    dtype, metric_fns, bar = ctx["dtype"], ctx["metric_fns"], ctx["bar"]
    total, count = 0.0, 0
    accs = S.running(metric_fns)  # summed batch by batch: the epoch's outputs are not kept
    for step, (xb, yb) in enumerate(D.batches(data, ctx["batch_size"], ctx["shuffle"], ctx["rng"], dtype,
                                              ctx["drop_single"]), 1):
        global_step += 1
        if metric_fns is None:
            metric_fns = ctx["metric_fns"] = A.resolve_metrics(A.default_metrics(loss_fn, yb), loss_fn, "fit")
            accs = S.running(metric_fns)
        if global_step == 1:
            A.check_targets(metric_fns, yb, "fit")
        try:
            out = model(Tensor(xb))
            loss = loss_fn(out, Tensor(yb))
            value = _loss_value(loss, "fit")
            if not math.isfinite(value):
                raise _non_finite_loss(model, value, epoch, step, global_step, xb, yb)
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
        for acc in accs:
            acc.update(yb, D.array(out, "fit"))
        if bar is not None:
            post = {"loss": f"{total / count:.4f}"}
            if accs:
                post[accs[0].name] = f"{accs[0].shown():.4f}"
            bar.set_postfix(post, refresh=False)
            bar.update(1)
        for cb in ctx["callbacks"]:
            cb.on_batch_end(global_step, {"epoch": epoch, "step": step, "loss": value})
    return total, count, accs, global_step


def _first_loader_epoch(train_data, seed, initial_epoch: int) -> int | None:
    """The loader epoch (from 0) of fit's first epoch, for data with ``set_epoch``; None for other data.

    With ``seed`` or ``initial_epoch`` the numbering is fit's own (fit's epoch e is the loader's e - 1), so
    a resumed or seeded run sees the same batches as the run it repeats. Otherwise the loader goes on from
    its own counter: calling fit(..., epochs=1) again on the same loader gives the next epoch's order, as
    ``for batch in loader`` does, not the first epoch's again.
    """
    if not callable(getattr(train_data, "set_epoch", None)):
        return None
    if seed is None and initial_epoch == 0:
        current = getattr(train_data, "epoch", None)
        if isinstance(current, (int, np.integer)) and not isinstance(current, bool) and current >= 0:
            return int(current)
    return initial_epoch


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
        iterable is used as it is (``batch_size`` and ``shuffle`` do not apply). If it has
        ``set_epoch(k)`` (k counting from 0, as ``DataLoader`` and PyTorch's samplers do), that is called
        before each epoch: with ``seed`` or ``initial_epoch`` given, fit's epoch e is the loader's epoch
        e - 1 (a resumed run sees the batches of the run it continues); otherwise the loader goes on from
        its own ``epoch`` counter, so a second ``fit(..., epochs=1)`` on the same loader trains on the
        next epoch's order, not the first one's again. Floating data is cast to the model's dtype.
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
        data), so it must have mode='min'. With per-epoch steps, epoch k trains at the schedule's
        t = k - 1: a decay that should reach ``lr_end`` in the last of E epochs needs ``total_steps=E - 1``.
    metrics : None, str or sequence
        Names (``'accuracy'``, ``'f1'``, ``'mse'``, ...; see ``train.metrics.METRICS``), functions
        ``fn(y_true, y_pred) -> float`` or ``(name, fn)`` pairs; computed over each epoch's outputs,
        batch by batch for the registry's metrics (a function of your own gets the epoch's targets and
        outputs at once, which keeps them in memory). None (the default) reports ``accuracy`` for a
        classification loss, ``mse`` for a regression loss (L1, Huber), and nothing beyond the loss for
        the mean squared error itself (``nn.MSELoss()``, ``F.mse_loss``): its loss is the epoch's mse
        already. For a loss function fit does not know, integer targets mean classification and float
        targets regression (``mse``). A single output column is read as logits (class 1 where it is > 0),
        or as probabilities (> 0.5) when the loss is ``nn.BCELoss`` / ``F.binary_cross_entropy``.
    callbacks : Callback or sequence of Callback
    progress : bool or None
        A tqdm bar per epoch: None shows it when stdout is a terminal and tqdm is installed.
    seed : int, optional
        Makes the run reproducible: ``cr.manual_seed(seed)`` at the start, and each epoch's shuffling
        of (x, y) arrays and its dropout are seeded from (seed, epoch), so a resumed run repeats the
        straight run exactly. A DataLoader with its own ``seed`` shuffles epoch k from (its seed, k); one
        without draws each epoch's order from the global generator when the epoch starts, which fit has
        just seeded from (seed, epoch): either way a seeded fit repeats itself, resumption included.
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
    A.check_trains(model, optimizer)
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
    if plateau and getattr(scheduler, "mode", "min") != "min":
        # fit steps it with a loss, which improves downwards: mode 'max' would cut the lr while the loss falls
        raise ArgumentError(f"fit: ReduceLROnPlateau has mode={scheduler.mode!r}, but fit steps it with the "
                            "validation loss ('loss' without val_data), which improves as it falls: use mode='min', "
                            "or step the scheduler on a metric yourself in a Callback's on_epoch_end")
    if history is not None and not isinstance(history, History):
        raise ArgumentTypeError(f"fit: history must be a train.History, got {type(history).__name__}")
    if seed is not None:
        backend.manual_seed(seed)
    metric_fns = A.early_metrics(metrics, loss_fn, "fit")
    callbacks = A.callback_list(callbacks)
    dtype = D.model_dtype(model)
    train_data = D.prepare(train_data, "train_data", dtype)
    if val_data is not None:
        val_data = D.prepare(val_data, "val_data", dtype)
    for name, d in (("train_data", train_data), ("val_data", val_data)):
        if epochs - initial_epoch > 1 and D.read_once(d):
            raise ArgumentError(f"fit: {name} is an iterator (a generator, say), which can be read only once, and fit "
                                f"reads it every epoch ({epochs - initial_epoch} epochs); pass a list of batches or a "
                                "DataLoader")
    history = History() if history is None else history
    params = {"epochs": epochs, "initial_epoch": initial_epoch, "seed": seed, "batch_size": batch_size,
              "do_validation": val_data is not None,
              "metrics": None if metric_fns is None else [name for name, _ in metric_fns]}
    for cb in callbacks:
        cb.model, cb.optimizer, cb.scheduler, cb.history, cb.params = model, optimizer, scheduler, history, params
        cb.stop_training = False
        cb.on_train_begin()

    loader_epoch = _first_loader_epoch(train_data, seed, initial_epoch)
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
            if loader_epoch is not None:
                train_data.set_epoch(loader_epoch + epoch - initial_epoch - 1)
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
                total, count, accs, global_step = _train_epoch(model, loss_fn, optimizer, train_data, epoch,
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
            record.update(S.logs(accs))
            del accs
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
