"""Run configuration: per-model defaults, TOML files, and the merge order defaults < file < flags.

A run's ``config.toml`` holds every resolved option, so ``neuronet train --config
runs/X/config.toml`` reproduces the run.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MODELS = ("mlp", "lenet", "resnet", "rnn", "lstm", "gru", "transformer", "gpt", "autoencoder")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "lamb", "rmsprop", "adagrad")
SCHEDULES = ("none", "step", "cosine", "warmup_cosine", "onecycle")

COMMON = {
    "model": "mlp",
    "data": None,
    "epochs": 10,
    "steps": None,
    "batch_size": 32,
    "lr": 1e-3,
    "optimizer": "adam",
    "weight_decay": 0.0,
    "schedule": "none",
    "grad_clip": None,
    "dropout": 0.0,
    "seed": 0,
    "block_size": 64,
    # data options (CSV / text files) and step-run validation: see `neuronet train --help`
    "task": "auto",
    "label": None,
    "encoding": "utf-8",
    "val_every": None,
}
TASKS = ("auto", "classification", "regression")

# What `--model X` alone uses: chosen so that each reaches its quality bar on its default data
# in well under a minute on two cores.
MODEL_DEFAULTS = {
    "mlp": {"data": "digits", "epochs": 20, "lr": 2e-3},
    "lenet": {
        "data": "digits",
        "epochs": 30,
        "lr": 3e-3,
        "batch_size": 32,
        "dropout": 0.3,
        "schedule": "cosine",
    },
    "resnet": {"data": "digits", "epochs": 15, "lr": 3e-3, "batch_size": 64, "schedule": "cosine"},
    "rnn": {"data": "digits", "epochs": 30, "lr": 2e-3, "grad_clip": 1.0},
    "lstm": {"data": "digits", "epochs": 25, "lr": 3e-3, "grad_clip": 1.0},
    "gru": {"data": "digits", "epochs": 25, "lr": 3e-3, "grad_clip": 1.0},
    "transformer": {
        "data": "digits",
        "epochs": 40,
        "lr": 2e-3,
        "schedule": "warmup_cosine",
        "optimizer": "adamw",
        "weight_decay": 0.01,
    },
    "gpt": {
        "data": "pydoc_text",
        "epochs": 1,
        "steps": 600,
        "lr": 3e-3,
        "batch_size": 32,
        "optimizer": "adamw",
        "weight_decay": 0.1,
        "schedule": "warmup_cosine",
        "grad_clip": 1.0,
        "block_size": 64,
    },
    "autoencoder": {"data": "digits", "epochs": 60, "lr": 3e-3, "batch_size": 64},
}


class ConfigError(ValueError):
    """A bad option or config file: reported as one line, exit code 2."""


def load_toml(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {err}") from None
    data = data.get("train", data)
    unknown = sorted(k for k in data if k.replace("-", "_") not in COMMON and k != "out")
    if unknown:
        raise ConfigError(
            f"config file {str(path)!r} has unknown option(s) {unknown}; known: {sorted(COMMON)}"
        )
    return {k.replace("-", "_"): v for k, v in data.items()}


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def dump_toml(config: dict, path) -> None:
    """Write ``config`` (flat: strings, numbers, bools, lists) as a ``[train]`` table; None
    values are left out (TOML has no null)."""
    lines = [
        "# neuronet run configuration: `neuronet train --config THIS_FILE` reproduces it",
        "[train]",
    ]
    for k, v in config.items():
        if v is not None:
            lines.append(f"{k} = {_toml_value(v)}")
    Path(path).write_text("\n".join(lines) + "\n")


_INTS = ("epochs", "steps", "batch_size", "block_size", "seed", "val_every")
_FLOATS = ("lr", "weight_decay", "grad_clip", "dropout")


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _check_types(config: dict) -> None:
    for key, value in config.items():
        if value is None:
            continue
        if key in _INTS and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"{_flag(key)} must be an integer, got {value!r}")
        if key in _FLOATS and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"{_flag(key)} must be a number, got {value!r}")
        text = (str, int) if key == "label" else str  # a label column: a name or an index
        if key not in _INTS + _FLOATS and key in COMMON and not isinstance(value, text):
            raise ConfigError(f"{_flag(key)} must be a string, got {value!r}")


def absolute_data(spec, base: Path | None = None):
    """``kind:PATH`` with PATH made absolute (relative paths count from ``base``, default the
    working directory), so a saved config works from any directory."""
    if not isinstance(spec, str) or ":" not in spec:
        return spec
    kind, path = spec.split(":", 1)
    target = Path(path).expanduser()
    if not target.is_absolute():
        target = (base or Path.cwd()) / target
    return f"{kind}:{target.resolve()}"


def resolve(flags: dict) -> dict:
    """Defaults for the model, then the config file, then the flags given on the command line.

    A data path in a config file counts from the file's folder, one given as a flag from the
    working directory; both are stored absolute.
    """
    from_file = load_toml(flags["config"]) if flags.get("config") else {}
    if from_file.get("data") is not None:
        from_file["data"] = absolute_data(from_file["data"], Path(flags["config"]).parent)
    _check_types(from_file)
    model = flags.get("model") or from_file.get("model") or COMMON["model"]
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    config = dict(COMMON)
    config.update(MODEL_DEFAULTS[model])
    config.update(from_file)
    config.update({k: v for k, v in flags.items() if v is not None and k in COMMON})
    config["model"] = model
    config["data"] = absolute_data(config["data"])
    _check_types(config)
    if config["optimizer"] not in OPTIMIZERS:
        raise ConfigError(
            f"unknown optimizer {config['optimizer']!r}; choose one of {', '.join(OPTIMIZERS)}"
        )
    if config["schedule"] not in SCHEDULES:
        raise ConfigError(
            f"unknown schedule {config['schedule']!r}; choose one of {', '.join(SCHEDULES)}"
        )
    for key in ("epochs", "batch_size", "block_size"):
        if config[key] < 1:
            raise ConfigError(f"{_flag(key)} must be a positive integer, got {config[key]!r}")
    if config["task"] not in TASKS:
        raise ConfigError(f"unknown task {config['task']!r}; choose one of {', '.join(TASKS)}")
    if config["val_every"] is not None and config["val_every"] < 0:
        raise ConfigError(f"--val-every must be >= 0 steps, got {config['val_every']!r}")
    if config["steps"] is not None and config["steps"] < 1:
        raise ConfigError(f"--steps must be a positive integer, got {config['steps']!r}")
    if not 0 < config["lr"] < math.inf:
        raise ConfigError(f"--lr must be positive, got {config['lr']!r}")
    if not 0 <= config["weight_decay"] < math.inf:
        raise ConfigError(f"--weight-decay must be >= 0, got {config['weight_decay']!r}")
    if config["grad_clip"] is not None and not 0 < config["grad_clip"] < math.inf:
        raise ConfigError(
            f"--grad-clip must be a positive max gradient norm, got {config['grad_clip']!r}"
        )
    if not 0.0 <= config["dropout"] < 1.0:
        raise ConfigError(f"--dropout must be in [0, 1), got {config['dropout']!r}")
    return config
