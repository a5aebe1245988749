"""The embedded digits and the synthetic 2-D sets."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import load_digits, make_circles, make_moons, make_spirals, make_xor
from chainrule.errors import ChainruleError


def test_digits_shapes_ranges_counts():
    (x_train, y_train), (x_test, y_test) = load_digits()
    assert x_train.shape == (3823, 1, 8, 8) and x_test.shape == (1797, 1, 8, 8)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    for x in (x_train, x_test):
        assert x.min() == 0.0 and x.max() == 1.0
        np.testing.assert_array_equal(x * 16, np.round(x * 16))  # counts 0..16 divided by 16
    for y, n in ((y_train, 3823), (y_test, 1797)):
        counts = np.bincount(y, minlength=10)
        assert counts.sum() == n and len(counts) == 10
        assert counts.min() >= 0.09 * n and counts.max() <= 0.11 * n  # roughly balanced classes
    # the UCI test file starts with a 0, 1, 2 ... pattern; the training file with 0, 0, 7, 4, 6
    assert y_train[:5].tolist() == [0, 0, 7, 4, 6]
    assert y_test[:5].tolist() == [0, 1, 2, 3, 4]


def test_digits_flatten_and_fresh_copies():
    (xf, _), _ = load_digits(flatten=True)
    (x, _), _ = load_digits()
    assert xf.shape == (3823, 64)
    np.testing.assert_array_equal(xf, x.reshape(3823, 64))
    x[:] = 5  # mutating one result must not affect the next call
    (x2, _), _ = load_digits()
    assert x2.max() == 1.0


def test_digits_license_ships():
    from pathlib import Path

    import chainrule.data as d

    text = (Path(d.__file__).parent / "DIGITS_LICENSE.txt").read_text()
    assert "CC BY 4.0" in text and "Alpaydin" in text


GENERATORS = [make_moons, make_circles, make_spirals, make_xor]


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_synthetic_shapes_dtypes_balance(make, n):
    x, y = make(n, noise=0.1, seed=0)
    assert x.shape == (n, 2) and x.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1 or len(counts) == 1
    assert np.isfinite(x).all()


@pytest.mark.parametrize("make", GENERATORS)
def test_synthetic_deterministic(make):
    a, b = make(64, noise=0.2, seed=3), make(64, noise=0.2, seed=3)
    c = make(64, noise=0.2, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    cr.manual_seed(11)
    d = make(16, noise=0.1)
    cr.manual_seed(11)
    e = make(16, noise=0.1)
    np.testing.assert_array_equal(d[0], e[0])


def test_synthetic_geometry_without_noise():
    x, y = make_circles(40, seed=0, factor=0.3)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, rtol=1e-6)
    x, y = make_xor(100, seed=0)
    np.testing.assert_array_equal(x[:, 0] * x[:, 1] < 0, y == 1)
    x, y = make_moons(50, seed=0)
    assert (x[y == 0, 1] >= -1e-6).all() and (x[y == 1, 1] <= 0.5 + 1e-6).all()
    x, y = make_spirals(99, seed=0, classes=3)
    assert np.bincount(y).tolist() == [33, 33, 33] and np.abs(x).max() <= 1.0 + 1e-6


@pytest.mark.parametrize("call", [
    lambda: make_moons(0), lambda: make_moons(10, noise=-1), lambda: make_moons(10, noise=float("nan")),
    lambda: make_circles(10, factor=1.5), lambda: make_spirals(10, classes=1), lambda: make_xor(2.5),
    lambda: make_moons(10, seed=-3),
])
def test_synthetic_bad_arguments(call):
    with pytest.raises(ChainruleError):
        call()
