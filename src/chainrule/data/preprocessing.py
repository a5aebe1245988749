"""Feature standardisation, fitted on the training split only."""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError, DataError, ShapeError


def _numeric(x, where: str, what: str = "data") -> np.ndarray:
    """x as a numeric array, else a DataError naming ``Standardizer.where``."""
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as e:  # a ragged list
        raise DataError(f"Standardizer.{where}: the {what} is not a rectangular array of numbers ({e})") from None
    if a.dtype.kind not in "biuf":
        raise DataError(f"Standardizer.{where}: expected numbers in the {what}, got dtype {a.dtype}")
    return a


class Standardizer:
    """Scale each feature to zero mean and unit variance, with statistics from the training data.

    Math
    ----
    fit:        mu = mean_i x_i,   sigma = sqrt(mean_i (x_i - mu)^2)   (per feature, over the sample axis)
    transform:  z = (x - mu) / s,  s = sigma where sigma > 0 else 1    (a constant column maps to 0)
    inverse:    x = z * s + mu

    Statistics are computed in float64 and kept as float64 arrays (``mean``, ``scale``); transforms
    return the input's floating dtype (float32 stays float32; integers become float32).

    Examples
    --------
    >>> x = np.array([[1.0, 5.0], [3.0, 5.0]], dtype=np.float32)
    >>> s = Standardizer().fit(x)
    >>> s.transform(x)
    array([[-1.,  0.],
           [ 1.,  0.]], dtype=float32)
    >>> s.inverse_transform(s.transform(x)).tolist()
    [[1.0, 5.0], [3.0, 5.0]]
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    @property
    def fitted(self) -> bool:
        return self.mean is not None

    def fit(self, x) -> Standardizer:
        """Compute the per-feature mean and scale of ``x`` of shape (N, ...) with N >= 1."""
        x = _numeric(x, "fit")
        if x.ndim < 1 or len(x) == 0:
            raise DataError(f"Standardizer.fit: expected at least one sample, got an array of shape {x.shape}")
        if x.dtype.kind not in "biuf":
            raise DataError(f"Standardizer.fit: expected numeric data, got dtype {x.dtype}")
        x64 = x.astype(np.float64)
        if not np.isfinite(x64).all():
            raise DataError("Standardizer.fit: the data holds NaN or inf values")
        with np.errstate(over="ignore", invalid="ignore"):  # values near 1e308 overflow the sums
            mean = x64.mean(axis=0)
            std = np.sqrt(((x64 - mean) ** 2).mean(axis=0))
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            raise DataError("Standardizer.fit: the data holds values too large to standardise (overflow)")
        # a constant feature (every value the same) maps to 0 with scale 1; its computed std is not always 0:
        # the float64 mean of a column of 0.1 is not exactly 0.1, and std came out 2.8e-17, a scale that
        # blew a new value 0.2 up to 4e15
        constant = (x64 == x64[:1]).all(axis=0)
        self.mean = np.where(constant, x64[0], mean)
        self.scale = np.where(constant | (std <= 0), 1.0, std)
        return self

    def _prepare(self, x, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.fitted:
            raise ArgumentError(f"Standardizer.{where}: call fit() on the training data first")
        x = _numeric(x, where)
        if x.shape[1:] != self.mean.shape:
            raise ShapeError(f"Standardizer.{where}: fitted on samples of shape {self.mean.shape}, "
                             f"got data of shape {x.shape} (samples of shape {x.shape[1:]})")
        # computed in float64 for integers (a timestamp near 1.7e9 has no float32 of its own) and in float32
        # for float16 (whose range the statistics may exceed); the result in x's float dtype, else float32
        work = np.float64 if x.dtype.kind != "f" else np.float32 if x.dtype == np.float16 else x.dtype
        return x.astype(work, copy=False), self.mean.astype(work), self.scale.astype(work)

    @staticmethod
    def _out_dtype(x) -> np.dtype:
        x = np.asarray(x)
        return x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)

    def transform(self, x) -> np.ndarray:
        """``(x - mean) / scale`` in x's floating dtype (float32 for integers); x of shape (N, ...) like the
        fitted data."""
        x_, mean, scale = self._prepare(x, "transform")
        return ((x_ - mean) / scale).astype(self._out_dtype(x), copy=False)

    def fit_transform(self, x) -> np.ndarray:
        return self.fit(x).transform(x)

    def inverse_transform(self, z) -> np.ndarray:
        """``z * scale + mean``: undo :meth:`transform`."""
        z_, mean, scale = self._prepare(z, "inverse_transform")
        return (z_ * scale + mean).astype(self._out_dtype(z), copy=False)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The fitted statistics as arrays (``mean``, ``scale``), ready for ``cr.save``."""
        if not self.fitted:
            raise ArgumentError("Standardizer.state_dict: the standardizer is not fitted")
        return {"mean": self.mean.copy(), "scale": self.scale.copy()}

    def load_state_dict(self, state: dict) -> Standardizer:
        """Restore statistics saved by :meth:`state_dict`."""
        missing = {"mean", "scale"} - set(state)
        if missing:
            raise DataError(f"Standardizer.load_state_dict: missing keys {sorted(missing)}, got {sorted(state)}")
        mean = _numeric(state["mean"], "load_state_dict", "mean").astype(np.float64)
        scale = _numeric(state["scale"], "load_state_dict", "scale").astype(np.float64)
        if mean.shape != scale.shape:
            raise ShapeError(f"Standardizer.load_state_dict: mean {mean.shape} and scale {scale.shape} differ")
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise DataError("Standardizer.load_state_dict: mean must be finite and scale finite and positive")
        self.mean, self.scale = mean, scale
        return self

    def __repr__(self) -> str:
        return f"Standardizer(features={None if self.mean is None else self.mean.shape})"
