"""fit's inputs: lists as data, argument mistakes, default metrics per task, binary outputs, NaN stops, seeds."""

import functools
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, optim, train
from chainrule.errors import ArgumentError, ArgumentTypeError, DataError, NonFiniteError, ShapeError


def _digits_like(n=96, seed=0, features=8, classes=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    return x, (x[:, :classes].argmax(1)).astype(np.int64)


def _weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def _equal(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _fit_twice(make_data, **kw):
    """Two runs from the same initial weights; the final weights of each."""
    out = []
    for _ in range(2):
        cr.manual_seed(3)
        model = nn.Linear(8, 3)
        train.fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), make_data(), epochs=2,
                  verbose=False, **kw)
        out.append(_weights(model))
    return out


# ------------------------------------------------------------------------------------------ finding 2
def test_lists_train_exactly_like_arrays():
    x, y = _digits_like()
    arrays = _fit_twice(lambda: (x, y), seed=0)[0]
    for data in [(x.tolist(), y.tolist()), (x, y.tolist()), [x.tolist(), y], (cr.tensor(x), list(y))]:
        assert _equal(_fit_twice(lambda d=data: d, seed=0)[0], arrays)
    cr.manual_seed(0)
    reg = nn.Linear(2, 2)
    xr = np.random.default_rng(1).standard_normal((50, 2))
    h = train.fit(reg, F.mse_loss, optim.SGD(reg.parameters(), lr=0.1), (xr.tolist(), (2 * xr).tolist()),
                  epochs=40, verbose=False)
    assert h["loss"][-1] < 1e-3 and reg.weight.dtype == np.float32  # float64 lists take the model's dtype
    model = nn.Linear(8, 3)
    np.testing.assert_array_equal(train.predict(model, x.tolist()), train.predict(model, x))
    np.testing.assert_array_equal(train.predict(model, [[1, 2, 3, 4, 5, 6, 7, 8]]),
                                  train.predict(model, np.arange(1, 9, dtype=np.float32)[None]))
    logs = train.evaluate(model, F.cross_entropy, (x.tolist(), y.tolist()))
    assert logs == train.evaluate(model, F.cross_entropy, (x, y))


def test_sequences_of_batches_are_still_batches():
    x, y = _digits_like(64)
    model = nn.Linear(8, 3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    two = [(x[:32], y[:32]), (x[32:], y[32:])]  # two batches, not an (x, y) pair
    seen = []

    class Count(train.Callback):
        def on_batch_end(self, step, logs=None):
            seen.append(step)

    train.fit(model, F.cross_entropy, opt, two, epochs=1, callbacks=[Count()], verbose=False)
    assert seen == [1, 2]
    assert train.predict(model, two).shape == (64, 3)


@pytest.mark.parametrize("data,match", [
    (lambda x, y: (x, y, np.ones(len(x))), "3 items.*sample weights"),
    (lambda x, y: (x.tolist(), y.tolist(), [1.0] * len(x)), "3 items"),
    (lambda x, y: [x], "1 items"),
    (lambda x, y: ([[1.0, 2.0], [3.0]] * 48, y), "cannot become an array"),
    (lambda x, y: (x, ["a"] * len(x)), "must hold numbers"),
])
def test_malformed_data_says_what_fit_accepts(data, match):
    x, y = _digits_like()
    model = nn.Linear(8, 3)
    with pytest.raises(DataError, match=match) as e:
        train.fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), data(x, y), verbose=False)
    assert "(x, y) arrays" in str(e.value) or "cannot become" in str(e.value) or "numbers" in str(e.value)


