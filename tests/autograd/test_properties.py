"""Property tests over random, mutually broadcastable shapes (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import chainrule as cr
from chainrule.backend import unbroadcast

SETTINGS = settings(max_examples=40, deadline=None)
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "minimum": cr.minimum,
}


@SETTINGS
@given(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), st.sampled_from(sorted(BINARY)),
       st.integers(0, 2**16))
def test_binary_ops_gradcheck_on_broadcast_shapes(shapes, op, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a = rng.uniform(0.5, 2.0, sa) * rng.choice([-1, 1], sa)
    b = rng.uniform(0.5, 2.0, sb)  # positive: no division by ~0, and |a - b| > 0 where a < 0 (no ties for minimum)
    ta = cr.tensor(a, requires_grad=True)
    tb = cr.tensor(b, requires_grad=True)
    out = BINARY[op](ta, tb)
    assert out.shape == np.broadcast_shapes(sa, sb)
    cr.gradcheck(BINARY[op], ta, tb)


@SETTINGS
@given(mutually_broadcastable_shapes(num_shapes=1, max_dims=4, max_side=4), st.integers(0, 2**16))
def test_unbroadcast_is_the_adjoint_of_broadcasting(shapes, seed):
    """<unbroadcast(g), v> == <g, broadcast(v)> for every v: unbroadcast is broadcast's transpose."""
    rng = np.random.default_rng(seed)
    (shape,) = shapes.input_shapes
    g = rng.standard_normal(shapes.result_shape)
    v = rng.standard_normal(shape)
    lhs = np.sum(unbroadcast(g, shape) * v)
    rhs = np.sum(g * np.broadcast_to(v, shapes.result_shape))
    assert unbroadcast(g, shape).shape == shape
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


@SETTINGS
@given(array_shapes(min_dims=1, max_dims=3, max_side=4), st.integers(0, 2**16), st.data())
def test_reductions_gradcheck_over_random_axes(shape, seed, data):
    rng = np.random.default_rng(seed)
    x = cr.tensor(rng.standard_normal(shape), requires_grad=True)
    axis = data.draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    keepdims = data.draw(st.booleans())
    for f in (lambda t: t.sum(axis=axis, keepdims=keepdims), lambda t: t.mean(axis=axis, keepdims=keepdims),
              lambda t: (t * t).var(axis=axis, keepdims=keepdims)):
        x.grad = None
        cr.gradcheck(f, x)


@SETTINGS
@given(array_shapes(min_dims=2, max_dims=2, max_side=5), st.integers(1, 5), st.integers(0, 2**16))
def test_matmul_gradcheck_random_sizes(shape, k, seed):
    rng = np.random.default_rng(seed)
    a = cr.tensor(rng.standard_normal(shape), requires_grad=True)
    b = cr.tensor(rng.standard_normal((shape[1], k)), requires_grad=True)
    cr.gradcheck(lambda a, b: a @ b, a, b)
