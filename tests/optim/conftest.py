"""Fixtures for the optimizer tests: run each test on the numba kernels and on the NumPy path."""

from __future__ import annotations

import pytest

from neuronet import backend
from neuronet.optim import _fast
from support.paths import unavailable


@pytest.fixture(params=["numba", "numpy"])
def update_path(request):
    """Both implementations of every update: the fused numba kernels and the NumPy fallback."""
    reason = unavailable(request.param)
    if reason:
        pytest.skip(reason)
    with backend.fast.using(numba=request.param == "numba"):
        assert (_fast.kernels() is not None) == (request.param == "numba")
        yield request.param
