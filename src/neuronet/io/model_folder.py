"""Self-describing model folders: ``model.safetensors`` + ``model.json``, and ``load_model``.

A folder written by ``save_model`` (or by ``neuronet train``) rebuilds its model without the
code that trained it:

    neuronet.save_model(model, "runs/mlp", task="classification",
                        preprocessing={"input_shape": [64]})
    model = neuronet.load_model("runs/mlp")          # NumPy, safetensors and neuronet only
    probs = model.predict(samples)                   # (N, ...) array in, outputs out

``model.json`` (schema version 1, documented in docs/export.md)::

    {"format": "neuronet.model", "schema_version": 1, "neuronet_version": "0.1.0",
     "weights": "model.safetensors",
     "architecture": {"name": "MLP", "in_features": 64, "hidden": [128], ...},
     "task": "classification",            # or regression, reconstruction, language_model
     "preprocessing": {
        "input_shape": [64],              # one sample as the model takes it
        "input_dtype": "float32",         # int64 for token ids
        "steps": [...],                   # applied in order to a raw sample, see ``_STEPS``
        "classes": [...] or null,         # label of each output index
        "vocab": {...} or null}}          # CharVocab JSON for text models

``architecture`` is the model's ``config`` (the reference models in ``neuronet.models``
record theirs); ``build(config)`` recreates it. The weights file's metadata keeps the same
config for older readers. Inference imports no optional dependency (no numba, matplotlib,
tqdm or torch): this module needs only NumPy and safetensors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from neuronet.io.files import CheckpointError, atomic_write, read_safetensors

__all__ = ["save_model", "load_model", "read_model_json", "Model", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
JSON_NAME = "model.json"
WEIGHTS_NAME = "model.safetensors"
TASKS = ("classification", "regression", "reconstruction", "language_model")


def _check_steps(steps) -> list:
    """The preprocessing steps, validated: reshape, transpose, scale (x * factor), shift."""
    steps = list(steps or [])
    for i, step in enumerate(steps):
        op = step.get("op") if isinstance(step, dict) else None
        if op not in _STEPS:
            raise ValueError(
                f"preprocessing step {i} must be a dict with 'op' in {sorted(_STEPS)}, got {step!r}"
            )
    return steps


def save_model(model, folder, *, task=None, preprocessing=None, metadata=None) -> Path:
    """Write ``model.safetensors`` and ``model.json`` into ``folder`` (created if missing).

    Args:
        model: a module with a ``config`` (every ``neuronet.models`` model has one).
        folder: the directory to write.
        task: one of 'classification', 'regression', 'reconstruction', 'language_model'.
        preprocessing: ``input_shape``, ``input_dtype``, ``steps``, ``classes``, ``vocab`` (see
            the module docstring); all optional.
        metadata: extra string entries for the weights file's header.

    Returns:
        The path of ``model.json``.
    """
    from neuronet.io.weights import save

    config = getattr(model, "config", None)
    if not isinstance(config, dict) or "name" not in config:
        raise ValueError(
            f"save_model: {type(model).__name__} has no config to rebuild it from; only models "
            "that record one (the reference models in neuronet.models) can be loaded without "
            "their code. Save the weights with neuronet.io.save instead"
        )
    if task is not None and task not in TASKS:
        raise ValueError(f"save_model: task must be one of {TASKS}, got {task!r}")
    pre = dict(preprocessing or {})
    unknown = set(pre) - {"input_shape", "input_dtype", "steps", "classes", "vocab"}
    if unknown:
        raise ValueError(f"save_model: unknown preprocessing keys {sorted(unknown)}")
    document = {
        "format": "neuronet.model",
        "schema_version": SCHEMA_VERSION,
        "neuronet_version": _version(),
        "weights": WEIGHTS_NAME,
        "architecture": config,
        "task": task,
        "preprocessing": {
            "input_shape": None if pre.get("input_shape") is None else list(pre["input_shape"]),
            "input_dtype": str(np.dtype(pre.get("input_dtype", "float32"))),
            "steps": _check_steps(pre.get("steps")),
            "classes": pre.get("classes"),
            "vocab": pre.get("vocab"),
        },
    }
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    header = {"model_config": json.dumps(config), **(metadata or {})}
    if task is not None:
        header["task"] = task
    save(model, folder / WEIGHTS_NAME, metadata=header)
    path = folder / JSON_NAME
    atomic_write(path, (json.dumps(document, indent=1) + "\n").encode())
    return path


def _version() -> str:
    from neuronet import __version__

    return __version__


def read_model_json(path) -> dict:
    """The model.json document of a folder (or the file itself), validated."""
    path = Path(path)
    if path.is_dir():
        path = path / JSON_NAME
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no model.json at {str(path)!r}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{str(path)!r} is not valid JSON: {err}") from None
    if not isinstance(document, dict) or document.get("format") != "neuronet.model":
        raise CheckpointError(f"{str(path)!r} is not a neuronet model.json (no 'format' entry)")
    version = document.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise CheckpointError(
            f"{str(path)!r} has model.json schema version {version!r}; this neuronet reads "
            f"versions up to {SCHEMA_VERSION}: upgrade neuronet"
        )
    return document


def _legacy_document(weights: Path) -> dict:
    """A model.json equivalent from a weights file's metadata (runs written before model.json)."""
    _, metadata = read_safetensors(weights)
    if "model_config" not in metadata:
        raise CheckpointError(
            f"{str(weights)!r} has no model config (no model.json beside it either); it holds "
            "weights only: build the model in code and use neuronet.io.load(model, path)"
        )
    vocab = metadata.get("vocab")
    return {
        "weights": weights.name,
        "architecture": json.loads(metadata["model_config"]),
        "task": metadata.get("task"),
        "preprocessing": {"vocab": None if vocab is None else json.loads(vocab)},
    }


