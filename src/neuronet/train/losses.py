"""Loss functions by name, for ``Trainer(loss='cross_entropy')`` and the command line."""

from __future__ import annotations

_NAMES = {
    "cross_entropy": "cross_entropy",
    "ce": "cross_entropy",
    "nll": "nll_loss",
    "mse": "mse_loss",
    "l2": "mse_loss",
    "l1": "l1_loss",
    "mae": "l1_loss",
    "huber": "huber_loss",
    "smooth_l1": "smooth_l1_loss",
    "bce": "binary_cross_entropy",
    "bce_with_logits": "binary_cross_entropy_with_logits",
}


def resolve_loss(loss):
    """A callable ``loss(output, target)`` from a loss module, a function or a name."""
    if callable(loss):
        return loss
    if isinstance(loss, str) and loss in _NAMES:
        from neuronet import functional as F

        return getattr(F, _NAMES[loss])
    raise ValueError(
        f"unknown loss {loss!r}; use one of {sorted(_NAMES)}, a loss module such "
        "as nn.CrossEntropyLoss(), or any function loss(output, target)"
    )
