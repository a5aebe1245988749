"""Tensor and autograd semantics from the third QA sweep (checked against PyTorch's behaviour):

- an in-place change whose value requires grad is refused (its gradient would be lost);
- an op's saved output changed through an alias is caught by backward;
- gradcheck fails on NaN, leaves other leaves' .grad alone and says when fn did not compute in float64;
- Tensor(t) shares t's in-place counter; copy / deepcopy; ndarray subclasses; argument checks;
- no_grad / enable_grad / detect_anomaly: re-entrant decorators, generators, per-thread grad mode.
"""

import copy
import threading
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import (
    ArgumentError,
    ArgumentTypeError,
    AutogradError,
    DTypeError,
    GradcheckError,
    ShapeError,
)


# ------------------------------------------------------------------------------------------ in place
def test_an_in_place_change_by_a_value_that_requires_grad_is_refused():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    reg = cr.zeros(())
    with pytest.raises(AutogradError, match=r"\+=: the value requires grad"):
        reg += (w * w).sum()
    buf = cr.zeros(4)
    with pytest.raises(AutogradError, match=r"t\[index\] = value: the value requires grad"):
        buf[0:2] = w * 2
    t = cr.ones(2)
    with pytest.raises(AutogradError):
        t *= w
    with cr.no_grad():  # nothing is recorded there anyway
        buf[0:2] = w * 2
        reg += w.sum()
    np.testing.assert_array_equal(buf.numpy(), [2, 4, 0, 0])
    reg = reg + (w * w).sum()  # out of place: recorded
    reg.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])


@pytest.mark.parametrize("make", [
    lambda x: x.tanh(), lambda x: x.exp(), lambda x: x.sigmoid(), lambda x: x.sqrt(), lambda x: 1.0 / x,
    lambda x: F.softmax(x), lambda x: F.log_softmax(x),
])
def test_a_saved_output_changed_through_detach_is_caught(make):
    x = cr.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = make(x)
    d = y.detach()
    d += 1.0
    with pytest.raises(AutogradError, match="its output, which it keeps for the gradient, was changed in place"):
        (y * cr.tensor([1.0, 2.0, 3.0])).sum().backward()


def test_an_output_the_op_does_not_keep_may_change():
    x = cr.tensor([0.5, 1.0], requires_grad=True)
    y = x * 2  # Mul keeps its inputs, not its output: as in PyTorch, no error
    y.detach()[0] = 7.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_tensor_of_a_tensor_shares_memory_and_counter():
    a = cr.tensor([3.0, 4.0])
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (w * a).sum()
    b = cr.Tensor(a)
    b += 1.0
    assert a.numpy()[0] == 4.0
    with pytest.raises(AutogradError, match="changed in place"):
        y.backward()
    assert cr.Tensor(a, dtype=np.float64)._vc is not a._vc  # a copy in another dtype: its own counter


# ------------------------------------------------------------------------------------------ gradcheck
def test_gradcheck_fails_when_a_gradient_is_nan():
    with np.errstate(all="ignore"):
        with pytest.raises(GradcheckError, match="analytic nan"):
            cr.gradcheck(lambda x: (x * x).sqrt(), cr.tensor([0.0, 1.0]))


def test_gradcheck_leaves_the_grad_of_other_leaves_alone():
    lin = nn.Linear(3, 2, dtype=np.float64)
    cr.gradcheck(lambda x: lin(x), cr.randn(4, 3))
    assert lin.weight.grad is None and lin.bias.grad is None
    lin.weight.grad = np.ones((2, 3))
    cr.gradcheck(lambda x: lin(x), cr.randn(4, 3))
    np.testing.assert_array_equal(lin.weight.grad, np.ones((2, 3)))


def test_gradcheck_says_when_fn_did_not_compute_in_float64():
    lin = nn.Linear(3, 2)  # float32 weights: the differences are taken in float32
    with pytest.raises(GradcheckError, match=r"fn computed in float32, not float64.*model.double\(\)"):
        cr.gradcheck(lambda x: lin(x), cr.randn(4, 3))
    assert lin.weight.grad is None


# ------------------------------------------------------------------------------------------ copies
def test_copy_and_deepcopy_of_a_leaf_are_independent():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    for c in (copy.copy(x), copy.deepcopy(x)):
        assert c.requires_grad and c.is_leaf and not np.shares_memory(c.data, x.data)
        (c * 10).sum().backward()
        np.testing.assert_array_equal(c.grad, [12.0, 12.0])
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_copying_a_tensor_computed_by_an_op_is_refused():
    y = cr.tensor([1.0], requires_grad=True) * 2
    for fn in (copy.copy, copy.deepcopy):
        with pytest.raises(AutogradError, match="only leaf tensors can be copied"):
            fn(y)
    assert copy.deepcopy(y.detach()).numpy()[0] == 2.0


def test_deepcopy_of_a_model_keeps_tied_weights_tied():
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    m[1].weight = m[0].weight
    m2 = copy.deepcopy(m)
    assert m2[0].weight is m2[1].weight and m2[0].weight is not m[0].weight
    assert isinstance(m2[0].weight, nn.Parameter)


# ------------------------------------------------------------------------------------------ arguments
def test_ndarray_subclasses_become_plain_arrays():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # NumPy's advice against np.matrix
        m = cr.tensor(np.matrix([[1.0, 2.0], [3.0, 4.0]]))
    assert type(m.numpy()) is np.ndarray
    np.testing.assert_array_equal((m * m).numpy(), [[1, 4], [9, 16]])  # elementwise, not a matrix product
    assert m.reshape(4).shape == (4,)
    with pytest.raises(DTypeError, match="masked arrays"):
        cr.tensor(np.ma.array([1.0, 2.0], mask=[0, 1]))


