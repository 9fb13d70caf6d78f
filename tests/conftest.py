"""Shared fixtures: a seeded NumPy generator and the optional PyTorch oracle; ``--no-numba``.

``pytest --no-numba`` runs the whole suite with ``neuronet.backend.fast.numba`` off: every op on
its NumPy implementation, as an install without the ``fast`` extra runs it (tests that need
numba skip, saying so).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # makes `support` importable

TORCH_REASON = "torch not installed; install the `torch` extra (torch==2.13.0) to run parity tests"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def torch():
    """The torch module, or a skip with the stated reason."""
    return pytest.importorskip("torch", reason=TORCH_REASON)


def pytest_addoption(parser):
    parser.addoption(
        "--no-numba",
        action="store_true",
        help="switch neuronet's numba kernels off (neuronet.backend.fast.numba = False)",
    )


def pytest_configure(config):
    if config.getoption("--no-numba"):
        from neuronet import backend

        backend.fast.numba = False


def pytest_collection_modifyitems(items):
    for item in items:
        if "torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.parity)
