"""Stacks of matrix products through OpenBLAS's batched GEMM: ``matmul(a, b, out)``.

``np.matmul`` on stacks (B, m, k) x (B, k, n) makes one BLAS call per matrix, and OpenBLAS
splits each call over its threads and synchronises them. For the Winograd convolution's 36
products of (O, C) by (C, tiles) that synchronisation costs as much as the products. OpenBLAS
0.3.31 has batched GEMMs that hand each of its threads whole products instead, on its own
threads (no second pool to fight its spinning workers): 1.1-2.1x on those shapes, with results
equal bit for bit (each product runs the same kernel). This module calls the CBLAS one,
``cblas_sgemm_batch_strided`` (row-major); the Fortran one of 0.3.31 applies each transpose
flag to the other operand.

It is used only where it was checked, else ``np.matmul`` runs:

- the OpenBLAS that NumPy loaded (NumPy's own copy, found in /proc/self/maps) reports version
  0.3.31 with 64-bit integers (its ``openblas_get_config``, read once);
- float32, and every product has more than 100**3 multiply-adds: in that build the batched
  call's path for smaller products (OpenBLAS's "small matrix" kernels, looked up wrongly under
  its dynamic-architecture dispatch) crashes the process, so no smaller product reaches it;
- each operand is aligned, with unit stride along its rows or its columns (a transposed view
  is fine), the output along its rows, and non-negative strides between the matrices;
- ``NEURONET_BLAS_BATCH=0`` in the environment turns it off.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

MIN_MULTIPLY_ADDS = 100**3  # products at or below this take OpenBLAS's crashing small path
VERSION = b"OpenBLAS 0.3.31"
_STATE = {"fn": None, "loaded": False}


def _mapped() -> set:
    """The files mapped into this process (Linux's /proc/self/maps; empty elsewhere)."""
    try:
        with open("/proc/self/maps") as maps:
            return {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return set()


def _openblas_path() -> str | None:
    """The OpenBLAS shared library NumPy loaded: the one inside NumPy's own install (its
    wheel's ``numpy.libs``), else the only one in the process, else None (SciPy's wheel brings
    an OpenBLAS of its own)."""
    found = {p for p in _mapped() if "openblas" in os.path.basename(p) and ".so" in p}
    home = os.path.dirname(os.path.dirname(np.__file__))
    own = [p for p in found if p.startswith(os.path.join(home, "numpy"))]
    if len(own) == 1:
        return own[0]
    return found.pop() if len(found) == 1 else None


def _config(lib) -> bytes:
    for name in ("scipy_openblas_get_config64_", "openblas_get_config64_", "openblas_get_config"):
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = ctypes.c_char_p
            return fn() or b""
    return b""


def _load():
    """The batched sgemm of a checked OpenBLAS, or None."""
    if os.environ.get("NEURONET_BLAS_BATCH", "1") == "0":
        return None
    path = _openblas_path()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    config = _config(lib)
    if not (config.startswith(VERSION) and b"USE64BITINT" in config):
        return None
    fn = getattr(lib, "cblas_sgemm_batch_strided", None)
    if fn is not None:
        i64, ptr, f32 = ctypes.c_int64, ctypes.c_void_p, ctypes.c_float
        fn.restype = None
        fn.argtypes = [ctypes.c_int] * 3 + [i64] * 3 + [f32, ptr, i64, i64, ptr, i64, i64]
        fn.argtypes += [f32, ptr, i64, i64, i64]
    return fn


def available() -> bool:
    """Whether ``matmul`` can take OpenBLAS's batched call in this process."""
    if not _STATE["loaded"]:
        _STATE["fn"] = _load()
        _STATE["loaded"] = True
    return _STATE["fn"] is not None


def _layout(m: np.ndarray):
    """(transposed, leading dimension) of the (rows, cols) float32 matrices of a stack, or None:
    unit stride along their rows (row-major) or their columns (a transposed view)."""
    rows, cols = m.shape[-2:]
    s_row, s_col = m.strides[-2:]
    if s_row % 4 or s_col % 4 or not m.flags.aligned:
        return None
    if s_col == 4 and s_row // 4 >= cols:
        return False, s_row // 4
    if s_row == 4 and s_col // 4 >= rows:
        return True, s_col // 4
    return None


def _arguments(a: np.ndarray, b: np.ndarray, out: np.ndarray):
    """The CBLAS batched call's arguments for out[i] = a[i] @ b[i], or None where it may not
    run (module docstring)."""
    B, m, k = a.shape
    n = b.shape[2]
    if not (
        a.dtype == b.dtype == out.dtype == np.float32
        and b.shape[:2] == (B, k)
        and out.shape == (B, m, n)
        and min(m, n, k) >= 2
        and m * n * k > MIN_MULTIPLY_ADDS
    ):
        return None
    layouts = [_layout(x) for x in (a, b, out)]
    steps = [x.strides[0] for x in (a, b, out)]
    if None in layouts or layouts[2][0] or any(s < 0 or s % 4 for s in steps):
        return None
    (ta, lda), (tb, ldb), (_, ldc) = layouts
    sa, sb, so = (s // 4 for s in steps)
    row_major, no_trans, trans = 101, 111, 112  # CBLAS's enum values
    return (
        row_major, trans if ta else no_trans, trans if tb else no_trans, m, n, k, 1.0,
        a.ctypes.data, lda, sa, b.ctypes.data, ldb, sb, 0.0, out.ctypes.data, ldc, so, B,
    )  # fmt: skip


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out[i] = a[i] @ b[i] for stacks a (B, m, k), b (B, k, n), out (B, m, n): OpenBLAS's
    batched call where the module docstring allows it, else ``np.matmul(a, b, out=out)``."""
    arguments = _arguments(a, b, out)
    if arguments is None or not available():
        return np.matmul(a, b, out=out)
    _STATE["fn"](*arguments)
    return out