@pytest.mark.parametrize("grad", ["ab", [[1.0], [1.0, 2.0]], object(), 1j, [None, 1.0]])
def test_backward_refuses_a_grad_that_is_not_real_numbers(grad):
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ArgumentTypeError, match=r"backward\(grad=...\)"):
        y.backward(grad)


def test_a_grad_set_by_hand_that_cannot_accumulate_is_a_clear_error():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    x.grad = np.zeros(2, np.int64)
    with pytest.raises(AutogradError, match="cannot add the gradient into the .grad"):
        (x * 2).sum().backward()


@pytest.mark.parametrize("flag", ["no", "False", 1, None])
def test_requires_grad_must_be_a_bool(flag):
    with pytest.raises(ArgumentTypeError, match="requires_grad must be True or False"):
        cr.tensor([1.0]).requires_grad_(flag)
    with pytest.raises(ArgumentTypeError, match="requires_grad must be True or False"):
        cr.tensor([1.0], requires_grad=flag)


@pytest.mark.parametrize("make", [
    lambda: cr.tensor(np.ones(2), dtype="foo"), lambda: cr.zeros_like(cr.ones(2), dtype="foo"),
    lambda: cr.ones_like(np.ones(2), dtype="foo"), lambda: cr.arange(3, dtype="foo"), lambda: cr.zeros(2, dtype="foo"),
])
def test_a_bad_dtype_argument_is_a_dtype_error(make):
    with pytest.raises(DTypeError, match="not a dtype: 'foo'"):
        make()


def test_torch_dtypes_are_accepted():
    torch = pytest.importorskip("torch")
    assert cr.tensor(np.ones(2), dtype=torch.float64).dtype == np.float64
    assert cr.zeros_like(cr.ones(2), dtype=torch.float16).dtype == np.float16


def test_sizes_beyond_an_array_are_clear_errors():
    with pytest.raises(ArgumentError, match="arange"):
        cr.arange(10**20)
    with pytest.raises(ShapeError, match="more than an array can hold"):
        cr.zeros(2**40, 2**40)
    with pytest.raises(ArgumentTypeError, match="cannot make an array"):
        cr.tensor([-1], dtype="uint8")


# ------------------------------------------------------------------------------------------ grad modes
def test_decorators_are_re_entrant():
    @cr.no_grad()
    def down(n):
        return down(n - 1) if n else cr.is_grad_enabled()

    assert down(3) is False and cr.is_grad_enabled()

    @cr.enable_grad
    def up(n):
        return up(n - 1) if n else cr.is_grad_enabled()

    with cr.no_grad():
        assert up(2) is True and not cr.is_grad_enabled()

    @cr.detect_anomaly()
    def deep(n):
        return deep(n - 1) if n else cr.autograd.anomaly_enabled()

    before = np.geterr()
    assert deep(2) is True and not cr.autograd.anomaly_enabled() and np.geterr() == before


def test_one_manager_in_nested_with_blocks():
    ng = cr.no_grad()
    with ng:
        with ng:
            pass
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()


def test_a_decorated_generator_runs_in_the_mode_each_time_it_resumes():
    @cr.no_grad
    def gen():
        got = yield cr.is_grad_enabled()
        yield got, cr.is_grad_enabled()
        return "done"

    g = gen()
    assert next(g) is False and cr.is_grad_enabled()
    assert g.send("x") == ("x", False) and cr.is_grad_enabled()
    with pytest.raises(StopIteration) as stop:
        next(g)
    assert stop.value.value == "done"
    g2 = gen()
    next(g2)
    g2.close()
    assert cr.is_grad_enabled()


def test_grad_mode_belongs_to_each_thread():
    inside, release = threading.Event(), threading.Event()
    seen = []

    def worker():
        with cr.no_grad():
            inside.set()
            release.wait(30)
            seen.append(cr.is_grad_enabled())

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(30)
    x = cr.tensor([1.0], requires_grad=True)
    assert (x * 2).requires_grad and cr.is_grad_enabled()  # the other thread's no_grad is its own
    release.set()
    t.join(30)
    assert seen == [False]

    fresh = []
    with cr.no_grad():  # a new thread starts with recording on
        t = threading.Thread(target=lambda: fresh.append(cr.is_grad_enabled()))
        t.start()
        t.join(30)
    assert fresh == [True]


def test_a_view_made_under_no_grad_of_a_grad_tensor_cannot_change_in_place_while_recording():
    # PyTorch refuses this (is the change part of the graph or not?); before, it changed w silently
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with cr.no_grad():
        v = w[:2]
    for change in (lambda: v.__iadd__(1.0), lambda: v[:1].__imul__(2.0), lambda: v.__setitem__(0, 5.0)):
        with pytest.raises(AutogradError, match="made under no_grad"):
            change()
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0, 3.0])
    with cr.no_grad():
        v += 1.0  # both under no_grad: allowed (an optimizer step's pattern)
    d = v.detach()
    d += 1.0  # a detached alias: allowed, and seen by the in-place counter
    x = cr.tensor([1.0, 2.0])
    with cr.no_grad():
        u = x[:1]
    u += 1.0  # a base that needs no grad: allowed
    np.testing.assert_array_equal(w.numpy(), [3.0, 4.0, 3.0])
    np.testing.assert_array_equal(x.numpy(), [2.0, 2.0])
