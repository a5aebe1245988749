"""The speed paths keep the semantics: adopted leaf gradients, the malloc tuning at import, BLAS's axpby."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.backend import tune_malloc
from chainrule.functional.elementwise import maximum0


def test_linear_weight_grad_is_right_and_accumulates():
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((5, 3)))  # float64 throughout: exact comparisons
    w = cr.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = cr.tensor(rng.standard_normal(4), requires_grad=True)
    gy = rng.standard_normal((5, 4))
    F.linear(x, w, b).backward(gy)
    np.testing.assert_allclose(w.grad, gy.T @ x.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad, gy.sum(0), rtol=1e-12)
    first = w.grad.copy()
    F.linear(x, w, b).backward(gy)  # the adopted array is the leaf's own: += on it is safe
    np.testing.assert_allclose(w.grad, 2 * first, rtol=1e-12)


def test_leaf_shared_by_a_fresh_op_and_another_op():
    w = cr.tensor(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), requires_grad=True)
    x = cr.ones(3, 2)
    (F.linear(x, w).sum() + (w * w).sum()).backward()
    np.testing.assert_allclose(w.grad, 3 + 2 * w.numpy())


class _ReturnsAView(Function):
    """y = 2 x, whose backward (wrongly claiming fresh arrays) returns a view of a buffer it keeps."""

    fresh_grads = True
    buf = np.zeros((2, 3), np.float32)

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        np.multiply(gy, 2, out=_ReturnsAView.buf)
        return _ReturnsAView.buf[:, :]  # a view: the engine must copy it, not adopt it


def test_views_are_copied_even_from_fresh_ops():
    x = cr.ones(2, 3, requires_grad=True)
    _ReturnsAView.apply(x).sum().backward()
    _ReturnsAView.buf[...] = 99
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2, np.float32))


def test_gradients_shared_between_inputs_are_not_adopted():
    x = cr.ones(3, requires_grad=True)
    (x + x).sum().backward()  # add's backward hands the same gy to both of its inputs
    np.testing.assert_array_equal(x.grad, [2, 2, 2])


def test_broadcast_and_cast_gradients_reach_the_leaf_right():
    w = cr.tensor(np.ones((1, 3), np.float32), requires_grad=True)
    x = cr.tensor(np.ones((4, 3), np.float64))
    (x * w).sum().backward()  # gradient summed over the broadcast axis and cast to float32
    assert w.grad.dtype == np.float32 and w.grad.shape == (1, 3)
    np.testing.assert_array_equal(w.grad, [[4, 4, 4]])


def test_tune_malloc_is_a_bool_and_can_be_switched_off():
    assert isinstance(tune_malloc(), bool)
    env = dict(os.environ, CHAINRULE_MALLOC_TUNING="0")
    code = "import chainrule.backend as b; print(b.malloc_tuned)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("shape", [(128, 512), (3, 5), (0, 256), (256,), (2, 128, 4)])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64])
def test_maximum0_is_np_maximum_with_zero(shape, dtype):
    x = (np.random.default_rng(0).standard_normal(shape) * 3).astype(dtype)
    if x.size > 2 and x.dtype.kind == "f":
        x.flat[:3] = [np.nan, -np.inf, -0.0]
    y, ref = maximum0(x), np.maximum(x, 0)
    assert y.dtype == ref.dtype and y.shape == ref.shape and y.flags.owndata
    np.testing.assert_array_equal(y, ref)
    np.testing.assert_array_equal(np.signbit(y), np.signbit(ref))


def test_relu_through_the_fast_path_has_the_right_gradient():
    x = cr.tensor(np.linspace(-1, 1, 512, dtype=np.float32).reshape(2, 256), requires_grad=True)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, (x.numpy() > 0).astype(np.float32))
    with cr.no_grad():  # no mask is kept, the values are the same
        np.testing.assert_array_equal(F.relu(x).numpy(), np.maximum(x.numpy(), 0))


# ------------------------------------------------------------------------------ axpby (optimizer updates)
@pytest.fixture(params=["blas", "numpy"])
def axpby_path(request, monkeypatch):
    """Run a test through BLAS's axpby (where NumPy's OpenBLAS has it) and through the NumPy path."""
    if request.param == "numpy":
        monkeypatch.setattr(backend, "_axpby_funcs", {})
    else:
        monkeypatch.setattr(backend, "_axpby_funcs", backend._find_axpby())
        if not backend._axpby_funcs:
            pytest.skip("this NumPy build has no scipy-openblas64 axpby (the NumPy path is tested)")
    return request.param


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("a, b", [(2.5, 0.9), (1.0, 0.9), (-1.0, 1.0), (-0.05, 1.0), (0.1, 0.0), (0.0, 0.5)])
def test_axpby_is_a_x_plus_b_y_in_place(axpby_path, dtype, a, b):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 300, 70)).astype(dtype)  # above the BLAS threshold (16,384)
    want = a * x.astype(np.float64) + b * y.astype(np.float64)
    y_before = y
    out = backend.axpby(a, x, b, y, np.empty_like(y))
    assert out is y_before  # in place
    tol = {np.float16: 2e-3, np.float32: 1e-6, np.float64: 1e-14}[dtype]
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol)


def test_axpby_takes_views_and_overlaps_through_numpy(axpby_path):
    base = np.arange(40_000, dtype=np.float32)  # sizes above the BLAS threshold, so only layout decides
    x, y = base[::2].copy(), base[1::2]  # y is strided: not C-contiguous
    want = 2 * x + 3 * y
    backend.axpby(2.0, x, 3.0, y)
    np.testing.assert_allclose(y, want)
    np.testing.assert_allclose(base[1::2], want)  # written through the view
    z = np.arange(20_000, dtype=np.float32)  # x and y overlap by all but one element
    want = 2 * z[:-1] + z[1:]
    backend.axpby(2.0, z[:-1], 1.0, z[1:])
    np.testing.assert_allclose(z[1:], want)
    w = np.arange(20_000, dtype=np.float64)
    backend.axpby(1.0, w, 1.0, w)  # x is y: 2 * w
    np.testing.assert_array_equal(w, 2 * np.arange(20_000))
    big = np.ones(20_000, np.float32)
    backend.axpby(np.float32(2.0), np.ones(20_000, np.float32), np.float64(0.5), big)  # NumPy scalars as a, b
    np.testing.assert_array_equal(big, 2.5)
    small = np.ones(10, np.float32)  # below the threshold: NumPy on either path
    backend.axpby(3.0, np.ones(10, np.float32), 0.5, small, np.empty_like(small))
    np.testing.assert_array_equal(small, 3.5)


def test_axpby_blas_and_numpy_agree_to_rounding(monkeypatch):
    funcs = backend._find_axpby()
    if not funcs:
        pytest.skip("this NumPy build has no scipy-openblas64 axpby")
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((2, 669_706)).astype(np.float32)
    ys = []
    for f in (funcs, {}):
        monkeypatch.setattr(backend, "_axpby_funcs", f)
        ys.append(backend.axpby(-0.05, x, 0.9, y.copy()))
    np.testing.assert_allclose(ys[0], ys[1], rtol=1e-6, atol=1e-7)


def test_axpby_finds_the_blas_inside_numpys_wheel_and_can_be_switched_off():
    here = os.path.dirname(np.__file__)
    bundled = glob.glob(os.path.join(here + ".libs", "*scipy_openblas64_*")) + glob.glob(
        os.path.join(here, ".dylibs", "*scipy_openblas64_*"))
    funcs = backend._find_axpby()
    if len(bundled) == 1:  # a NumPy wheel: both precisions must be found
        assert set(funcs) == {np.dtype(np.float32), np.dtype(np.float64)}
    else:
        assert funcs == {}
    env = dict(os.environ, CHAINRULE_BLAS_AXPBY="0")
    code = "import chainrule.backend as b; print(b._find_axpby())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "{}"


def test_sgd_momentum_is_the_same_through_blas_and_numpy(monkeypatch):
    funcs = backend._find_axpby()
    results = []
    for f in (funcs, {}):
        monkeypatch.setattr(backend, "_axpby_funcs", f)
        w = cr.nn.Parameter(cr.tensor(np.linspace(-1, 1, 20_000, dtype=np.float32)))  # BLAS-sized
        opt = cr.optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.2)
        v = np.zeros(20_000)
        ref = w.numpy().astype(np.float64)
        for step in range(5):
            opt.zero_grad()
            (w * w).sum().backward()
            g = 2 * ref
            v = g if step == 0 else 0.9 * v + 0.8 * g
            ref = ref - 0.1 * v
            opt.step()
        np.testing.assert_allclose(w.numpy(), ref, rtol=1e-5, atol=1e-6)
        results.append(w.numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
