"""Training checkpoints: everything needed to continue a run, in one ``.safetensors`` file.

Layout of the file:
    tensors   ``model.<state_dict key>``         the model's parameters and buffers
              ``optim.state.<index>.<name>``     optimizer state arrays (exp_avg, ...)
              ``rng.numpy.1``, ``loader...``      arrays inside the other states
    metadata  ``neuronet.kind``: "checkpoint", ``neuronet.format_version``: "1",
              ``neuronet.crc32``, ``neuronet.model_class``, and ``neuronet.checkpoint``: one JSON
              document {model_class, config, optimizer, scheduler, rng, data_loader, extra,
              neuronet_version}, where arrays are references to the tensors above.

RNG states saved: neuronet's default generator, NumPy's global ``np.random`` state and Python's
``random`` state. With the data loader's position (see ``DataLoader.state_dict``) that is
everything a bitwise-identical resume needs. The write is atomic (see ``neuronet.io.files``).
"""

from __future__ import annotations

import json
import random

import numpy as np

from neuronet.io.codec import decode, encode
from neuronet.io.files import CheckpointError, parse_json, read_safetensors, write_safetensors
from neuronet.io.weights import MODEL_PREFIX, load_into
from neuronet.random import get_rng_state, set_rng_state

__all__ = ["save_checkpoint", "load_checkpoint", "read_metadata"]

_DOC_KEY = "neuronet.checkpoint"


def _config_of(model, config):
    if config is not None:
        return config
    get_config = getattr(model, "get_config", None)
    if callable(get_config):
        return get_config()
    own = getattr(model, "config", None)
    return own if isinstance(own, dict) else None


