"""cr.load of bfloat16 safetensors files: an exact upcast to float32; other dtypes keep theirs."""

import numpy as np
import pytest

import chainrule as cr


def test_bf16_loads_as_float32_exactly(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    values = torch.tensor([1.0, -2.5, 3.14159, 1e30, -0.0, float("inf"), float("nan"), 1e-40, 65504.0])
    tensors = {
        "w": values.to(torch.bfloat16),
        "m": torch.randn(3, 4).to(torch.bfloat16),
        "s": torch.tensor(2.0, dtype=torch.bfloat16),
        "e": torch.zeros(0, 3, dtype=torch.bfloat16),
        "h": torch.ones(2, dtype=torch.float16),
        "f": torch.ones(2, dtype=torch.float64),
        "i": torch.arange(3, dtype=torch.int32),
    }
    path = tmp_path / "bf16.safetensors"
    st.save_file(tensors, str(path))
    loaded = cr.load(path)
    for name in ("w", "m", "s", "e"):
        a = loaded[name]
        assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == tuple(tensors[name].shape)
        np.testing.assert_array_equal(a, tensors[name].float().numpy())  # bit-exact, NaN included
        assert a.flags.writeable
    assert np.signbit(loaded["w"][4])
    assert {k: loaded[k].dtype for k in "hfi"} == {"h": np.float16, "f": np.float64, "i": np.int32}


def test_bf16_checkpoint_loads_into_a_model(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    tlin = torch.nn.Linear(3, 2).to(torch.bfloat16)
    st.save_file(tlin.state_dict(), str(tmp_path / "m.safetensors"))
    lin = cr.nn.Linear(3, 2)
    lin.load_state_dict(cr.load(tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(lin.weight.numpy(), tlin.weight.detach().float().numpy())
    assert lin.weight.dtype == np.float32


def test_bf16_size_is_checked(tmp_path):
    import json
    import struct

    header = json.dumps({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 4]}}).encode()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)
    with pytest.raises(cr.errors.FileFormatError, match="needs 6 bytes"):
        cr.load(path)


def test_save_widens_a_bfloat16_torch_tensor_in_memory_to_float32(tmp_path):
    torch = pytest.importorskip("torch")
    sd = torch.nn.Linear(3, 2).to(torch.bfloat16).state_dict()
    cr.save(sd, tmp_path / "m.safetensors")
    loaded = cr.load(tmp_path / "m.safetensors")
    for k, v in sd.items():
        assert loaded[k].dtype == np.float32
        np.testing.assert_array_equal(loaded[k], v.float().numpy())
    with pytest.raises(cr.DTypeError, match="complex"):
        cr.save({"c": torch.zeros(2, dtype=torch.complex64)}, tmp_path / "c.safetensors")


def test_load_state_dict_and_from_pretrained_take_bfloat16_torch_tensors():
    """A bfloat16 PyTorch state dict in memory loads exactly (widened to float32), as a bf16 file does."""
    torch = pytest.importorskip("torch")
    sd = torch.nn.Linear(3, 2).to(torch.bfloat16).state_dict()
    layer = cr.nn.Linear(3, 2)
    layer.load_state_dict(sd)
    for name, p in layer.named_parameters():
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p.numpy(), sd[name].float().numpy())
    table = torch.randn(4, 2).to(torch.bfloat16)
    np.testing.assert_array_equal(cr.nn.Embedding.from_pretrained(table).weight.numpy(), table.float().numpy())
