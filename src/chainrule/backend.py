"""The bottom of the house: dtype policy, seeded random generators, un-broadcasting, malloc tuning,
and the one-pass ``y = a*x + b*y`` the optimizers update with.

Nothing here knows about tensors; everything above imports from here.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

from .errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError


# ------------------------------------------------------------------------------------------ memory
def tune_malloc(mmap_threshold: int = 32 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Make glibc's malloc keep big freed blocks for reuse instead of returning them to the OS.

    Training allocates and frees the same large temporaries every step (im2col columns, gate arrays,
    activations). By default glibc serves blocks above an adaptive threshold with ``mmap`` and unmaps
    them on ``free``, so every step the kernel hands out fresh zeroed pages again, one page fault per
    4 KiB. Raising ``M_MMAP_THRESHOLD`` (to glibc's maximum, 32 MiB) puts those blocks on the heap, and
    raising ``M_TRIM_THRESHOLD`` keeps up to ``trim_threshold`` bytes of freed heap mapped, so the next
    step reuses the same pages. Measured on the small CNN: ~11,000 faults and ~25% of the CPU time per
    step gone; the peak RSS is unchanged (the pages kept are those the step needs anyway).

    Called once when chainrule is imported. Linux with glibc only (elsewhere it does nothing); set the
    environment variable ``CHAINRULE_MALLOC_TUNING=0`` to leave malloc alone. Returns whether it tuned.

    >>> isinstance(tune_malloc(), bool)
    True
    """
    if os.environ.get("CHAINRULE_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)  # the symbols already loaded in this process, libc among them
        libc.gnu_get_libc_version  # noqa: B018 - present in glibc only (not musl): the guard
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's <malloc.h>
    ok = mallopt(m_mmap_threshold, int(mmap_threshold)) == 1
    return mallopt(m_trim_threshold, int(trim_threshold)) == 1 and ok


malloc_tuned = tune_malloc()

# --------------------------------------------------------------------------------- in-place updates
_axpby_funcs = None  # {dtype: BLAS routine}, found on first use (ctypes would add to the import time)
_axpy_funcs: dict = {}  # {dtype: BLAS ?axpy}, found with them: y = a x + y, which OpenBLAS runs on all its threads
_AXPBY_BLAS_MIN = 16384  # below this many elements NumPy's calls cost less than the ctypes call (~5 us)


_openblas_lib = False  # not looked for yet; then a ctypes library or None


def _openblas():
    """NumPy's own OpenBLAS as a ctypes library, or None (another BLAS, or not found).

    NumPy's wheels ship OpenBLAS as ``scipy-openblas64`` (64-bit integers, symbols ``scipy_*64_``) in
    ``numpy.libs`` (Linux, Windows) or ``numpy/.dylibs`` (macOS). Opening that file again returns the copy
    NumPy already loaded, so its thread pool is shared, not doubled. Any other NumPy build (conda's MKL,
    Accelerate, a system BLAS) gets None, and everything that uses it stays in NumPy.
    """
    global _openblas_lib
    if _openblas_lib is False:
        _openblas_lib = None
        try:
            import ctypes
            import glob

            here = os.path.dirname(np.__file__)
            found = [f for pattern in (os.path.join(here + ".libs", "*scipy_openblas64_*"),
                                       os.path.join(here, ".dylibs", "*scipy_openblas64_*"))
                     for f in glob.glob(pattern)]
            if len(found) == 1:
                _openblas_lib = ctypes.CDLL(found[0])
        except (OSError, ImportError):
            pass
    return _openblas_lib


def _find_axpby() -> dict:
    """BLAS's ``?axpby`` from NumPy's own OpenBLAS (see :func:`_openblas`), as ``{dtype: routine}``, or ``{}``.

    The routines are checked against NumPy once before use. ``CHAINRULE_BLAS_AXPBY=0`` turns them off.
    """
    if os.environ.get("CHAINRULE_BLAS_AXPBY", "1") == "0":
        return {}
    lib = _openblas()
    if lib is None:
        return {}
    try:
        import ctypes

        funcs, axpys = {}, {}
        for dt, p, scalar in ((np.float32, "s", ctypes.c_float), (np.float64, "d", ctypes.c_double)):
            f, g = getattr(lib, f"scipy_cblas_{p}axpby64_"), getattr(lib, f"scipy_cblas_{p}axpy64_")
            f.argtypes = [ctypes.c_int64, scalar, ctypes.c_void_p, ctypes.c_int64, scalar, ctypes.c_void_p,
                          ctypes.c_int64]
            g.argtypes = [ctypes.c_int64, scalar, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64]
            f.restype = g.restype = None
            x, y, z = np.arange(1, 6, dtype=dt), np.arange(10, 15, dtype=dt), np.arange(10, 15, dtype=dt)
            f(5, 2.0, x.ctypes.data, 1, 0.5, y.ctypes.data, 1)  # exact in both precisions
            g(5, 2.0, x.ctypes.data, 1, z.ctypes.data, 1)
            if not (np.array_equal(y, 2.0 * np.arange(1, 6) + 0.5 * np.arange(10, 15))
                    and np.array_equal(z, 2.0 * np.arange(1, 6) + np.arange(10, 15))):
                return {}
            funcs[np.dtype(dt)], axpys[np.dtype(dt)] = f, g
        _axpy_funcs.clear()
        _axpy_funcs.update(axpys)
        return funcs
    except AttributeError:
        return {}


_thread_funcs = False  # not looked for yet; then (get, set) or None


def _blas_thread_funcs():
    global _thread_funcs
    if _thread_funcs is False:
        _thread_funcs = None
        lib = _openblas()
        try:
            import ctypes

            get, put = lib.scipy_openblas_get_num_threads64_, lib.scipy_openblas_set_num_threads64_
            get.argtypes, get.restype = [], ctypes.c_int
            put.argtypes, put.restype = [ctypes.c_int], None
            _thread_funcs = (get, put)
        except AttributeError:  # lib None, or an OpenBLAS without these symbols
            pass
    return _thread_funcs


def blas_threads() -> int | None:
    """The number of threads NumPy's OpenBLAS may use now, or None when it is not NumPy's own OpenBLAS."""
    funcs = _blas_thread_funcs()
    return None if funcs is None else int(funcs[0]())


def park_blas_threads() -> bool:
    """Stop NumPy's OpenBLAS worker threads now; returns whether they were running (the next multi-threaded
    BLAS call starts them again, as after a fork).

    After each multi-threaded call OpenBLAS's workers spin for about 0.1 s waiting for more work, taking a
    core each. Code that runs its own threads with a single-threaded BLAS (:mod:`chainrule._threads`) parks
    them first, or they would take the cores its threads need. This is the routine OpenBLAS itself runs
    before every ``fork()``, and with the same condition: no other thread may be inside a BLAS call.
    """
    lib = _openblas()
    try:
        import ctypes

        avail = ctypes.c_int.in_dll(lib, "blas_server_avail")
        if not avail.value:
            return False
        lib.blas_thread_shutdown_()
        return True
    except (AttributeError, ValueError, TypeError):  # lib None, or another OpenBLAS
        return False


def set_blas_threads(n: int) -> int | None:
    """Let NumPy's OpenBLAS use ``n`` threads (process-wide); returns the previous count (None: no OpenBLAS)."""
    funcs = _blas_thread_funcs()
    if funcs is None:
        return None
    previous = int(funcs[0]())
    if n != previous:
        funcs[1](int(n))
    return previous


def _blas_axpby_for(x: np.ndarray, y: np.ndarray):
    """BLAS's axpby for this pair, or None when :func:`axpby` would take the NumPy path."""
    global _axpby_funcs
    if _axpby_funcs is None:
        _axpby_funcs = _find_axpby()
    f = _axpby_funcs.get(y.dtype) if y.size >= _AXPBY_BLAS_MIN else None
    if (f is not None and x.dtype == y.dtype and x.shape == y.shape and x.flags.c_contiguous
            and y.flags.c_contiguous and y.flags.writeable and (x is y or not np.may_share_memory(x, y))):
        return f
    return None


def axpby_uses_blas(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether ``axpby(a, x, b, y)`` runs in BLAS (one pass) rather than in NumPy (up to three)."""
    return _blas_axpby_for(x, y) is not None


def axpby(a: float, x: np.ndarray, b: float, y: np.ndarray, tmp: np.ndarray | None = None) -> np.ndarray:
    """``y = a * x + b * y`` in place in ``y``: the inner line of every optimizer, in one pass.

    NumPy's ufuncs take two operands each, so in NumPy this line is up to three passes over memory
    (``y *= b``, ``tmp = a * x``, ``y += tmp``). BLAS's ``axpby`` reads ``x`` and ``y`` once and writes
    ``y`` once. On the MLP benchmark (669k weights) it takes SGD with momentum from about 0.50 to 0.28 ms
    a step. With b = 1 (``w -= lr * d``) it calls BLAS's ``axpy``, which OpenBLAS runs on all its threads
    (401k numbers: 29 against 49 us). The BLAS routine is used when NumPy's own OpenBLAS has it (see
    :func:`_find_axpby`), ``y`` has at least 16,384 elements (below that the ctypes call costs more than it
    saves), the dtype is float32 or float64, both arrays are C-contiguous with the same shape and do not partly overlap;
    NumPy does the same arithmetic otherwise. The two agree to rounding (BLAS may fuse the
    multiply-add); one machine always takes the same path, so runs stay bit-for-bit reproducible.

    ``tmp``, an array like ``y``, spares the NumPy path an allocation when ``a`` is not 1.

    >>> y = np.array([1.0, 2.0]); axpby(2.0, np.array([10.0, 20.0]), 0.5, y)
    array([20.5, 41. ])
    """
    f = _blas_axpby_for(x, y)
    if f is not None:
        if b == 1.0:  # y += a x: BLAS's axpy, which OpenBLAS spreads over its threads (axpby runs on one)
            _axpy_funcs[y.dtype](y.size, float(a), x.ctypes.data, 1, y.ctypes.data, 1)
        else:
            f(y.size, float(a), x.ctypes.data, 1, float(b), y.ctypes.data, 1)  # float(): NumPy scalars too
        return y
    if b == 0.0:
        return np.multiply(x, a, out=y)
    if b != 1.0:
        np.multiply(y, b, out=y)
    if a == 1.0:
        return np.add(y, x, out=y)
    if a == -1.0:
        return np.subtract(y, x, out=y)
    return np.add(y, np.multiply(x, a, out=tmp), out=y)


# ----------------------------------------------------------------------------------------------- dtypes
_FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
_default_dtype = np.dtype(np.float32)


def as_dtype(dtype, what: str = "dtype") -> np.dtype:
    """A dtype argument as a NumPy dtype: anything ``np.dtype`` takes, or a PyTorch dtype (torch.float64);
    anything else is a DTypeError naming ``what``."""
    arg = dtype
    if type(arg).__module__ == "torch" and type(arg).__name__ == "dtype":
        arg = str(arg)  # torch.float64 -> 'torch.float64'
    if isinstance(arg, str) and arg.startswith("torch."):
        arg = arg[len("torch."):]
    try:
        return np.dtype(arg)
    except (TypeError, ValueError):
        raise DTypeError(f"{what}: not a dtype: {dtype!r}") from None


def set_default_dtype(dtype) -> None:
    """Set the dtype given to Python numbers and lists (float32 unless changed).

    >>> import chainrule as cr, numpy as np
    >>> cr.set_default_dtype(np.float64); cr.tensor([1.0]).dtype
    dtype('float64')
    >>> cr.set_default_dtype(np.float32)
    """
    global _default_dtype
    if dtype is None:  # np.dtype(None) is float64: None must not silently switch the default
        raise DTypeError("set_default_dtype: expected a floating dtype (np.float16/32/64 or 'float32'), got None")
    try:
        dt = as_dtype(dtype, "set_default_dtype")
    except DTypeError:
        raise DTypeError(f"set_default_dtype: expected a floating dtype (np.float16/32/64 or 'float32'), "
                         f"got {dtype!r}") from None
    if dt not in _FLOAT_DTYPES:
        raise DTypeError(f"set_default_dtype: expected a floating dtype (float16/32/64), got {dtype!r} ({dt})")
    _default_dtype = dt


def get_default_dtype() -> np.dtype:
    """The dtype given to Python numbers and lists."""
    return _default_dtype


# ------------------------------------------------------------------------------------------- randomness
_generator = None  # made on first use: importing numpy.random would add ~10 ms to `import chainrule`


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
    """The global generator that :func:`manual_seed` seeds (unseeded until it is called)."""
    global _generator
    if _generator is None:
        _generator = np.random.default_rng()
    return _generator


def check_seed(seed, where: str, name: str = "seed", also: str = "") -> int | None:
    """``seed`` as a non-negative int, or None; anything else is named in an error (not NumPy's). ``also``
    names another accepted kind for the message ("a numpy Generator")."""
    if seed is None:
        return None
    what = f"{where}: {name}" if where else name
    kinds = f"a non-negative integer, {also} or None" if also else "a non-negative integer or None"
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ArgumentTypeError(f"{what} must be {kinds}, got {type(seed).__name__} {seed!r:.60}")
    if seed < 0:
        raise ArgumentError(f"{what} must be {kinds}, got {seed!r}")
    return int(seed)


def get_generator(seed_or_gen=None, where: str = "", name: str = "generator") -> np.random.Generator:
    """A generator from a seed, an existing generator, or ``None`` (the global one)."""
    if seed_or_gen is None:
        return default_generator()
    if isinstance(seed_or_gen, np.random.Generator):
        return seed_or_gen
    return np.random.default_rng(check_seed(seed_or_gen, where, name, also="a numpy Generator"))


# --------------------------------------------------------------------------------------- broadcasting
def shape_tuple(shape, what: str = "shape", allow_minus_one: bool = False) -> tuple:
    """``shape`` given as ints (``f(2, 3)``) or as one tuple/list (``f((2, 3))``), checked: a tuple of ints >= 0
    (one -1 allowed where ``allow_minus_one``, as in reshape). Floats, bools and strings are refused, not truncated.

    >>> shape_tuple((2, 3)), shape_tuple(([4, 5],))
    ((2, 3), (4, 5))
    """
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
        raise ArgumentTypeError(f"{what} must be ints, got {shape!r}")
    shape = tuple(int(s) for s in shape)
    low = [s for s in shape if s < 0 and not (allow_minus_one and s == -1)]
    if low or (allow_minus_one and shape.count(-1) > 1):
        raise ShapeError(f"{what} must be non-negative{' (one -1 allowed)' if allow_minus_one else ''}, got {shape}")
    if math.prod(abs(s) for s in shape) >= 2**60:  # NumPy's limit is 2**63 bytes
        raise ShapeError(f"{what} {shape} has {math.prod(abs(s) for s in shape):.3g} elements, more than an array "
                         "can hold")
    return shape


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


def foreign_array(v):
    """The NumPy array behind a PyTorch tensor (anything with ``detach`` and ``numpy``), else ``v`` unchanged.

    Floating dtypes NumPy lacks (bfloat16, the float8 kinds, the dtype of most published checkpoints) are
    widened to float32 first, which is exact: each of their values is a float32 value.
    """
    if isinstance(v, np.ndarray) or not (hasattr(v, "detach") and hasattr(v, "numpy")):
        return v
    v = v.detach()
    if hasattr(v, "cpu"):
        v = v.cpu()
    try:
        return v.numpy()
    except TypeError:  # "unsupported ScalarType BFloat16" and the like
        if getattr(v, "is_floating_point", lambda: False)():
            return v.float().numpy()
        raise DTypeError(f"cannot read a tensor of dtype {getattr(v, 'dtype', '?')} as a NumPy array") from None
