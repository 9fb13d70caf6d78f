"""The switch for the ops' optional fused numba kernels, and their lazy loader.

Some op families (normalization, embedding) have two bodies that compute the same thing: a
readable NumPy one and a call into a fused numba kernel that reads and writes each array once.
The kernels are used when numba is installed (the ``fast`` extra) and not switched off with
``use_numba(False)`` or the environment variable ``NEURONET_NUMBA=0`` (the same variable the
optimizers read). numba is imported on the first call that needs a kernel, never at
``import neuronet``.
"""

from __future__ import annotations

import importlib
import os

_STATE = {"enabled": os.environ.get("NEURONET_NUMBA", "1") != "0", "modules": {}}


def kernels(module: str):
    """The compiled kernel module ``neuronet.ops.<module>``, or None (numba missing or off)."""
    if not _STATE["enabled"]:
        return None
    cache = _STATE["modules"]
    if module not in cache:
        try:
            cache[module] = importlib.import_module(f"neuronet.ops.{module}")
        except ImportError:  # numba is an optional dependency
            cache[module] = None
    return cache[module]


def use_numba(enabled: bool = True) -> bool:
    """Turn the ops' fused numba kernels on or off; returns the previous setting.

    Example:
        >>> from neuronet.ops import _jit
        >>> previous = _jit.use_numba(False)   # NumPy path from now on
        >>> _ = _jit.use_numba(previous)
    """
    previous = _STATE["enabled"]
    _STATE["enabled"] = bool(enabled)
    return previous
