"""Training checkpoints: everything needed to continue a run, in one ``.safetensors`` file.

Layout of the file:
    tensors   ``model.<state_dict key>``         the model's parameters and buffers
              ``optim.state.<index>.<name>``     optimizer state arrays (exp_avg, ...)
              ``rng.numpy.1``, ``loader...``      arrays inside the other states
    metadata  ``neuronet.kind``: "checkpoint", ``neuronet.format_version``: "2",
              ``neuronet.crc32``, ``neuronet.model_class``, and ``neuronet.checkpoint``: one JSON
              document {model_class, config, optimizer, scheduler, rng, data_loader, extra,
              neuronet_version}, where arrays are references to the tensors above.

RNG states saved: neuronet's default generator, NumPy's global ``np.random`` state and Python's
``random`` state. With the data loader's position (see ``DataLoader.state_dict``) that is
everything a bitwise-identical resume needs. The write is atomic and the CRC covers the whole
file (see ``neuronet.io.files``).

Loading happens in two stages: ``open_checkpoint`` reads, verifies and decodes the file without
touching anything; ``Checkpoint.restore`` checks that every state fits its object and then
loads them all, rolling every object back if one of them refuses. Whatever is wrong with the
file, the caller sees a ``CheckpointError`` and its objects unchanged.
"""

from __future__ import annotations

import copy
import json
import random

import numpy as np

from neuronet.io.codec import DecodeError, decode, encode
from neuronet.io.files import CheckpointError, parse_json, read_safetensors, write_safetensors
from neuronet.io.weights import MODEL_PREFIX, load_into
from neuronet.random import Generator, get_rng_state, set_rng_state

__all__ = ["save_checkpoint", "load_checkpoint", "read_metadata", "open_checkpoint"]

_DOC_KEY = "neuronet.checkpoint"
_FIELDS = ("model_class", "config", "optimizer", "scheduler", "rng", "data_loader", "extra")
_BAD_STATE = (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError)


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


def _same_kind(saved, current) -> bool:
    """Whether a saved hyperparameter has the type the live object uses (a number stays a
    number, a flag a flag, a tuple a sequence of the same length)."""
    if current is None or callable(current):
        return True
    if isinstance(current, bool):
        return isinstance(saved, (bool, np.bool_))
    if isinstance(current, (int, float, np.number)):
        return isinstance(saved, (int, float, np.number)) and not isinstance(saved, bool)
    if isinstance(current, (list, tuple)):
        return isinstance(saved, (list, tuple)) and len(saved) == len(current)
    if isinstance(current, str):
        return isinstance(saved, str)
    return True


class Checkpoint:
    """A checkpoint file that has been read, verified and decoded; nothing restored yet.

    Attributes:
        path: the file.
        info: the decoded document (model_class, config, optimizer, scheduler, rng,
            data_loader, extra, neuronet_version).
        extra: ``info['extra']``, the dict given to ``save_checkpoint``.
    """

    def __init__(self, path, tensors: dict, metadata: dict, info: dict):
        self.path = path
        self.metadata = metadata
        self.info = info
        self.extra = info["extra"]
        self.model_state = {
            k[len(MODEL_PREFIX) :]: v for k, v in tensors.items() if k.startswith(MODEL_PREFIX)
        }

    def _fail(self, message: str) -> CheckpointError:
        return CheckpointError(f"{str(self.path)!r}: {message}")

    # ---- checks, before anything changes -------------------------------------------------
    def _check_optimizer(self, optimizer) -> None:
        saved = self.info["optimizer"]
        if not isinstance(saved, dict) or not isinstance(saved.get("param_groups"), list):
            raise self._fail("the saved optimizer state has no list of param_groups")
        if not isinstance(saved.get("state"), dict) or not all(
            isinstance(g, dict) and isinstance(g.get("params"), list) for g in saved["param_groups"]
        ):
            raise self._fail("the saved optimizer state is malformed (no 'state' or 'params')")
        for index, values in saved["state"].items():
            if not isinstance(values, dict) or not all(
                v is None or isinstance(v, (np.ndarray, bool, int, float, np.number))
                for v in values.values()
            ):
                raise self._fail(f"the saved optimizer state of parameter {index} is malformed")
        current = optimizer.state_dict()["param_groups"]
        saved_sizes = [len(g["params"]) for g in saved["param_groups"]]
        current_sizes = [len(g.get("params", ())) for g in current]
        if saved_sizes != current_sizes:
            raise self._fail(
                f"the saved optimizer has parameter groups of sizes {saved_sizes}, this "
                f"{type(optimizer).__name__} has {current_sizes}; build the optimizer over the "
                "same parameters, in the same groups, as when the checkpoint was saved"
            )
        for i, (group, now) in enumerate(zip(saved["param_groups"], current)):
            missing = sorted(set(now) - set(group))
            wrong = sorted(k for k in now if k in group and not _same_kind(group[k], now[k]))
            if missing or wrong:
                raise self._fail(
                    f"parameter group {i} of the saved optimizer lacks {missing} or has values "
                    f"of the wrong type for {wrong}; was it saved from another optimizer than "
                    f"{type(optimizer).__name__}?"
                )

    def _check_scheduler(self, scheduler) -> None:
        saved = self.info["scheduler"]
        current = scheduler.state_dict()
        if not isinstance(saved, dict) or set(saved) != set(current):
            keys = sorted(saved) if isinstance(saved, dict) else type(saved).__name__
            raise self._fail(
                f"the saved scheduler state has keys {keys}, this {type(scheduler).__name__} "
                f"has {sorted(current)}; resume with the scheduler the run was saved with"
            )
        wrong = sorted(k for k in current if not _same_kind(saved[k], current[k]))
        if wrong:
            raise self._fail(f"the saved scheduler state has values of the wrong type for {wrong}")

    def _check_rng(self) -> None:
        rng = self.info["rng"]
        try:
            Generator().set_state(copy.deepcopy(rng["neuronet"]))
            np.random.RandomState().set_state(rng["numpy"])
            random.Random().setstate(rng["python"])
        except _BAD_STATE as error:
            raise self._fail(f"the saved random-number states are malformed ({error})") from None

    # ---- restore ------------------------------------------------------------------------
    def restore(
        self,
        model,
        optimizer=None,
        scheduler=None,
        *,
        data_loader=None,
        restore_rng: bool = True,
        strict: bool = True,
    ) -> dict:
        """Load the states into the objects given; returns ``extra``. See ``load_checkpoint``."""
        for label, obj in (
            ("optimizer", optimizer),
            ("scheduler", scheduler),
            ("data_loader", data_loader),
        ):
            if obj is not None and self.info.get(label) is None:
                name = "data loader" if label == "data_loader" else label
                raise self._fail(f"holds no {name} state; pass {label}=None")
        if optimizer is not None:
            self._check_optimizer(optimizer)
        if scheduler is not None:
            self._check_scheduler(scheduler)
        if restore_rng:
            self._check_rng()
        targets = {
            label: obj
            for label, obj in (
                ("optimizer", optimizer),
                ("scheduler", scheduler),
                ("data_loader", data_loader),
            )
            if obj is not None
        }
        backup = {k: v.array.copy() for k, v in model.state_dict().items()}
        saved_states = {name: copy.deepcopy(obj.state_dict()) for name, obj in targets.items()}
        load_into(model, self.path, self.model_state, self.metadata, strict)
        loaded = []
        try:
            for label, obj in targets.items():
                obj.load_state_dict(self.info[label])
                loaded.append(label)
        except Exception as error:  # roll back what was loaded (the refusing one is unchanged)
            model.load_state_dict(backup, strict=False)
            for name in loaded:
                targets[name].load_state_dict(saved_states[name])
            if isinstance(error, _BAD_STATE):
                raise self._fail(
                    f"the saved {label.replace('_', ' ')} state does not fit this "
                    f"{type(targets[label]).__name__}: {error}"
                ) from error
            raise
        if restore_rng:
            rng = self.info["rng"]
            set_rng_state(copy.deepcopy(rng["neuronet"]))
            np.random.set_state(rng["numpy"])
            random.setstate(rng["python"])
        return self.extra


