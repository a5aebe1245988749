"""PyTorch semantics of the Tensor API that a user ports code by: dtype promotion, in-place updates,
NumPy conversion, the function forms on lists and numbers, and clear errors on bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import (
    ArgumentError,
    ArgumentTypeError,
    AutogradError,
    ChainruleError,
    DTypeError,
    ShapeError,
)

# ------------------------------------------------------------------------------------ dtype promotion
F32_CASES = {
    "numpy float64 scalar": lambda x: x * np.float64(2),
    "np.sqrt of an int": lambda x: x / np.sqrt(8),
    "numpy int64 scalar": lambda x: x * np.int64(2),
    "0-d float64 array": lambda x: x * np.array(2.0),
    "int64 tensor": lambda x: x + cr.arange(8),
    "int64 array exponents": lambda x: x.reshape(-1, 1) ** np.arange(3),
    "0-d float64 tensor": lambda x: x * cr.tensor(2.0, dtype=np.float64),
    "maximum with a numpy scalar": lambda x: cr.maximum(x, np.float64(0)),
    "clip with numpy scalars": lambda x: x.clip(np.float64(0), np.float64(1)),
    "bool on the right": lambda x: x + True,
}


@pytest.mark.parametrize("case", sorted(F32_CASES))
def test_float32_stays_float32(case):
    x = cr.randn(4, 8)
    assert F32_CASES[case](x).dtype == np.float32


def test_promotion_matches_torch():
    torch = pytest.importorskip("torch")
    pairs = [
        (np.arange(3), 0.5),
        (np.arange(3), 2),
        (np.ones(3, np.float32), np.ones(3, np.float64)),
        (np.ones(3, np.float32), np.int64(3)),
        (np.ones(3, np.int32), np.ones(3, np.int64)),
        (np.ones(3, bool), 2.0),
    ]
    for a, b in pairs:
        ours = (cr.tensor(a) * (cr.tensor(b) if isinstance(b, np.ndarray) else b)).dtype
        tb = torch.from_numpy(b) if isinstance(b, np.ndarray) else b
        theirs = (torch.from_numpy(a) * tb).dtype
        assert str(theirs) == f"torch.{ours}", (a.dtype, b, ours, theirs)


def test_gradient_reaches_a_tensor_of_another_dtype_in_its_own_dtype():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    s = cr.tensor(3.0, dtype=np.float64, requires_grad=True)
    y = w * s
    assert y.dtype == np.float32
    y.sum().backward()
    assert w.grad.dtype == np.float32 and s.grad.dtype == np.float64
    np.testing.assert_allclose(s.grad, 3.0)
    np.testing.assert_allclose(w.grad, [3.0, 3.0])


def test_where_of_numbers_has_the_default_dtype():
    assert cr.where(np.array([True, False]), 1.0, 0.0).dtype == np.float32


def test_operand_of_a_strange_type_is_a_clear_error():
    with pytest.raises(ArgumentTypeError, match="str"):
        cr.ones(2) + "a"


# ------------------------------------------------------------------------------------ in place
def test_manual_update_under_no_grad_trains():
    cr.manual_seed(0)
    m = nn.Linear(3, 1)
    x, y = cr.randn(16, 3), cr.randn(16, 1)
    losses = []
    for _ in range(20):
        loss = ((m(x) - y) ** 2).mean()
        m.zero_grad()
        loss.backward()
        with cr.no_grad():
            for p in m.parameters():
                p -= 0.1 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]
    assert m.weight.requires_grad and m.weight.is_leaf


def test_inplace_ops_change_the_tensor_itself():
    t = cr.tensor([1.0, 2.0])
    same = t
    t += 1
    t *= cr.tensor([2.0, 3.0])
    t -= np.float64(1)
    t /= 2
    assert t is same
    np.testing.assert_allclose(t.numpy(), [1.5, 4.0])
    assert t.dtype == np.float32


def test_inplace_on_a_leaf_that_requires_grad_needs_no_grad():
    w = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(AutogradError, match="no_grad"):
        w += 1
    with cr.no_grad():
        w += 1
    np.testing.assert_allclose(w.numpy(), [2.0])


def test_inplace_on_a_tensor_in_a_graph_is_refused_even_under_no_grad():
    w = cr.tensor([1.0], requires_grad=True)
    h = w * 2
    with cr.no_grad(), pytest.raises(AutogradError, match="detach"):
        h += 1


def test_changing_a_saved_input_before_backward_is_caught():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    a = cr.tensor([3.0, 4.0])
    loss = (a * w).sum()
    a += 1
    with pytest.raises(AutogradError, match="changed in place"):
        loss.backward()


def test_changing_an_input_after_backward_is_fine():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    a = cr.tensor([3.0, 4.0])
    (a * w).sum().backward()
    a += 1
    np.testing.assert_allclose(w.grad, [3.0, 4.0])


def test_setitem():
    t = cr.zeros(3)
    t[1] = 5
    t[np.array([0, 2])] = cr.tensor([1.0, 2.0])
    np.testing.assert_allclose(t.numpy(), [1.0, 5.0, 2.0])
    with pytest.raises(ShapeError):
        t[5] = 1.0
    with pytest.raises(ShapeError):
        t[:2] = np.ones(3)
    w = cr.zeros(2, requires_grad=True)
    with pytest.raises(AutogradError):
        w[0] = 1.0


def test_inplace_errors():
    i = cr.arange(3)
    with pytest.raises(DTypeError, match="float64 result"):
        i /= 2
    t = cr.zeros(2)
    with pytest.raises(ShapeError, match="broadcast"):
        t += np.ones(3)
    ro = cr.from_numpy(np.broadcast_to(np.zeros(1, np.float32), (3,)))
    with pytest.raises(ArgumentError, match="read-only"):
        ro += 1


# ------------------------------------------------------------------------------------ conversions
def test_np_array_copies_and_asarray_shares():
    t = cr.tensor([1.0, 2.0])
    a = np.array(t)
    a[0] = 99
    assert t.numpy()[0] == 1.0
    assert not np.shares_memory(np.copy(t), t.numpy())
    assert np.shares_memory(np.asarray(t), t.numpy())
    assert np.asarray(t, dtype=np.float32, copy=False) is t.numpy()
    with pytest.raises(ValueError):
        np.asarray(t, dtype=np.float64, copy=False)


def test_bool_of_a_tensor():
    assert bool(cr.tensor([1.0])) and not bool(cr.tensor(0.0))
    with pytest.raises(ArgumentError, match="ambiguous"):
        bool(cr.ones(2))


def test_cast_to_integer_is_not_differentiable():
    x = cr.tensor([1.4, 2.6], requires_grad=True)
    y = x.astype(np.int64)
    assert y.dtype == np.int64 and not y.requires_grad
    assert x.astype(np.float64).requires_grad


def test_requires_grad_false_on_a_computed_tensor():
    h = cr.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(AutogradError, match="detach"):
        h.requires_grad_(False)


def test_no_grad_as_a_bare_decorator():
    @cr.no_grad
    def double(x):
        return x * 2

    assert not double(cr.tensor([1.0], requires_grad=True)).requires_grad
    with pytest.raises(ArgumentTypeError):
        cr.no_grad(3)


@pytest.mark.parametrize("fn", ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sum", "mean", "max",
                                "transpose", "flatten"])
def test_function_forms_take_lists_as_float32(fn):
    out = getattr(cr, fn)([1.0, 2.0])
    assert isinstance(out, cr.Tensor) and out.dtype == np.float32
    assert getattr(cr, fn)(np.array([1.0, 2.0])).dtype == np.float64  # arrays keep their dtype


def test_number_in_a_function_form():
    assert cr.relu(2.0).item() == 2.0 and cr.relu(2.0).dtype == np.float32


# ------------------------------------------------------------------------------------ math fixes
def test_power_gradient_at_zero_matches_torch():
    torch = pytest.importorskip("torch")
    x0 = np.array([0.0, 0.5, 2.0])
    x = cr.tensor(x0, requires_grad=True)
    (x.reshape(-1, 1) ** np.arange(4)).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    (tx.reshape(-1, 1) ** torch.arange(4)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy())
    z = cr.tensor([0.0, 1.0], requires_grad=True)
    (z**0).sum().backward()
    np.testing.assert_array_equal(z.grad, [0.0, 0.0])


def test_gradcheck_on_transposed_and_fortran_inputs():
    a = np.random.default_rng(0).standard_normal((3, 4))
    for x in (a.T, np.asfortranarray(a), cr.from_numpy(a.T)):
        assert cr.gradcheck(lambda v: v * v, x).max_abs_error < 1e-6


def test_gradcheck_still_catches_a_wrong_derivative_on_a_transposed_input():
    class Wrong(cr.autograd.function.Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * 3.0

    a = np.random.default_rng(0).standard_normal((3, 4))
    with pytest.raises(cr.GradcheckError):
        cr.gradcheck(lambda v: Wrong.apply(v), a.T)


def test_gradcheck_arguments():
    assert cr.gradcheck(lambda v: v * v, np.zeros((0, 3))).inputs[0].max_abs_error == 0.0
    with pytest.raises(ArgumentError, match="eps"):
        cr.gradcheck(lambda v: v, np.ones(2), eps=0)


def test_arange():
    np.testing.assert_array_equal(cr.arange(10, step=2).numpy(), np.arange(10, step=2))
    np.testing.assert_array_equal(cr.arange(2, 10, 3).numpy(), np.arange(2, 10, 3))
    assert cr.arange(1.0, 2.0, 0.5).dtype == np.float32
    with pytest.raises(ArgumentError):
        cr.arange(0, 1, 0)


def test_zero_d_tensors_accept_axis_0_like_torch():
    s = cr.tensor(2.0, requires_grad=True)
    for y in (s.sum(axis=0), s.max(axis=0), s.mean(axis=-1), s.squeeze(0)):
        assert y.shape == () and y.item() == 2.0
    s.sum(axis=0).backward()
    assert s.grad == 1.0
    with pytest.raises(ShapeError):
        s.transpose(0)
    with pytest.raises(ShapeError, match="stack"):
        cr.concatenate([s, s])


def test_empty_axes():
    assert F.softmax(cr.zeros(4, 0)).shape == (4, 0)
    assert F.log_softmax(cr.zeros(4, 0)).shape == (4, 0)
    with pytest.raises(ShapeError):
        cr.zeros(0, 3).argmax()
    with pytest.raises(ShapeError):
        cr.zeros(3, 0).argmax(axis=1)
    assert cr.zeros(0, 3).argmax(axis=1).shape == (0,)


def test_var_ddof_is_checked():
    t = cr.tensor([1.0, 2.0])
    assert t.var(ddof=1).item() == 0.5
    for bad in (3, 2, -1, 0.5):
        with pytest.raises(ArgumentError):
            t.var(ddof=bad)


BAD_CALLS = {
    "transpose axis out of range": lambda: cr.ones(2, 3).transpose(0, 5),
    "permute axis out of range": lambda: cr.ones(2, 3, 4).permute(0, 1, 5),
    "comparison of unbroadcastable shapes": lambda: cr.ones(2) < cr.ones(3),
    "axis given as a string": lambda: cr.ones(2).sum(axis="a"),
    "reshape to a string": lambda: cr.ones(6).reshape("a"),
    "unsqueeze(None)": lambda: cr.ones(2).unsqueeze(None),
    "zeros(-1)": lambda: cr.zeros(-1),
    "eye(-1)": lambda: cr.eye(-1),
    "zeros(2.5)": lambda: cr.zeros(2.5),
    "rand of an integer dtype": lambda: cr.rand(2, dtype=int),
    "two -1 in reshape": lambda: cr.ones(4).reshape(-1, -1),
    "clip with a string": lambda: cr.ones(2).clip("a"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_calls_raise_chainrule_errors(case):
    with pytest.raises(ChainruleError):
        BAD_CALLS[case]()


def test_user_set_grad_of_the_wrong_shape():
    x = cr.ones(2, requires_grad=True)
    x.grad = np.zeros(3)
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        (x * 2).sum().backward()


# ------------------------------------------------------------------------------------ hand-written ops
class _ForgetsGy(cr.autograd.function.Function):
    """d(x^2)/dx written without the incoming gradient: right for .sum(), wrong for anything else."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return 2 * self.x


