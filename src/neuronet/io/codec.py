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

__all__ = ["encode", "decode"]

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


def decode(obj, tensors: dict):
    """Rebuild what ``encode`` stored; raises KeyError naming a missing tensor."""
    if isinstance(obj, list):
        return [decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        name = obj["__tensor__"]
        if name not in tensors:
            raise KeyError(f"the tensor {name!r} named in the metadata is missing from the file")
        arr = tensors[name]
        return Tensor(arr) if obj.get("as") == "Tensor" else arr
    if "__scalar__" in obj:
        return np.dtype(obj["dtype"]).type(obj["__scalar__"])
    if "__tuple__" in obj:
        return tuple(decode(v, tensors) for v in obj["__tuple__"])
    if "__pairs__" in obj:
        return {decode(k, tensors): decode(v, tensors) for k, v in obj["__pairs__"]}
    return {k: decode(v, tensors) for k, v in obj.items()}
