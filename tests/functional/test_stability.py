"""Numerical stability of the activations and losses at |logits| = 1e4, in float32 and float64: finite
values, the right gradients, and no NumPy warnings (conftest turns them into errors). Also the notes'
hand-computed cross-entropy figures, one_hot, and the accuracy of the erf behind the exact GELU."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.errors import ArgumentError, ArgumentTypeError, DataError, DTypeError, ShapeError
from chainrule.functional.activations import _erf

DTYPES = [np.float32, np.float64]
E1 = math.exp(-1)
P0, P1 = 1 / (1 + E1), E1 / (1 + E1)  # softmax of (1e4, 1e4 - 1, -1e4) is (P0, P1, 0)


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _big(dtype, requires_grad=True):
    return cr.tensor(np.array([1e4, 1e4 - 1, -1e4], dtype=dtype), requires_grad=requires_grad)


def _check(t, value, grad, dtype, tol=None):
    tol = tol or (dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12))
    assert t.dtype == dtype
    assert np.all(np.isfinite(t.numpy()))
    np.testing.assert_allclose(t.numpy(), value, **tol)
    if grad is not None:
        assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_large_logits(dtype):
    x = _big(dtype)
    y = F.softmax(x)
    _check(y, [P0, P1, 0.0], None, dtype)
    y[0].backward()  # dy0/dx = y0 (onehot_0 - y)
    _check(y, [P0, P1, 0.0], x.grad, dtype)
    np.testing.assert_allclose(x.grad, [P0 * P1, -P0 * P1, 0.0], rtol=1e-5, atol=1e-7)
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_large_logits(dtype):
    x = _big(dtype)
    y = F.log_softmax(x)
    lse = math.log1p(E1)
    _check(y, [-lse, -1 - lse, -2e4 - lse], None, dtype)
    y.sum().backward()  # d(sum y)/dx = 1 - 3 softmax(x)
    np.testing.assert_allclose(x.grad, [1 - 3 * P0, 1 - 3 * P1, 1.0], rtol=1e-5, atol=1e-6)
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_large_logits(dtype):
    x = _big(dtype)
    y = F.logsumexp(x)
    _check(y, 1e4 + math.log1p(E1), None, dtype)
    y.backward()  # the gradient of logsumexp is the softmax
    np.testing.assert_allclose(x.grad, [P0, P1, 0.0], rtol=1e-5, atol=1e-7)
    neg = F.logsumexp(cr.tensor(np.array([[-1e4, -1e4], [-np.inf, -np.inf]], dtype=dtype)), axis=1)
    np.testing.assert_allclose(neg.numpy(), [-1e4 + math.log(2), -np.inf], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_softplus_elu_gelu_large(dtype):
    x = cr.tensor(np.array([1e4, -1e4, 3e38 if dtype == np.float32 else 1e300], dtype=dtype), requires_grad=True)
    for fn, want, grad in [
        (F.sigmoid, [1.0, 0.0, 1.0], [0.0, 0.0, 0.0]),
        (F.softplus, [1e4, 0.0, x.numpy()[2]], [1.0, 0.0, 1.0]),
        (F.elu, [1e4, -1.0, x.numpy()[2]], [1.0, 0.0, 1.0]),
        (F.gelu, [1e4, 0.0, x.numpy()[2]], [1.0, 0.0, 1.0]),
        (lambda t: F.gelu(t, approximate="tanh"), [1e4, 0.0, x.numpy()[2]], [1.0, 0.0, 1.0]),
    ]:
        x.grad = None
        y = fn(x)
        _check(y, want, None, dtype, tol=dict(rtol=1e-6, atol=0))
        y.sum().backward()
        np.testing.assert_allclose(x.grad, grad, atol=1e-30)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_on_probabilities_zero_and_one(dtype):
    p = cr.tensor(np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype), requires_grad=True)
    t = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    loss = F.binary_cross_entropy(p, t, reduction="none")
    _check(loss, [100.0, 100.0, 0.0, 0.0], None, dtype)  # log clamped at -100, as PyTorch
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad)) and p.grad.dtype == dtype
    assert p.grad[0] < 0 < p.grad[1]
    # probabilities from a saturated sigmoid are exactly 0 and 1: still finite
    z = cr.tensor(np.array([1e4, -1e4], dtype=dtype), requires_grad=True)
    F.binary_cross_entropy(F.sigmoid(z), np.array([0.0, 1.0], dtype=dtype)).backward()
    assert np.all(np.isfinite(z.grad))


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_large(dtype):
    z = cr.tensor(np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype), requires_grad=True)
    t = np.array([1.0, 1.0, 0.0, 0.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(z, t)
    _check(loss, 2e4 / 4, None, dtype)
    loss.backward()  # (sigmoid(z) - t) / n
    np.testing.assert_allclose(z.grad, np.array([0.0, -1.0, 1.0, 0.0]) / 4, atol=1e-7)
    assert z.grad.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_large_logits(dtype, smoothing):
    z = cr.tensor(np.array([[1e4, 1e4 - 1, -1e4], [-1e4, 1e4 - 1, 1e4]], dtype=dtype), requires_grad=True)
    labels = np.array([1, 2])
    loss = F.cross_entropy(z, labels, label_smoothing=smoothing, reduction="none")
    lse = math.log1p(E1)
    logp = np.array([[-lse, -1 - lse, -2e4 - lse], [-2e4 - lse, -1 - lse, -lse]])
    q = (1 - smoothing) * np.eye(3)[labels] + smoothing / 3
    _check(loss, -(q * logp).sum(axis=1), None, dtype, tol=dict(rtol=1e-5, atol=1e-4))
    loss.sum().backward()
    p = np.array([[P0, P1, 0.0], [0.0, P1, P0]])
    np.testing.assert_allclose(z.grad, p - q, rtol=1e-5, atol=1e-6)
    assert z.grad.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_probability_targets_large(dtype):
    z = cr.tensor(_big(dtype, False).numpy()[None], requires_grad=True)
    q = np.array([[0.5, 0.5, 0.0]], dtype=dtype)
    loss = F.cross_entropy(z, q)
    lse = math.log1p(E1)
    _check(loss, 0.5 * lse + 0.5 * (1 + lse), None, dtype)
    loss.backward()
    np.testing.assert_allclose(z.grad, [[P0 - 0.5, P1 - 0.5, 0.0]], rtol=1e-5, atol=1e-6)


def test_cross_entropy_figures_from_the_notes():
    """-log(0.504) ~ 0.685 and -log(0.006) ~ 5.116: logits whose softmax is (0.504, 0.490, 0.006)."""
    probs = np.array([0.504, 0.490, 0.006])
    z = cr.tensor(np.log(probs)[None].repeat(2, axis=0) + 3.0)  # any shift gives the same softmax
    np.testing.assert_allclose(F.softmax(z).numpy()[0], probs, rtol=1e-6)
    per_row = F.cross_entropy(z, np.array([0, 2]), reduction="none").numpy()
    np.testing.assert_allclose(per_row, [0.685, 5.116], atol=5e-4)
    assert F.cross_entropy(z, np.array([0, 2])).item() == pytest.approx((0.685 + 5.116) / 2, abs=5e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_keeps_dtype(dtype):
    z = cr.tensor(np.random.default_rng(0).standard_normal((128, 10)).astype(dtype), requires_grad=True)
    loss = F.cross_entropy(z, np.arange(128) % 10)
    assert loss.dtype == dtype
    loss.backward()
    assert z.grad.dtype == dtype


# ------------------------------------------------------------------------------------------ erf, gelu
def test_erf_matches_math_erf():
    x = np.concatenate([np.linspace(-7, 7, 2001), [0.0, -0.0, 1e-300, 30.0, -1e4]])
    want = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(_erf(x), want, rtol=2e-15, atol=1e-300)


def test_gelu_tails_keep_relative_precision():
    x = np.linspace(-30, 8, 1901)
    want = x * 0.5 * np.array([math.erfc(-v / math.sqrt(2)) for v in x])
    got = F.gelu(cr.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_activation_bad_arguments():
    x = cr.randn(2, 3)
    with pytest.raises(ShapeError, match="softmax"):
        F.softmax(x, axis=2)
    with pytest.raises(ArgumentTypeError, match="log_softmax"):
        F.log_softmax(x, axis=(0, 1))
    with pytest.raises(ArgumentError, match="approximate"):
        F.gelu(x, approximate="fast")
    with pytest.raises(ShapeError, match="logsumexp"):
        F.logsumexp(x, axis=5)


# ------------------------------------------------------------------------------------------- one_hot
def test_one_hot():
    got = F.one_hot(np.array([[1, 0], [2, 2]]), 3)
    assert got.shape == (2, 2, 3) and got.dtype == cr.get_default_dtype()
    np.testing.assert_array_equal(got.argmax(-1), [[1, 0], [2, 2]])
    assert got.sum() == 4
    assert F.one_hot([0, 1], 2, dtype=np.float64).dtype == np.float64
    assert F.one_hot(np.array([], dtype=np.int64), 4).shape == (0, 4)


def test_one_hot_bad_input():
    with pytest.raises(DataError, match=r"label 3 is out of range \[0, 3\)"):
        F.one_hot(np.array([0, 3]), 3)
    with pytest.raises(DataError, match="-1"):
        F.one_hot(np.array([-1]), 3)
    with pytest.raises(DTypeError, match="integers.*float"):
        F.one_hot(np.array([0.0, 1.0]), 3)
    with pytest.raises(ArgumentError, match="num_classes"):
        F.one_hot(np.array([0]), 0)
