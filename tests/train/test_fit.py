"""fit / evaluate / predict: learning, determinism, exact resumption, schedules, NaN stops, bad input."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, optim, train
from chainrule.errors import ArgumentError, ArgumentTypeError, DataError, NonFiniteError, ShapeError
from chainrule.optim import lr_scheduler as S


class MLP(nn.Module):
    def __init__(self, p=0.0, hidden=16):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, 2)
        self.p = p

    def forward(self, x):
        h = self.fc1(x).relu()
        return self.fc2(F.dropout(h, self.p, self.training))


def _xor(n=400, seed=0):
    """Two classes in opposite quadrants: not linearly separable."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.int64)


def _ce(out, y):
    return F.cross_entropy(out, y)


def _weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def _equal(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_fit_learns_a_nonlinear_problem():
    (x, y), (xv, yv) = _xor(600, 0), _xor(300, 1)
    cr.manual_seed(0)
    model = MLP(hidden=32)
    h = train.fit(model, _ce, optim.Adam(model.parameters(), lr=0.02), (x, y), (xv, yv), epochs=40,
                  batch_size=32, seed=0, verbose=False)
    assert len(h) == 40 and h["epoch"] == list(range(1, 41))
    assert h.keys() == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"]
    assert h["val_accuracy"][-1] >= 0.95, h["val_accuracy"][-5:]
    assert h["loss"][-1] < h["loss"][0]
    logs = train.evaluate(model, _ce, (xv, yv), metrics=("accuracy", "f1"))
    assert logs["loss"] == pytest.approx(h.last["val_loss"]) and logs["accuracy"] == h.last["val_accuracy"]
    pred = train.predict(model, xv, batch_size=64)
    assert pred.shape == (300, 2) and pred.dtype == np.float32
    assert np.mean(pred.argmax(1) == yv) == pytest.approx(logs["accuracy"])
    assert model.training  # fit leaves the model as it found it after validation: in training mode


def _run(epochs, seed=5, initial_epoch=0, model=None, opt=None, sched=None, callbacks=(), p=0.3):
    x, y = _xor(200, 3)
    if model is None:
        cr.manual_seed(11)
        model = MLP(p=p)
        opt = optim.Adam(model.parameters(), lr=0.01)
        sched = S.StepLR(opt, step_size=1, gamma=0.7)
    train.fit(model, _ce, opt, (x, y), epochs=epochs, batch_size=16, seed=seed, scheduler=sched,
              callbacks=callbacks, initial_epoch=initial_epoch, verbose=False)
    return model, opt, sched


def test_deterministic_given_seed():
    a, _, _ = _run(2)
    b, _, _ = _run(2)
    c, _, _ = _run(2, seed=6)
    assert _equal(_weights(a), _weights(b)) and not _equal(_weights(a), _weights(c))


def test_resume_is_bit_identical(tmp_path):
    straight, _, _ = _run(4)
    ckpt = train.ModelCheckpoint(tmp_path, save_best=False)
    _run(2, callbacks=[ckpt])
    cr.manual_seed(999)  # fresh objects, different init: everything comes from the file
    model = MLP(p=0.3)
    opt = optim.Adam(model.parameters(), lr=0.5)
    sched = S.StepLR(opt, step_size=1, gamma=0.7)
    saved = train.load_checkpoint(tmp_path / "last.safetensors", model, opt, sched)
    assert saved["epoch"] == 2 and saved["seed"] == 5 and sched.last_epoch == 2
    resumed, _, _ = _run(4, seed=saved["seed"], initial_epoch=saved["epoch"], model=model, opt=opt, sched=sched)
    assert _equal(_weights(resumed), _weights(straight))


def test_early_stopping_restores_best_weights():
    x, y = _xor(200, 0)
    cr.manual_seed(0)
    model = MLP()
    snapshots = {}

    class Snap(train.Callback):
        def on_epoch_end(self, epoch, logs):
            snapshots[epoch] = _weights(self.model)

    es = train.EarlyStopping(patience=2, restore_best_weights=True)
    # the validation labels are flipped: the better the fit, the worse the validation loss
    h = train.fit(model, _ce, optim.Adam(model.parameters(), lr=0.05), (x, y), (x, 1 - y), epochs=50,
                  callbacks=[Snap(), es], seed=0, verbose=False)
    assert es.stopped_epoch == len(h) == es.best_epoch + 2 < 50
    assert es.best == min(h["val_loss"])
    assert _equal(_weights(model), snapshots[es.best_epoch])


def test_early_stopping_rules():
    es = train.EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.01)
    assert es.mode == "max"
    es.on_train_begin()
    es.on_epoch_end(1, {"val_accuracy": 0.5})
    es.on_epoch_end(2, {"val_accuracy": 0.505})  # not better by more than min_delta
    assert es.stop_training and es.best_epoch == 1 and es.stopped_epoch == 2
    with pytest.raises(ArgumentError, match="val_loss"):
        es2 = train.EarlyStopping()
        es2.on_train_begin()
        es2.on_epoch_end(1, {"loss": 1.0})
    with pytest.raises(ArgumentError):
        train.EarlyStopping(patience=-1)
    with pytest.raises(ArgumentError):
        train.EarlyStopping(mode="best")


