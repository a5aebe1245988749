"""Argument checks shared by the layers of :mod:`chainrule.nn` and the model builders of :mod:`chainrule.nn.models`.

Each names the layer or builder (``where``) and the argument, says what came and what was expected, and raises
``ArgumentTypeError`` for a value of the wrong type and ``ArgumentError`` for a value out of range.
"""

from __future__ import annotations

import re

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import foreign_array, get_default_dtype, get_generator
from ..errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError, StateDictError


def pos_int(where: str, name: str, v) -> int:
    """``v`` as a positive int; floats, bools and strings are refused, not truncated."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ArgumentTypeError(f"{where}: {name} must be a positive integer, got {v!r}")
    if v < 1:
        raise ArgumentError(f"{where}: {name} must be a positive integer, got {v!r}")
    return int(v)


def pos_ints(where: str, name: str, v, min_len: int = 0, length: int | None = None) -> list:
    """``v`` (a list, tuple or 1-D array; never a string) as a list of positive ints."""
    if (isinstance(v, (str, bytes)) or not isinstance(v, (list, tuple, range, np.ndarray))
            or (isinstance(v, np.ndarray) and v.ndim != 1)):
        raise ArgumentTypeError(f"{where}: {name} must be a list of positive integers, got {v!r}")
    out = [pos_int(where, f"{name}[{i}]", s) for i, s in enumerate(v)]
    if length is not None and len(out) != length:
        raise ArgumentError(f"{where}: {name} must hold {length} positive integers, got {len(out)}: {out}")
    if len(out) < min_len:
        raise ArgumentError(f"{where}: {name} must hold at least {min_len} positive integers, got {out}")
    return out


def real(where: str, name: str, v, low: float = 0.0, high: float = np.inf, open_low: bool = False,
          open_high: bool = True) -> float:
    """``v`` as a finite float in [low, high) (bounds as flagged); NaN and inf are refused."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"{where}: {name} must be a number, got {v!r}")
    v = float(v)
    ok = np.isfinite(v) and (v > low if open_low else v >= low) and (v < high if open_high else v <= high)
    if not ok:
        lo, hi = "(" if open_low else "[", ")" if open_high else "]"
        raise ArgumentError(f"{where}: {name} must be a finite number in {lo}{low:g}, {high:g}{hi}, got {v!r}")
    return v


def check_choice(where: str, name: str, v, valid: tuple) -> str:
    if not isinstance(v, str) or v not in valid:
        what = "valid names" if name == "activation" else "valid schemes"
        err = ArgumentError if isinstance(v, str) else ArgumentTypeError
        raise err(f"{where}: unknown {name} {v!r}; {what}: {', '.join(valid)}")
    return v


def as_generator(where: str, generator, name: str = "generator"):
    """One Generator for a whole layer or builder, or None for the global one.

    A seed is turned into a Generator once, here: passing the seed itself to every ``init.*_`` call would
    restart the stream for each parameter and give them identical (or overlapping) values.
    """
    return None if generator is None else get_generator(generator, where, name)


def flag(where: str, name: str, v) -> bool:
    """``v`` as a bool; only True and False (NumPy's too) are accepted, so ``'no'`` is not silently true."""
    if not isinstance(v, (bool, np.bool_)):
        raise ArgumentTypeError(f"{where}: {name} must be True or False, got {v!r}")
    return bool(v)


_CPU = re.compile(r"cpu(:\d+)?")


def check_device(where: str, device) -> None:
    """PyTorch's ``device=`` argument: None or the CPU ('cpu', 'cpu:0', ``torch.device('cpu')``).

    chainrule runs on the CPU with NumPy, so any other device is an ``ArgumentError``.
    """
    if device is None:
        return
    name = device.type if isinstance(getattr(device, "type", None), str) else device  # a torch.device
    if isinstance(name, str) and _CPU.fullmatch(name):
        return
    if isinstance(name, str) or (isinstance(name, (int, np.integer)) and not isinstance(name, bool)):
        raise ArgumentError(f"{where}: device {device!r} is not available; chainrule runs on the CPU with NumPy "
                            "(use device='cpu', or leave the device out)")
    raise ArgumentTypeError(f"{where}: device must be 'cpu' (a string or a torch.device), got {device!r}")


