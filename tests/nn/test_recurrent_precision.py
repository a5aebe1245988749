"""float32 recurrent layers are as accurate as PyTorch on small activations (no tanh = 2 sigmoid(2x) - 1)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_rnn_tanh_keeps_its_relative_precision_near_zero():
    rnn = nn.RNN(1, 1, bias=False)
    rnn.load_state_dict({"weight_ih_l0": np.ones((1, 1), np.float32), "weight_hh_l0": np.zeros((1, 1), np.float32)})
    x = np.array([1e-3, 1e-5, 1e-6, 1e-7, 1e-9], np.float32).reshape(5, 1, 1)
    y = rnn(cr.tensor(x))[0].numpy().ravel()  # h_t = tanh(x_t)
    np.testing.assert_allclose(y, np.tanh(x.ravel()), rtol=1e-6, atol=0)


@pytest.mark.parametrize("layer", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("scale", [1.0, 1e-2, 1e-4])
def test_small_activations_match_a_float64_reference(layer, scale):
    rng = np.random.default_rng(0)
    ref = getattr(nn, layer)(8, 16, generator=1).to(np.float64)
    state = {k: v * scale for k, v in ref.state_dict().items()}
    ref.load_state_dict(state)
    l32 = getattr(nn, layer)(8, 16)
    l32.load_state_dict({k: v.astype(np.float32) for k, v in state.items()})
    x = rng.standard_normal((10, 4, 8)) * scale
    want = ref(cr.tensor(x))[0].numpy()
    got = l32(cr.tensor(x.astype(np.float32)))[0].numpy()
    assert got.dtype == np.float32
    assert np.abs(got - want).max() <= 1e-6 * np.abs(want).max()  # float32 level; the exp form gave 4e-3