def test_mismatched_lengths_name_both_shapes():
    x, y = _digits_like()
    model = nn.Linear(8, 3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    for data in [(x, list(y[:50])), (x.tolist(), y[:50])]:
        with pytest.raises(ShapeError, match=r"\(96, 8\).*\(50,\).*accept"):
            train.fit(model, F.cross_entropy, opt, data, verbose=False)
    with pytest.raises(ShapeError, match="val_data"):
        train.fit(model, F.cross_entropy, opt, (x, y), (x, y.tolist()[:3]), verbose=False)


# ------------------------------------------------------------------------------------------ finding 8
@pytest.mark.parametrize("change,error,match", [
    (dict(loss_fn=nn.CrossEntropyLoss), ArgumentTypeError, r"pass an instance, e.g. nn.CrossEntropyLoss\(\)"),
    (dict(loss_fn=None), ArgumentTypeError, "loss_fn must be callable"),
    (dict(optimizer=None), ArgumentTypeError, "optimizer must be an Optimizer"),
    (dict(optimizer=optim.SGD), ArgumentTypeError, "optimizer is the class SGD; pass an instance"),
    (dict(model=lambda x: x), ArgumentTypeError, "model must be an nn.Module"),
    (dict(model=nn.Linear), ArgumentTypeError, "model is the class Linear"),
    (dict(scheduler="opt"), ArgumentTypeError, "scheduler got an optimizer"),
    (dict(scheduler=5), ArgumentTypeError, "scheduler must be a learning-rate scheduler"),
    (dict(scheduler="other"), ArgumentError, "drives another optimizer"),
    (dict(callbacks=train.EarlyStopping), ArgumentTypeError, "pass an instance"),
    (dict(callbacks=[train.EarlyStopping(monitor="loss"), "x"]), ArgumentTypeError, "Callback instances"),
    (dict(metrics=5), ArgumentTypeError, "metrics must be"),
    (dict(history={}), ArgumentTypeError, "history must be"),
    (dict(callbacks=train.EarlyStopping()), ArgumentError, "val_loss' needs validation data"),
])
def test_argument_mistakes_name_the_argument(change, error, match):
    x, y = _digits_like(32)
    model = nn.Linear(8, 3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = _weights(model)
    args = dict(model=model, loss_fn=F.cross_entropy, optimizer=opt)
    args.update({k: v for k, v in change.items() if k in args})
    kw = {k: v for k, v in change.items() if k not in args}
    if kw.get("scheduler") == "opt":
        kw["scheduler"] = opt
    elif kw.get("scheduler") == "other":
        kw["scheduler"] = optim.lr_scheduler.StepLR(optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1), 1)
    seen = []

    class Spy(train.Callback):
        def on_batch_end(self, step, logs=None):
            seen.append(step)

    if "callbacks" in kw and not isinstance(kw["callbacks"], (list, type)):
        kw["callbacks"] = [kw["callbacks"], Spy()]
    with pytest.raises(error, match=match):
        train.fit(args["model"], args["loss_fn"], args["optimizer"], (x, y), verbose=False, **kw)
    assert seen == [] and _equal(_weights(model), before)  # refused before any training step


def test_a_single_callback_and_a_metric_name_are_accepted():
    x, y = _digits_like(64)
    model = nn.Linear(8, 3)
    es = train.EarlyStopping(monitor="loss", patience=1)
    h = train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2,
                  callbacks=es, metrics="f1", verbose=False)
    assert h.keys() == ["epoch", "loss", "f1", "lr", "time"] and es.best_epoch is not None
    assert train.evaluate(model, nn.CrossEntropyLoss(), (x, y), metrics="accuracy").keys() == {"loss", "accuracy"}


# ------------------------------------------------------------------------------------------ finding 6
def _regression(n=120):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    return x, (x.sum(1, keepdims=True) * 0.1).astype(np.float32)


@pytest.mark.parametrize("loss_fn", [nn.L1Loss(), nn.HuberLoss(), nn.MSELoss(reduction="sum"),
                                     lambda out, t: ((out - t) ** 2).mean()])
