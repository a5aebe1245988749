"""Generic tests driven by the op table in tests/specs: NumPy forward, float64 gradcheck, PyTorch."""

import numpy as np
import pytest

import chainrule as cr

from .specs import all_specs

SPECS = all_specs()


def _inputs(spec, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [a.draw(rng, dtype) for a in spec.args]


def _as_tensors(spec, arrays, requires_grad):
    return [
        cr.tensor(x, requires_grad=requires_grad and a.grad) if a.is_tensor else x
        for a, x in zip(spec.args, arrays)
    ]


@pytest.mark.parametrize("spec", [s for s in SPECS if s.ref is not None], ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy(spec, dtype):
    arrays = _inputs(spec, dtype)
    got = spec.fn(*_as_tensors(spec, arrays, False))
    want = spec.ref(*arrays)
    assert got.dtype == dtype, f"{spec.name}: {dtype.__name__} in, {got.dtype} out"
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=spec.rtol, atol=spec.atol)
    np.testing.assert_allclose(got.numpy(), want, **tol)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.gradcheck], ids=repr)
def test_gradcheck_float64(spec):
    arrays = _inputs(spec, np.float64, seed=1)
    tensors = _as_tensors(spec, arrays, True)
    if not any(isinstance(t, cr.Tensor) and t.requires_grad for t in tensors):
        pytest.skip("no differentiable input")
    cr.gradcheck(spec.fn, *tensors)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.torch_ref is not None], ids=repr)
def test_matches_torch_float64(spec):
    torch = pytest.importorskip("torch")
    arrays = _inputs(spec, np.float64, seed=2)
    ours = _as_tensors(spec, arrays, True)
    theirs = [
        torch.tensor(x, requires_grad=a.grad) if a.is_tensor else (torch.tensor(x) if isinstance(x, np.ndarray) else x)
        for a, x in zip(spec.args, arrays)
    ]
    y = spec.fn(*ours)
    ty = spec.torch_ref(torch, *theirs)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-9)
    if not y.requires_grad:
        return
    g = np.random.default_rng(3).standard_normal(y.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if isinstance(o, cr.Tensor) and o.requires_grad:
            assert o.grad is not None, f"{spec.name}: input {i} got no gradient"
            np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=f"input {i}")
