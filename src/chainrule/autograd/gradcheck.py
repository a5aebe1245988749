"""Finite-difference gradient checking, the learner's proof that a derivative is right.

For f(x) = fn(*inputs).sum(), the central difference

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

has error O(eps^2), so in float64 with eps = 1e-6 it agrees with a correct analytic gradient to about
1e-8. Small inputs are checked element by element (the full gradient); large inputs along a few random
unit directions v, comparing (f(x + eps v) - f(x - eps v)) / (2 eps) with <grad f, v>.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError, GradcheckError
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


def _scalar(fn, args) -> float:
    with no_grad():
        out = fn(*args)
    return float(np.sum(out.data if isinstance(out, Tensor) else out, dtype=np.float64))


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
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise GradcheckError("gradcheck: fn must return a Tensor that depends on the checked inputs")
    out.sum().backward()

    rng = np.random.default_rng(seed)
    report = GradcheckReport()
    for i in check:
        x = args[i]
        analytic = x.grad if x.grad is not None else np.zeros_like(x.data)
        base = x.data.copy()
        if x.data.size <= FULL_JACOBIAN_MAX:
            mode = "full"
            numeric = np.empty_like(base)
            flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
            for k in range(flat.size):
                v = flat[k]
                flat[k] = v + eps
                fp = _scalar(fn, args)
                flat[k] = v - eps
                fm = _scalar(fn, args)
                flat[k] = v
                numeric.reshape(-1)[k] = (fp - fm) / (2 * eps)
            a, n = analytic.reshape(-1), numeric.reshape(-1)
        else:
            mode = "directions"
            a = np.empty(N_DIRECTIONS)
            n = np.empty(N_DIRECTIONS)
            for k in range(N_DIRECTIONS):
                v = rng.standard_normal(base.shape)
                v /= np.linalg.norm(v)
                x.data[...] = base + eps * v
                fp = _scalar(fn, args)
                x.data[...] = base - eps * v
                fm = _scalar(fn, args)
                x.data[...] = base
                n[k] = (fp - fm) / (2 * eps)
                a[k] = float(np.sum(analytic * v))
        if a.size == 0:  # an empty input: nothing to compare
            report.inputs.append(InputReport(i, base.shape, mode, 0.0, 0.0, None, 0.0, 0.0))
            continue
        err = np.abs(a - n)
        rel = err / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-12)
        bad = err > atol + rtol * np.abs(n)
        k = int(np.argmax(np.where(bad, err, -1.0))) if bad.any() else int(np.argmax(err))
        where = np.unravel_index(k, base.shape) if mode == "full" and base.ndim else k
        where = tuple(int(j) for j in where) if isinstance(where, tuple) else where
        row = InputReport(i, base.shape, mode, float(err.max(initial=0)), float(rel.max(initial=0)), where,
                          float(a[k]) if a.size else 0.0, float(n[k]) if n.size else 0.0)
        if bad.any():
            what = f"element {where}" if mode == "full" else f"random direction {where}"
            raise GradcheckError(
                f"gradcheck: input {i} (shape {base.shape}) disagrees at {what}: analytic {row.analytic:.6g}, "
                f"numeric {row.numeric:.6g} (abs error {err[k]:.3g}, atol {atol}, rtol {rtol}); "
                f"{int(bad.sum())} of {bad.size} {'elements' if mode == 'full' else 'directions'} fail"
            )
        report.inputs.append(row)
    return report