def test_regression_reports_mse_not_accuracy(loss_fn):
    x, y = _regression()
    cr.manual_seed(0)
    model = nn.Linear(3, 1)
    h = train.fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.01), (x, y), (x, y), epochs=3, verbose=False)
    assert h.keys() == ["epoch", "loss", "mse", "val_loss", "val_mse", "lr", "time"]
    assert h.last["val_mse"] == pytest.approx(np.mean((train.predict(model, x) - y) ** 2), rel=1e-5)
    assert set(train.evaluate(model, loss_fn, (x, y))) == {"loss", "mse"}


@pytest.mark.parametrize("loss_fn", [F.mse_loss, nn.MSELoss(), functools.partial(F.mse_loss, reduction="mean")])
def test_the_mean_squared_error_loss_gets_no_mse_metric_repeating_it(loss_fn):
    """QA2 practice #4: the default 'mse' beside an MSE loss was the loss again, at the price of every output."""
    x, y = _regression()
    cr.manual_seed(0)
    model = nn.Linear(3, 1)
    h = train.fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.1), (x, y), (x, y), epochs=3, verbose=False)
    assert h.keys() == ["epoch", "loss", "val_loss", "lr", "time"]
    assert h.last["val_loss"] == pytest.approx(np.mean((train.predict(model, x) - y) ** 2), rel=1e-5)
    assert set(train.evaluate(model, loss_fn, (x, y))) == {"loss"}
    assert "mse" in train.evaluate(model, loss_fn, (x, y), metrics="mse")  # still there when asked for


def test_accuracy_asked_for_on_regression_targets_fails_before_training():
    x, y = _regression()
    model = nn.Linear(3, 1)
    before = _weights(model)
    with pytest.raises(DataError, match=r"metric 'accuracy' needs class labels.*metrics=\('mse',\)"):
        train.fit(model, F.mse_loss, optim.SGD(model.parameters(), lr=0.1), (x, y), metrics=("accuracy",),
                  verbose=False)
    assert _equal(_weights(model), before)


def test_classification_losses_report_accuracy():
    x, y = _digits_like(64)
    for loss_fn in (F.cross_entropy, nn.CrossEntropyLoss(), lambda o, t: F.cross_entropy(o, t)):
        model = nn.Linear(8, 3)
        h = train.fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.1), (x, y), verbose=False)
        assert h.keys() == ["epoch", "loss", "accuracy", "lr", "time"]


