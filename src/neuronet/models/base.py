"""What every reference model shares: a JSON-able config that rebuilds it.

Each model records the arguments it was built with in ``self.config``; ``build(config)``
rebuilds an identical architecture (the checkpoint stores the config next to the weights, so
``neuronet evaluate RUN`` can recreate the model without the original script).
"""

from __future__ import annotations

import inspect

REGISTRY: dict = {}


def register(cls):
    """Class decorator: make the model buildable by name."""
    REGISTRY[cls.__name__] = cls
    return cls


def record_config(model, local_vars: dict) -> None:
    """Store the constructor arguments of ``model`` (call first thing in ``__init__``)."""
    params = inspect.signature(type(model).__init__).parameters
    config = {"name": type(model).__name__}
    for name in params:
        if name != "self" and name in local_vars:
            value = local_vars[name]
            config[name] = list(value) if isinstance(value, tuple) else value
    object.__setattr__(model, "config", config)


def build(config: dict):
    """Rebuild a model from its ``config`` (as stored in a checkpoint)."""
    config = dict(config)
    name = config.pop("name", None)
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r} in config; known models: {sorted(REGISTRY)}")
    return REGISTRY[name](**config)
