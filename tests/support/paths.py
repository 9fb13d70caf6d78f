"""The implementation paths the op registry runs every op on (``neuronet.backend.fast``).

    reference   backend.fast.enabled = False: every op on its reference Function (ops/<family>.py)
    numpy       fast paths on, numba off: what a pure-NumPy install runs
    numba       fast paths and numba kernels on: what an install with the ``fast`` extra runs

The numba path is skipped, with the reason, when numba is not installed or the run was started
with ``--no-numba`` (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import importlib.util

from neuronet import backend

PATHS = ("reference", "numpy", "numba")
FAST_PATHS = ("numpy", "numba")


def unavailable(path: str) -> str | None:
    """Why ``path`` cannot run here, or None."""
    if path != "numba":
        return None
    if importlib.util.find_spec("numba") is None:
        return "numba not installed (the `fast` extra): the numba path is off"
    if not backend.fast.numba:
        return "numba switched off (--no-numba or NEURONET_NUMBA=0)"
    return None


def skip_without_numba() -> None:
    """Skip the calling test, saying why, when the numba path cannot run."""
    import pytest

    reason = unavailable("numba")
    if reason:
        pytest.skip(reason)


@contextlib.contextmanager
def on_path(path: str):
    """Run the block on ``path``."""
    if path not in PATHS:
        raise ValueError(f"unknown path {path!r}; one of {PATHS}")
    with backend.fast.using(enabled=path != "reference", numba=path == "numba"):
        yield
