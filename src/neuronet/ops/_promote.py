"""PyTorch's type promotion for the element-wise ops of the newer op families.

torch.result_type ranks operands in three classes: tensors with at least one dim, 0-d tensors,
and Python numbers. Within a class, dtypes promote as usual (bool < int32 < int64 < float32 <
float64). Across classes, a lower class only matters when it brings a higher *category* (bool <
integer < floating): ``float32 tensor + float64 0-d tensor`` stays float32, but ``int64 tensor +
2.5`` is float32 (a Python float counts as the default dtype, float32) and ``int64 tensor +
float64 0-d tensor`` is float64.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor

_ORDER = [np.dtype(d) for d in ("bool", "int32", "int64", "float32", "float64")]


def _category(dtype) -> int:
    if dtype is None:
        return -1
    return {"b": 0, "i": 1, "u": 1, "f": 2}[dtype.kind]


def _promote(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b, key=_ORDER.index)


def _combine(higher, lower):
    """c10's combine_categories: ``higher`` wins unless ``lower`` brings a higher category."""
    if higher is None:
        return lower
    if _category(higher) == 2:
        return higher
    if higher.kind == "b" or (lower is not None and _category(lower) > _category(higher)):
        return _promote(higher, lower)
    return higher


def _number_dtype(value) -> np.dtype:
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(value, (int, np.integer)):
        return np.dtype(np.int64)
    return np.dtype(np.float32)


def result_type(*values) -> np.dtype:
    """The dtype torch gives an element-wise op on ``values`` (Tensors and Python numbers)."""
    dim = zero = wrapped = None
    for v in values:
        if v is None:
            continue
        if isinstance(v, Tensor):
            if v.array.ndim:
                dim = _promote(dim, v.array.dtype)
            else:
                zero = _promote(zero, v.array.dtype)
        else:
            wrapped = _promote(wrapped, _number_dtype(v))
    return _combine(dim, _combine(zero, wrapped))


def promote(*values, op: str, floating: bool = False) -> list:
    """``values`` as Tensors of their common dtype (numbers become 0-d tensors).

    ``floating=True`` turns an integer or bool result into float32 (ops such as atan2 or
    hypot, which torch computes in the default float dtype).
    """
    from neuronet.ops.shape import cast

    target = result_type(*values)
    if floating and target.kind != "f":
        target = np.dtype(np.float32)
    out = []
    for v in values:
        if v is None:
            out.append(None)
        elif isinstance(v, Tensor):
            out.append(v if v.array.dtype == target else cast(v, target))
        elif isinstance(v, (bool, int, float, np.number, np.bool_)):
            out.append(Tensor(np.asarray(v, dtype=target)))
        else:
            raise TypeError(
                f"{op}: expected a Tensor or a number, got {type(v).__name__}; wrap the data with "
                "neuronet.tensor(...)"
            )
    return out


def broadcastable(op: str, *tensors) -> tuple:
    """The common broadcast shape of ``tensors``, or a ValueError naming ``op`` and the shapes."""
    shapes = [t.shape for t in tensors if t is not None]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(
            f"{op}: shapes {listed} cannot be broadcast together (NumPy/PyTorch rules: trailing "
            "dimensions must be equal or 1); reshape or unsqueeze an operand so they line up"
        ) from None


def pair(op: str, input, other, floating: bool = False) -> list:
    """Two operands of a binary element-wise op, promoted as torch does and broadcast-checked."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(
            f"{op}: expected a Tensor, got {type(input).__name__} and {type(other).__name__}"
        )
    a, b = promote(input, other, op=op, floating=floating)
    broadcastable(op, a, b)
    return [a, b]
