"""``fit``'s argument checks, and the metrics it reports by default (chosen from the loss and the targets).

Default metrics (``metrics=None``):

- the mean squared error itself (``nn.MSELoss()``, ``F.mse_loss``, with the default reduction 'mean'):
  none, since the loss already is the mse of the epoch;
- another regression loss (``nn.L1Loss``, ``nn.HuberLoss``, ``F.l1_loss``, ``F.huber_loss``, or MSE with
  reduction 'sum'): ``('mse',)``, never accuracy;
- a classification loss (cross-entropy, NLL, BCE, BCE with logits, hinge): ``('accuracy',)``;
- any other loss function (a lambda, your own): the targets' dtype decides: integer (or bool) targets
  give ``('accuracy',)``, floating targets ``('mse',)``.

The registry's classification metrics read a single output column as logits (class 1 where the score is
> 0), except after ``nn.BCELoss`` / ``F.binary_cross_entropy``, which take probabilities (class 1 where
p > 0.5); see :mod:`chainrule.train.metrics`.
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError
from .callbacks import Callback
from .metrics import BINARY_SCORE_METRICS, METRICS, check_labels, get_metric


def _unwrap(fn):
    while isinstance(fn, functools.partial):
        fn = fn.func
    return fn


def loss_kind(loss_fn) -> str | None:
    """'regression', 'logits', 'probabilities' (BCE on probabilities), or None for a loss fit does not know."""
    from ..functional import losses as FL
    from ..nn import losses as NL

    fn = _unwrap(loss_fn)
    kinds = (
        ("regression", (NL.MSELoss, NL.L1Loss, NL.HuberLoss), (FL.mse_loss, FL.l1_loss, FL.huber_loss)),
        ("probabilities", (NL.BCELoss,), (FL.binary_cross_entropy,)),
        ("logits", (NL.CrossEntropyLoss, NL.NLLLoss, NL.BCEWithLogitsLoss, NL.HingeLoss),
         (FL.cross_entropy, FL.nll_loss, FL.binary_cross_entropy_with_logits, FL.hinge_loss)),
    )
    for kind, classes, functions in kinds:
        if isinstance(fn, classes) or any(fn is f for f in functions):
            return kind
    return None


def _is_mean_squared_error(loss_fn) -> bool:
    """Whether ``loss_fn`` is the mean squared error with reduction 'mean' (its value is the batch's mse)."""
    from ..functional import losses as FL
    from ..nn import losses as NL

    if isinstance(loss_fn, NL.MSELoss):
        return getattr(loss_fn, "reduction", "mean") == "mean"
    keywords: dict = {}
    fn = loss_fn
    while isinstance(fn, functools.partial):
        if fn.args:
            return False
        keywords = {**fn.keywords, **keywords}  # an outer partial's keywords win
        fn = fn.func
    return fn is FL.mse_loss and keywords.get("reduction", "mean") == "mean"


def default_metrics(loss_fn, y=None) -> tuple:
    """The metric names fit reports when ``metrics=None`` (see the module docstring); ``y``: some targets,
    needed only for a loss fit does not know."""
    if _is_mean_squared_error(loss_fn):
        return ()
    kind = loss_kind(loss_fn)
    if kind is None:
        kind = "regression" if np.asarray(y).dtype.kind in "fc" else "logits"
    return ("mse",) if kind == "regression" else ("accuracy",)


def early_metrics(metrics, loss_fn, where: str) -> list | None:
    """``resolve_metrics``, with the default picked now when the loss alone decides it; None when the
    default waits for the first batch's targets (a loss fit does not know)."""
    if metrics is None and loss_kind(loss_fn) is None and not _is_mean_squared_error(loss_fn):
        return None
    return resolve_metrics(default_metrics(loss_fn) if metrics is None else metrics, loss_fn, where)


def resolve_metrics(metrics, loss_fn, where: str) -> list | None:
    """[(name, fn), ...]; None when ``metrics`` is None (chosen at the first batch by ``default_metrics``)."""
    if metrics is None:
        return None
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    try:
        metrics = list(metrics)
    except TypeError:
        raise ArgumentTypeError(f"{where}: metrics must be a metric name, a function or a sequence of them, got "
                                f"{type(metrics).__name__}") from None
    from_logits = loss_kind(loss_fn) != "probabilities"
    resolved = [get_metric(m, from_logits=from_logits) for m in metrics]
    names = [n for n, _ in resolved]
    for n in names:  # History keeps one column per name: a second one, or a name fit writes, would overwrite it
        if n in _RESERVED or n.startswith("val_"):
            raise ArgumentError(f"{where}: a metric may not be called {n!r}: fit records that name itself; give "
                                "the metric another name with a (name, fn) pair")
        if names.count(n) > 1:
            raise ArgumentError(f"{where}: two metrics are called {n!r} (two lambdas, say); give them names with "
                                "(name, fn) pairs")
    return resolved


_RESERVED = ("loss", "lr", "epoch", "time")


def check_targets(metric_fns, y, where: str) -> None:
    """Fail at the first batch, not after an epoch, when a classification metric meets regression targets."""
    for name, fn in metric_fns or ():
        if name in METRICS and _unwrap(fn) is METRICS[name] and name in (*BINARY_SCORE_METRICS, "top_5_accuracy"):
            check_labels(y, f"{where}: metric '{name}'")


def seed_for(seed: int, epoch: int, stream: int) -> int:
    """A seed for one epoch's stream (0: shuffling, 1: dropout and other draws) from fit's seed."""
    return int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1, np.uint64)[0])


