"""Reverse-mode automatic differentiation: Tensor, Function, the backward engine and gradcheck."""

from .tensor import Tensor  # noqa: I001 - tensor first: the functional ops import it
from .function import Function, anomaly_enabled, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .engine import backward
from .gradcheck import GradcheckReport, gradcheck

__all__ = [
    "Tensor",
    "Function",
    "backward",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "anomaly_enabled",
    "gradcheck",
    "GradcheckReport",
]