def test_model_checkpoint_folder(tmp_path):
    (x, y), (xv, yv) = _xor(100, 0), _xor(50, 1)
    model = MLP()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    cb = train.ModelCheckpoint(tmp_path / "ck", every=2)
    h = train.fit(model, _ce, opt, (x, y), (xv, yv), epochs=3, callbacks=[cb], verbose=False)
    last = cr.load(tmp_path / "ck" / "last.safetensors")
    best = cr.load(tmp_path / "ck" / "best.safetensors")
    assert last["epoch"] == 2 and set(last) >= {"model", "optimizer", "epoch", "logs", "best"}
    assert best["epoch"] == h.best("val_loss")["epoch"] and best["best"] == pytest.approx(min(h["val_loss"]))
    if best["epoch"] == 3:
        assert _equal(best["model"], _weights(model))
    fresh = MLP()
    fresh_opt = optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
    train.load_checkpoint(tmp_path / "ck" / "last.safetensors", fresh, fresh_opt)
    assert fresh_opt.state_dict()["state"].keys() == opt.state_dict()["state"].keys()


def test_model_checkpoint_file_template_and_fallback(tmp_path):
    x, y = _xor(64, 0)
    model = MLP()
    cbs = [train.ModelCheckpoint(tmp_path / "ep{epoch}.safetensors", save_best=False),
           train.ModelCheckpoint(tmp_path / "best.safetensors")]  # no val data: monitors 'loss'
    h = train.fit(model, _ce, optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=3, callbacks=cbs,
                  verbose=False)
    assert sorted(p.name for p in tmp_path.glob("ep*")) == ["ep1.safetensors", "ep2.safetensors", "ep3.safetensors"]
    best = cr.load(tmp_path / "best.safetensors")
    assert best["monitor"] == "loss" and best["epoch"] == h.best("loss")["epoch"]


def test_nan_loss_stops_with_a_clear_error_and_keeps_checkpoints(tmp_path):
    x, y = _xor(64, 0)
    model = MLP()
    opt = optim.SGD(model.parameters(), lr=0.1)
    calls = {"n": 0}
    before = {}

    def loss_fn(out, target):
        calls["n"] += 1
        loss = _ce(out, target)
        return loss * math.nan if calls["n"] == 6 else loss

    class Snap(train.Callback):
        def on_batch_end(self, step, logs):
            before[step] = _weights(self.model)

    ck = train.ModelCheckpoint(tmp_path, save_best=False)
    with pytest.raises(NonFiniteError, match=r"epoch 2, step 2 \(global step 6\)"):
        train.fit(model, loss_fn, opt, (x, y), epochs=3, batch_size=16, callbacks=[ck, Snap()], verbose=False)
    assert _equal(_weights(model), before[5])  # the NaN step changed nothing
    assert cr.load(tmp_path / "last.safetensors")["epoch"] == 1


def test_floating_point_errors_become_non_finite_errors():
    x, y = _xor(32, 0)
    model = MLP()

    def loss_fn(out, target):
        np.exp(np.float64(1000.0))  # overflows: a FloatingPointError under np.errstate(all='raise')
        return _ce(out, target)

    with np.errstate(over="raise"), pytest.raises(NonFiniteError, match="epoch 1, step 1"):
        train.fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.1), (x, y), verbose=False)


def test_schedulers_in_fit():
    x, y = _xor(64, 0)
    model = MLP()
    opt = optim.SGD(model.parameters(), lr=0.1)
    h = train.fit(model, _ce, opt, (x, y), epochs=3, scheduler=S.StepLR(opt, 1, gamma=0.5), verbose=False)
    assert h["lr"] == pytest.approx([0.1, 0.05, 0.025])
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = S.LinearDecay(opt, lr_end=0.0, total_steps=8)
    h = train.fit(model, _ce, opt, (x, y), epochs=2, batch_size=16, scheduler=sched, scheduler_interval="step",
                  verbose=False)
    assert h["lr"] == pytest.approx([0.1, 0.05]) and opt.param_groups[0]["lr"] == 0.0
    opt = optim.SGD(model.parameters(), lr=0.1)
    plateau = S.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=10.0, threshold_mode="abs")
    h = train.fit(model, _ce, opt, (x, y), epochs=3, scheduler=plateau, verbose=False)
    assert h["lr"] == pytest.approx([0.1, 0.1, 0.05])
    with pytest.raises(ArgumentError):
        train.fit(model, _ce, opt, (x, y), scheduler=plateau, scheduler_interval="step", verbose=False)


