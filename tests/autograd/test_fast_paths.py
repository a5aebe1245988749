"""The engine's speed paths keep the semantics: adopted leaf gradients, and the malloc tuning at import."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
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
