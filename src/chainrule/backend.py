"""The bottom of the house: dtype policy, seeded random generators and un-broadcasting.

Nothing here knows about tensors; everything above imports from here.
"""

from __future__ import annotations

import numpy as np

from .errors import ArgumentError, DTypeError

# ----------------------------------------------------------------------------------------------- dtypes
_FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
_default_dtype = np.dtype(np.float32)


def set_default_dtype(dtype) -> None:
    """Set the dtype given to Python numbers and lists (float32 unless changed).

    >>> import chainrule as cr, numpy as np
    >>> cr.set_default_dtype(np.float64); cr.tensor([1.0]).dtype
    dtype('float64')
    >>> cr.set_default_dtype(np.float32)
    """
    global _default_dtype
    dt = np.dtype(dtype)
    if dt not in _FLOAT_DTYPES:
        raise DTypeError(f"set_default_dtype: expected a floating dtype (float16/32/64), got {dt}")
    _default_dtype = dt


def get_default_dtype() -> np.dtype:
    """The dtype given to Python numbers and lists."""
    return _default_dtype


def is_float(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


# ------------------------------------------------------------------------------------------- randomness
_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed every random draw chainrule makes (initialisers, dropout, shuffling, ``cr.randn``).

    Returns the new global generator. Nothing here touches NumPy's legacy global state.
    """
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ArgumentError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The global generator that :func:`manual_seed` seeds."""
    return _generator


def get_generator(seed_or_gen=None) -> np.random.Generator:
    """A generator from a seed, an existing generator, or ``None`` (the global one)."""
    if seed_or_gen is None:
        return _generator
    if isinstance(seed_or_gen, np.random.Generator):
        return seed_or_gen
    if isinstance(seed_or_gen, (int, np.integer)) and not isinstance(seed_or_gen, bool):
        return np.random.default_rng(int(seed_or_gen))
    raise ArgumentError(f"expected a seed (int), a numpy Generator or None, got {type(seed_or_gen).__name__}")


# --------------------------------------------------------------------------------------- broadcasting
def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Undo NumPy broadcasting on a gradient: sum it back down to ``shape``.

    Broadcasting prepends axes and stretches axes of size 1, so its vector-Jacobian product sums the
    extra leading axes away, then sums (keeping the axis) wherever the input had size 1.

    >>> unbroadcast(np.ones((2, 3, 4)), (3, 1)).tolist()
    [[8.0], [8.0], [8.0]]
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    if g.shape != shape:  # a scalar input (shape ()) gets g reshaped; anything else is an engine bug
        g = g.reshape(shape)
    return g


def broadcast_shapes(*shapes: tuple) -> tuple:
    """The broadcast shape of ``shapes``, or a ShapeError naming them all."""
    from .errors import ShapeError

    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(
            "shapes " + ", ".join(str(tuple(s)) for s in shapes) + " cannot be broadcast together"
        ) from None
