"""The 4-D input hint of Conv2d / MaxPool2d / AvgPool2d names the fix that works (QA sweep 2, practice #7)."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ShapeError


def _hint(layer, shape):
    with pytest.raises(ShapeError, match=r"expected a 4-D input \(N, C, H, W\)") as e:
        layer(cr.tensor(np.zeros(shape, np.float32)))
    return str(e.value)


def _follow(layer, msg, shape):
    """Apply each indexing the message suggests to an array of ``shape`` and run the layer on it."""
    x = np.zeros(shape, np.float32)
    fixes = re.findall(r"use (x\[[^\]]*\])", msg)
    for fix in fixes:
        layer(cr.tensor(eval(fix, {"x": x})))  # the suggested fix runs
    return fixes


def test_conv_one_channel_batch_without_channel_axis():
    conv = nn.Conv2d(1, 8, 3)
    msg = _hint(conv, (64, 28, 28))
    assert "x[:, None]" in msg and "(64, 1, 28, 28)" in msg and "x[None]" not in msg
    assert _follow(conv, msg, (64, 28, 28)) == ["x[:, None]"]


def test_conv_single_image():
    conv = nn.Conv2d(3, 8, 3)
    msg = _hint(conv, (3, 28, 28))
    assert "x[None]" in msg and "(1, 3, 28, 28)" in msg and "x[:, None]" not in msg
    assert _follow(conv, msg, (3, 28, 28)) == ["x[None]"]
    msg = _hint(nn.Conv2d(1, 8, 3), (1, 28, 28))  # both readings agree
    assert _follow(nn.Conv2d(1, 8, 3), msg, (1, 28, 28)) == ["x[None]"]


@pytest.mark.parametrize("shape", [(64, 28, 28), (1, 28, 28)])
def test_conv_no_reading_fits(shape):
    msg = _hint(nn.Conv2d(3, 8, 3), shape)
    assert "x[None]" not in msg and "x[:, None]" not in msg
    assert "(N, 3, H, W)" in msg


def test_conv_2d_input_one_channel():
    conv = nn.Conv2d(1, 4, 3)
    msg = _hint(conv, (28, 28))
    assert _follow(conv, msg, (28, 28)) == ["x[None, None]"]
    assert "x[None" not in _hint(nn.Conv2d(3, 4, 3), (28, 28))


@pytest.mark.parametrize("layer", [nn.MaxPool2d(2), nn.AvgPool2d(2)], ids=["MaxPool2d", "AvgPool2d"])
def test_pool_names_both_readings(layer):
    msg = _hint(layer, (64, 28, 28))
    assert "(1, 64, 28, 28)" in msg and "(64, 1, 28, 28)" in msg
    assert _follow(layer, msg, (64, 28, 28)) == ["x[None]", "x[:, None]"]
    assert _follow(layer, _hint(layer, (1, 28, 28)), (1, 28, 28)) == ["x[None]"]


def test_functional_forms_give_the_same_hint():
    import chainrule.functional as F

    x = cr.zeros(64, 28, 28)
    with pytest.raises(ShapeError, match=r"x\[:, None\]"):
        F.conv2d(x, cr.zeros(8, 1, 3, 3))
    with pytest.raises(ShapeError, match=r"x\[None\].*x\[:, None\]"):
        F.max_pool2d(x, 2)
