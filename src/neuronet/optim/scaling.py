"""Scaling the learning rate with the batch size (the large-batch rules of thumb)."""

from __future__ import annotations

import math

_RULES = ("linear", "sqrt")


def scale_lr(base_lr: float, base_batch: int, batch: int, rule: str = "linear") -> float:
    """The learning rate for ``batch`` given one tuned at ``base_batch``.

    Rules::

        linear:  lr = base_lr * batch / base_batch          (Goyal et al., 2017; for SGD)
        sqrt:    lr = base_lr * sqrt(batch / base_batch)    (Krizhevsky, 2014; often for Adam)

    Combine with a warmup (``lr_scheduler.warmup_cosine``) when the scaled rate is large.

    Example:
        >>> scale_lr(0.1, 256, 1024)
        0.4
        >>> scale_lr(1e-3, 64, 256, rule="sqrt")
        0.002
    """
    if rule not in _RULES:
        raise ValueError(f"scale_lr: unknown rule {rule!r}; use 'linear' or 'sqrt'")
    for name, value in (("base_batch", base_batch), ("batch", batch)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"scale_lr: {name} must be a positive integer, got {value!r}")
    if not base_lr >= 0.0:
        raise ValueError(f"scale_lr: base_lr must be >= 0, got {base_lr!r}")
    ratio = batch / base_batch
    return base_lr * (ratio if rule == "linear" else math.sqrt(ratio))


__all__ = ["scale_lr"]
