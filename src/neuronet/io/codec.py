"""Nested state (optimizer, scheduler, RNG, loader, user extras) as JSON plus named tensors.

``encode(obj, prefix, tensors)`` returns a JSON-able skeleton of ``obj`` and puts every array it
meets into ``tensors`` under a dotted name built from its path (``optim.state.0.exp_avg``).
``decode(skeleton, tensors)`` rebuilds the object exactly: arrays and Tensors come back as what
they were (same dtype and shape), tuples as tuples, NumPy scalars with their dtype, dicts with
int keys with int keys. Only data is stored, never code: anything else raises TypeError.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor

__all__ = ["encode", "decode", "DecodeError"]

_TAGS = ("__tensor__", "__tuple__", "__pairs__", "__scalar__")


def _unique(name: str, tensors: dict) -> str:
    candidate = name
    n = 1
    while candidate in tensors:
        n += 1
        candidate = f"{name}~{n}"
    return candidate


def encode(obj, prefix: str, tensors: dict):
    """A JSON-able skeleton of ``obj``; arrays go into ``tensors`` (see the module docstring)."""
    if isinstance(obj, (Tensor, np.ndarray)):
        arr = obj.array if isinstance(obj, Tensor) else obj
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"cannot store the {arr.dtype} array at {prefix!r} in a checkpoint")
        name = _unique(prefix, tensors)
        tensors[name] = arr
        return {"__tensor__": name, "as": "Tensor" if isinstance(obj, Tensor) else "ndarray"}
    if isinstance(obj, np.generic):
        return {"__scalar__": obj.item(), "dtype": obj.dtype.str}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [encode(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        if all(isinstance(k, str) and k not in _TAGS for k in obj):
            return {k: encode(v, f"{prefix}.{k}", tensors) for k, v in obj.items()}
        pairs = []
        for k, v in obj.items():
            if k is not None and not isinstance(k, (bool, int, float, str, tuple)):
                raise TypeError(f"cannot store a dict key of type {type(k).__name__} at {prefix!r}")
            pairs.append([encode(k, prefix, {}), encode(v, f"{prefix}.{k}", tensors)])
        return {"__pairs__": pairs}
    raise TypeError(
        f"cannot store a {type(obj).__name__} at {prefix!r} in a checkpoint: only Tensors, NumPy "
        "arrays and scalars, numbers, strings, None and lists/tuples/dicts of them (no pickle)"
    )


class DecodeError(ValueError):
    """The skeleton does not describe stored data (a corrupt or hand-made file)."""


def _scalar(obj: dict):
    dtype_name = obj.get("dtype")
    try:
        dtype = np.dtype(dtype_name) if isinstance(dtype_name, str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "biuf" or dtype.itemsize > 16:
        raise DecodeError(f"the scalar dtype {dtype_name!r} is not a number type")
    value = obj["__scalar__"]
    if not isinstance(value, (bool, int, float)):
        raise DecodeError(f"the scalar {value!r} is not a number")
    try:
        return dtype.type(value)
    except (OverflowError, ValueError) as error:
        raise DecodeError(f"the scalar {value!r} does not fit {dtype}: {error}") from None


def _key(value):
    try:
        hash(value)
    except TypeError:
        raise DecodeError(f"a dict key of type {type(value).__name__} cannot be stored") from None
    return value


def decode(obj, tensors: dict, _used: set | None = None):
    """Rebuild what ``encode`` stored. Raises ``DecodeError`` (a ValueError) naming what is
    wrong when the skeleton is malformed or names a missing tensor. A tensor named twice is
    copied, so no two restored objects share memory."""
    used = set() if _used is None else _used
    if isinstance(obj, list):
        return [decode(v, tensors, used) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        name = obj["__tensor__"]
        if not isinstance(name, str) or name not in tensors:
            raise DecodeError(f"the tensor {name!r} named in the metadata is missing from the file")
        arr = tensors[name].copy() if name in used else tensors[name]
        used.add(name)
        return Tensor(arr) if obj.get("as") == "Tensor" else arr
    if "__scalar__" in obj:
        return _scalar(obj)
    if "__tuple__" in obj:
        items = obj["__tuple__"]
        if not isinstance(items, list):
            raise DecodeError("a stored tuple is not a list")
        return tuple(decode(v, tensors, used) for v in items)
    if "__pairs__" in obj:
        pairs = obj["__pairs__"]
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 for p in pairs
        ):
            raise DecodeError("a stored dict's pairs are not a list of [key, value]")
        return {_key(decode(k, tensors, used)): decode(v, tensors, used) for k, v in pairs}
    return {k: decode(v, tensors, used) for k, v in obj.items()}