def _rng_states() -> dict:
    return {
        "neuronet": get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def save_checkpoint(
    path,
    model,
    optimizer=None,
    scheduler=None,
    extra: dict | None = None,
    *,
    data_loader=None,
    config=None,
) -> None:
    """Write a training checkpoint to ``path`` atomically (see the module docstring).

    Args:
        path: the file to write (conventionally ``*.safetensors``); its directory must exist.
        model: the Module.
        optimizer: anything with torch's ``state_dict()`` -> {'state': {int: {name: array or
            number}}, 'param_groups': [...]}; arrays are stored as tensors.
        scheduler: anything with a ``state_dict()`` of plain data.
        extra: your own JSON-able data (epoch, step, history, ...); returned by
            ``load_checkpoint``. NumPy arrays and scalars in it are kept exactly.
        data_loader: a ``DataLoader`` whose position (epoch, batch, generator states) to save.
        config: the model's constructor config (default: ``model.get_config()`` if it exists,
            else ``model.config`` if it is a dict).

    Example:
        >>> import tempfile, os, neuronet as nt
        >>> model = nt.nn.Linear(3, 2)
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
        >>> save_checkpoint(path, model, extra={"epoch": 3})
        >>> load_checkpoint(path, model)
        {'epoch': 3}
    """
    tensors = {MODEL_PREFIX + k: v for k, v in model.state_dict().items()}
    document = {
        "model_class": type(model).__name__,
        "config": encode(_config_of(model, config), "config", tensors),
        "optimizer": None
        if optimizer is None
        else encode(optimizer.state_dict(), "optim", tensors),
        "scheduler": None
        if scheduler is None
        else encode(scheduler.state_dict(), "sched", tensors),
        "rng": encode(_rng_states(), "rng", tensors),
        "data_loader": None
        if data_loader is None
        else encode(data_loader.state_dict(), "loader", tensors),
        "extra": encode(dict(extra or {}), "extra", tensors),
        "neuronet_version": _version(),
    }
    metadata = {
        "neuronet.kind": "checkpoint",
        "neuronet.model_class": type(model).__name__,
        _DOC_KEY: json.dumps(document),
    }
    write_safetensors(path, tensors, metadata)


def _version() -> str:
    from neuronet import __version__

    return __version__


def _read(path) -> tuple[dict, dict, dict]:
    tensors, metadata = read_safetensors(path)
    kind = metadata.get("neuronet.kind")
    if kind != "checkpoint":
        what = (
            "a weights file written by neuronet.io.save; load it with neuronet.io.load(model, path)"
            if kind == "weights"
            else "not a neuronet training checkpoint (no 'neuronet.kind: checkpoint' metadata); "
            "for plain weights use neuronet.io.load(model, path)"
        )
        raise CheckpointError(f"{str(path)!r} is {what}")
    return tensors, metadata, parse_json(path, metadata, _DOC_KEY)


def read_metadata(path) -> dict:
    """A checkpoint's metadata, decoded, without touching any model: model_class, config,
    optimizer, scheduler, rng, data_loader, extra, neuronet_version."""
    tensors, _, document = _read(path)
    return _decoded(path, document, tensors)


def _decoded(path, document: dict, tensors: dict) -> dict:
    try:
        return {key: decode(value, tensors) for key, value in document.items()}
    except KeyError as error:
        raise CheckpointError(f"{str(path)!r} is corrupt: {error.args[0]}") from None


def _check_optimizer(path, saved, optimizer) -> None:
    if not isinstance(saved, dict) or "param_groups" not in saved:
        raise CheckpointError(f"{str(path)!r}: the saved optimizer state has no param_groups")
    current = optimizer.state_dict()["param_groups"]
    saved_sizes = [len(g.get("params", ())) for g in saved["param_groups"]]
    current_sizes = [len(g.get("params", ())) for g in current]
    if saved_sizes != current_sizes:
        raise CheckpointError(
            f"{str(path)!r}: the saved optimizer has parameter groups of sizes {saved_sizes}, "
            f"this {type(optimizer).__name__} has {current_sizes}; build the optimizer over the "
            "same parameters, in the same groups, as when the checkpoint was saved"
        )


def load_checkpoint(
    path,
    model,
    optimizer=None,
    scheduler=None,
    *,
    data_loader=None,
    restore_rng: bool = True,
    strict: bool = True,
) -> dict:
    """Restore a training checkpoint written by ``save_checkpoint``.

    Args:
        path: the checkpoint file.
        model: the Module to load the weights into (same architecture and config).
        optimizer, scheduler, data_loader: restored with ``load_state_dict`` when given (the
            checkpoint must hold their state).
        restore_rng: also restore the neuronet, NumPy and Python RNG states.
        strict: require exactly the model's keys.

    Returns:
        The ``extra`` dict given to ``save_checkpoint``.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: a corrupt/truncated/foreign file, a checkpoint of a different model or
            optimizer, or a missing state. The model is left unchanged when anything fails.
    """
    tensors, metadata, document = _read(path)
    info = _decoded(path, document, tensors)
    for label, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None and info.get(label) is None:
            raise CheckpointError(f"{str(path)!r} holds no {label} state; pass {label}=None")
    if data_loader is not None and info.get("data_loader") is None:
        raise CheckpointError(f"{str(path)!r} holds no data loader state; pass data_loader=None")
    if optimizer is not None:
        _check_optimizer(path, info["optimizer"], optimizer)
    state = {k[len(MODEL_PREFIX) :]: v for k, v in tensors.items() if k.startswith(MODEL_PREFIX)}
    backup = {k: v.array.copy() for k, v in model.state_dict().items()}
    load_into(model, path, state, metadata, strict)
    try:
        if optimizer is not None:
            optimizer.load_state_dict(info["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(info["scheduler"])
        if data_loader is not None:
            data_loader.load_state_dict(info["data_loader"])
    except Exception:
        model.load_state_dict(backup, strict=False)
        raise
    if restore_rng:
        rng = info["rng"]
        set_rng_state(rng["neuronet"])
        np.random.set_state(rng["numpy"])
        random.setstate(rng["python"])
    return info["extra"]
