"""Which body an optimizer's ``update`` runs: its readable NumPy one, or a fused numba kernel.

Each optimizer's ``update`` computes the same thing two ways: in-place NumPy ufuncs with
``out=`` (the reference, in the optimizer's own file) and one call into a fused kernel of
``_kernels.py``, which reads and writes every array once per step instead of once per ufunc.
The kernels run when ``neuronet.backend.fast.numba`` is on (numba installed, not switched off
with ``backend.fast.numba = False`` or ``NEURONET_NUMBA=0``); numba is imported on the first
``step()`` that uses them, never at ``import neuronet``.
"""

from __future__ import annotations

from neuronet import backend


def kernels():
    """The compiled optimizer kernels (``_kernels.py``), or None when numba is off."""
    if not backend.fast.numba:
        return None
    from neuronet.optim import _kernels

    return _kernels
