"""PyTorch's type promotion for arithmetic: the dtype of ``a + b``, ``a * b``, ``a / b``, ...

NumPy and PyTorch disagree here (``int64 array + 2.5`` is float64 in NumPy, float32 in
PyTorch), so binary ops decide the dtype themselves, with PyTorch's rule:

1. Sort the operands into three classes: tensors with dimensions, 0-d tensors, and numbers
   (Python or NumPy scalars). A float number counts as the default dtype (float32), an int as
   int64, a bool as bool.
2. Within each class, promote as usual: bool < int32 < int64, any int with a float gives that
   float, float32 < float64.
3. Across classes, a class only matters if its *category* (bool < integer < floating) is
   higher than the classes before it: dimensioned tensors first, then 0-d tensors, then numbers.
   So ``float32 tensor * 2.0`` and ``float32 tensor + float64 0-d tensor`` stay float32, while
   ``int64 tensor + 2.5`` is float32 and ``int64 tensor + float64 0-d tensor`` is float64.

True division of integers (``int / int``) gives the default float dtype. Subtracting bools is
an error, as in PyTorch (use ``~`` or ``logical_xor``).
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.tensor import Tensor

__all__ = ["result_type", "division_type", "check_bool_sub", "is_bool"]


def _category(dtype: np.dtype) -> int:
    return 0 if dtype.kind == "b" else 2 if dtype.kind == "f" else 1


def promote(x: np.dtype | None, y: np.dtype | None) -> np.dtype | None:
    """Promote two dtypes of the same class (PyTorch's promote_types for these dtypes)."""
    if x is None or x == y:
        return y
    if y is None:
        return x
    if x.kind == "f" or y.kind == "f":
        floats = [d for d in (x, y) if d.kind == "f"]
        return max(floats, key=lambda d: d.itemsize)
    return np.promote_types(x, y)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """A lower-priority class changes the result only if its category is higher."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote(higher, lower)
    return higher


def _number_dtype(value) -> np.dtype:
    if isinstance(value, (bool, np.bool_)):
        return backend.bool_
    if isinstance(value, (int, np.integer)):
        return backend.int64
    return backend.DEFAULT_DTYPE


def _classify(value):
    """(class, dtype): class 0 = tensor with dims, 1 = 0-d tensor, 2 = number."""
    if isinstance(value, Tensor):
        return (0 if value.array.ndim else 1), value.array.dtype
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return 2, _number_dtype(value)
    arr = np.asarray(value)
    return (0 if arr.ndim else 1), arr.dtype


def result_type(a, b) -> np.dtype:
    """The dtype PyTorch gives ``a op b`` for tensors, arrays and numbers ``a`` and ``b``."""
    classes = [None, None, None]
    for value in (a, b):
        cls, dtype = _classify(value)
        classes[cls] = promote(classes[cls], dtype)
    return _combine(classes[0], _combine(classes[1], classes[2]))


def division_type(a, b) -> np.dtype:
    """``a / b`` (true division): the promoted dtype, or the default float for ints and bools."""
    dtype = result_type(a, b)
    return dtype if dtype.kind == "f" else backend.DEFAULT_DTYPE


def is_bool(value) -> bool:
    """A bool tensor, array or number."""
    if isinstance(value, Tensor):
        return value.array.dtype.kind == "b"
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "b"
    return isinstance(value, (bool, np.bool_))


def check_bool_sub(a, b) -> None:
    """PyTorch refuses ``-`` with bools (it is not logical negation or xor)."""
    bools = [is_bool(a), is_bool(b)]
    if all(bools):
        raise RuntimeError(
            "sub: subtraction, the `-` operator, with two bool tensors is not supported. Use "
            "the `^` or logical_xor() operator instead."
        )
    if any(bools):
        raise RuntimeError(
            "sub: subtraction, the `-` operator, with a bool tensor is not supported. If you "
            "are trying to invert a mask, use the `~` or logical_not() operator instead."
        )
