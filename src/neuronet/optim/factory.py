"""make_optimizer: build an optimizer from its name (used by ``fit(optimizer='adam')``)."""

from __future__ import annotations

from neuronet.optim.adagrad import Adagrad
from neuronet.optim.adam import Adam
from neuronet.optim.adamw import AdamW
from neuronet.optim.lamb import LAMB
from neuronet.optim.rmsprop import RMSprop
from neuronet.optim.sgd import SGD

_BY_NAME = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
    "lamb": (LAMB, {}),
    "rmsprop": (RMSprop, {}),
    "adagrad": (Adagrad, {}),
}


def make_optimizer(name: str, params, **options):
    """An optimizer by name: 'sgd', 'momentum' (SGD, momentum 0.9), 'nesterov', 'adam',
    'adamw', 'lamb', 'rmsprop' or 'adagrad'; ``options`` (lr, weight_decay, ...) go to its
    constructor and override the preset.

    Example:
        >>> from neuronet.nn import Parameter
        >>> import numpy as np
        >>> opt = make_optimizer("momentum", [Parameter(np.zeros(3))], lr=0.1)
        >>> type(opt).__name__, opt.param_groups[0]["momentum"]
        ('SGD', 0.9)
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in _BY_NAME:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of {', '.join(sorted(_BY_NAME))}, or pass "
            "an optimizer instance"
        )
    cls, preset = _BY_NAME[key]
    return cls(params, **{**preset, **options})


__all__ = ["make_optimizer"]
