"""One table of bad inputs across the library: each raises the expected ChainruleError subclass (which is
also the matching built-in) with a message naming what was wrong. Nothing may escape as a bare NumPy error."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import data, nn, optim
from chainrule import errors as E


def _param():
    return nn.Parameter(cr.zeros(2))


def _csv(tmp_path, text):
    p = tmp_path / "t.csv"
    p.write_text(text)
    return p


CASES = [
    # (id, callable, error class, built-in it must also be, words the message must contain)
    ("matmul shapes", lambda t: cr.ones(2, 3) @ cr.ones(4, 5), E.ShapeError, ValueError, ["(2, 3)", "(4, 5)"]),
    ("broadcast", lambda t: cr.ones(2, 3) * cr.ones(4), E.ShapeError, ValueError, ["(2, 3)", "(4,)"]),
    ("reshape", lambda t: cr.ones(6).reshape(4, 2), E.ShapeError, ValueError, ["(6,)", "(4, 2)"]),
    ("axis out of range", lambda t: cr.ones(2, 3).sum(axis=5), E.ShapeError, ValueError, ["axis 5"]),
    ("int requires grad", lambda t: cr.tensor(np.arange(3), requires_grad=True), E.DTypeError, TypeError, ["int64"]),
    ("linear width", lambda t: nn.Linear(4, 2)(cr.ones(3, 5)), E.ShapeError, ValueError, ["Linear(4, 2)", "(3, 5)"]),
    ("conv 3-D input", lambda t: nn.Conv2d(1, 4, 3)(cr.ones(1, 8, 8)), E.ShapeError, ValueError,
     ["Conv2d", "(1, 8, 8)"]),
    ("conv channels", lambda t: nn.Conv2d(3, 4, 3)(cr.ones(1, 1, 8, 8)), E.ShapeError, ValueError, ["Conv2d", "3"]),
    ("batchnorm features", lambda t: nn.BatchNorm1d(4)(cr.ones(8, 3)), E.ShapeError, ValueError, ["BatchNorm1d", "4"]),
    ("lstm input size", lambda t: nn.LSTM(3, 5)(cr.ones(7, 2, 4)), E.ShapeError, ValueError, ["LSTM", "3"]),
    ("state dict missing key", lambda t: nn.Linear(2, 2).load_state_dict({"weight": np.zeros((2, 2))}),
     E.StateDictError, KeyError, ["bias"]),
    ("state dict wrong shape",
     lambda t: nn.Linear(2, 2).load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(2)}),
     E.ShapeError, ValueError, ["weight", "(3, 2)", "(2, 2)"]),
    ("labels out of range", lambda t: F.cross_entropy(cr.zeros(2, 3), np.array([0, 3])), E.DataError, ValueError,
     ["3"]),
    ("labels wrong length", lambda t: F.cross_entropy(cr.zeros(2, 3), np.array([0, 1, 2])), E.ShapeError, ValueError,
     ["2", "3"]),
    ("float labels", lambda t: F.cross_entropy(cr.zeros(2, 3), np.array([0.0, 1.0])), E.ChainruleError, Exception,
     ["float"]),
    ("mse shapes", lambda t: F.mse_loss(cr.zeros(4, 1), cr.zeros(4)), E.ShapeError, ValueError, ["(4, 1)", "(4,)"]),
    ("bad reduction", lambda t: F.mse_loss(cr.zeros(2), cr.zeros(2), reduction="avg"), E.ArgumentError, ValueError,
     ["avg"]),
    ("negative lr", lambda t: optim.SGD([_param()], lr=-0.1), E.ArgumentError, ValueError, ["lr", "-0.1"]),
    ("nan lr", lambda t: optim.Adam([_param()], lr=float("nan")), E.ArgumentError, ValueError, ["lr"]),
    ("empty params", lambda t: optim.SGD([], lr=0.1), E.ArgumentError, ValueError, ["param"]),
    ("bad betas", lambda t: optim.Adam([_param()], betas=(0.9, 1.5)), E.ArgumentError, ValueError, ["1.5"]),
    ("schedule steps", lambda t: optim.lr_scheduler.LinearDecay(optim.SGD([_param()], lr=0.1), 0.01, 0),
     E.ArgumentError, ValueError, ["total_steps"]),
    ("batch size 0", lambda t: data.DataLoader(data.TensorDataset(np.zeros(3)), batch_size=0), E.ArgumentError,
     ValueError, ["batch_size", "0"]),
    ("unequal lengths", lambda t: data.TensorDataset(np.zeros(3), np.zeros(4)), E.DataError, ValueError, ["3", "4"]),
    ("dropout p", lambda t: nn.Dropout(1.5), E.ArgumentError, ValueError, ["1.5"]),
    ("missing file", lambda t: cr.load(t / "nope.safetensors"), E.MissingFileError, FileNotFoundError,
     ["nope.safetensors"]),
    ("corrupt file", lambda t: (t.joinpath("bad.safetensors").write_bytes(b"\x00" * 3), cr.load(t / "bad.safetensors")),
     E.FileFormatError, ValueError, ["bad.safetensors"]),
    ("csv missing target", lambda t: data.load_csv(_csv(t, "a,b\n1,2\n3,4\n5,6\n7,8\n9,1\n"), "label"), E.DataError,
     ValueError, ["label", "a", "b"]),
    ("csv ragged", lambda t: data.load_csv(_csv(t, "a,y\n1,0\n2\n3,1\n4,0\n5,1\n"), "y"), E.DataError, ValueError,
     ["line 3"]),
    ("csv non-numeric", lambda t: data.load_csv(_csv(t, "a,y\n1,0\nx,1\n3,1\n4,0\n5,1\n"), "y"), E.DataError,
     ValueError, ["line 3"]),
    ("mnist missing", lambda t: data.load_mnist(root=t), E.MissingFileError, FileNotFoundError, ["train-images"]),
    ("class weight shape", lambda t: F.cross_entropy(cr.zeros(2, 3), np.array([0, 1]), weight=np.ones(4)),
     E.ShapeError, ValueError, ["weight", "(3,)", "(4,)"]),
    ("nll weight 2-D", lambda t: nn.NLLLoss(np.ones((3, 1))), E.ShapeError, ValueError,
     ["NLLLoss", "weight", "(3, 1)"]),
    ("pos_weight shape", lambda t: nn.BCEWithLogitsLoss(pos_weight=np.ones(4))(cr.zeros(2, 3), np.ones((2, 3))),
     E.ShapeError, ValueError, ["pos_weight", "(4,)", "(2, 3)"]),
    ("bce weight shape", lambda t: F.binary_cross_entropy(cr.full((2, 3), 0.5), np.ones((2, 3)), weight=np.ones(2)),
     E.ShapeError, ValueError, ["weight", "(2,)", "(2, 3)"]),
    ("ignore_index soft targets", lambda t: F.cross_entropy(cr.zeros(2, 3), np.full((2, 3), 1 / 3), ignore_index=0),
     E.ArgumentError, ValueError, ["ignore_index=0", "probability"]),
    ("label not ignored", lambda t: F.nll_loss(cr.zeros(2, 3), np.array([-100, -1])), E.DataError, ValueError,
     ["-1", "ignore_index=-100"]),
    ("ignore_index type", lambda t: nn.CrossEntropyLoss(ignore_index=0.5), E.ArgumentTypeError, TypeError,
     ["ignore_index", "0.5"]),
    ("weight as 3rd positional", lambda t: F.cross_entropy(cr.zeros(2, 3), np.array([0, 1]), np.ones(3)),
     E.ArgumentTypeError, TypeError, ["label_smoothing", "weight="]),
    ("softplus beta 0", lambda t: nn.Softplus(beta=0), E.ArgumentError, ValueError, ["beta", "0"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_chainrule_error(case, tmp_path):
    _, fn, cls, builtin, words = case
    with pytest.raises(cls) as info:
        fn(tmp_path)
    assert isinstance(info.value, E.ChainruleError) and isinstance(info.value, builtin)
    msg = str(info.value)
    for w in words:
        assert w in msg, f"message {msg!r} does not mention {w!r}"


def test_every_error_class_is_at_the_top_level():
    """`except cr.MissingFileError:` works for every class chainrule raises."""
    import inspect

    classes = {n for n, c in inspect.getmembers(E, inspect.isclass) if issubclass(c, E.ChainruleError)}
    assert len(classes) == 15 and all(getattr(cr, n) is getattr(E, n) for n in classes)


def test_an_index_past_the_end_is_an_index_error_and_a_chainrule_error():
    """As NumPy and PyTorch raise IndexError (a for loop over __getitem__ stops on it), and API.md asks for a
    ChainruleError: IndexOutOfRangeError is both (and a ShapeError, as tensor indexing raised before)."""
    from chainrule import data, nn

    for f in (lambda: cr.zeros(2)[5], lambda: cr.zeros(2).__setitem__(5, 1.0), lambda: nn.Sequential(nn.ReLU())[5],
              lambda: nn.ModuleList([nn.ReLU()])[-3], lambda: data.TensorDataset(np.zeros(3))[100]):
        with pytest.raises(E.IndexOutOfRangeError) as info:
            f()
        assert isinstance(info.value, IndexError) and isinstance(info.value, E.ShapeError)
    with pytest.raises(E.NoSuchKeyError, match="no module named 'b'; keys: \\['a'\\]") as info:
        nn.ModuleDict({"a": nn.ReLU()})["b"]
    assert isinstance(info.value, KeyError)
    assert sum(1 for _ in data.TensorDataset(np.zeros(3))) == 3  # iteration by __getitem__ still ends


def test_non_numeric_data_and_operands_are_refused_up_front():
    """Strings, objects, complex numbers and dates are not tensors; each call names what came."""
    with pytest.raises(E.DTypeError, match="dtype <U1"):
        cr.tensor(np.array(["a", "b"]))
    with pytest.raises(E.DTypeError, match="dtype object"):
        cr.from_numpy(np.array([None, 1]))
    with pytest.raises(E.DTypeError, match="complex128"):
        cr.tensor(np.array([1 + 2j]))
    with pytest.raises(E.ArgumentTypeError, match="complex"):
        cr.tensor([1 + 2j])
    with pytest.raises(E.ArgumentTypeError, match="fill_value must be a real number, got str 'a'"):
        cr.full((2,), "a")
    with pytest.raises(E.DTypeError, match="matmul: operands must hold numbers, got an array of dtype float32 "
                                           "and a str"):
        cr.ones(2) @ "a"
    with pytest.raises(E.ArgumentTypeError, match="function to check, got int"):
        cr.gradcheck(1, cr.ones(2, dtype=np.float64))
    assert cr.full((2,), np.float64(0.5)).dtype == np.float32 and cr.full((1,), True).dtype == np.float32
