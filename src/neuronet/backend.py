"""Which array library holds the data.

neuronet stores every tensor in a NumPy array. ``xp`` is the array module the rest of the code
uses, and ``get_array_module`` is the seam where a GPU library (CuPy) could be added later
without touching the ops: they call ``xp`` and never import numpy under another name for math.
"""

from __future__ import annotations

import numpy as np

xp = np

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


def get_array_module(*arrays):
    """Return the array module (``numpy``) that holds ``arrays``."""
    return np


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