def test_gradcheck_catches_a_backward_that_ignores_gy():
    x = np.random.default_rng(0).standard_normal((3, 3))
    with pytest.raises(cr.GradcheckError, match="multiply by gy"):
        cr.gradcheck(lambda v: _ForgetsGy.apply(v), x)
    big = np.random.default_rng(0).standard_normal((60, 60))  # the random-directions mode too
    with pytest.raises(cr.GradcheckError):
        cr.gradcheck(lambda v: _ForgetsGy.apply(v), big)


def test_gradcheck_names_a_tuple_output():
    with pytest.raises(cr.GradcheckError, match="tuple"):
        cr.gradcheck(lambda v: (v * 2, v), np.ones(3))


class _SumRows(cr.autograd.function.Function):
    def __init__(self, mistake):
        self.mistake = mistake

    def forward(self, a, b):
        self.shape = a.shape
        return a.sum(axis=1) + b.sum(axis=1)

    def backward(self, gy):
        if self.mistake == "shape":
            return gy, gy
        if self.mistake == "count":
            return np.broadcast_to(gy[:, None], self.shape)
        return [gy], [gy]


@pytest.mark.parametrize("mistake,match", [("shape", "input 0 has shape"), ("count", "1 gradient"),
                                           ("list", "list")])
def test_a_broken_backward_contract_is_named(mistake, match):
    a = cr.ones(3, 4, requires_grad=True)
    b = cr.ones(3, 4, requires_grad=True)
    with pytest.raises(AutogradError, match=match):
        _SumRows.apply(a, b, mistake=mistake).sum().backward()
