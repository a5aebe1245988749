"""QA round 4: what the docstrings of the functional ops promise, held to the code.

- clip of an integer tensor with a floating-point bound gives the default float dtype (PyTorch's rule, and
  what README's "Types follow PyTorch" promises), not NumPy's float64;
- the L2 penalty's docstring: Adam(weight_decay=lam) is the same as Adam on loss + (lam / 2) * l2_penalty.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import optim


@pytest.mark.parametrize("lo, hi", [(0.5, 2.5), (None, 2.5), (np.array([0.5, 0.5, 0.5]), None),
                                    (cr.tensor([0.5, 1.5, 2.5]), None)])
def test_clip_int_tensor_with_float_bound_gives_default_float(lo, hi):
    x = cr.tensor(np.array([1, 2, 3]))
    y = cr.clip(x, lo, hi)
    assert y.dtype == cr.get_default_dtype() == np.float32
    ref = np.clip(np.array([1.0, 2.0, 3.0]), None if lo is None else np.asarray(getattr(lo, "data", lo)), hi)
    np.testing.assert_allclose(y.numpy(), ref)


def test_clip_int_tensor_with_int_bounds_stays_int():
    assert cr.clip(cr.tensor(np.array([1, 2, 3])), 2, None).dtype == np.int64
    assert cr.tensor(np.array([1, 2, 3])).clip(0, 2).numpy().tolist() == [1, 2, 2]


def test_clip_float_tensor_keeps_dtype_and_gradient():
    x = cr.tensor(np.array([-2.0, 0.5, 3.0], np.float32), requires_grad=True)
    y = cr.clip(x, -1.0, np.float64(1.0))
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.tolist() == [0.0, 1.0, 0.0]


def test_adam_weight_decay_equals_adam_on_l2_penalised_loss():
    rng = np.random.default_rng(0)
    w0, x, t = rng.standard_normal(5), rng.standard_normal((8, 5)), rng.standard_normal(8)
    lam = 0.3

    def run(weight_decay, penalty):
        w = cr.tensor(w0.copy(), requires_grad=True)
        opt = optim.Adam([w], lr=0.05, weight_decay=weight_decay)
        for _ in range(10):
            opt.zero_grad()
            loss = F.mse_loss(cr.tensor(x) @ w, cr.tensor(t))
            if penalty:
                loss = loss + lam / 2 * F.l2_penalty([w])
            loss.backward()
            opt.step()
        return w.numpy()

    np.testing.assert_allclose(run(lam, False), run(0.0, True), rtol=1e-12, atol=1e-12)
