import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def _seed_and_dtype():
    """Every test starts seeded, with the default dtype, and with NumPy warnings as errors."""
    cr.manual_seed(0)
    cr.set_default_dtype(np.float32)
    with np.errstate(all="raise", under="ignore"):
        yield
    cr.set_default_dtype(np.float32)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
