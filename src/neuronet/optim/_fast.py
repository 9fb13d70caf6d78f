"""The switch between the optimizers' fused numba kernels and their NumPy path.

Each optimizer's ``update`` has two bodies that compute the same thing: a readable NumPy one
(in-place ufuncs with ``out=``) and one call into a fused numba kernel (``_kernels.py``), which
reads and writes every array once per step instead of once per ufunc. The kernels are used when
numba is installed (the ``fast`` extra) and not switched off with ``use_numba(False)`` or the
environment variable ``NEURONET_NUMBA=0``. numba is imported on the first ``step()``, never at
``import neuronet``.
"""

from __future__ import annotations

import os

_STATE = {"enabled": os.environ.get("NEURONET_NUMBA", "1") != "0", "loaded": False, "mod": None}


def kernels():
    """The compiled kernel module, or None (numba missing or switched off)."""
    if not _STATE["enabled"]:
        return None
    if not _STATE["loaded"]:
        _STATE["loaded"] = True
        try:
            from neuronet.optim import _kernels
        except ImportError:  # numba is an optional dependency
            _kernels = None
        _STATE["mod"] = _kernels
    return _STATE["mod"]


def use_numba(enabled: bool = True) -> bool:
    """Turn the fused numba kernels on or off for every optimizer; returns the previous setting.

    Both paths follow the same formulas; the NumPy path is the fallback when numba is absent.

    Example:
        >>> from neuronet import optim
        >>> previous = optim.use_numba(False)   # NumPy path from now on
        >>> _ = optim.use_numba(previous)
    """
    previous = _STATE["enabled"]
    _STATE["enabled"] = bool(enabled)
    return previous


def numba_active() -> bool:
    """True when the next ``step()`` will use the numba kernels."""
    return kernels() is not None