def test_loggers(tmp_path):
    x, y = _xor(64, 0)
    model = MLP()
    opt = optim.SGD(model.parameters(), lr=0.1)
    csv_path, json_path = tmp_path / "log.csv", tmp_path / "log.json"
    h = train.fit(model, _ce, opt, (x, y), epochs=2, verbose=False,
                  callbacks=[train.CSVLogger(csv_path), train.JSONLogger(json_path)])
    assert train.History.from_json(json_path).records == h.records
    assert train.History.from_csv(csv_path)["loss"] == pytest.approx(h["loss"])
    assert csv_path.read_text().splitlines()[0] == "epoch,loss,accuracy,lr,time"
    train.fit(model, _ce, opt, (x, y), epochs=4, initial_epoch=2, verbose=False,
              callbacks=[train.CSVLogger(csv_path, append=True), train.JSONLogger(json_path, append=True)])
    assert train.History.from_json(json_path)["epoch"] == [1, 2, 3, 4]
    assert train.History.from_csv(csv_path)["epoch"] == [1, 2, 3, 4]


def test_data_loaders_and_iterables():
    data = pytest.importorskip("chainrule.data")
    x, y = _xor(96, 0)
    model = MLP()
    opt = optim.SGD(model.parameters(), lr=0.1)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
    h = train.fit(model, _ce, opt, loader, loader, epochs=2, verbose=False)
    assert len(h) == 2 and "val_loss" in h
    batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 96, 32)]
    assert len(train.fit(model, _ce, opt, batches, epochs=2, verbose=False)) == 2
    assert train.predict(model, batches).shape == (96, 2)
    gen = ((x[i:i + 32], y[i:i + 32]) for i in range(0, 96, 32))
    with pytest.raises(ArgumentError, match="read only once"):  # found before the first epoch, not after it
        train.fit(model, _ce, opt, gen, epochs=2, verbose=False)
    assert len(train.fit(model, _ce, opt, gen, epochs=1, verbose=False)) == 1  # one epoch reads it once


def test_float64_data_keeps_a_float32_model_float32():
    x, y = _xor(64, 0)
    model = MLP()
    train.fit(model, _ce, optim.SGD(model.parameters(), lr=0.1), (x.astype(np.float64), y), verbose=False)
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_verbose_line_and_progress_bar(capsys):
    pytest.importorskip("tqdm")
    x, y = _xor(64, 0)
    model = MLP()
    train.fit(model, _ce, optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2, progress=True)
    out, err = capsys.readouterr()
    assert out.count("epoch ") == 2 and "epoch 2/2" in out and "accuracy" in out
    assert "epoch 2/2:" in err  # the bar
    train.fit(model, _ce, optim.SGD(model.parameters(), lr=0.1), (x, y), verbose=False)
    assert capsys.readouterr() == ("", "")  # not a terminal: no bar


@pytest.mark.parametrize("kwargs,error", [
    (dict(batch_size=0), ArgumentError), (dict(epochs=-1), ArgumentError), (dict(epochs=2, initial_epoch=3),
                                                                            ArgumentError),
    (dict(metrics=("acuracy",)), ArgumentError), (dict(callbacks=[object()]), ArgumentTypeError),
    (dict(scheduler_interval="batch"), ArgumentError),
])
def test_bad_arguments(kwargs, error):
    x, y = _xor(32, 0)
    model = MLP()
    with pytest.raises(error):
        train.fit(model, _ce, optim.SGD(model.parameters(), lr=0.1), (x, y), verbose=False, **kwargs)


def test_bad_data():
    x, y = _xor(32, 0)
    model = MLP()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ShapeError, match="31"):
        train.fit(model, _ce, opt, (x, y[:31]), verbose=False)
    with pytest.raises(ArgumentTypeError):
        train.fit(model, _ce, opt, x, verbose=False)
    with pytest.raises(DataError):
        train.fit(model, _ce, opt, (x[:0], y[:0]), verbose=False)
    with pytest.raises(DataError):
        train.fit(model, _ce, opt, [x[:4]], verbose=False)
    with pytest.raises(ArgumentError):
        train.predict(model, x, batch_size=0)


def test_batch_norm_skips_a_last_batch_of_one_sample():
    x, y = _xor(33, 0)  # batches of 8: 8, 8, 8, 8, 1
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    seen = []

    class Count(train.Callback):
        def on_batch_end(self, step, logs=None):
            seen.append(step)

    train.fit(model, _ce, optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=1, batch_size=8, verbose=False,
              callbacks=[Count()], seed=0)
    assert seen == [1, 2, 3, 4]
    batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 33, 8)]  # an iterable of batches: the same
    train.fit(model, _ce, optim.SGD(model.parameters(), lr=0.1), batches, epochs=1, verbose=False)
    plain = MLP()  # no batch norm: every sample is used
    seen.clear()
    train.fit(plain, _ce, optim.SGD(plain.parameters(), lr=0.1), (x, y), epochs=1, batch_size=8, verbose=False,
              callbacks=[Count()])
    assert seen == [1, 2, 3, 4, 5]
    with pytest.raises(ShapeError, match="more than one value per channel"):  # a single batch of 1: the layer says why
        train.fit(model, _ce, optim.SGD(model.parameters(), lr=0.1), (x[:1], y[:1]), epochs=1, verbose=False)
