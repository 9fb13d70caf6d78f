"""Fixtures for the optimizer tests: run each test on the numba kernels and on the NumPy path."""

from __future__ import annotations

import pytest

from neuronet.optim import _fast


@pytest.fixture(params=["numba", "numpy"])
def update_path(request):
    """Both implementations of every update: the fused numba kernels and the NumPy fallback."""
    if request.param == "numba":
        pytest.importorskip("numba", reason="numba not installed; the NumPy path is tested")
    previous = _fast.use_numba(request.param == "numba")
    assert _fast.numba_active() == (request.param == "numba")
    yield request.param
    _fast.use_numba(previous)
