"""Model weights as a ``.safetensors`` file whose tensor names are the ``state_dict`` keys.

PyTorch opens the file directly (``safetensors.torch.load_file(path)`` gives a state dict that
``torch_model.load_state_dict`` accepts for the same architecture), and a file PyTorch wrote with
``safetensors.torch.save_file(model.state_dict(), path)`` loads into the neuronet model with
``load(model, path, verify=False)`` (such a file has no neuronet checksum to verify).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping

from neuronet.autograd.tensor import Tensor
from neuronet.io.files import CheckpointError, read_safetensors, write_safetensors

__all__ = ["save", "load", "load_state_dict"]

_RESERVED = ("format",)
MODEL_PREFIX = "model."


def _state_of(model_or_state_dict) -> Mapping:
    if hasattr(model_or_state_dict, "state_dict") and callable(model_or_state_dict.state_dict):
        return model_or_state_dict.state_dict()
    if isinstance(model_or_state_dict, Mapping):
        return model_or_state_dict
    raise TypeError(
        f"save: expected a Module or a state dict (name -> Tensor), got "
        f"{type(model_or_state_dict).__name__}"
    )


def _string_metadata(metadata) -> dict:
    out = {}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"save: metadata keys must be strings, got {key!r}")
        if key in _RESERVED or key.startswith("neuronet."):
            raise ValueError(f"save: the metadata key {key!r} is reserved by neuronet")
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


def save(model_or_state_dict, path, metadata: dict | None = None) -> None:
    """Write a model's weights (or a state dict) to ``path`` as safetensors, atomically.

    Args:
        model_or_state_dict: a Module (its ``state_dict()`` is saved) or a dict of Tensors/arrays.
        path: the file to write (conventionally ``*.safetensors``); its directory must exist.
        metadata: extra string entries for the header (other JSON-able values are stored as
            JSON text). ``format`` and ``neuronet.*`` are reserved.

    The header's metadata has ``format: pt`` (as ``safetensors.torch.save_model`` writes, so
    PyTorch tools treat it as a PyTorch state dict), ``neuronet.kind: weights`` and a CRC-32.

    Example:
        >>> import tempfile, os, neuronet as nt
        >>> model = nt.nn.Linear(3, 2)
        >>> path = os.path.join(tempfile.mkdtemp(), "linear.safetensors")
        >>> save(model, path)
        >>> sorted(load_state_dict(path))
        ['bias', 'weight']
    """
    state = _state_of(model_or_state_dict)
    meta = _string_metadata(metadata)
    meta["format"] = "pt"
    meta["neuronet.kind"] = "weights"
    if hasattr(model_or_state_dict, "state_dict"):
        meta["neuronet.model_class"] = type(model_or_state_dict).__name__
    write_safetensors(path, dict(state.items()), meta)


def _model_tensors(path, tensors: dict, metadata: dict) -> OrderedDict:
    """The model part of a weights file or of a training checkpoint, by state_dict key."""
    if metadata.get("neuronet.kind") == "checkpoint":
        items = [(k[len(MODEL_PREFIX) :], v) for k, v in tensors.items() if k.startswith("model.")]
    else:
        items = list(tensors.items())
    return OrderedDict((k, Tensor(v)) for k, v in sorted(items))


def load_state_dict(path, verify: bool = True) -> OrderedDict:
    """The state dict (name -> Tensor) stored in a weights file or a training checkpoint.
    ``verify=False`` reads a trusted file without neuronet's checksum (see ``load``)."""
    tensors, metadata = read_safetensors(path, verify=verify)
    return _model_tensors(path, tensors, metadata)


def load_into(model, path, state: Mapping, metadata: dict, strict: bool):
    """``model.load_state_dict(state)`` with errors that name the file and what saved it."""
    try:
        return model.load_state_dict(state, strict=strict)
    except (RuntimeError, ValueError, TypeError) as error:
        saved = metadata.get("neuronet.model_class")
        origin = f" (saved from a {saved})" if saved else ""
        raise CheckpointError(
            f"{str(path)!r}{origin} does not fit this {type(model).__name__}: {error}"
        ) from None


def load(model, path, strict: bool = True, verify: bool = True):
    """Load weights saved by ``save`` (or by ``save_checkpoint``, or PyTorch) into ``model``.

    Args:
        model: the Module to fill; its parameters keep their dtype.
        path: a ``.safetensors`` file.
        strict: require exactly the model's keys (as ``Module.load_state_dict``).
        verify: check the CRC-32 neuronet writes into every file, and refuse a file without
            one. A file another program wrote (e.g. ``safetensors.torch.save_file``) has none:
            load it with ``verify=False`` if you trust it. Its structure is still checked.

    Returns:
        ``(missing_keys, unexpected_keys)``, as ``Module.load_state_dict``.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: a corrupt, truncated, unchecked or non-safetensors file, or one whose
            keys or shapes do not match the model (nothing is changed then).
    """
    tensors, metadata = read_safetensors(path, verify=verify)
    return load_into(model, path, _model_tensors(path, tensors, metadata), metadata, strict)
