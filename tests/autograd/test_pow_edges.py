"""a ** b at a zero or negative base: values and both gradients as PyTorch's (0, -inf or NaN for d/db)."""

import itertools

import numpy as np
import pytest

import chainrule as cr

A = [-2.0, 0.0, 0.5, 2.0]
B = [-2.0, -0.5, 0.0, 1.0, 2.5, 3.0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("form", ["tensor ** tensor", "number ** tensor", "tensor ** number"])
def test_pow_matches_torch_on_the_edges(dtype, form):
    torch = pytest.importorskip("torch")
    a0 = np.array([a for a, _ in itertools.product(A, B)], dtype)
    b0 = np.array([b for _, b in itertools.product(A, B)], dtype)
    ca, cb = cr.tensor(a0, requires_grad=True), cr.tensor(b0, requires_grad=True)
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    gy = np.linspace(0.5, 1.5, a0.size).astype(dtype)
    with np.errstate(all="ignore"):  # 0 ** -2 = inf and (-2) ** -0.5 = NaN are the answers
        if form == "tensor ** tensor":
            y, ty = ca**cb, ta**tb
        elif form == "number ** tensor":
            y, ty = 0.0**cb, 0.0**tb
        else:
            y, ty = ca**-2.0, ta**-2.0
        y.backward(gy)
    ty.backward(torch.tensor(gy))
    for ours, theirs in ((y.numpy(), ty.detach()), (ca.grad, ta.grad), (cb.grad, tb.grad)):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours.dtype == dtype
            np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5, equal_nan=True)


def test_exponent_gradient_at_zero_and_negative_bases():
    with np.errstate(all="ignore"):
        b = cr.tensor([-2.0, 0.0, 2.0], requires_grad=True)
        (0.0**b).sum().backward()
        np.testing.assert_array_equal(b.grad, [-np.inf, 0.0, 0.0])
        b = cr.tensor([2.0], requires_grad=True)
        ((-2.0) ** b).sum().backward()
        assert np.isnan(b.grad).all()  # log(-2) is undefined, as in PyTorch (it was 0 before)
