"""The training loop: ``fit``, ``evaluate`` and ``predict``.

Each training step is the five lines every deep-learning course writes::

    model.train(); out = model(x); loss = loss_fn(out, y)
    optimizer.zero_grad(); loss.backward(); optimizer.step()

``fit`` adds what a practitioner needs around them: shuffled mini-batches, validation in eval mode
under ``no_grad``, metrics, a learning-rate schedule, callbacks (early stopping, checkpoints, logs), a
progress bar, a stop with a clear error when the loss turns NaN or inf, and exact resumption: each
epoch's shuffling and dropout are seeded from ``(seed, epoch)``, so training 2 epochs, saving, loading
and training 2 more gives the same weights, bit for bit, as 4 epochs straight.
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
from .callbacks import Callback
from .history import History
from .metrics import get_metric


# ------------------------------------------------------------------------------------------ data
def _array(a) -> np.ndarray:
    return a.data if isinstance(a, Tensor) else np.asarray(a)


def _is_xy(data) -> bool:
    return (isinstance(data, (tuple, list)) and len(data) == 2
            and all(isinstance(a, (np.ndarray, Tensor)) for a in data))


class _Arrays:
    """Training data given as whole arrays: batches are cut from them."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y


def _xy(data, name: str, dtype) -> _Arrays:
    x, y = _array(data[0]), _array(data[1])
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ShapeError(f"fit: {name} = (x, y) needs arrays with the same number of samples, "
                         f"got x of shape {x.shape} and y of shape {y.shape}")
    if len(x) == 0:
        raise DataError(f"fit: {name} has no samples")
    return _Arrays(_cast(x, dtype), _cast(y, dtype))


def _cast(a: np.ndarray, dtype) -> np.ndarray:
    """Floating data takes the model's dtype, so float64 NumPy data does not upcast a float32 network."""
    if dtype is not None and a.dtype.kind == "f" and a.dtype != dtype:
        return a.astype(dtype)
    return a


def _batches(data, batch_size: int, shuffle: bool, rng, dtype, drop_single: bool = False):
    """Yield (x, y) batches of one epoch: sliced (with one fancy index each) or taken from an iterable.

    ``drop_single``: leave out a last batch of one sample (see ``fit``).
    """
    if isinstance(data, _Arrays):
        x, y = data.x, data.y
        n = len(x)
        order = rng.permutation(n) if shuffle else None
        stop = n - 1 if drop_single and n > 1 and n % batch_size == 1 else n
        for i in range(0, stop, batch_size):
            if order is None:
                yield x[i:i + batch_size], y[i:i + batch_size]
            else:
                idx = order[i:i + batch_size]
                yield x[idx], y[idx]
        return
    batches = _skip_single_last(data) if drop_single else data
    for b in batches:
        if not isinstance(b, (tuple, list)) or len(b) < 2:
            raise DataError(f"fit: a data loader must yield (x, y) batches, got a {type(b).__name__}")
        yield _cast(_array(b[0]), dtype), _cast(_array(b[1]), dtype)


def _batchnorm_training(model) -> bool:
    """Whether ``model`` holds a batch-norm layer in training mode (which cannot take a batch of 1 sample)."""
    modules = getattr(model, "modules", None)
    if modules is None:
        return False
    return any(getattr(m, "training", False) and any(c.__name__.startswith(("BatchNorm", "_BatchNorm"))
                                                     for c in type(m).__mro__) for m in modules())


def _skip_single_last(batches):
    """The batches, less a final one of a single sample (a lone batch is kept, for batch norm's own error)."""
    held, count = None, 0
    for b in batches:
        if held is not None:
            yield held
        held, count = b, count + 1
    if held is not None and (count == 1 or len(held[0]) != 1):
        yield held


def _prepare(data, name: str, dtype):
    if isinstance(data, _Arrays):
        return data
    if _is_xy(data):
        return _xy(data, name, dtype)
    if isinstance(data, (np.ndarray, Tensor)) or not hasattr(data, "__iter__"):
        raise ArgumentTypeError(f"fit: {name} must be an (x, y) pair of arrays or an iterable of (x, y) batches "
                                f"(a DataLoader), got {type(data).__name__}")
    return data


def _n_batches(data, batch_size: int) -> int | None:
    if isinstance(data, _Arrays):
        return math.ceil(len(data.x) / batch_size)
    try:
        return len(data)
    except TypeError:
        return None


def _model_dtype(model):
    for p in model.parameters():
        if p.dtype.kind == "f":
            return p.dtype
    return None


def _seed_for(seed: int, epoch: int, stream: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1, np.uint64)[0])


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


