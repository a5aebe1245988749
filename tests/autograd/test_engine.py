"""Engine regressions: the chain rule over whole graphs."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import AutogradError, ShapeError


def test_x_times_x_gives_2x():
    x = cr.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, -4.0, 6.0])


def test_diamond_and_reused_nodes_sum_contributions():
    x = cr.tensor([0.5, 1.5], dtype=np.float64, requires_grad=True)
    a = x.exp()
    b = a * 2
    c = a.sin() if hasattr(a, "sin") else a.tanh()
    y = (b + c + a * a).sum()  # a reaches y along three paths
    y.backward()
    ex = np.exp(x.numpy())
    want = ex * (2 + (1 - np.tanh(ex) ** 2) + 2 * ex)
    np.testing.assert_allclose(x.grad, want, rtol=1e-12)


def test_chain_of_10000_ops_needs_no_recursion():
    x = cr.tensor([1.0], dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**10_000], rtol=1e-9)


def test_no_grad_builds_no_graph():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        y = x * 2 + 1
    assert not y.requires_grad and y._ctx is None
    z = x * 2
    assert z.requires_grad and z._ctx is not None


def test_no_grad_as_decorator():
    @cr.no_grad()
    def f(t):
        return t * 3

    assert not f(cr.tensor([1.0], requires_grad=True)).requires_grad


def test_backward_twice_accumulates_with_retain_graph():
    x = cr.tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [8.0])


def test_two_graphs_accumulate_into_the_same_leaf():
    x = cr.tensor([2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [7.0])


def test_backward_through_a_freed_graph_is_a_clear_error():
    x = cr.tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(AutogradError, match="retain_graph"):
        y.backward()


def test_saved_arrays_are_freed_after_backward():
    x = cr.tensor(np.ones(3), requires_grad=True)
    y = x.exp()
    fn = y._ctx
    y.sum().backward()
    assert fn.released and not hasattr(fn, "y")


def test_non_scalar_backward_needs_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(AutogradError, match="scalar"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])


def test_backward_grad_of_wrong_shape():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ShapeError):
        (x * 2).backward(np.ones(3))


def test_backward_without_requires_grad_is_a_clear_error():
    with pytest.raises(AutogradError, match="requires_grad"):
        cr.tensor([1.0]).sum().backward()


def test_only_differentiable_inputs_get_grads():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c = cr.tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad, [3.0, 4.0])


def test_retain_grad_on_intermediate():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, [6.0, 12.0])
    np.testing.assert_allclose(x.grad, [18.0, 36.0])


def test_broadcast_gradient_is_summed_back_to_the_input_shape():
    x = cr.tensor(np.ones((3, 1)), requires_grad=True)
    b = cr.tensor(np.ones(4), requires_grad=True)
    (x + b).sum().backward()
    assert x.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_allclose(x.grad, 4.0)
    np.testing.assert_allclose(b.grad, 3.0)


def test_mixed_float32_float64_follows_numpy_and_grads_keep_each_dtype():
    a = cr.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    b = cr.tensor(np.ones(3, dtype=np.float64), requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_float32_stays_float32_through_a_small_network():
    x = cr.randn(4, 3)
    w = cr.randn(3, 2, requires_grad=True)
    y = ((x @ w).tanh().sigmoid() * 2.0 - 1).relu().mean()
    assert y.dtype == np.float32
    y.backward()
    assert w.grad.dtype == np.float32


def test_multi_output_function_fills_missing_gradients_with_zeros():
    class Split(cr.Function):
        def forward(self, x):
            return x[:1].copy(), x[1:].copy()

        def backward(self, gys):
            return np.concatenate(gys)

    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    first, rest = Split.apply(x)
    (rest * 5).sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 5.0, 5.0])


def test_detach_cuts_the_graph_and_shares_memory():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


def test_anomaly_mode_names_the_op_in_forward_and_backward():
    with cr.detect_anomaly(check_forward=True):
        with pytest.raises(cr.NonFiniteError, match="Log.forward"):
            cr.tensor([-1.0]).log()
    with cr.detect_anomaly():
        x = cr.tensor([0.0], requires_grad=True)
        y = x.sqrt() * 0  # finite forward, inf * 0 = NaN gradient
        with pytest.raises(cr.NonFiniteError, match="Sqrt.backward"):
            y.sum().backward()