def load_model(path) -> Model:
    """Rebuild a saved model from its folder (or its model.json / model.safetensors file).

    The model comes back in eval mode, wrapped in ``Model``: call it like the module, or use
    ``predict(array)`` for NumPy in and out with the folder's preprocessing.

    Raises:
        FileNotFoundError: nothing at ``path``.
        CheckpointError: not a neuronet model folder, or a damaged one.
    """
    from neuronet import models
    from neuronet.io.weights import load

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load_model: {str(path)!r} does not exist")
    folder = path if path.is_dir() else path.parent
    if path.suffix == ".safetensors" or (path.is_dir() and not (path / JSON_NAME).is_file()):
        weights = path if path.is_file() else path / WEIGHTS_NAME
        if not weights.is_file():
            raise FileNotFoundError(
                f"load_model: {str(folder)!r} holds neither model.json nor model.safetensors"
            )
        document = _legacy_document(weights)
    else:
        document = read_model_json(path)
        weights = folder / document.get("weights", WEIGHTS_NAME)
    try:
        module = models.build(document["architecture"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(
            f"load_model: cannot rebuild the architecture in {str(folder)!r}: {err}"
        ) from None
    load(module, weights)
    module.eval()
    return Model(module, document)


class Model:
    """A loaded model: the module (``.module``), its task and preprocessing, and ``predict``.

    Attribute access and calls go to the module, so ``model(x)``, ``model.state_dict()`` and
    ``model.config`` work as on the module itself.
    """

    def __init__(self, module, document: dict):
        self.module = module
        self.document = document
        self.task = document.get("task")
        pre = document.get("preprocessing") or {}
        self.input_shape = None if pre.get("input_shape") is None else tuple(pre["input_shape"])
        self.input_dtype = np.dtype(pre.get("input_dtype") or "float32")
        self.steps = _check_steps(pre.get("steps"))
        self.classes = pre.get("classes")
        self.vocab = pre.get("vocab")

    def __getattr__(self, name):
        return getattr(self.__dict__["module"], name)

    def __call__(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Model(task={self.task!r}, module={self.module!r})"

    def preprocess(self, array) -> np.ndarray:
        """Raw samples (N, ...) as the model's input batch: each step, then the dtype."""
        x = np.asarray(array)
        if self.input_shape is not None and x.shape == self.input_shape:
            x = x[None]  # one sample
        n = x.shape[0] if x.ndim else 1
        raw_shape = x.shape[1:]
        for i, step in enumerate(self.steps):
            try:
                x = _STEPS[step["op"]](x, step, n)
            except ValueError as err:
                raise ValueError(
                    f"predict: samples of shape {raw_shape} do not fit preprocessing step {i} "
                    f"({step['op']}): {err}; the model takes {self.input_shape}"
                ) from None
        x = x.astype(self.input_dtype, copy=False)
        if self.input_shape is not None and x.shape[1:] != self.input_shape:
            size = int(np.prod(self.input_shape))
            if x.ndim >= 1 and x[0].size == size:
                x = x.reshape((n, *self.input_shape))
            else:
                raise ValueError(
                    f"predict: samples of shape {x.shape[1:]} do not fit the model's input "
                    f"shape {self.input_shape} ({size} values per sample)"
                )
        return x

    def predict(self, array, batch_size: int = 256) -> np.ndarray:
        """The model's outputs for the samples in ``array`` (NumPy in, NumPy out), in eval mode
        and without recording a graph, ``batch_size`` samples at a time."""
        from neuronet.autograd.grad_mode import no_grad
        from neuronet.autograd.tensor import Tensor

        x = self.preprocess(array)
        self.module.eval()
        outputs = []
        with no_grad():
            for start in range(0, max(len(x), 1), batch_size):
                out = self.module(Tensor(np.ascontiguousarray(x[start : start + batch_size])))
                outputs.append(np.asarray(out.array))
        return np.concatenate(outputs) if len(outputs) > 1 else outputs[0]


def _reshape(x, step, n):
    return x.reshape((n, *step["shape"]))


def _transpose(x, step, n):
    return x.transpose((0, *[a + 1 for a in step["axes"]]))


def _scale(x, step, n):
    return x * np.asarray(step["factor"], dtype=np.float32)


def _shift(x, step, n):
    return x + np.asarray(step["offset"], dtype=np.float32)


_STEPS = {"reshape": _reshape, "transpose": _transpose, "scale": _scale, "shift": _shift}
