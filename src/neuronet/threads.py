"""How many threads the math uses: PyTorch's ``set_num_threads`` / ``get_num_threads``.

neuronet's heavy lifting is BLAS (matrix products through NumPy), plus numba kernels when numba
is installed. ``set_num_threads(n)`` limits the BLAS thread pool through threadpoolctl (which
finds OpenBLAS, MKL or BLIS inside NumPy's wheel) and, if numba is already loaded, numba's
pool; ``get_num_threads()`` reads the BLAS pool back. Environment variables such as
``OMP_NUM_THREADS`` still set the starting value.
"""

from __future__ import annotations

import os
import sys

__all__ = ["set_num_threads", "get_num_threads"]

_LIMITS = []  # the active threadpoolctl limiter (kept so the limit stays in force)


def set_num_threads(num: int) -> None:
    """Use ``num`` threads for BLAS (and numba) from now on.

    Example:
        >>> import neuronet
        >>> before = neuronet.get_num_threads()
        >>> neuronet.set_num_threads(1)
        >>> neuronet.get_num_threads()
        1
        >>> neuronet.set_num_threads(before)
    """
    if not isinstance(num, int) or isinstance(num, bool) or num < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {num!r}")
    from threadpoolctl import threadpool_limits

    _LIMITS[:] = [threadpool_limits(limits=num, user_api="blas")]
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.set_num_threads(min(num, numba.config.NUMBA_NUM_THREADS))


def get_num_threads() -> int:
    """The BLAS thread pool's size (the machine's CPU count if NumPy's BLAS reports none)."""
    from threadpoolctl import threadpool_info

    pools = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(pools) if pools else (os.cpu_count() or 1)
