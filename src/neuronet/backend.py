"""Where the data lives and how the ops compute it: dtypes, the one switch, explicit opt-ins.

neuronet keeps every tensor in a NumPy array (float32 by default); the dtype names below are the
ones the rest of the library accepts.

``fast`` is the one switch for implementation choices, for the whole process:

- ``fast.enabled`` (default True): ops take the alternative implementations in
  ``neuronet/ops/fast/`` where they apply (Winograd and cache-chunked convolution, block-wise
  causal attention, fused numba kernels). False runs every op on its readable reference
  ``Function`` in ``neuronet/ops/``. Environment: ``NEURONET_FAST=0``.
- ``fast.numba`` (default True): whether the numba kernels among those run. Reads False when numba
  is not installed (the ``fast`` extra) or ``fast.enabled`` is off. Environment:
  ``NEURONET_NUMBA=0``. numba is imported when a kernel first runs, never by ``import neuronet``.
- ``fast.threads``: the number of BLAS threads (through threadpoolctl).
- The Winograd convolution's stacks of products go through OpenBLAS's batched GEMM where that
  is known to be safe (``ops/fast/blas_batch.py``). Environment: ``NEURONET_BLAS_BATCH=0``
  keeps them on ``np.matmul``.
- ``fast.using(enabled=..., numba=...)``: the same settings for a ``with`` block only.

Every op chooses its implementation at one visible place, its public function (for example
``ops/conv.py``: ``if backend.fast.numba and winograd.applies(...)``), and every fast path is
tested to agree with its reference on the same inputs.

Two process-wide effects are explicit opt-ins, called by ``Trainer``, the ``neuronet`` command and
the benchmarks, never by building a layer or importing a module:

- ``keep_freed_memory()`` tunes glibc's malloc so a training step reuses the memory the previous
  step freed;
- ``announce_compilation()`` prints "compiling kernels (first run only)" when numba starts
  compiling a kernel that is not in its on-disk cache yet.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys

import numpy as np

float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")
float16 = np.dtype("float16")  # named so that code asking for it gets the error below
bfloat16 = "bfloat16"  # NumPy has no bfloat16; the name exists for the same reason

DEFAULT_DTYPE = float32

_DTYPE_NAMES = {
    "float32": float32,
    "float": float32,
    "float64": float64,
    "double": float64,
    "int32": int32,
    "int": int32,
    "int64": int64,
    "long": int64,
    "bool": bool_,
}


def as_dtype(dtype) -> np.dtype | None:
    """Turn ``'float32'``, ``np.float32``, ``neuronet.float32`` or ``None`` into a NumPy dtype."""
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in ("float16", "half", "bfloat16"):
        raise TypeError(_half_error(dtype))
    if isinstance(dtype, str):
        if dtype not in _DTYPE_NAMES:
            raise TypeError(
                f"unknown dtype {dtype!r}; use one of float32, float64, int32, int64, bool"
            )
        return _DTYPE_NAMES[dtype]
    result = np.dtype(dtype)
    if result == float16:
        raise TypeError(_half_error("float16"))
    if result not in (float32, float64, int32, int64, bool_):
        raise TypeError(
            f"dtype {result} is not supported; use one of float32, float64, int32, int64, bool"
        )
    return result


def _half_error(name: str) -> str:
    return (
        f"{name} is not supported: neuronet computes in float32 and float64 (on the CPU, half "
        "precision saves memory but no time, and NumPy has no bfloat16); keep float32, i.e. "
        "drop .half()/.bfloat16() and autocast"
    )


def is_floating(dtype) -> bool:
    return dtype.kind == "f"


def finfo(dtype=None) -> np.finfo:
    """Machine limits of a float dtype (``eps``, ``max``, ``min``, ``tiny``, ``resolution``,
    ``bits``), as ``torch.finfo``; the default dtype's without an argument."""
    dtype = as_dtype(dtype) or DEFAULT_DTYPE
    if dtype.kind != "f":
        raise TypeError(f"finfo: {dtype} is not a floating dtype; use iinfo for integers")
    return np.finfo(dtype)


def iinfo(dtype) -> np.iinfo:
    """Machine limits of an integer dtype (``max``, ``min``, ``bits``), as ``torch.iinfo``."""
    dtype = as_dtype(dtype)
    if dtype is None or dtype.kind not in "iu":
        raise TypeError(f"iinfo: {dtype} is not an integer dtype; use finfo for floats")
    return np.iinfo(dtype)


# ---- the switch --------------------------------------------------------------------------------


