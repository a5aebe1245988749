"""QA sweep 4: gradcheck's failure message reports the gradient the user asked about."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd.function import Function


class _OffByAConstant(Function):
    """x * x with a backward that adds 0.01 where x > 0.5, whatever gy is."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return gy * 2 * self.x + (self.x > 0.5) * 0.01


def test_a_failure_names_the_plain_sums_gradient_when_it_is_wrong():
    # both the plain sum and the random-weighted sum fail; the message used to show the weighted one (here
    # about -2.02 for an element whose d(sum x^2)/dx is 1.4), without saying so
    x = cr.tensor(np.array([[0.1, 0.9], [0.2, 0.7]]))
    with pytest.raises(cr.GradcheckError) as e:
        cr.gradcheck(lambda t: _OffByAConstant.apply(t), x)
    msg = str(e.value)
    m = re.search(r"element \((\d), (\d)\).*analytic (\S+), numeric (\S+) ", msg)
    i, j, analytic, numeric = int(m[1]), int(m[2]), float(m[3]), float(m[4])
    v = x.numpy()[i, j]
    assert v > 0.5
    assert analytic == pytest.approx(2 * v + 0.01, rel=1e-5)
    assert numeric == pytest.approx(2 * v, rel=1e-5)
    assert "random weights" not in msg
    assert "2 of 4 elements fail" in msg