# ------------------------------------------------------------------------------------------ finding 4
class _Prob(nn.Module):
    """A one-output model ending in a sigmoid: outputs probabilities, for BCELoss."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x):
        return self.fc(x).sigmoid()


def _binary(n=200):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 2)).astype(np.float32)
    return x, (x[:, :1] + 0.5 * x[:, 1:] > 0.3).astype(np.float32)


@pytest.mark.parametrize("kind", ["logits", "probabilities"])
def test_fit_reads_binary_outputs_as_the_loss_does(kind):
    x, y = _binary()
    cr.manual_seed(0)
    model = nn.Linear(2, 1) if kind == "logits" else _Prob()
    losses = [nn.BCEWithLogitsLoss(), F.binary_cross_entropy_with_logits] if kind == "logits" else \
        [nn.BCELoss(), F.binary_cross_entropy]
    for loss_fn in losses:
        h = train.fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.5), (x, y), (x, y), epochs=5,
                      verbose=False)
        out = train.predict(model, x)
        predicted = out > (0 if kind == "logits" else 0.5)
        assert h.last["val_accuracy"] == pytest.approx(np.mean(predicted == (y > 0.5)))
        assert h.last["val_accuracy"] > 0.9
        assert train.evaluate(model, loss_fn, (x, y))["accuracy"] == h.last["val_accuracy"]


def test_small_logits_are_not_mistaken_for_probabilities():
    """Every output in [0, 1] but used as logits with BCEWithLogits: sigmoid > 0.5 everywhere, so all class 1."""
    model = nn.Linear(1, 1)
    model.load_state_dict({"weight": np.array([[0.1]], np.float32), "bias": np.array([0.5], np.float32)})
    x = np.linspace(-1, 1, 8, dtype=np.float32)[:, None]
    y = np.ones((8, 1), np.float32)
    assert np.all((train.predict(model, x) >= 0) & (train.predict(model, x) <= 1))
    assert train.evaluate(model, nn.BCEWithLogitsLoss(), (x, y))["accuracy"] == 1.0
    assert train.evaluate(model, nn.BCELoss(), (x, y))["accuracy"] == 0.5  # the same numbers as probabilities


# ------------------------------------------------------------------------------------------ finding 7
def _diverging(lr_after=50.0):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = x @ np.ones((4, 1), np.float32) * 10
    cr.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = optim.SGD(model.parameters(), lr=0.05)
    sched = optim.lr_scheduler.FunctionLR(opt, lambda t, base: base if t < 3 else lr_after)
    return x, y, model, opt, sched


def test_non_finite_stop_runs_on_train_end_and_keeps_the_history():
    x, y, model, opt, sched = _diverging()
    snapshots, ended = {}, []

    class Snap(train.Callback):
        def on_epoch_end(self, epoch, logs):
            snapshots[epoch] = _weights(self.model)

        def on_train_end(self, logs=None):
            ended.append(True)

    es = train.EarlyStopping(monitor="loss", patience=5, restore_best_weights=True)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(NonFiniteError) as e:
        train.fit(model, F.mse_loss, opt, (x, y), epochs=30, batch_size=16, scheduler=sched, callbacks=[Snap(), es],
                  verbose=False)
    assert ended == [True]
    assert es.restored_epoch == es.best_epoch and es.best_epoch is not None
    assert _equal(_weights(model), snapshots[es.best_epoch])
    assert f"put back the weights of epoch {es.best_epoch}" in str(e.value)
    h = e.value.history
    assert isinstance(h, train.History) and h["epoch"] == sorted(snapshots) and es.best == min(h["loss"])


def test_non_finite_message_says_when_the_weights_already_changed():
    class NaNGrad(nn.Module):
        """A finite loss whose gradient for w is NaN (sqrt'(0) * 0): the step writes NaN into w."""

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)
            self.w = nn.Parameter(np.zeros(1, np.float32))

        def forward(self, x):
            return self.fc(x) + (self.w * self.w).sqrt()

    x, _ = _binary(32)
    y = x[:, :1].copy()
    cr.manual_seed(0)
    model = NaNGrad()
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(NonFiniteError) as e:
        train.fit(model, F.mse_loss, optim.SGD(model.parameters(), lr=0.1), (x, y), batch_size=16, verbose=False)
    assert "already hold NaN or inf (parameter 'w')" in str(e.value) and "before this step" not in str(e.value)
    assert len(e.value.history) == 0
    model2 = nn.Linear(2, 1)
    calls = {"n": 0}

    def nan_once(out, t):
        calls["n"] += 1
        return F.mse_loss(out, t) * (math.nan if calls["n"] == 2 else 1.0)

    with pytest.raises(NonFiniteError, match="before this step changed any weight"):
        train.fit(model2, nan_once, optim.SGD(model2.parameters(), lr=0.1), (x, y), batch_size=16, verbose=False)


# ------------------------------------------------------------------------------------------ finding 9
def test_seed_and_data_loaders():
    data = pytest.importorskip("chainrule.data")
    x, y = _digits_like()

    def loader(seed=None):
        return data.DataLoader(data.TensorDataset(x, y), batch_size=16, shuffle=True, seed=seed)

    a, b = _fit_twice(lambda: loader(seed=7), seed=0)
    assert _equal(a, b)  # a seeded loader: the same batches every run

    def after_manual_seed():
        cr.manual_seed(5)  # a loader without seed draws its seed from the global generator when it is made
        return loader()

    a, b = _fit_twice(after_manual_seed, seed=0)
    assert _equal(a, b)
    assert not _equal(_fit_twice(lambda: loader(seed=7), seed=0)[0], _fit_twice(lambda: loader(seed=8), seed=0)[0])
