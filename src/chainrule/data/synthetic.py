"""Small 2-D classification sets for plotting decision boundaries: moons, circles, spirals, xor.

Each returns ``(x, y)``: points float32 of shape (n, 2) and labels int64 of shape (n,), in random order.
Classes are as balanced as n allows. ``noise`` is the standard deviation of Gaussian noise added to each
coordinate; ``seed`` is an int, a NumPy Generator, or None for chainrule's global generator
(``cr.manual_seed``).
"""

from __future__ import annotations

import numpy as np

from ..backend import get_generator
from ..errors import ArgumentError, ArgumentTypeError

_F32_MAX = float(np.finfo(np.float32).max)
_MAX_NOISE = _F32_MAX / 1e3  # even a 100-sigma draw of the noise stays a finite float32 coordinate


def _check(name: str, n, noise) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ArgumentTypeError(f"{name}: n must be an integer, got {type(n).__name__}")
    if n < 1:
        raise ArgumentError(f"{name}: n must be at least 1, got {n}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"{name}: noise must be a number, got {type(noise).__name__}")
    if not (np.isfinite(noise) and 0 <= noise <= _MAX_NOISE):
        raise ArgumentError(f"{name}: noise must be a finite number in [0, {_MAX_NOISE:.3g}] (the points are "
                            f"float32, whose largest value is {_F32_MAX:.3g}), got {noise!r}")


def _rng(name: str, seed) -> np.random.Generator:
    return get_generator(seed, where=name, name="seed")


def _sizes(n: int, classes: int) -> np.ndarray:
    """Class sizes differing by at most one, summing to n."""
    return n // classes + (np.arange(classes) < n % classes)


def _finish(x: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if noise > 0:
        x = x + rng.normal(0.0, noise, size=x.shape)
    perm = rng.permutation(len(y))
    return x[perm].astype(np.float32), y[perm].astype(np.int64)


def make_moons(n: int, noise: float = 0.0, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: class 0 the upper arc, class 1 the lower one, shifted.

    Math: class 0 at (cos t, sin t), class 1 at (1 - cos t, 0.5 - sin t), t evenly spaced in [0, pi].

    >>> x, y = make_moons(100, noise=0.1, seed=0)
    >>> x.shape, x.dtype, y.dtype, int(y.sum())
    ((100, 2), dtype('float32'), dtype('int64'), 50)
    """
    _check("make_moons", n, noise)
    rng = _rng("make_moons", seed)
    n0, n1 = _sizes(n, 2)
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    x = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1), np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)])
    return _finish(x, np.repeat([0, 1], [n0, n1]), noise, rng)


def make_circles(n: int, noise: float = 0.0, seed=None, factor: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (0 < factor < 1).

    >>> x, y = make_circles(10, seed=0, factor=0.5)
    >>> sorted(np.round(np.hypot(x[:, 0], x[:, 1]), 3).tolist())[::5]
    [0.5, 1.0]
    """
    _check("make_circles", n, noise)
    rng = _rng("make_circles", seed)
    if not (isinstance(factor, (int, float, np.floating)) and 0 < factor < 1):
        raise ArgumentError(f"make_circles: factor must lie strictly between 0 and 1, got {factor!r}")
    n0, n1 = _sizes(n, 2)
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n1, endpoint=False)
    x = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1), factor * np.stack([np.cos(t1), np.sin(t1)], 1)])
    return _finish(x, np.repeat([0, 1], [n0, n1]), noise, rng)


def make_spirals(n: int, noise: float = 0.0, seed=None, classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (2 or more; 2 and 3 are the usual choices).

    Math: arm k at radius r and angle 3*pi*r + 2*pi*k/classes, r evenly spaced in [0.05, 1].

    >>> x, y = make_spirals(90, noise=0.05, seed=0, classes=3)
    >>> x.shape, np.bincount(y).tolist()
    ((90, 2), [30, 30, 30])
    """
    _check("make_spirals", n, noise)
    rng = _rng("make_spirals", seed)
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ArgumentError(f"make_spirals: classes must be an integer >= 2, got {classes!r}")
    sizes = _sizes(n, int(classes))
    r = np.concatenate([np.linspace(0.05, 1.0, m) for m in sizes])
    y = np.repeat(np.arange(classes), sizes)
    angle = 3 * np.pi * r + 2 * np.pi * y / classes
    return _finish(np.stack([r * np.cos(angle), r * np.sin(angle)], 1), y, noise, rng)


def make_xor(n: int, noise: float = 0.0, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]^2, labelled 1 where exactly one coordinate is positive (x1 * x2 < 0).

    Half the points (rounded) fall in the two class-0 quadrants, half in the two class-1 quadrants.

    >>> x, y = make_xor(200, seed=0)
    >>> bool(np.all((x[:, 0] * x[:, 1] < 0) == (y == 1))), int(y.sum())
    (True, 100)
    """
    _check("make_xor", n, noise)
    rng = _rng("make_xor", seed)
    y = np.repeat([0, 1], _sizes(n, 2))
    s1 = rng.choice([-1.0, 1.0], size=n)
    s2 = np.where(y == 1, -s1, s1)
    x = (1.0 - rng.uniform(0.0, 1.0, size=(n, 2))) * np.stack([s1, s2], 1)
    return _finish(x, y, noise, rng)
