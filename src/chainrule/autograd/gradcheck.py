"""Finite-difference gradient checking, the learner's proof that a derivative is right.

For f(x) = fn(*inputs).sum(), the central difference

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

has error O(eps^2), so in float64 with eps = 1e-6 it agrees with a correct analytic gradient to about
1e-8. Small inputs are checked element by element (the full gradient); large inputs along a few random
unit directions v, comparing (f(x + eps v) - f(x - eps v)) / (2 eps) with <grad f, v>.

The plain sum sends a gradient of ones into ``fn``'s output, and a backward that forgets to multiply by
its incoming gradient ``gy`` (the commonest slip in a hand-written derivative) would pass. So every input
is checked twice: for the sum, and for the weighted sum g(x) = sum_k r_k fn(x)_k with fixed random
weights r, whose incoming gradient is r. Both come from the same evaluations of ``fn``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, GradcheckError
from .function import no_grad
from .tensor import Tensor

FULL_JACOBIAN_MAX = 2048  # inputs up to this many elements are checked element by element
N_DIRECTIONS = 12


@dataclass
class InputReport:
    index: int
    shape: tuple
    mode: str  # "full" or "directions"
    max_abs_error: float
    max_rel_error: float
    worst: tuple | int | None  # index of the worst element, or of the worst direction (None: empty input)
    analytic: float
    numeric: float


@dataclass
class GradcheckReport:
    """What :func:`gradcheck` measured, one row per checked input."""

    inputs: list = field(default_factory=list)

    @property
    def max_abs_error(self) -> float:
        return max((r.max_abs_error for r in self.inputs), default=0.0)

    @property
    def max_rel_error(self) -> float:
        return max((r.max_rel_error for r in self.inputs), default=0.0)

    def __bool__(self) -> bool:
        return True  # a report is only returned when the check passed

    def __str__(self) -> str:
        lines = [f"{'input':>5}  {'shape':<16} {'mode':<10} {'max abs err':>12} {'max rel err':>12}"]
        for r in self.inputs:
            lines.append(
                f"{r.index:>5}  {str(r.shape):<16} {r.mode:<10} {r.max_abs_error:12.3e} {r.max_rel_error:12.3e}"
            )
        return "\n".join(lines)


def _scalars(fn, args, weights) -> tuple[float, float]:
    """fn(*args).sum() and the weighted sum (fn(*args) * weights).sum(), in float64, without a graph."""
    with no_grad():
        out = fn(*args)
    y = np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)
    return float(np.sum(y)), float(np.sum(y * weights))


def _analytic(fn, args, check, weights) -> list:
    """The gradients of fn(*args).sum() (weights None) or of the weighted sum, for the inputs in ``check``.

    Other leaves that fn uses (a layer's parameters) get their ``.grad`` back as it was: a check must not
    leave gradients behind for the next optimizer step to pick up."""
    for i in check:
        args[i].grad = None
    out = fn(*args)
    loss = out.sum() if weights is None else (out * weights).sum()
    others = [x for x in _leaves(loss) if not any(x is args[i] for i in check)]
    kept = [x.grad for x in others]
    for x in others:
        x.grad = None  # backward adds into .grad in place: keep the old array out of its reach
    loss.backward()
    for x, g in zip(others, kept):
        x.grad = g
    return [args[i].grad if args[i].grad is not None else np.zeros_like(args[i].data) for i in check]


def _precision_hint(dtype) -> str:
    if dtype == np.float64:
        return ""
    return (f"; note that fn computed in {dtype}, not float64, so the differences are not float64's: its "
            f"parameters or constants are probably {dtype} (convert them, e.g. model.double())")


def _leaves(t: Tensor) -> list:
    """The leaves that require grad in the graph that computed t."""
    from .engine import _topological_order

    found = {}
    for fn in _topological_order(t._ctx) if t._ctx is not None else ():
        for x in fn.inputs:
            if isinstance(x, Tensor) and x._ctx is None and x.requires_grad:
                found[id(x)] = x
    return list(found.values())


def gradcheck(fn, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4, seed: int = 0):
    """Check the analytic gradient of ``fn(*inputs).sum()`` against central differences in float64.

    Floating inputs (tensors or arrays) are copied to float64. Inputs that are tensors with
    ``requires_grad=True`` are checked; if none are marked, every floating input is checked. Other
    inputs (integer labels, numbers) are passed through unchanged.

    Returns a :class:`GradcheckReport`; raises :class:`chainrule.GradcheckError` naming the input and
    its worst element when the two gradients disagree by more than ``atol + rtol * |numeric|``.

    >>> import chainrule as cr
    >>> report = cr.gradcheck(lambda x: x.tanh(), cr.randn(3, 4))
    >>> report.max_abs_error < 1e-8
    True
    """
    if not callable(fn):
        raise ArgumentTypeError(f"gradcheck: the first argument must be the function to check, got "
                                f"{type(fn).__name__} {fn!r}")
    for name, v, low in (("eps", eps, 0.0), ("atol", atol, None), ("rtol", rtol, None)):
        ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)
        if not ok or (v <= 0 if low is not None else v < 0):
            raise ArgumentError(f"gradcheck: {name} must be a finite number {'> 0' if low is not None else '>= 0'}, "
                                f"got {v!r}")
    marked = [isinstance(x, Tensor) and x.requires_grad for x in inputs]
    args = []
    check = []
    for x, m in zip(inputs, marked):
        raw = x.data if isinstance(x, Tensor) else x
        if isinstance(raw, np.ndarray) and raw.dtype.kind == "f":
            wanted = m or not any(marked)
            # C order: the full-Jacobian loop perturbs x through a flat view, which a transposed or
            # Fortran-ordered copy would not give
            args.append(Tensor(np.array(raw, dtype=np.float64, order="C"), requires_grad=wanted))
            if wanted:
                check.append(len(args) - 1)
        else:
            args.append(x)
    if not check:
        raise GradcheckError("gradcheck: no floating-point input to check")

    out = fn(*args)
    if isinstance(out, (tuple, list)):
        raise GradcheckError(f"gradcheck: fn returned a {type(out).__name__}; return one Tensor (e.g. out[0])")
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise GradcheckError("gradcheck: fn must return a Tensor that depends on the checked inputs")
    rng = np.random.default_rng(seed)
    weights = rng.uniform(-1.5, 1.5, out.shape)  # r: the incoming gradient of the weighted check
    plain = _analytic(fn, args, check, None)
    weighted = _analytic(fn, args, check, weights)

    report = GradcheckReport()
    for i, a_plain, a_weighted in zip(check, plain, weighted):
        x = args[i]
        base = x.data.copy()
        if x.data.size <= FULL_JACOBIAN_MAX:
            mode = "full"
            numeric = np.empty((2, base.size))
            flat = x.data.reshape(-1)  # a view (x is C-ordered): perturbing it perturbs x
            for k in range(flat.size):
                v = flat[k]
                flat[k] = v + eps
                fp = _scalars(fn, args, weights)
                flat[k] = v - eps
                fm = _scalars(fn, args, weights)
                flat[k] = v
                numeric[:, k] = np.subtract(fp, fm) / (2 * eps)
            analytic = np.stack([a_plain.reshape(-1), a_weighted.reshape(-1)])
        else:
            mode = "directions"
            analytic, numeric = np.empty((2, N_DIRECTIONS)), np.empty((2, N_DIRECTIONS))
            for k in range(N_DIRECTIONS):
                v = rng.standard_normal(base.shape)
                v /= np.linalg.norm(v)
                x.data[...] = base + eps * v
                fp = _scalars(fn, args, weights)
                x.data[...] = base - eps * v
                fm = _scalars(fn, args, weights)
                x.data[...] = base
                numeric[:, k] = np.subtract(fp, fm) / (2 * eps)
                analytic[:, k] = float(np.sum(a_plain * v)), float(np.sum(a_weighted * v))
        if base.size == 0:  # an empty input: nothing to compare
            report.inputs.append(InputReport(i, base.shape, mode, 0.0, 0.0, None, 0.0, 0.0))
            continue
        err = np.abs(analytic - numeric)
        rel = err / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-12)
        with np.errstate(invalid="ignore"):  # inf - inf
            # a NaN on either side fails (NaN > tol would be False); equal infinities agree
            bad = ~((err <= atol + rtol * np.abs(numeric)) | (analytic == numeric))
        # the worst failing element of the plain sum (whose gradient the user knows), else of the weighted
        # sum; when both agree, the worst element of both checks
        if bad.any():
            c = 0 if bad[0].any() else 1
            k = int(np.argmax(np.where(bad[c], err[c], -1.0)))
        else:
            c, k = np.unravel_index(int(np.argmax(err)), err.shape)
        where = np.unravel_index(k, base.shape) if mode == "full" and base.ndim else k
        where = tuple(int(j) for j in where) if isinstance(where, tuple) else int(where)
        row = InputReport(i, base.shape, mode, float(err.max()), float(rel.max()), where,
                          float(analytic[c, k]), float(numeric[c, k]))
        if bad.any():
            what = f"element {where}" if mode == "full" else f"random direction {where}"
            hint = ("" if bad[0].any() else
                    " (with random weights on fn's outputs; the plain sum agrees: does backward multiply by gy?)")
            raise GradcheckError(
                f"gradcheck: input {i} (shape {base.shape}) disagrees at {what}{hint}: analytic "
                f"{row.analytic:.6g}, numeric {row.numeric:.6g} (abs error {err[c, k]:.3g}, atol {atol}, "
                f"rtol {rtol}); {int(bad[c].sum())} of {bad.shape[1]} {'elements' if mode == 'full' else 'directions'}"
                " fail" + _precision_hint(out.dtype)
            )
        report.inputs.append(row)
    return report
