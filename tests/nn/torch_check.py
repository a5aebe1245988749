"""The one comparison every layer test makes against PyTorch."""

import numpy as np

import chainrule as cr


def check_step(torch, ours, theirs, x, g=None, rtol=1e-6, atol=1e-9):
    """One forward + backward on both modules from the same x and output gradient g (drawn, seeded, when not
    given); compare the output, the input gradient and every parameter gradient. Returns both outputs."""
    ours.zero_grad()
    theirs.zero_grad()
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, ty = ours(xc), theirs(xt)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=atol)
    if g is None:
        g = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=rtol, atol=atol)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name)
    return y, ty
