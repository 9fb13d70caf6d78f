"""The switch between the optimizers' fused numba kernels and their NumPy path.

Each optimizer's ``update`` has two bodies that compute the same thing: a readable NumPy one
(in-place ufuncs with ``out=``) and one call into a fused numba kernel (``_kernels.py``), which
reads and writes every array once per step instead of once per ufunc. The switch is the one the
ops use (``neuronet.ops._jit``): the kernels run when numba is installed (the ``fast`` extra) and
not turned off with ``use_numba(False)`` or ``NEURONET_NUMBA=0``. numba is imported on the first
``step()``, never at ``import neuronet``.
"""

from __future__ import annotations

from neuronet.ops._jit import kernels as _load
from neuronet.ops._jit import use_numba  # noqa: F401  (re-exported as neuronet.optim.use_numba)


def kernels():
    """The compiled optimizer kernel module, or None (numba missing or switched off)."""
    return _load("neuronet.optim._kernels")


def numba_active() -> bool:
    """True when the next ``step()`` will use the numba kernels."""
    return kernels() is not None
