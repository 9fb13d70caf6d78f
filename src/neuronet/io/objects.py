"""``neuronet.save(obj, f)`` / ``neuronet.load(f)``: PyTorch's save/load for what people save.

What can be saved: a state dict, an optimizer (or scheduler) state dict, or any nesting of
dicts, lists and tuples of those with tensors, NumPy arrays, numbers, strings and None: a
training checkpoint such as ``{"model": model.state_dict(), "optimizer": opt.state_dict(),
"epoch": 3}``. It comes back as it went in (tensors as tensors, int dict keys as ints, tuples
as tuples).

The file is one safetensors file, written atomically with a checksum by ``io.files`` (never
pickle, so loading runs no code): every array is a tensor named by its path in the object
(``model.fc.weight``; a flat state dict keeps its keys as names, so
``safetensors.torch.load_file`` reads it in PyTorch), and the object's structure is a JSON
document in the metadata. ``load`` also reads a weights file (``io.save``) or a safetensors
state dict written by PyTorch, returning the state dict, and a training checkpoint
(``io.save_checkpoint``), returning its parts as a dict.

Differences from ``torch.save``: a Module or an optimizer object itself cannot be saved
(PyTorch pickles the whole object, code included); save its ``state_dict()`` instead.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.device import check_device
from neuronet.io.codec import decode, encode
from neuronet.io.files import CheckpointError, parse_json, read_safetensors, write_safetensors

__all__ = ["save", "load"]

_DOC_KEY = "neuronet.object"


def _is_state_dict(obj) -> bool:
    return (
        isinstance(obj, dict)
        and len(obj) > 0
        and all(isinstance(k, str) and isinstance(v, (Tensor, np.ndarray)) for k, v in obj.items())
    )


def _skeleton(obj, tensors: dict):
    """The JSON skeleton of ``obj``; top-level string keys name their tensors directly."""
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        raise TypeError(
            f"neuronet.save cannot save a {type(obj).__name__} object: PyTorch pickles whole "
            "objects (code included), neuronet never pickles. Save its state instead: "
            f"neuronet.save(obj.state_dict(), path), then obj.load_state_dict(neuronet.load(path))"
        )
    plain = isinstance(obj, dict) and all(
        isinstance(k, str) and not (k.startswith("__") and k.endswith("__")) for k in obj
    )
    if plain:
        return {k: _skeleton_item(v, k, tensors) for k, v in obj.items()}
    return _skeleton_item(obj, "obj", tensors)


def _skeleton_item(value, name: str, tensors: dict):
    if hasattr(value, "state_dict") and callable(value.state_dict) and not isinstance(value, dict):
        raise TypeError(
            f"neuronet.save: {name!r} holds a {type(value).__name__} object, which cannot be saved "
            "without pickle; save its state_dict() instead"
        )
    return encode(value, name, tensors)


def save(obj, f) -> None:
    """Write ``obj`` to ``f`` (a path, or a binary file object) as safetensors + JSON.

    Example:
        >>> import os, tempfile, neuronet as nt
        >>> model = nt.nn.Linear(2, 1)
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
        >>> nt.save({"model": model.state_dict(), "epoch": 3}, path)
        >>> ckpt = nt.load(path)
        >>> ckpt["epoch"], sorted(ckpt["model"])
        (3, ['bias', 'weight'])
    """
    tensors: dict = {}
    document = _skeleton(obj, tensors)
    metadata = {"neuronet.kind": "object", _DOC_KEY: json.dumps(document)}
    if _is_state_dict(obj):
        metadata["format"] = "pt"  # a plain state dict: PyTorch tools read it as one
    if _is_path(f):
        write_safetensors(Path(f), tensors, metadata)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "object.safetensors"
        write_safetensors(path, tensors, metadata)
        f.write(path.read_bytes())


def _is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def _check_map_location(map_location) -> None:
    if map_location is None or callable(map_location):
        return  # PyTorch's `lambda storage, loc: storage` idiom means "keep on the CPU"
    if isinstance(map_location, dict):
        for target in map_location.values():
            check_device(target, "a loaded tensor")
        return
    check_device(map_location, "a loaded tensor")


def load(
    f, map_location=None, pickle_module=None, *, weights_only: bool = True, mmap=None, verify=True
):
    """Read what ``save`` wrote (see the module docstring).

    Args:
        f: a path, or a binary file object.
        map_location: None, ``'cpu'`` (or a device, a dict or callable naming the CPU); the
            only device is the CPU.
        pickle_module, weights_only, mmap: accepted for PyTorch compatibility and unused:
            nothing is unpickled, so loading never runs code.
        verify: check neuronet's checksum and refuse a file without one; ``False`` reads a
            trusted safetensors file another program wrote (``safetensors.torch.save_file``).

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: not a safetensors file, truncated or corrupt (checksum mismatch).
    """
    _check_map_location(map_location)
    if _is_path(f):
        return _load_path(Path(f), verify)
    data = f.read() if hasattr(f, "read") else bytes(f)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "object.safetensors"
        path.write_bytes(data)
        return _load_path(path, verify)


def _load_path(path: Path, verify: bool = True):
    tensors, metadata = read_safetensors(path, verify=verify)
    kind = metadata.get("neuronet.kind")
    if kind == "object":
        document = parse_json(path, metadata, _DOC_KEY)
        try:
            return decode(document, tensors)
        except (KeyError, ValueError) as error:  # a missing tensor, a malformed skeleton
            raise CheckpointError(f"{str(path)!r} is corrupt: {error.args[0]}") from None
    if kind == "checkpoint":
        from neuronet.io.checkpoint import read_metadata
        from neuronet.io.weights import load_state_dict

        parts = read_metadata(path, verify=verify)
        parts["model"] = load_state_dict(path, verify=verify)
        return parts
    return OrderedDict((name, Tensor(arr)) for name, arr in tensors.items())