def evaluate(model, loss_fn, data, *, metrics=("accuracy",), batch_size: int = 256) -> dict:
    """Loss and metrics of ``model`` on ``data``, in eval mode and without recording a graph.

    Parameters
    ----------
    model : nn.Module
    loss_fn : callable or None
        ``loss_fn(output, target) -> scalar Tensor``; None to compute metrics only.
    data : (x, y) pair of arrays, or an iterable of (x, y) batches
    metrics : sequence
        Names from :data:`chainrule.train.metrics.METRICS`, functions ``fn(y_true, y_pred)`` or pairs.
    batch_size : int
        Batch size when ``data`` is an (x, y) pair.

    Returns
    -------
    dict
        ``{'loss': ..., <metric>: ...}`` (the loss is the sample-weighted mean of the batch losses).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ArgumentError(f"evaluate: batch_size must be a positive integer, got {batch_size!r}")
    metric_fns = [get_metric(m) for m in metrics]
    dtype = _model_dtype(model)
    data = _prepare(data, "data", dtype)
    was_training = getattr(model, "training", False)
    model.eval()
    total, count, ys, outs = 0.0, 0, [], []
    try:
        with no_grad():
            for xb, yb in _batches(data, int(batch_size), False, None, dtype):
                out = model(Tensor(xb))
                if loss_fn is not None:
                    total += _loss_value(loss_fn(out, Tensor(yb)), "evaluate") * len(xb)
                count += len(xb)
                if metric_fns:
                    ys.append(yb)
                    outs.append(_array(out))
    finally:
        model.train(was_training)
    if count == 0:
        raise DataError("evaluate: the data yielded no samples")
    logs = {"loss": total / count} if loss_fn is not None else {}
    logs.update(_metric_logs(metric_fns, ys, outs))
    return logs


def predict(model, x, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for ``x`` (an array, or an iterable of batches), in eval mode, as one array.

    >>> import chainrule as cr, numpy as np
    >>> predict(cr.nn.Linear(3, 2), np.ones((5, 3), np.float32)).shape
    (5, 2)
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ArgumentError(f"predict: batch_size must be a positive integer, got {batch_size!r}")
    dtype = _model_dtype(model)
    if isinstance(x, (np.ndarray, Tensor)):
        x = _cast(_array(x), dtype)
        batches = (x[i:i + batch_size] for i in range(0, len(x), batch_size))
    else:
        batches = (_cast(_array(b[0] if isinstance(b, (tuple, list)) else b), dtype) for b in x)
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            outs = [_array(model(Tensor(b))) for b in batches]
    finally:
        model.train(was_training)
    if not outs:
        raise DataError("predict: got no samples")
    return np.concatenate(outs)


# ------------------------------------------------------------------------------------------ fit
def _check_int(name: str, v, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ArgumentError(f"fit: {name} must be an integer >= {low}, got {v!r}")
    return int(v)


def fit(model, loss_fn, optimizer, train_data, val_data=None, *, epochs: int = 1, batch_size: int = 32,
        shuffle: bool = True, scheduler=None, scheduler_interval: str = "epoch", metrics=("accuracy",),
        callbacks=(), progress: bool | None = None, seed: int | None = None, verbose: bool = True,
        initial_epoch: int = 0, history: History | None = None) -> History:
    """Train ``model`` on ``train_data`` for epochs ``initial_epoch + 1 .. epochs``; return the History.

    Parameters
    ----------
    model : nn.Module
    loss_fn : callable
        ``loss_fn(output, target) -> scalar Tensor`` (e.g. ``nn.CrossEntropyLoss()``, ``F.mse_loss``).
    optimizer : optim.Optimizer
    train_data, val_data : (x, y) pair of arrays, or an iterable of (x, y) batches (a DataLoader)
        Arrays: x of shape (N, ...), y of shape (N, ...); batches are cut with a seeded permutation.
        An iterable is used as it is (``batch_size`` and ``shuffle`` do not apply); if it has
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
        Stepped after every epoch (``scheduler_interval='epoch'``) or every batch (``'step'``).
        ReduceLROnPlateau is stepped per epoch with 'val_loss' (or 'loss' without validation data).
    metrics : sequence
        Names (``'accuracy'``, ``'f1'``, ``'mse'``, ...; see ``train.metrics.METRICS``), functions
        ``fn(y_true, y_pred) -> float`` or ``(name, fn)`` pairs; computed on each epoch's outputs.
    callbacks : sequence of Callback
    progress : bool or None
        A tqdm bar per epoch: None shows it when stdout is a terminal and tqdm is installed.
    seed : int, optional
        Makes the run reproducible: ``cr.manual_seed(seed)`` at the start, and each epoch's shuffling
        and dropout are seeded from (seed, epoch), so a resumed run repeats the straight run exactly.
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
        epoch and step), or the validation loss is, or the weights are at the end of an epoch.
    """
    epochs, initial_epoch = _check_int("epochs", epochs, 0), _check_int("initial_epoch", initial_epoch, 0)
    batch_size = _check_int("batch_size", batch_size, 1)
    if initial_epoch > epochs:
        raise ArgumentError(f"fit: initial_epoch ({initial_epoch}) is past epochs ({epochs}); epochs is the "
                            "number of the last epoch, not a count of further epochs")
    if scheduler_interval not in ("epoch", "step"):
        raise ArgumentError(f"fit: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
    from ..optim.lr_scheduler import ReduceLROnPlateau

    plateau = isinstance(scheduler, ReduceLROnPlateau)
    if plateau and scheduler_interval == "step":
        raise ArgumentError("fit: ReduceLROnPlateau needs a monitored value once per epoch; "
                            "use scheduler_interval='epoch'")
    if seed is not None:
        backend.manual_seed(seed)
    metric_fns = [get_metric(m) for m in metrics]
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise ArgumentTypeError(f"fit: callbacks must be Callback instances, got {type(cb).__name__}")
    dtype = _model_dtype(model)
    train_data = _prepare(train_data, "train_data", dtype)
    if val_data is not None:
        val_data = _prepare(val_data, "val_data", dtype)
    history = History() if history is None else history
    params = {"epochs": epochs, "initial_epoch": initial_epoch, "seed": seed, "batch_size": batch_size}
    for cb in callbacks:
        cb.model, cb.optimizer, cb.scheduler, cb.history, cb.params = model, optimizer, scheduler, history, params
        cb.stop_training = False
        cb.on_train_begin()

    n_batches = _n_batches(train_data, batch_size)
    global_step = 0
    for epoch in range(initial_epoch + 1, epochs + 1):
        if seed is not None:
            backend.manual_seed(_seed_for(seed, epoch, 1))  # dropout and any other draw of this epoch
            rng = np.random.default_rng(_seed_for(seed, epoch, 0))
        else:
            rng = backend.default_generator()
        if hasattr(train_data, "set_epoch"):
            train_data.set_epoch(epoch)
        for cb in callbacks:
            cb.on_epoch_begin(epoch)
        lr = float(optimizer.param_groups[0]["lr"])
        start = time.perf_counter()
        model.train()
        drop_single = _batchnorm_training(model)
        short = drop_single and isinstance(train_data, _Arrays) and len(train_data.x) % batch_size == 1 < n_batches
        bar = _progress_bar(progress, n_batches - short if n_batches else n_batches, f"epoch {epoch}/{epochs}")
        total, count, ys, outs = 0.0, 0, [], []
        shown = 0.0  # running, sample-weighted mean of the first metric, for the bar
        try:
            for step, (xb, yb) in enumerate(_batches(train_data, batch_size, shuffle, rng, dtype, drop_single), 1):
                global_step += 1
                try:
                    out = model(Tensor(xb))
                    loss = loss_fn(out, Tensor(yb))
                    value = _loss_value(loss, "fit")
                    if not math.isfinite(value):
                        raise NonFiniteError(
                            f"fit: the training loss is {value} at epoch {epoch}, step {step} (global step "
                            f"{global_step}); training stopped before this step changed any weight"
                        )
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                except FloatingPointError as e:
                    if isinstance(e, NonFiniteError):
                        raise
                    raise NonFiniteError(f"fit: a NaN or inf arose at epoch {epoch}, step {step} (global step "
                                         f"{global_step}): {e}") from e
                if scheduler is not None and scheduler_interval == "step":
                    scheduler.step()
                total += value * len(xb)
                count += len(xb)
                if metric_fns:
                    ys.append(yb)
                    outs.append(_array(out))
                if bar is not None:
                    post = {"loss": f"{total / count:.4f}"}
                    if metric_fns:
                        name, fn = metric_fns[0]
                        shown += float(fn(yb, outs[-1])) * len(xb)
                        post[name] = f"{shown / count:.4f}"
                    bar.set_postfix(post, refresh=False)
                    bar.update(1)
                for cb in callbacks:
                    cb.on_batch_end(global_step, {"epoch": epoch, "step": step, "loss": value})
        finally:
            if bar is not None:
                bar.close()
        if count == 0:
            raise DataError(f"fit: train_data yielded no batches in epoch {epoch} (a generator used up?)")
        for name, p in model.named_parameters():
            if not np.isfinite(p.data).all():
                raise NonFiniteError(f"fit: parameter '{name}' holds NaN or inf at the end of epoch {epoch}")
        record = {"epoch": epoch, "loss": total / count}
        record.update(_metric_logs(metric_fns, ys, outs))
        del ys, outs
        if val_data is not None:
            val = evaluate(model, loss_fn, val_data, metrics=metrics, batch_size=max(batch_size, 256))
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
            print(f"epoch {epoch}/{epochs}  " + "  ".join(f"{k} {_fmt(v)}" for k, v in record.items() if k != "epoch")
                  + "s", flush=True)
        if any(cb.stop_training for cb in callbacks):
            break
    for cb in callbacks:
        cb.on_train_end()
    return history
