"""The Tensor's surface: construction, dtypes, properties, operators."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ArgumentTypeError, ChainruleError, DTypeError, ShapeError


def test_numpy_arrays_keep_their_dtype_and_numbers_get_the_default():
    assert cr.tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64
    assert cr.tensor(np.zeros(2, dtype=np.int32)).dtype == np.int32
    assert cr.tensor([1, 2]).dtype == np.float32
    assert cr.tensor(3.0).dtype == np.float32
    cr.set_default_dtype(np.float64)
    assert cr.tensor([1.0]).dtype == np.float64
    assert cr.zeros(2).dtype == np.float64
    cr.set_default_dtype(np.float32)
    assert cr.get_default_dtype() == np.float32


def test_set_default_dtype_rejects_non_floats():
    with pytest.raises(DTypeError):
        cr.set_default_dtype(np.int32)


def test_from_numpy_shares_memory_and_tensor_copies():
    a = np.zeros(3, dtype=np.float32)
    t, c = cr.from_numpy(a), cr.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 5 and c.numpy()[0] == 0


def test_constructors():
    assert cr.zeros(2, 3).shape == (2, 3) and cr.ones((4,)).numpy().sum() == 4
    assert cr.full((2, 2), 7.0).numpy().tolist() == [[7, 7], [7, 7]]
    assert cr.eye(3).numpy().trace() == 3
    assert cr.arange(5).dtype == np.int64 and cr.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert cr.zeros_like(cr.ones(2, 2)).shape == (2, 2) and cr.ones_like(np.zeros(3)).numpy().sum() == 3
    assert cr.randn(3, 2).dtype == np.float32 and cr.rand(5).numpy().max() < 1


def test_manual_seed_makes_draws_repeatable():
    cr.manual_seed(7)
    a = cr.randn(5).numpy()
    cr.manual_seed(7)
    np.testing.assert_array_equal(a, cr.randn(5).numpy())
    with pytest.raises(ChainruleError):
        cr.manual_seed(-1)


def test_properties():
    t = cr.tensor(np.arange(6.0).reshape(2, 3))
    assert (t.shape, t.ndim, t.size, t.dtype) == ((2, 3), 2, 6, np.float64)
    assert t.T.shape == (3, 2) and len(t) == 2
    assert cr.tensor([4.0]).item() == 4.0
    with pytest.raises(ShapeError):
        t.item()
    assert "tensor(" in repr(t) and "grad_fn=Mul" in repr(cr.tensor([1.0], requires_grad=True) * 2)


def test_grad_is_none_until_backward():
    x = cr.tensor([1.0], requires_grad=True)
    assert x.grad is None
    (x * 2).sum().backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == x.shape


def test_only_float_tensors_require_grad():
    with pytest.raises(DTypeError):
        cr.tensor(np.arange(3), requires_grad=True)


def test_bad_data_is_a_clear_error():
    with pytest.raises(ArgumentTypeError):
        cr.tensor("hello")
    with pytest.raises(ArgumentTypeError):
        cr.tensor([[1, 2], [3]])


def test_numbers_on_either_side_and_ndarray_on_the_left():
    x = cr.tensor([1.0, 2.0])
    f32 = np.ones(2, dtype=np.float32)
    for y in (2 + x, x + 2, 2 * x, x / 2, 2 / x, 2 - x, x**2, 2**x, f32 + x, f32 * x, x - f32):
        assert isinstance(y, cr.Tensor) and y.dtype == np.float32
    assert (np.ones(2) + x).dtype == np.float64  # NumPy's promotion: float64 array wins


def test_comparisons_return_boolean_arrays():
    x = cr.tensor([1.0, 2.0, 3.0])
    m = x > 1.5
    assert isinstance(m, np.ndarray) and m.dtype == bool and m.tolist() == [False, True, True]
    assert (x == cr.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]


def test_tensors_are_hashable():
    x = cr.tensor([1.0])
    assert {x: 1}[x] == 1


def test_shape_errors_name_both_shapes():
    a, b = cr.ones(2, 3), cr.ones(4, 5)
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(4, 5\)"):
        a @ b
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(4, 5\)"):
        a + b
    with pytest.raises(ShapeError, match="reshape"):
        a.reshape(4, 2)
    with pytest.raises(ShapeError):
        a.sum(axis=2)
    with pytest.raises(ShapeError):
        cr.concatenate([a, b], axis=0)
    with pytest.raises(ShapeError):
        a[5]
    with pytest.raises(ValueError):  # ShapeError is also a ValueError
        a.broadcast_to((3, 3))


def test_argmax_argmin():
    x = cr.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert x.argmax(axis=1).tolist() == [1, 0] and x.argmin().item() == 4
    assert cr.argmax(x, axis=0).dtype == np.int64


def test_ties_in_max_share_the_gradient():
    x = cr.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 0.5])


def test_sigmoid_is_stable_at_1e4():
    x = cr.tensor([-1e4, 0.0, 1e4], requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()  # conftest turns overflow warnings into errors
    np.testing.assert_allclose(y.numpy(), [0.0, 0.5, 1.0])
    assert np.isfinite(x.grad).all()