def param_dtype(where: str, dtype) -> np.dtype:
    """The floating dtype of a layer's parameters: ``dtype`` (NumPy's, a name, or a torch dtype), else the default."""
    if dtype is None:
        return get_default_dtype()
    arg = str(dtype) if type(dtype).__module__ == "torch" else dtype  # torch.float64 -> 'torch.float64'
    if isinstance(arg, str) and arg.startswith("torch."):
        arg = arg[len("torch."):]
    try:
        dt = np.dtype(arg)
    except (TypeError, ValueError):
        raise DTypeError(f"{where}: dtype must be a floating dtype (np.float32, 'float64'), got {dtype!r}") from None
    if dt.kind != "f":
        raise DTypeError(f"{where}: parameters must be floating-point; got dtype={dt} (use np.float32 or np.float64)")
    return dt


def sample_shape(where: str, shape, lengths: tuple) -> tuple:
    """One sample's shape: a tuple of positive ints of one of the ``lengths``."""
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (list, tuple, np.ndarray)):
        raise ArgumentTypeError(f"{where}: input_shape must be a tuple of positive integers, e.g. (1, 28, 28) or "
                                f"(64,), got {shape!r}")
    out = tuple(pos_ints(where, "input_shape", shape))
    if len(out) not in lengths:
        want = " or ".join({1: "(F,)", 2: "(H, W)", 3: "(C, H, W)"}.get(n, f"{n} numbers") for n in lengths)
        raise ArgumentError(f"{where}: input_shape must be {want}, got {out}")
    return out


# ------------------------------------------------------------------------ Module.to and load_state_dict
_DEVICE = re.compile(r"(cpu|cuda|mps|xpu|xla|meta|hip|hpu|ipu|mtia|vulkan)(:\d+)?")


def _device_or_dtype(owner: str, arg):
    """``("device", name)`` for a device ('cpu', torch.device('cpu')), ``("dtype", np.dtype)`` for a dtype."""
    if isinstance(arg, str) and _DEVICE.fullmatch(arg):
        return "device", arg
    if isinstance(getattr(arg, "type", None), str):  # a torch.device (a NumPy dtype's .type is a class)
        return "device", arg.type
    if type(arg).__module__ == "torch" and type(arg).__name__ == "dtype":
        arg = str(arg)
    if isinstance(arg, str) and arg.startswith("torch."):
        arg = arg[len("torch."):]
    try:
        return "dtype", np.dtype(arg)
    except TypeError:
        raise ArgumentTypeError(
            f"{owner}.to: expected a floating dtype (np.float32, 'float64') or the device 'cpu', got {arg!r}"
        ) from None


def _loadable(where: str, key: str, value, target: np.ndarray) -> np.ndarray:
    """A state dict value as an array of ``target``'s shape and dtype, or a StateDictError/ShapeError naming ``key``."""
    try:
        a = value.data if isinstance(value, Tensor) else np.asarray(foreign_array(value))  # torch: bf16 widened
    except (TypeError, ValueError, RuntimeError) as e:
        raise StateDictError(f"load_state_dict into {where}: '{key}' cannot be read as an array of numbers "
                             f"({type(value).__name__}: {e})") from None
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "biuf":
        what = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
        got = "None" if value is None else f"dtype {what}"
        raise StateDictError(f"load_state_dict into {where}: '{key}' holds {got}, expected numbers "
                             f"(an array of dtype {target.dtype})")
    if a.shape != target.shape:
        raise ShapeError(f"load_state_dict into {where}: '{key}' has shape {a.shape}, expected {target.shape}")
    with np.errstate(over="ignore", invalid="ignore"):  # as PyTorch's copy_: out-of-range values cast silently
        return a.astype(target.dtype, copy=False)
