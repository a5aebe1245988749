"""Edge cases from the third QA sweep (a differential fuzz against PyTorch), each checked against PyTorch
where it is installed and against the value it must have otherwise.

- an inf or NaN gradient reaching a place that ReLU, clip, maximum or minimum cut off gives 0, not NaN;
- an in-place change through an alias (``detach()``, a slice, a reshape) is seen by backward;
- max / min / logsumexp over the non-empty axes of an empty tensor, var and embedding of empty input;
- a NaN maximum sends its gradient to the NaNs;
- bool and integer inputs of real-valued functions and of true division give the default float dtype;
  ``-bool`` and integers to negative powers are clear errors; ``abs(t)`` works; concatenate and stack
  promote as the binary ops do; a float pad width is refused.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.errors import ArgumentTypeError, AutogradError, DataError, DTypeError, ShapeError

try:
    import torch
except ImportError:  # pragma: no cover - the cross-checks need PyTorch
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


# ------------------------------------------------------------------------------------------ masked gradients
CUTS = {
    "relu": (lambda x: x.relu(), lambda x: x.relu()),
    "clip": (lambda x: x.clip(0.0, None), lambda x: x.clamp(min=0.0)),
    "maximum": (lambda x: cr.maximum(x, 0.0), lambda x: torch.maximum(x, torch.zeros_like(x))),
    "minimum": (lambda x: -cr.minimum(-x, 0.0), lambda x: -torch.minimum(-x, torch.zeros_like(x))),
}
X = [-1.0, 0.0, 4.0, -2.5, 9.0]


def _sqrt_of_cut(name):
    x = cr.tensor(np.array(X), requires_grad=True)
    with np.errstate(all="ignore"):  # sqrt's derivative at 0 is inf, on purpose
        CUTS[name][0](x).sqrt().sum().backward()
    return x.grad


@pytest.mark.parametrize("name", sorted(CUTS))
def test_an_inf_gradient_at_a_cut_off_place_gives_zero(name):
    g = _sqrt_of_cut(name)
    assert not np.isnan(g).any()
    assert g[0] == 0 and g[3] == 0  # cut off: no part in the output
    np.testing.assert_allclose(g[[2, 4]], [0.25, 1 / 6])


@needs_torch
@pytest.mark.parametrize("name", sorted(CUTS))
def test_an_inf_gradient_at_a_cut_off_place_matches_torch(name):
    t = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    CUTS[name][1](t).sqrt().sum().backward()
    ours, theirs = _sqrt_of_cut(name), t.grad.numpy()
    np.testing.assert_array_equal(ours[[0, 2, 3, 4]], theirs[[0, 2, 3, 4]])
    # at x = 0 the sign may differ for minimum: np.minimum(-0.0, 0.0) is +0.0 where torch keeps -0.0
    assert abs(ours[1]) == abs(theirs[1])


def test_a_nan_gradient_at_a_picked_place_stays_nan():
    x = cr.tensor(np.array([-1.0, 2.0, 3.0]), requires_grad=True)
    x.relu().backward(np.array([np.nan, np.nan, 1.0]))
    assert x.grad[0] == 0 and np.isnan(x.grad[1]) and x.grad[2] == 1


# ------------------------------------------------------------------------------------------ aliases and versions
def test_an_in_place_change_through_detach_is_seen():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    d = x.detach()
    d += 10.0
    with pytest.raises(AutogradError, match="changed in place"):
        y.backward()


@pytest.mark.parametrize("view", [lambda a: a[0:2], lambda a: a.reshape(3, 1), lambda a: a.T, lambda a: a[None]])
def test_an_in_place_change_through_a_view_is_seen(view):
    a = cr.tensor([1.0, 2.0, 3.0])
    w = cr.tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = (a * w).sum()
    v = view(a)
    v += 10.0
    with pytest.raises(AutogradError, match="changed in place"):
        y.backward()


def test_an_in_place_change_of_the_base_is_seen_by_a_saved_view():
    a = cr.tensor([1.0, 2.0, 3.0])
    w = cr.tensor([1.0, 1.0], requires_grad=True)
    y = (a[1:] * w).sum()
    a[0] = 5.0
    with pytest.raises(AutogradError, match="changed in place"):
        y.backward()


def test_copies_keep_their_own_version():
    a = cr.tensor([1.0, 2.0, 3.0])
    w = cr.tensor([1.0, 1.0], requires_grad=True)
    y = (a[[0, 1]] * w).sum() + (a * 2)[1:].sum()  # integer-array indexing and a product copy
    a += 1.0
    y.backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])


@needs_torch
def test_alias_versions_match_torch():
    t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (t * t).sum()
    t.detach().add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


# ------------------------------------------------------------------------------------------ empty tensors
@pytest.mark.parametrize("op", [lambda x: x.max(axis=1), lambda x: x.min(axis=1), lambda x: F.logsumexp(x, axis=1)])
def test_reducing_the_non_empty_axis_of_an_empty_tensor(op):
    x = cr.tensor(np.zeros((0, 3)), requires_grad=True)
    y = op(x)
    assert y.shape == (0,)
    y.sum().backward()
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("op", [lambda x: x.max(), lambda x: x.min(axis=0)])
def test_max_over_an_empty_axis_is_an_error(op):
    with pytest.raises(ShapeError, match=r"empty axis \(tensor of shape \(0, 3\)"):
        op(cr.zeros(0, 3))


def test_logsumexp_over_an_empty_axis_is_an_error():
    with pytest.raises(DataError, match="empty axis"):
        F.logsumexp(cr.zeros(0, 3), axis=0)


def test_var_of_an_empty_tensor_is_nan_with_an_empty_gradient():
    x = cr.tensor(np.zeros((0, 3)), requires_grad=True)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="empty"):  # NaN, as NumPy and PyTorch
        y = x.var()
    assert np.isnan(y.item())
    y.backward()
    assert x.grad.shape == (0, 3)


def test_embedding_of_no_ids():
    w = cr.randn(5, 3, requires_grad=True)
    F.embedding(np.zeros((2, 0), np.int64), w).sum().backward()
    assert w.grad.shape == (5, 3) and not w.grad.any()


# ------------------------------------------------------------------------------------------ NaN maxima
def test_a_nan_maximum_sends_its_gradient_to_the_nans():
    x = cr.tensor(np.array([[1.0, np.nan, 3.0], [1.0, 5.0, 5.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [0, 0.5, 0.5]])


@needs_torch
def test_a_nan_maximum_matches_torch():
    data = np.array([1.0, np.nan, 3.0])
    x = cr.tensor(data, requires_grad=True)
    x.max().backward()
    t = torch.tensor(data, requires_grad=True)
    t.max().backward()
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


# ------------------------------------------------------------------------------------------ dtypes
INTS = cr.tensor(np.array([1, 2, 3]))
BOOLS = cr.tensor(np.array([True, False, True]))


@pytest.mark.parametrize("fn", [
    lambda t: t.exp(), lambda t: t.log(), lambda t: t.sqrt(), lambda t: t.tanh(), lambda t: t.sigmoid(),
    lambda t: F.softmax(t), lambda t: F.log_softmax(t), lambda t: F.logsumexp(t), lambda t: F.gelu(t),
    lambda t: t.mean(), lambda t: t.var(), lambda t: t / 2, lambda t: 2 / t, lambda t: t / t,
])
@pytest.mark.parametrize("t", [INTS, BOOLS], ids=["int64", "bool"])
def test_real_valued_results_of_integers_and_bools_get_the_default_dtype(fn, t):
    with np.errstate(all="ignore"):  # log(0), 2 / False
        assert fn(t).dtype == np.float32
        cr.set_default_dtype(np.float64)
        assert fn(t).dtype == np.float64


@needs_torch
def test_integer_true_division_matches_torch():
    np.testing.assert_allclose((INTS / 2).numpy(), (torch.tensor([1, 2, 3]) / 2).numpy())
    assert str((torch.tensor([1, 2, 3]) / 2).dtype) == "torch." + str((INTS / 2).dtype)


def test_integer_arithmetic_that_stays_integer():
    assert (INTS * 2).dtype == np.int64 and (INTS**2).dtype == np.int64 and (-INTS).dtype == np.int64


def test_negating_a_bool_tensor_is_a_clear_error():
    with pytest.raises(DTypeError, match="bool tensor"):
        _ = -BOOLS


def test_integers_to_negative_powers_are_a_clear_error():
    with pytest.raises(DTypeError, match="negative integer powers"):
        INTS**-1
    with pytest.raises(DTypeError, match="negative integer powers"):
        INTS ** cr.tensor(np.array([1, -1, 2]))
    assert (INTS**-1.0).dtype == np.float32


def test_abs_builtin():
    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    y = abs(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(x.grad, [-1.0, 1.0])


@pytest.mark.parametrize("join", [cr.concatenate, cr.stack])
def test_concatenate_and_stack_promote_like_the_binary_ops(join):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = join([x, np.array([3, 4], np.int64)])
    assert y.dtype == (x + np.array([3, 4], np.int64)).dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert join([np.array([1, 2]), np.array([True, False])]).dtype == np.int64


def test_a_float_pad_width_is_refused():
    with pytest.raises(ArgumentTypeError, match="pad_width must hold integers"):
        cr.pad(cr.ones(2), 1.5)
    assert cr.pad(cr.ones(2), np.int32(1)).shape == (4,)
