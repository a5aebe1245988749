"""fit / evaluate / predict and the notes' models after the third QA sweep."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim, train
from chainrule.errors import ArgumentError, ArgumentTypeError, DataError, NonFiniteError
from chainrule.nn import models


def _xy(n=40, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, k, n)


class _LastStep(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=True)

    def forward(self, x):
        return self.lstm(x)  # (out, (h, c)), as PyTorch's


def test_a_model_that_returns_a_tuple_is_a_clear_error_in_predict():
    with pytest.raises(ArgumentTypeError, match="the model returned a tuple, not one tensor"):
        train.predict(_LastStep(), np.random.rand(6, 5, 3).astype(np.float32))


def test_a_tuple_output_trains_and_validates_when_the_loss_takes_it():
    m = _LastStep()
    xs, yz = np.random.rand(6, 5, 3).astype(np.float32), np.zeros((6, 4), np.float32)

    def loss(out, t):
        return ((out[0][:, -1] - t) ** 2).mean()

    h = train.fit(m, loss, optim.SGD(m.parameters(), lr=0.1), (xs, yz), (xs, yz), epochs=2, metrics=[],
                  verbose=False)
    assert len(h["val_loss"]) == 2 and np.isfinite(h["val_loss"]).all()


def test_a_nan_batch_leaves_batch_norm_statistics_alone_and_is_named():
    x, y = _xy()
    x[20, 1] = np.nan
    m = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    with pytest.raises(NonFiniteError, match="the batch's inputs hold NaN or inf"):
        train.fit(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1), (x, y), batch_size=8, shuffle=False,
                  verbose=False)
    assert np.isfinite(m[1].running_mean).all() and np.isfinite(m[1].running_var).all()
    assert np.isfinite(train.predict(m, np.nan_to_num(x))).all()


def test_an_x_y_tuple_of_short_lists_is_arrays_not_batches():
    lin = nn.Linear(2, 2)
    as_lists = train.evaluate(lin, nn.MSELoss(), ([[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]))
    x, y = np.array([[1, 2], [3, 4]], np.float32), np.zeros((2, 2), np.float32)
    as_arrays = train.evaluate(lin, nn.MSELoss(), (x, y))
    assert as_lists["loss"] == pytest.approx(as_arrays["loss"])


def test_batches_with_sample_weights_are_refused_not_ignored():
    x, y = _xy()
    w = np.ones(len(x), np.float32)
    loader = cr.data.DataLoader(cr.data.TensorDataset(x, y, w), batch_size=8)
    m = nn.Linear(4, 3)
    with pytest.raises(DataError, match="sample weights and extra items are not supported"):
        train.fit(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1), loader, verbose=False)


@pytest.mark.parametrize("metrics, match", [
    ([("loss", lambda y, o: 1.0)], "may not be called 'loss'"),
    ([("lr", lambda y, o: 1.0)], "may not be called 'lr'"),
    ([("val_x", lambda y, o: 1.0)], "may not be called 'val_x'"),
    ([lambda y, o: 1.0, lambda y, o: 2.0], "two metrics are called '<lambda>'"),
])
def test_metric_names_that_would_overwrite_history_are_refused(metrics, match):
    x, y = _xy()
    m = nn.Linear(4, 3)
    with pytest.raises(ArgumentError, match=match):
        train.fit(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1), (x, y), metrics=metrics, verbose=False)


@pytest.mark.parametrize("value", [None, np.ones(3)])
def test_a_metric_must_return_one_number(value):
    x, y = _xy()
    m = nn.Linear(4, 3)
    with pytest.raises(ArgumentTypeError, match="metric 'm' must return one number"):
        train.fit(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1), (x, y),
                  metrics=[("m", lambda y, o: value)], verbose=False)


def test_evaluate_and_predict_restore_every_module_s_own_mode():
    x, y = _xy()
    m = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 3))
    m.train()
    m[1].eval()  # a frozen batch-norm layer inside a training model
    train.evaluate(m, nn.CrossEntropyLoss(), (x, y))
    train.predict(m, x)
    assert [mod.training for mod in m.modules()] == [True, True, False, True]


def test_get_model_input_shape_and_batchnorm_flag_are_checked():
    for shape in ((1, 1, 8, 8), ()):
        with pytest.raises(ArgumentError, match=r"input_shape must be \(F,\) or \(H, W\) or \(C, H, W\)"):
            models.get_model("mlp", shape, 10)
    with pytest.raises(ArgumentTypeError, match="batchnorm must be True or False"):
        models.mlp([4, 3, 2], batchnorm="no")
    with pytest.raises(ArgumentTypeError, match="batchnorm must be True or False"):
        models.get_model("mlp", (4,), 2, batchnorm="no")


def test_a_monitor_the_logs_will_not_hold_is_refused_before_training():
    x, y = _xy()
    m = nn.Linear(4, 3)
    w = m.weight.numpy().copy()
    for cb in (train.EarlyStopping(monitor="val_acc"), train.ModelCheckpoint("unused", monitor="val_acc")):
        with pytest.raises(ArgumentError, match="monitor 'val_acc' will not be in the epoch's logs"):
            train.fit(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1), (x, y), (x, y),
                      metrics=["accuracy"], callbacks=[cb], verbose=False)
    np.testing.assert_array_equal(m.weight.numpy(), w)  # nothing trained
    with pytest.raises(ArgumentError, match="mode must be 'min' or 'max'"):
        train.History().best(mode="maximum")


def test_a_resumed_file_checkpoint_keeps_the_best_it_holds(tmp_path):
    x, y = _xy(60)
    xv, yv = _xy(30, seed=1)
    path = tmp_path / "best.safetensors"
    cr.manual_seed(0)
    m = nn.Linear(4, 3)
    opt = optim.SGD(m.parameters(), lr=0.1)
    train.fit(m, nn.CrossEntropyLoss(), opt, (x, y), (xv, yv), epochs=1, callbacks=[train.ModelCheckpoint(path)],
              verbose=False)
    first = cr.load(path)["best"]
    with cr.no_grad():  # a resumed run that only gets worse must not replace the best file
        m.weight.data[...] *= 50.0
    train.fit(m, nn.CrossEntropyLoss(), opt, (x, y), (xv, yv), epochs=2, initial_epoch=1,
              callbacks=[train.ModelCheckpoint(path)], verbose=False, shuffle=False)
    saved = cr.load(path)
    assert saved["epoch"] == 1 and saved["best"] == first


def test_resnet_says_which_option_fits_which_input():
    with pytest.raises(ArgumentError, match=r"resnet takes channels on images and hidden on vectors.*\(1, 8, 8\)"):
        models.get_model("resnet", (1, 8, 8), 10, hidden=8)
    with pytest.raises(ArgumentError, match=r"resnet takes channels on images"):
        models.get_model("resnet", (5,), 2, channels=8)
