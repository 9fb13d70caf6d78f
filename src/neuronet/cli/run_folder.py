"""Reading a run folder written by ``neuronet train``: the model and what it was trained on.

A run folder holds ``model.safetensors`` (weights; its metadata carries the model's config, the
run's config and, for text, the vocabulary), ``preprocess.json`` (see ``cli/preprocess.py``),
``config.toml``, ``checkpoint.safetensors``, ``history.csv``/``history.json``, ``curves.png`` and
``metrics.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from neuronet.cli.config import ConfigError, load_toml, resolve
from neuronet.cli.preprocess import Preprocessing, read_preprocessing


def load_run(run) -> tuple:
    """(model with weights, run config, metadata) from a run folder or a model.safetensors."""
    from neuronet import io, models
    from neuronet.io.files import read_safetensors

    path = Path(run)
    weights = path / "model.safetensors" if path.is_dir() else path
    if not weights.is_file():
        raise ConfigError(
            f"no trained model at {str(weights)!r}; give a run folder written by "
            "`neuronet train` (it holds model.safetensors)"
        )
    try:
        _, metadata = read_safetensors(weights)
    except (ValueError, OSError) as err:
        raise ConfigError(str(err).splitlines()[0]) from None
    if "model_config" not in metadata:
        raise ConfigError(
            f"{str(weights)!r} has no model config; was it written by `neuronet train`?"
        )
    model = models.build(json.loads(metadata["model_config"]))
    io.load(model, weights)
    config = json.loads(metadata.get("run_config", "{}"))
    if not config and (weights.parent / "config.toml").is_file():
        config = load_toml(weights.parent / "config.toml")
    return model, config, metadata


def run_preprocessing(run, config: dict) -> Preprocessing:
    """The run's stored preprocessing; for a run written before preprocess.json existed, the
    one its config implies (the data is loaded again to derive it)."""
    from neuronet.cli.tasks import prepare

    path = Path(run)
    folder = path if path.is_dir() else path.parent
    prep = read_preprocessing(folder)
    if prep is None:
        prep = prepare(resolve({**config, "config": None})).preprocessing
    return prep
