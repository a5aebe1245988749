"""The public ops and Tensor methods of API.md carry the docstrings that DESIGN.md asks for.

An op's docstring has a numpydoc ``Math`` section (forward formula and derivative) and a ``>>>`` example;
the core ops' examples also show a gradient. Every Tensor method named in API.md has a docstring. The
doctests themselves are run by ``pytest --doctest-modules``; this file checks that they exist.
"""

import inspect
import re

import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import Tensor

# API.md, "Tensor and autodiff": the methods that are also `cr.` functions, then the other `cr.` ops
_ELEMENTWISE = "exp log sqrt abs tanh sigmoid relu clip".split()
_REDUCE = "sum mean var max min argmax argmin".split()
_SHAPE = "reshape transpose flatten squeeze unsqueeze broadcast_to".split()
CR_OPS = _ELEMENTWISE + _REDUCE + _SHAPE + "maximum minimum where concatenate stack pad matmul".split()
NOT_DIFFERENTIABLE = {"argmax", "argmin"}

# the functional forms of the operators and of indexing (what `+ - * / ** @`, unary -, t[i] call)
F_OPERATORS = "add sub mul div neg pow matmul getitem swapaxes".split()
# API.md, "Functions": activations, losses, layers as functions (one_hot returns an array: not an op)
F_ACTIVATIONS = "sigmoid tanh relu leaky_relu elu gelu softplus softmax log_softmax logsumexp".split()
F_LOSSES = ("mse_loss l1_loss huber_loss binary_cross_entropy binary_cross_entropy_with_logits cross_entropy "
            "nll_loss hinge_loss").split()
F_LAYERS = "linear conv2d max_pool2d avg_pool2d batch_norm layer_norm dropout embedding".split()
F_OPS = sorted(set(CR_OPS + F_OPERATORS + F_ACTIVATIONS + F_LOSSES + F_LAYERS))

# API.md: t.numpy(), t.item(), t.detach(), t.backward(grad=None), the methods above and __getitem__
TENSOR_METHODS = ["numpy", "item", "detach", "backward", "__getitem__"] + _ELEMENTWISE + _REDUCE + _SHAPE
TENSOR_PROPERTIES = ["shape", "ndim", "dtype", "size", "T"]
# the methods a learner meets first get a runnable example
TENSOR_EXAMPLES = ["backward", "item", "numpy", "__getitem__", "reshape", "sum"]

CREATION = "tensor from_numpy zeros ones full randn rand arange eye zeros_like ones_like".split()

_MATH = re.compile(r"^Math\n-{4,}\n(.*?)(?=\n\s*\n|\Z)", re.M | re.S)


def _math_section(doc: str) -> str | None:
    m = _MATH.search(doc)
    return m.group(1) if m else None


def _check_op(name: str, fn) -> None:
    doc = inspect.getdoc(fn) or ""
    assert doc, f"{name} has no docstring"
    math = _math_section(doc)
    assert math is not None, f"{name}: no numpydoc 'Math' section (a line 'Math' underlined with dashes)"
    assert "=" in math, f"{name}: the Math section states no forward formula: {math!r}"
    assert re.search(r"/d|deriv", math, re.I), f"{name}: the Math section states no derivative: {math!r}"
    assert ">>>" in doc, f"{name}: no doctest example"


@pytest.mark.parametrize("name", CR_OPS)
def test_cr_op_docstring(name):
    _check_op(f"cr.{name}", getattr(cr, name))


@pytest.mark.parametrize("name", F_OPS)
def test_functional_op_docstring(name):
    _check_op(f"F.{name}", getattr(F, name))


@pytest.mark.parametrize("name", sorted(set(CR_OPS + F_OPERATORS) - NOT_DIFFERENTIABLE))
def test_core_op_example_shows_a_gradient(name):
    doc = inspect.getdoc(getattr(F, name)) or ""
    assert ".backward(" in doc and ".grad" in doc, f"F.{name}: the example shows no gradient"


@pytest.mark.parametrize("name", TENSOR_METHODS + TENSOR_PROPERTIES)
def test_tensor_method_docstring(name):
    attr = inspect.getattr_static(Tensor, name)
    doc = (attr.fget if isinstance(attr, property) else attr).__doc__
    assert doc and doc.strip(), f"Tensor.{name} has no docstring"


@pytest.mark.parametrize("name", TENSOR_EXAMPLES)
def test_tensor_method_example(name):
    assert ">>>" in (getattr(Tensor, name).__doc__ or ""), f"Tensor.{name}: no doctest example"


@pytest.mark.parametrize("name", [n for n in _ELEMENTWISE + _REDUCE + _SHAPE])
def test_tensor_method_points_to_function(name):
    doc = getattr(Tensor, name).__doc__ or ""
    assert f"chainrule.{name}" in doc, f"Tensor.{name}: no pointer to chainrule.{name}"


@pytest.mark.parametrize("name", CREATION)
def test_creation_docstring(name):
    assert (getattr(cr, name).__doc__ or "").strip(), f"cr.{name} has no docstring"
