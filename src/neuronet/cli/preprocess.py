"""What a run does to the data before the model sees it, stored in the run as ``preprocess.json``.

``neuronet train`` writes it; ``predict`` and ``evaluate`` read it, so a trained run takes the
same rows its training file had, in the file's own units:

1. read one sample per row: ``features`` values (CSV columns matched by name when the training
   file had a header; the label column, if present, ignored);
2. multiply by ``scale`` (e.g. 1/16 for the digits file's 0..16 pixels, 1/255 for 8-bit images);
3. standardise: ``(x - mean) / std`` per feature (CSV data; the training split's statistics);
4. reshape each row to ``sample_shape`` (e.g. (1, 28, 28), CHW order);
5. for recurrent and Transformer classifiers on images, ``rows_as_sequence``: (C, H, W) ->
   (H, C*W), each image row one time step.

Outputs go back the other way: class ids become the stored ``classes``; a regression output is
``y * target_std + target_mean``; a reconstruction is un-standardised and un-scaled. A language
model keeps its character ``vocab``.

The file (``PREPROCESS_FILE``), for example for a Transformer on the bundled digits::

    {"format": "neuronet-preprocessing", "version": 1, "data": "digits",
     "task": "classification", "features": 64, "feature_names": null, "named_columns": false,
     "label_index": 64, "label_name": null, "delimiter": ",", "encoding": "utf-8",
     "scale": 0.0625, "mean": null, "std": null, "sample_shape": [1, 8, 8],
     "rows_as_sequence": true, "classes": [0, 1, ..., 9], "target_mean": null,
     "target_std": null, "vocab": null, "block_size": null}
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from neuronet.cli.config import ConfigError

PREPROCESS_FILE = "preprocess.json"
FORMAT = "neuronet-preprocessing"
VERSION = 1


@dataclass
class Preprocessing:
    """The input and output transforms of one trained run (see the module docstring)."""

    data: str
    task: str
    features: int = 0
    feature_names: list | None = None
    named_columns: bool = False
    label_index: int | None = None
    label_name: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8"
    scale: float = 1.0
    mean: list | None = None
    std: list | None = None
    sample_shape: list = field(default_factory=list)
    rows_as_sequence: bool = False
    classes: list | None = None
    target_mean: float | None = None
    target_std: float | None = None
    vocab: dict | None = None
    block_size: int | None = None
    model_steps: bool = False  # built from model.json: Model.predict applies its steps

    # ---- inputs --------------------------------------------------------------------------
    def inputs(self, rows: np.ndarray) -> np.ndarray:
        """Model inputs from raw rows (N, features) in the training file's units."""
        x = np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)
        if x.shape[1] != self.features:
            raise ConfigError(
                f"this run's model takes {self.features} values per sample "
                f"({self._what()}); the input has {x.shape[1]}"
            )
        x = self.normalize(x * np.float32(self.scale))
        x = x.reshape((len(x), *self.sample_shape))
        if self.rows_as_sequence:
            n, c, h, w = x.shape
            x = np.ascontiguousarray(x.transpose(0, 2, 1, 3).reshape(n, h, c * w))
        return x

    def normalize(self, x: np.ndarray) -> np.ndarray:
        """Step 3 alone: (x - mean) / std on already scaled flat rows (identity without stats)."""
        if self.mean is None:
            return x.astype(np.float32, copy=False)
        return ((x - np.float32(self.mean)) / np.float32(self.std)).astype(np.float32)

    def _what(self) -> str:
        if self.feature_names and self.named_columns:
            shown = ", ".join(self.feature_names[:6]) + (", ..." if self.features > 6 else "")
            return f"the feature columns {shown} of its {self.data} data"
        shape = "x".join(str(d) for d in self.sample_shape)
        return f"{self.data} samples of shape {shape}, one per row"

    # ---- outputs -------------------------------------------------------------------------
    def class_name(self, index: int):
        return self.classes[index] if self.classes is not None else index

    def target(self, y: np.ndarray) -> np.ndarray:
        """A regression output (standardised in training) in the label column's units."""
        if self.target_mean is None:
            return y
        return y * np.float32(self.target_std) + np.float32(self.target_mean)

    def reconstruction(self, x: np.ndarray) -> np.ndarray:
        """An autoencoder output back in the input file's units."""
        x = x.reshape(len(x), -1)
        if self.mean is not None:
            x = x * np.float32(self.std) + np.float32(self.mean)
        return x / np.float32(self.scale)

    # ---- model.json (neuronet.load_model) ------------------------------------------------
    def model_json(self, input_shape: list, input_dtype: str) -> dict:
        """The ``preprocessing`` section of model.json: the input steps above as its ``scale``,
        ``shift``, ``reshape`` and ``transpose`` ops on flat raw rows. (model.json has no output
        steps: a regression model's ``Model.predict`` returns the standardised target; apply
        ``target_std`` and ``target_mean`` from preprocess.json.)"""
        steps = []
        if self.task != "language_model":
            if self.scale != 1.0:
                steps.append({"op": "scale", "factor": self.scale})
            if self.mean is not None:
                steps.append({"op": "shift", "offset": [-m for m in self.mean]})
                steps.append({"op": "scale", "factor": [1.0 / s for s in self.std]})
            if len(self.sample_shape) > 1:
                steps.append({"op": "reshape", "shape": list(self.sample_shape)})
            if self.rows_as_sequence:
                c, h, w = self.sample_shape
                steps.append({"op": "transpose", "axes": [1, 0, 2]})
                steps.append({"op": "reshape", "shape": [h, c * w]})
        return {
            "input_shape": list(input_shape),
            "input_dtype": input_dtype,
            "steps": steps,
            "classes": self.classes,
            "vocab": self.vocab,
        }

    @classmethod
    def from_model_json(cls, document: dict) -> Preprocessing:
        """What a folder written by ``save_model`` alone (no preprocess.json) says: its task,
        input shape and classes. Its own steps run in ``Model.predict``."""
        pre = document.get("preprocessing") or {}
        shape = list(pre.get("input_shape") or [])
        features = int(np.prod(shape)) if shape else 0
        return cls(
            data="model.json",
            task=document.get("task") or "classification",
            features=features,
            sample_shape=shape,
            classes=pre.get("classes"),
            vocab=pre.get("vocab"),
            model_steps=True,
        )

    # ---- the file ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("model_steps")
        return {"format": FORMAT, "version": VERSION, **data}

    @classmethod
    def from_dict(cls, data: dict) -> Preprocessing:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def write_preprocessing(run_dir, prep: Preprocessing) -> Path:
    """Write ``run_dir/preprocess.json`` (atomically: a temporary file, then a rename)."""
    path = Path(run_dir) / PREPROCESS_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(prep.to_dict(), indent=1) + "\n")
    os.replace(tmp, path)
    return path


def read_preprocessing(run_dir) -> Preprocessing | None:
    """The run's ``Preprocessing``, or None when the run folder has no preprocess.json."""
    path = Path(run_dir) / PREPROCESS_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"{str(path)!r} is not valid JSON ({err}); retrain the run") from None
    if data.get("format") != FORMAT:
        raise ConfigError(f"{str(path)!r} is not a neuronet preprocessing file")
    if data.get("version", 0) > VERSION:
        raise ConfigError(
            f"{str(path)!r} was written by a newer neuronet (version {data['version']}); "
            "upgrade neuronet to use this run"
        )
    return Preprocessing.from_dict(data)


def standardize_stats(x: np.ndarray) -> tuple:
    """(mean, std) per feature of a training matrix; a constant feature gets std 1."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std < 1e-12] = 1.0
    return mean.tolist(), std.tolist()
