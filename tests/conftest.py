"""Shared fixtures: a seeded NumPy generator and the optional PyTorch oracle."""

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


def pytest_collection_modifyitems(items):
    for item in items:
        if "torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.parity)
