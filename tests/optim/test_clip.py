"""Gradient clipping against torch.nn.utils."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import ArgumentError, NonFiniteError


def _params(rng, scale=3.0):
    shapes = [(4, 3), (3,), (2, 2, 2)]
    ps = [nn.Parameter(rng.standard_normal(s)) for s in shapes]
    for p in ps:
        p.grad = rng.standard_normal(p.shape) * scale
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, rng):
    torch = pytest.importorskip("torch")
    ours = _params(rng)
    theirs = [torch.nn.Parameter(torch.from_numpy(p.numpy().copy())) for p in ours]
    for t, p in zip(theirs, ours):
        t.grad = torch.from_numpy(p.grad.copy())
    total = optim.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    np.testing.assert_allclose(total, float(ttotal), rtol=1e-12)
    for t, p in zip(theirs, ours):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_matches_torch(rng):
    torch = pytest.importorskip("torch")
    ours = _params(rng)
    theirs = [torch.nn.Parameter(torch.from_numpy(p.numpy().copy())) for p in ours]
    for t, p in zip(theirs, ours):
        t.grad = torch.from_numpy(p.grad.copy())
    optim.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for t, p in zip(theirs, ours):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


def test_clip_in_place_float32_and_skips_missing_grads():
    w = nn.Parameter(cr.tensor([3.0, 4.0]))
    v = nn.Parameter(cr.tensor([1.0]))
    w.grad = np.array([3.0, 4.0], dtype=np.float32)
    g = w.grad
    assert optim.clip_grad_norm_(w, 1.0) == 5.0  # a single tensor is accepted
    assert w.grad is g and g.dtype == np.float32
    np.testing.assert_allclose(g, [0.6, 0.8], rtol=1e-5)
    assert optim.clip_grad_norm_([v], 1.0) == 0.0 and v.grad is None
    assert optim.clip_grad_norm_([w], math.inf) == pytest.approx(1.0, rel=1e-5)


def test_clip_errors():
    w = nn.Parameter(cr.tensor([1.0]))
    w.grad = np.array([np.inf], dtype=np.float32)
    with pytest.raises(NonFiniteError):
        optim.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    with pytest.raises(ArgumentError):
        optim.clip_grad_norm_([w], -1.0)
    with pytest.raises(ArgumentError):
        optim.clip_grad_norm_([w], 1.0, norm_type=0)
    with pytest.raises(ArgumentError):
        optim.clip_grad_value_([w], math.nan)


def test_clipping_something_that_is_not_parameters_is_one_clear_error():
    for bad, match in ((5, "got int"), ([np.ones(2)], "holding ndarray")):
        with pytest.raises(cr.ArgumentTypeError, match=match):
            optim.clip_grad_norm_(bad, 1.0)
        with pytest.raises(cr.ArgumentTypeError, match=match):
            optim.clip_grad_value_(bad, 1.0)
