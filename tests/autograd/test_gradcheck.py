"""gradcheck must pass correct derivatives and catch wrong ones, naming the input and element."""

import numpy as np
import pytest

import chainrule as cr


class WrongSquare(cr.Function):
    """y = x^2 with a deliberately wrong derivative (x instead of 2x)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return gy * self.x


def test_passes_and_reports_per_input():
    a, b = cr.randn(3, 4), cr.randn(4, 2)
    report = cr.gradcheck(lambda a, b: (a @ b).tanh(), a, b)
    assert len(report.inputs) == 2
    assert report.max_abs_error < 1e-7 and report.inputs[0].mode == "full"
    assert "max abs err" in str(report)


def test_catches_a_wrong_derivative_and_names_input_and_element():
    x = cr.tensor(np.array([[0.5, 1.0], [2.0, 3.0]]))
    with pytest.raises(cr.GradcheckError, match=r"input 1 \(shape \(2, 2\)\) disagrees at element \(1, 1\)"):
        cr.gradcheck(lambda s, x: WrongSquare.apply(x) + s, cr.tensor(np.zeros((2, 2))), x)


def test_large_inputs_use_random_directions():
    x = cr.randn(60, 50)
    report = cr.gradcheck(lambda x: x.sigmoid(), x)
    assert report.inputs[0].mode == "directions"
    with pytest.raises(cr.GradcheckError, match="random direction"):
        cr.gradcheck(lambda x: WrongSquare.apply(x), x)


def test_only_marked_inputs_are_checked():
    a = cr.randn(2, requires_grad=True)
    b = cr.randn(2)
    report = cr.gradcheck(lambda a, b: a * b, a, b)
    assert [r.index for r in report.inputs] == [0]


def test_inputs_are_checked_in_float64_without_touching_the_originals():
    x = cr.randn(3)
    before = x.numpy().copy()
    cr.gradcheck(lambda x: x.exp(), x)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.numpy(), before)
