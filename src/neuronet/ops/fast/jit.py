"""How every numba kernel of neuronet is compiled: the ``kernel`` decorator.

``@kernel()`` is numba's ``njit`` with the settings every kernel shares:

- ``cache=True``: a kernel is compiled once per argument signature, on its first call, and kept
  on disk (in ``__pycache__`` next to its source file, or under ``NUMBA_CACHE_DIR``); later
  processes load it in milliseconds. Only the kernels a model calls are compiled, and only for
  the dtypes it uses (float32 for training), so a first run compiles a handful.
- ``error_model="numpy"``: division by zero gives inf or NaN, as in NumPy (and lets LLVM
  vectorise the loop).
- ``nogil=True``: the kernel releases the GIL, as NumPy's ufuncs do.

Extra options (``fastmath``, ``inline``) pass through. This module imports numba; so do the
``*_kernels.py`` modules, which the ``ops/fast/`` functions import inside the code that calls
them, so ``import neuronet`` never loads numba.

When numba starts compiling (a kernel that its cache does not hold yet), ``backend.compiling()``
is told, which prints "compiling kernels (first run only)" once if the process asked for it
(``backend.announce_compilation()``).
"""

from __future__ import annotations

from numba import njit
from numba.core import event

from neuronet import backend


def kernel(**options):
    """``numba.njit`` with cache=True, error_model="numpy", nogil=True (and ``options``)."""
    return njit(cache=True, error_model="numpy", nogil=True, **options)


class _FirstCompile(event.Listener):
    def on_start(self, event):
        backend.compiling()

    def on_end(self, event):
        pass


event.register("numba:compile", _FirstCompile())
