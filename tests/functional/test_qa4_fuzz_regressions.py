"""QA sweep 4: defects found by the differential fuzz against PyTorch, each pinned by a test that runs
without torch (the torch cross-check is skipped when torch is missing)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F


def test_clip_with_a_bound_that_broadcasts_x_to_a_bigger_shape():
    # the backward built its mask in place in x's shape, and crashed on the (2, 2) comparison
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.clip(x, hi=np.array([[1.5], [0.5]]))
    (y * cr.tensor([[1.0, 10.0], [100.0, 1000.0]])).sum().backward()
    assert y.shape == (2, 2)
    np.testing.assert_array_equal(y.numpy(), [[1.0, 1.5], [0.5, 0.5]])
    np.testing.assert_array_equal(x.grad, [1.0, 0.0])  # only x[0] <= 1.5 in the first row is inside


def test_clip_with_a_bigger_bound_matches_torch():
    torch = pytest.importorskip("torch")
    a, lo = np.array([-1.0, 0.5, 2.0]), np.array([[0.0], [1.0]])
    x = cr.tensor(a, requires_grad=True)
    cr.clip(x, lo, 1.5).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    torch.clamp(t, torch.tensor(lo), torch.tensor(1.5, dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


def test_an_empty_list_index_picks_nothing():
    # np.asarray([]) is float64, which was refused as a float index; NumPy and PyTorch give an empty result
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x[[]]
    assert y.shape == (0, 3)
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))
    with cr.no_grad():
        x[[]] = 5.0  # setitem shares the index cleaning
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_sum_of_small_unsigned_integers_is_int64_as_torch(dtype):
    # NumPy sums uint8 into uint64; PyTorch (whose dtypes chainrule follows) into int64
    a = np.array([[200, 100], [7, 255]], dtype=dtype)
    assert cr.sum(cr.tensor(a)).dtype == np.int64
    assert cr.tensor(a).sum(axis=0).dtype == np.int64
    assert cr.sum(cr.tensor(a)).item() == 562
    assert cr.sum(cr.tensor(np.array([1], np.uint64))).dtype == np.uint64  # too wide for int64: left alone


@pytest.mark.parametrize("x0, alpha", [(-20.0, 1.0), (-30.0, 2.0), (-5.0, 0.5)])
def test_elu_gradient_far_left_keeps_its_precision_in_float32(x0, alpha):
    # dL/dx = y + alpha cancelled to exactly 0 in float32 for x < -17 (y = -alpha + tiny); it is alpha exp(x)
    x = cr.tensor(np.array([x0], np.float32), requires_grad=True)
    F.elu(x, alpha).sum().backward()
    np.testing.assert_allclose(x.grad, [alpha * np.exp(x0)], rtol=1e-5)
    assert x.grad.dtype == np.float32
