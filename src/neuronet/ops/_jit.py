"""The one switch for neuronet's optional fused numba kernels, and their lazy loader.

Some op families (normalization, embedding, recurrent) and every optimizer have two bodies that
compute the same thing: a readable NumPy one and a call into a fused numba kernel that reads and
writes each array once. The kernels are used when numba is installed (the ``fast`` extra) and
not switched off with ``use_numba(False)`` or the environment variable ``NEURONET_NUMBA=0``
(``neuronet.optim.use_numba`` is this same function). numba is imported on the first call that
needs a kernel, never at ``import neuronet``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os

_STATE = {"enabled": os.environ.get("NEURONET_NUMBA", "1") != "0", "modules": {}}


def kernels(module: str):
    """The compiled kernel module ``neuronet.ops.<module>`` (or the full dotted path, e.g.
    ``neuronet.optim._kernels``), or None when numba is missing or switched off."""
    if not _STATE["enabled"]:
        return None
    cache = _STATE["modules"]
    if module not in cache:
        # numba is an optional dependency: without it, the NumPy path. Any other import error
        # (a missing or broken kernel file) is a bug and must surface, not fall back silently.
        if importlib.util.find_spec("numba") is None:
            cache[module] = None
        else:
            path = module if "." in module else f"neuronet.ops.{module}"
            cache[module] = importlib.import_module(path)
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
