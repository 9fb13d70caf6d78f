"""Checkpoints without pickle: model weights and training state in ``.safetensors`` files.

    neuronet.io.save(model, "model.safetensors")            # weights; PyTorch can open it
    neuronet.io.load(model, "model.safetensors")
    neuronet.io.save_checkpoint("ckpt.safetensors", model, optimizer, scheduler,
                                extra={"epoch": 3}, data_loader=loader)
    extra = neuronet.io.load_checkpoint("ckpt.safetensors", model, optimizer, scheduler,
                                        data_loader=loader)

Files: ``files.py`` (atomic, checksummed safetensors read/write), ``codec.py`` (nested state as
JSON + tensors), ``weights.py`` (save/load/load_state_dict), ``checkpoint.py``,
``torch_interop.py`` (PyTorch state dicts both ways; ``.pt`` files through
``torch.load(weights_only=True)``).
"""

from __future__ import annotations

from neuronet.io.checkpoint import load_checkpoint, read_metadata, save_checkpoint  # noqa: F401
from neuronet.io.files import CheckpointError  # noqa: F401
from neuronet.io.model_folder import Model, load_model, read_model_json, save_model  # noqa: F401
from neuronet.io.torch_interop import (  # noqa: F401
    from_torch_state_dict,
    load_torch,
    read_torch_file,
    to_torch_state_dict,
)
from neuronet.io.weights import load, load_state_dict, save  # noqa: F401

__all__ = [
    "save",
    "load",
    "load_state_dict",
    "save_checkpoint",
    "load_checkpoint",
    "read_metadata",
    "CheckpointError",
    "save_model",
    "load_model",
    "read_model_json",
    "Model",
    "to_torch_state_dict",
    "from_torch_state_dict",
    "load_torch",
    "read_torch_file",
]
