"""predict on lists of samples (QA2 practice #1) and fit called again on the same loader (QA2 practice #2)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, nn, optim, train
from chainrule.errors import DataError


# ------------------------------------------------------------------------------------------ predict's lists
def test_a_list_of_rows_is_stacked_like_fit_does():
    rows = list(np.random.default_rng(0).random((5, 64), dtype=np.float32))
    model = nn.Linear(64, 10)
    out = train.predict(model, rows)
    assert out.shape == (5, 10)
    np.testing.assert_array_equal(out, train.predict(model, np.stack(rows)))
    np.testing.assert_allclose(train.predict(model, tuple(rows), batch_size=2), out, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(train.predict(model, [cr.tensor(r) for r in rows]), out)


def test_a_list_of_images_goes_through_a_cnn():
    imgs = list(np.random.default_rng(0).random((5, 1, 8, 8), dtype=np.float32))
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(72, 10))
    out = train.predict(cnn, imgs, batch_size=2)
    np.testing.assert_allclose(out, train.predict(cnn, np.stack(imgs)), rtol=1e-5, atol=1e-6)  # BLAS: per batch


def test_lists_mean_the_same_in_fit_evaluate_and_predict():
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 4), dtype=np.float32), rng.integers(0, 3, 32)
    model = nn.Linear(4, 3)
    logs = train.evaluate(model, nn.CrossEntropyLoss(), (list(x), list(y)))
    acc = np.mean(train.predict(model, list(x)).argmax(1) == y)
    assert logs["accuracy"] == pytest.approx(acc)


def test_lists_of_batches_are_batches():
    rng = np.random.default_rng(0)
    x, y = rng.random((10, 4), dtype=np.float32), rng.integers(0, 3, 10)
    model = nn.Linear(4, 3)
    whole = train.predict(model, x)

    def same(a):
        np.testing.assert_allclose(a, whole, rtol=1e-5, atol=1e-6)  # batch sizes differ: BLAS rounding

    same(train.predict(model, [(x[:6], y[:6]), (x[6:], y[6:])]))
    same(train.predict(model, [(x[:6],), (x[6:],)]))
    same(train.predict(model, list(data.DataLoader(data.TensorDataset(x), batch_size=3))))
    same(train.predict(model, data.DataLoader(data.TensorDataset(x, y), batch_size=3)))


def test_samples_of_different_shapes_are_an_error_naming_the_rule():
    with pytest.raises(DataError, match=r"predict: x is a list of 2 arrays, read as one sample each.*\(x,\)"):
        train.predict(nn.Linear(4, 3), [np.zeros((6, 4), np.float32), np.zeros((4, 4), np.float32)])


# ------------------------------------------------------------------------------------------ fit on a loader again
class _Spy(nn.Module):
    """Records the first feature of every training batch: the sample ids, when x[:, 0] is the id."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(1, 2)
        self.seen = []

    def forward(self, t):
        if self.training:
            self.seen.append(t.numpy()[:, 0].astype(int).tolist())
        return self.lin(t)


def _ids_loader(seed=0, shuffle=True):
    x = np.arange(12, dtype=np.float32).reshape(12, 1)
    return data.DataLoader(data.TensorDataset(x, np.zeros(12, np.int64)), batch_size=4, shuffle=shuffle, seed=seed)


def _fit_calls(loader, calls, **kw):
    model = _Spy()
    opt = optim.SGD(model.parameters(), lr=0.0)
    out = []
    for _ in range(calls):
        model.seen.clear()
        train.fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=kw.pop("epochs", 1), verbose=False, **kw)
        out.append(np.concatenate(model.seen).tolist())
    return out


def test_fit_again_on_the_same_loader_continues_its_epochs():
    seen = _fit_calls(_ids_loader(), 3)
    assert seen[0] != seen[1] != seen[2]
    fresh = _ids_loader()
    assert seen == [fresh.order(k).tolist() for k in range(3)]  # as `for batch in loader` three times
    unseeded = _fit_calls(_ids_loader(seed=None), 2)
    assert unseeded[0] != unseeded[1]


def test_seed_or_initial_epoch_number_the_loaders_epochs():
    seen = _fit_calls(_ids_loader(), 2, seed=3)
    assert seen[0] == seen[1]  # fit(seed=3, epochs=1) again repeats its epoch 1, as with (x, y) arrays
    model = _Spy()
    train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0), _ids_loader(), epochs=4,
              initial_epoch=2, verbose=False)
    fresh = _ids_loader()
    assert np.concatenate(model.seen).tolist() == fresh.order(2).tolist() + fresh.order(3).tolist()


@pytest.mark.parametrize("loader_seed,fit_seed", [(0, None), (None, 5), (0, 5)])
def test_a_resumed_fit_on_a_loader_repeats_the_straight_run(loader_seed, fit_seed):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 3)).astype(np.float32), rng.integers(0, 2, 40)

    def make():
        cr.manual_seed(1)
        model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.0 if fit_seed is None else 0.3), nn.Linear(8, 2))
        loader = data.DataLoader(data.TensorDataset(x, y), batch_size=8, shuffle=True, seed=loader_seed)
        return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), loader

    model, opt, loader = make()
    train.fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=4, seed=fit_seed, verbose=False)
    first, opt2, loader2 = make()
    train.fit(first, nn.CrossEntropyLoss(), opt2, loader2, epochs=2, seed=fit_seed, verbose=False)
    state, ostate = first.state_dict(), opt2.state_dict()
    resumed, opt3, loader3 = make()
    resumed.load_state_dict(state)
    opt3.load_state_dict(ostate)
    train.fit(resumed, nn.CrossEntropyLoss(), opt3, loader3, epochs=4, initial_epoch=2, seed=fit_seed,
              verbose=False)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, resumed.state_dict()[k], err_msg=k)


def test_an_iterable_with_set_epoch_but_no_counter_still_moves_on_each_epoch():
    class Sampler:
        def __init__(self):
            self.calls = []

        def set_epoch(self, k):
            self.calls.append(k)

        def __iter__(self):
            x = np.ones((4, 1), np.float32)
            return iter([(x, np.zeros(4, np.int64))])

    s = Sampler()
    model = nn.Linear(1, 2)
    train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), s, epochs=3, verbose=False)
    assert s.calls == [0, 1, 2]