def check_model(model, where: str) -> None:
    if isinstance(model, type):
        raise ArgumentTypeError(f"{where}: model is the class {model.__name__}; pass an instance, e.g. "
                                f"{model.__name__}(...)")
    if not (callable(model) and callable(getattr(model, "parameters", None))):
        raise ArgumentTypeError(f"{where}: model must be an nn.Module (callable, with parameters()), got "
                                f"{type(model).__name__}")


def check_loss(loss_fn, where: str, optional: bool = False) -> None:
    if loss_fn is None and optional:
        return
    if isinstance(loss_fn, type):
        raise ArgumentTypeError(f"{where}: loss_fn is the class {loss_fn.__name__}; pass an instance, e.g. "
                                f"nn.{loss_fn.__name__}() (or a function such as F.cross_entropy)")
    if not callable(loss_fn):
        raise ArgumentTypeError(f"{where}: loss_fn must be callable as loss_fn(output, target), e.g. "
                                f"nn.CrossEntropyLoss() or F.mse_loss, got {type(loss_fn).__name__}")


def check_optimizer(optimizer) -> None:
    example = "optim.SGD(model.parameters(), lr=0.1)"
    if isinstance(optimizer, type):
        raise ArgumentTypeError(f"fit: optimizer is the class {optimizer.__name__}; pass an instance, e.g. "
                                f"{example}")
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "zero_grad", None))
            and isinstance(getattr(optimizer, "param_groups", None), list)):
        raise ArgumentTypeError(f"fit: optimizer must be an Optimizer such as {example}, got "
                                f"{type(optimizer).__name__}")


def check_trains(model, optimizer) -> None:
    """The optimizer must hold at least one of the model's trainable parameters: one built on another model
    (or on a model since rebuilt) would leave every weight as it is, epoch after epoch, without a word."""
    params = getattr(model, "parameters", None)
    if not callable(params):
        return
    own = [p for p in params() if getattr(p, "requires_grad", False)]
    held = {id(p) for g in optimizer.param_groups for p in g.get("params", ())}
    if own and not any(id(p) in held for p in own):
        raise ArgumentError(f"fit: the optimizer ({type(optimizer).__name__}) holds none of the model's "
                            f"{len(own)} trainable parameters, so training would change nothing; was it built on "
                            "another model? Build it on this one: optim.SGD(model.parameters(), lr=0.1)")


def check_scheduler(scheduler, optimizer) -> None:
    if scheduler is None:
        return
    from ..optim.optimizer import Optimizer

    if isinstance(scheduler, Optimizer) or scheduler is optimizer:
        raise ArgumentTypeError(f"fit: scheduler got an optimizer ({type(scheduler).__name__}); pass a learning-rate "
                                "scheduler such as optim.lr_scheduler.StepLR(optimizer, step_size=10), or None")
    if isinstance(scheduler, type) or not callable(getattr(scheduler, "step", None)):
        raise ArgumentTypeError(f"fit: scheduler must be a learning-rate scheduler (with step()), such as "
                                f"optim.lr_scheduler.StepLR(optimizer, step_size=10), got "
                                f"{getattr(scheduler, '__name__', type(scheduler).__name__)}")
    driven = getattr(scheduler, "optimizer", optimizer)
    if driven is not optimizer:
        raise ArgumentError(f"fit: the scheduler drives another optimizer ({type(driven).__name__} at "
                            f"{id(driven):#x}) than the one fit trains with; build it on fit's optimizer")


def callback_list(callbacks) -> list:
    """A list of Callbacks from None, one Callback or a sequence of them."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if isinstance(callbacks, type) and issubclass(callbacks, Callback):
        raise ArgumentTypeError(f"fit: callbacks got the class {callbacks.__name__}; pass an instance, e.g. "
                                f"[train.{callbacks.__name__}(...)]")
    try:
        out = list(callbacks)
    except TypeError:
        raise ArgumentTypeError(f"fit: callbacks must be a Callback or a list of them, got "
                                f"{type(callbacks).__name__}") from None
    for cb in out:
        if not isinstance(cb, Callback):
            what = f"the class {cb.__name__}" if isinstance(cb, type) else f"a {type(cb).__name__}"
            raise ArgumentTypeError(f"fit: callbacks must be Callback instances, got {what}")
    return out


def check_int(where: str, name: str, v, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ArgumentError(f"{where}: {name} must be an integer >= {low}, got {v!r}")
    return int(v)