def open_checkpoint(path, verify: bool = True) -> Checkpoint:
    """Read, verify and decode a checkpoint file, restoring nothing (see ``Checkpoint``).

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: anything wrong with the file.
    """
    tensors, metadata = read_safetensors(path, verify=verify)
    kind = metadata.get("neuronet.kind")
    if kind != "checkpoint":
        what = (
            "a weights file written by neuronet.io.save; load it with neuronet.io.load(model, path)"
            if kind == "weights"
            else "not a neuronet training checkpoint (no 'neuronet.kind: checkpoint' metadata); "
            "for plain weights use neuronet.io.load(model, path)"
        )
        raise CheckpointError(f"{str(path)!r} is {what}")
    document = parse_json(path, metadata, _DOC_KEY)
    missing = [k for k in _FIELDS if k not in document]
    if missing:
        raise CheckpointError(f"{str(path)!r} is corrupt: its document lacks {missing}")
    try:
        info = {key: decode(value, tensors) for key, value in document.items()}
    except (DecodeError, RecursionError) as error:
        raise CheckpointError(f"{str(path)!r} is corrupt: {error}") from None
    if not isinstance(info["extra"], dict):
        raise CheckpointError(f"{str(path)!r} is corrupt: its 'extra' entry is not a dict")
    if not isinstance(info["rng"], dict) or not {"neuronet", "numpy", "python"} <= set(info["rng"]):
        raise CheckpointError(f"{str(path)!r} is corrupt: its random-number states are missing")
    return Checkpoint(path, tensors, metadata, info)


def read_metadata(path, verify: bool = True) -> dict:
    """A checkpoint's metadata, decoded, without touching any model: model_class, config,
    optimizer, scheduler, rng, data_loader, extra, neuronet_version."""
    return open_checkpoint(path, verify=verify).info


def load_checkpoint(
    path,
    model,
    optimizer=None,
    scheduler=None,
    *,
    data_loader=None,
    restore_rng: bool = True,
    strict: bool = True,
    verify: bool = True,
) -> dict:
    """Restore a training checkpoint written by ``save_checkpoint``.

    Args:
        path: the checkpoint file.
        model: the Module to load the weights into (same architecture and config).
        optimizer, scheduler, data_loader: restored with ``load_state_dict`` when given (the
            checkpoint must hold their state).
        restore_rng: also restore the neuronet, NumPy and Python RNG states.
        strict: require exactly the model's keys.
        verify: check the file's CRC-32 (refusing a file without one); ``False`` only for a
            trusted file whose checksum is known to be missing.

    Returns:
        The ``extra`` dict given to ``save_checkpoint``.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: a corrupt/truncated/foreign file, a checkpoint of a different model or
            optimizer, or a missing state. Every object is left unchanged when anything fails.
    """
    ckpt = open_checkpoint(path, verify=verify)
    return ckpt.restore(
        model,
        optimizer,
        scheduler,
        data_loader=data_loader,
        restore_rng=restore_rng,
        strict=strict,
    )