class Implementation:
    """The implementation choices of this process (one instance: ``neuronet.backend.fast``).

    Example:
        >>> from neuronet import backend
        >>> with backend.fast.using(enabled=False):   # every op on its reference Function
        ...     backend.fast.numba
        False
    """

    def __init__(self) -> None:
        self.enabled = os.environ.get("NEURONET_FAST", "1") != "0"
        self._numba_wanted = os.environ.get("NEURONET_NUMBA", "1") != "0"
        self._numba_installed = None  # looked up once, on first use

    @property
    def numba(self) -> bool:
        """True when the numba kernels run: fast paths on, numba wanted and installed."""
        if not (self.enabled and self._numba_wanted):
            return False
        if self._numba_installed is None:
            self._numba_installed = importlib.util.find_spec("numba") is not None
        return self._numba_installed

    @numba.setter
    def numba(self, value: bool) -> None:
        self._numba_wanted = bool(value)

    @property
    def threads(self) -> int | None:
        """BLAS threads in use (None when threadpoolctl cannot tell)."""
        info = _threadpoolctl("fast.threads").threadpool_info()
        counts = [lib["num_threads"] for lib in info if lib.get("user_api") == "blas"]
        return max(counts) if counts else None

    @threads.setter
    def threads(self, n: int) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"neuronet.backend.fast.threads must be a positive int, got {n!r}")
        _threadpoolctl("fast.threads").threadpool_limits(n, user_api="blas")

    @contextlib.contextmanager
    def using(self, enabled: bool | None = None, numba: bool | None = None):
        """Within the block, use these settings (None keeps the current one)."""
        saved = (self.enabled, self._numba_wanted)
        if enabled is not None:
            self.enabled = bool(enabled)
        if numba is not None:
            self._numba_wanted = bool(numba)
        try:
            yield self
        finally:
            self.enabled, self._numba_wanted = saved

    def __repr__(self) -> str:
        return f"Implementation(enabled={self.enabled}, numba={self.numba})"


def _threadpoolctl(what: str):
    try:
        import threadpoolctl
    except ImportError:
        raise RuntimeError(
            f"neuronet.backend.{what} needs the threadpoolctl package (pip install threadpoolctl, "
            "or the `fast` extra); or set OPENBLAS_NUM_THREADS before starting Python"
        ) from None
    return threadpoolctl


fast = Implementation()


# ---- explicit opt-ins for a training or inference process --------------------------------------

_COMPILE_NOTE = {"stream": None, "said": False}


def announce_compilation(stream=None) -> None:
    """Print "compiling kernels (first run only)" to ``stream`` (default stderr) once, when numba
    starts compiling a kernel that its on-disk cache does not hold yet (the first run after an
    install or an upgrade). Kernels load from the cache on later runs, silently."""
    _COMPILE_NOTE["stream"] = sys.stderr if stream is None else stream


def compiling() -> None:
    """Called by ``ops/fast/jit.py`` when numba starts a compilation."""
    stream = _COMPILE_NOTE["stream"]
    if stream is None or _COMPILE_NOTE["said"]:
        return
    _COMPILE_NOTE["said"] = True
    print("compiling kernels (first run only)", file=stream, flush=True)


M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's maximum on 64-bit
TRIM_THRESHOLD = 256 << 20

_ALLOCATOR = {"done": False, "active": False}


def keep_freed_memory() -> bool:
    """Keep freed array memory inside the process between training steps (glibc's malloc).

    A training step allocates and frees the same large arrays every time: activations saved for
    backward, gradients, per-step buffers. With glibc's default settings an array above a
    (self-adjusting) threshold is returned to the operating system when freed, or trimmed off
    the top of the heap, so the next step takes it back one 4 KiB page fault at a time (on the
    LSTM benchmark: 2,500 page faults and ~8 ms of kernel time per 40 ms step). This sets, once
    per process,

        M_MMAP_THRESHOLD = 32 MiB    arrays below this come from the heap and are reused
        M_TRIM_THRESHOLD = 256 MiB   free memory at the top of the heap is kept up to this

    Larger arrays are still mapped and unmapped directly. Peak memory is unchanged; memory that
    a finished step freed stays reserved for the next one, as PyTorch's caching allocators do.
    The setting is process-wide (everything else that allocates through malloc gains or pays
    too), which is why nothing calls it implicitly: ``Trainer``, the ``neuronet`` command and the
    benchmarks do. It is skipped when not on glibc, when ``MALLOC_MMAP_THRESHOLD_`` or
    ``MALLOC_TRIM_THRESHOLD_`` is set (the user's choice wins), or with
    ``NEURONET_MALLOC_TUNING=0``.

    Returns whether the tuning is on.
    """
    if _ALLOCATOR["done"]:
        return _ALLOCATOR["active"]
    _ALLOCATOR["done"] = True
    if os.environ.get("NEURONET_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        version = libc.gnu_get_libc_version  # glibc only; musl's mallopt does nothing
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    del version
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    _ALLOCATOR["active"] = ok
    return ok


def prepare_run(stream=None) -> None:
    """What a training or inference run opts into: ``keep_freed_memory()`` and
    ``announce_compilation(stream)``. Called by ``Trainer`` and the ``neuronet`` command."""
    keep_freed_memory()
    announce_compilation(stream)
