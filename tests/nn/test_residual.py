"""Residual and ResidualBlock: the identity path, and the ResNet basic block against a PyTorch twin."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

from .torch_check import check_step


def test_residual_adds_the_identity_and_passes_gradient():
    lin = nn.Linear(3, 3)
    block = nn.Residual(lin)
    x = cr.randn(4, 3, requires_grad=True)
    y = block(x)
    np.testing.assert_allclose(y.numpy(), x.numpy() + lin(x).numpy(), rtol=1e-6)
    assert list(block.state_dict()) == ["fn.weight", "fn.bias"]
    y.sum().backward()
    # d(x + W x + b)/dx summed over outputs: 1 + column sums of W
    np.testing.assert_allclose(x.grad, np.broadcast_to(1 + lin.weight.numpy().sum(axis=0), (4, 3)), rtol=1e-5)


def test_residual_keeps_gradient_alive_through_depth():
    # 30 tanh layers with tiny weights: the plain stack's first-layer gradient vanishes, the residual one does not
    def first_grad(residual: bool) -> float:
        cr.manual_seed(0)
        layers = []
        for _ in range(30):
            lin = nn.Linear(8, 8)
            lin.weight.data *= 0.1
            body = nn.Sequential(lin, nn.Tanh())
            layers.append(nn.Residual(body) if residual else body)
        net = nn.Sequential(*layers)
        net(cr.randn(16, 8)).sum().backward()
        return float(np.abs(layers[0].fn.layers[0].weight.grad if residual else layers[0].layers[0].weight.grad).mean())

    assert first_grad(False) < 1e-12 < 1e-3 < first_grad(True)


def test_residual_shape_mismatch_is_a_shape_error():
    with pytest.raises(cr.ShapeError, match=r"Residual\(Linear\).*\(2, 3\).*\(2, 4\)"):
        nn.Residual(nn.Linear(3, 4))(cr.randn(2, 3))
    with pytest.raises(cr.errors.ArgumentTypeError):
        nn.Residual(lambda x: x)


def _torch_block(torch, c_in, c_out, stride):
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
            self.bn1 = tnn.BatchNorm2d(c_out)
            self.relu = tnn.ReLU()
            self.conv2 = tnn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
            self.bn2 = tnn.BatchNorm2d(c_out)
            self.downsample = None
            if stride != 1 or c_in != c_out:
                self.downsample = tnn.Sequential(tnn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                                 tnn.BatchNorm2d(c_out))

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    return Block()


@pytest.mark.parametrize("c_in, c_out, stride", [(3, 3, 1), (2, 4, 2)])
def test_residual_block_matches_torch(c_in, c_out, stride, rng):
    torch = pytest.importorskip("torch")
    theirs = _torch_block(torch, c_in, c_out, stride).double()
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if "bn" in name or name.startswith("downsample.1"):
                p.copy_(torch.rand_like(p) + 0.5)
    ours = nn.ResidualBlock(c_in, c_out, stride=stride).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for mode in ("train", "train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        ours.zero_grad()
        theirs.zero_grad()
        check_step(torch, ours, theirs, rng.standard_normal((2, c_in, 6, 6)))
        tsd = theirs.state_dict()
        for k, v in ours.state_dict().items():
            np.testing.assert_allclose(v, tsd[k].numpy(), rtol=1e-6, atol=1e-9, err_msg=k)


def test_residual_block_shapes_and_errors():
    assert nn.ResidualBlock(4)(cr.randn(2, 4, 5, 5)).shape == (2, 4, 5, 5)
    assert nn.ResidualBlock(4).downsample is None
    assert nn.ResidualBlock(4, 8, stride=2)(cr.randn(1, 4, 7, 7)).shape == (1, 8, 4, 4)
    with pytest.raises(cr.ShapeError, match=r"ResidualBlock\(4, 4\).*\(N, 4, H, W\).*\(2, 3, 5, 5\)"):
        nn.ResidualBlock(4)(cr.randn(2, 3, 5, 5))
    with pytest.raises(cr.ArgumentError, match="stride"):
        nn.ResidualBlock(4, stride=0)
