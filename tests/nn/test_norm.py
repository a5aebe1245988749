"""BatchNorm1d, BatchNorm2d and LayerNorm against PyTorch, running statistics, state dicts and errors."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn

from .torch_check import check_step


def _pair(torch, ours, theirs):
    """Give both modules the same float64 weights (theirs -> ours through the state dict)."""
    theirs.double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn_like(p))
    ours.double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _buffers_match(torch, ours, theirs):
    tsd = theirs.state_dict()
    sd = ours.state_dict()
    assert list(sd) == list(tsd)
    for k, v in sd.items():
        assert v.shape == tuple(tsd[k].shape), k
        np.testing.assert_allclose(v, tsd[k].numpy(), rtol=1e-6, atol=1e-9, err_msg=k)


@pytest.mark.parametrize(
    "cls, shape, kw",
    [
        ("BatchNorm1d", (8, 3), {}),
        ("BatchNorm1d", (4, 3, 5), {"momentum": 0.3}),
        ("BatchNorm1d", (6, 3), {"momentum": None}),
        ("BatchNorm2d", (3, 3, 4, 5), {}),
        ("BatchNorm2d", (2, 3, 3, 3), {"affine": False}),
        ("BatchNorm2d", (2, 3, 3, 3), {"track_running_stats": False}),
    ],
)
def test_batchnorm_matches_torch_train_and_eval(cls, shape, kw, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, cls)(3, **kw), getattr(torch.nn, cls)(3, **kw)
    _pair(torch, ours, theirs)
    _buffers_match(torch, ours, theirs)
    for _ in range(3):  # a few training steps: running statistics must follow
        x = rng.standard_normal(shape) * 2 + 1
        check_step(torch, ours, theirs, x, rng.standard_normal(shape))
        _buffers_match(torch, ours, theirs)
    ours.eval()
    theirs.eval()
    check_step(torch, ours, theirs, rng.standard_normal(shape), rng.standard_normal(shape))
    _buffers_match(torch, ours, theirs)


def test_batchnorm_state_dict_keys_and_buffers():
    bn = nn.BatchNorm2d(4)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    bn(cr.randn(2, 4, 3, 3))
    bn(cr.randn(2, 4, 3, 3))
    assert int(bn.state_dict()["num_batches_tracked"]) == 2
    assert bn.running_mean.dtype == np.float32
    bn.eval()
    bn(cr.randn(2, 4, 3, 3))
    assert int(bn.num_batches_tracked) == 2
    assert list(nn.BatchNorm1d(2, track_running_stats=False).state_dict()) == ["weight", "bias"]


def test_batchnorm_running_var_is_unbiased_and_float32_stays_float32():
    x = np.array([[1.0, 0.0], [3.0, 0.0], [5.0, 6.0]], dtype=np.float32)
    rm, rv = np.zeros(2, np.float32), np.ones(2, np.float32)
    y = F.batch_norm(cr.tensor(x), rm, rv, training=True, momentum=0.5)
    assert y.dtype == np.float32 and rm.dtype == np.float32
    np.testing.assert_allclose(rm, 0.5 * x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(rv, 0.5 + 0.5 * x.var(axis=0, ddof=1), rtol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck_float64(training, rng):
    x = cr.tensor(rng.standard_normal((5, 2, 3)), requires_grad=True)
    w = cr.tensor(rng.standard_normal(2), requires_grad=True)
    b = cr.tensor(rng.standard_normal(2), requires_grad=True)
    cr.gradcheck(lambda x, w, b: F.batch_norm(x, np.zeros(2), np.full(2, 1.5), w, b, training=training) ** 2,
                 x, w, b)


def test_layer_norm_gradcheck_float64(rng):
    x = cr.tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    b = cr.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    cr.gradcheck(lambda x, w, b: F.layer_norm(x, (4, 5), w, b) ** 3, x, w, b)


@pytest.mark.parametrize("ns, shape, kw", [(5, (4, 5), {}), ((3, 4), (2, 2, 3, 4), {"eps": 1e-3}),
                                           (4, (2, 4), {"elementwise_affine": False})])
def test_layernorm_matches_torch(ns, shape, kw, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.LayerNorm(ns, **kw), torch.nn.LayerNorm(ns, **kw)
    _pair(torch, ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        check_step(torch, ours, theirs, rng.standard_normal(shape) * 3, rng.standard_normal(shape))


def test_layernorm_float32_and_defaults():
    ln = nn.LayerNorm((2, 3))
    assert ln.weight.shape == (2, 3) and (ln.weight.numpy() == 1).all() and (ln.bias.numpy() == 0).all()
    y = ln(cr.randn(4, 2, 3))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy().reshape(4, -1).mean(axis=1), 0, atol=1e-6)


def test_norm_errors_name_the_layer_and_shapes():
    with pytest.raises(cr.ShapeError, match=r"BatchNorm1d\(3\).*5 channels.*num_features=3"):
        nn.BatchNorm1d(3)(cr.randn(4, 5))
    with pytest.raises(cr.ShapeError, match=r"BatchNorm2d\(3\).*\(N, C, H, W\).*\(4, 3\)"):
        nn.BatchNorm2d(3)(cr.randn(4, 3))
    with pytest.raises(cr.ShapeError, match=r"BatchNorm1d\(3\).*\(N, C\) or \(N, C, L\)"):
        nn.BatchNorm1d(3)(cr.randn(2, 3, 4, 4))
    with pytest.raises(cr.ShapeError, match="more than one value per channel"):
        nn.BatchNorm1d(3)(cr.randn(1, 3))
    nn.BatchNorm1d(3).eval()(cr.randn(1, 3))  # evaluation of a single sample is fine
    with pytest.raises(cr.ShapeError, match=r"LayerNorm\(\(4,\)\).*\(2, 5\).*\(4,\)"):
        nn.LayerNorm(4)(cr.randn(2, 5))
    with pytest.raises(cr.ShapeError, match="running_mean has shape"):
        F.batch_norm(cr.randn(2, 3), np.zeros(4), np.ones(4))
    with pytest.raises(cr.ArgumentError, match="needs running_mean"):
        F.batch_norm(cr.randn(2, 3), None, None, training=False)
    with pytest.raises(cr.ArgumentError):
        nn.BatchNorm1d(0)
    with pytest.raises(cr.ArgumentError):
        nn.LayerNorm(())
