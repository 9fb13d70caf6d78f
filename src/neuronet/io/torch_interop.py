"""PyTorch interop: state dicts both ways, and ``.pt``/``.pth`` files through ``torch.load``.

neuronet's parameter names, shapes and layouts are PyTorch's (``encoder.0.weight``, LSTM gates
i, f, g, o, ...), so moving weights is a copy, never a renaming:

    sd = neuronet.io.to_torch_state_dict(model)       # {name: torch.Tensor}
    torch_model.load_state_dict(sd)
    neuronet.io.from_torch_state_dict(model, torch_model.state_dict())
    neuronet.io.load_torch(model, "weights.pt")       # torch.load(weights_only=True)

torch is imported only inside these functions (it is an optional dependency); a ``.pt`` file is
read by torch's own ``torch.load(..., weights_only=True)``, which refuses anything but tensors
and plain containers, so loading a file cannot run code. neuronet never unpickles by hand.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = ["to_torch_state_dict", "from_torch_state_dict", "load_torch", "read_torch_file"]


def _torch(op: str):
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"neuronet.io.{op} needs PyTorch; install it (pip install 'neuronet[torch]')"
        ) from None
    return torch


def to_torch_state_dict(model) -> OrderedDict:
    """The model's ``state_dict`` as torch tensors (copies), ready for ``load_state_dict``.

    Example:
        >>> import neuronet as nt
        >>> sd = nt.io.to_torch_state_dict(nt.nn.Linear(3, 2))  # doctest: +SKIP
        >>> sorted(sd), type(sd["weight"]).__name__  # doctest: +SKIP
        (['bias', 'weight'], 'Tensor')
    """
    torch = _torch("to_torch_state_dict")
    return OrderedDict(
        (name, torch.from_numpy(np.array(t.array, copy=True)))
        for name, t in model.state_dict().items()
    )


def _as_numpy(name: str, value) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    raise TypeError(
        f"from_torch_state_dict: entry {name!r} is a {type(value).__name__}, expected a "
        "torch.Tensor (or NumPy array)"
    )


def from_torch_state_dict(model, state_dict, strict: bool = True):
    """Copy a PyTorch ``state_dict`` (torch tensors) into ``model``; returns
    ``(missing_keys, unexpected_keys)`` as ``Module.load_state_dict``.

    Everything is checked first (names, shapes), so a failed load changes nothing. Dtypes are
    converted to the model's (a float64 torch tensor loads into a float32 model).
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"from_torch_state_dict: expected a mapping of name -> tensor (a state_dict), got "
            f"{type(state_dict).__name__}"
        )
    arrays = {name: _as_numpy(name, value) for name, value in state_dict.items()}
    return model.load_state_dict(arrays, strict=strict)


def read_torch_file(path) -> OrderedDict:
    """The state dict in a ``.pt``/``.pth`` file, as NumPy arrays, read with
    ``torch.load(path, map_location="cpu", weights_only=True)``.

    A file holding ``{"state_dict": {...}}`` or ``{"model_state_dict": {...}}`` (common
    training-checkpoint layouts) yields the inner dict.
    """
    torch = _torch("read_torch_file")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_torch_file: {str(path)!r} does not exist")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch's UnpicklingError and friends carry the reason
        raise ValueError(
            f"read_torch_file: {str(path)!r} is not a weights-only PyTorch file "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); save the "
            "model's state_dict() with torch.save, not the model object"
        ) from None
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model_state_dict"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not all(hasattr(v, "numpy") for v in obj.values()):
        raise ValueError(
            f"read_torch_file: {str(path)!r} does not hold a state dict (a mapping of names to "
            "tensors)"
        )
    return OrderedDict((name, _as_numpy(name, value)) for name, value in obj.items())


def load_torch(model, path, strict: bool = True):
    """Load a PyTorch ``.pt``/``.pth`` state-dict file into ``model`` (see ``read_torch_file``)."""
    return model.load_state_dict(read_torch_file(path), strict=strict)
