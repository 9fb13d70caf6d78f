"""ReduceLROnPlateau: cut the learning rate when a monitored metric stops improving."""

from __future__ import annotations

import math

from neuronet.optim.lr_scheduler.base import LRScheduler
from neuronet.optim.optimizer import Optimizer


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rates by ``factor`` once the metric has not improved for ``patience`` steps.

    Each ``step(metric)`` (once per epoch, with e.g. the validation loss)::

        improved = metric < best * (1 - threshold)      mode 'min', threshold_mode 'rel'
                   metric < best - threshold            mode 'min', 'abs'
                   metric > best * (1 + threshold)      mode 'max', 'rel'
                   metric > best + threshold            mode 'max', 'abs'
        bad_epochs = 0 if improved (and best = metric) else bad_epochs + 1
        during cooldown, bad epochs are not counted
        if bad_epochs > patience:  lr = max(lr * factor, min_lr) (only if it drops by > eps),
                                   then cooldown for ``cooldown`` steps

    There is no closed form: the schedule depends on the metric, so ``lr_at`` is not defined.
    ``needs_metric`` is True: the ``Trainer`` passes the epoch's ``val_loss`` (or the training
    loss when there is no validation data).

    Args:
        optimizer: the optimizer.
        mode: 'min' (default) or 'max'.
        factor: multiplicative factor of each reduction, < 1 (default 0.1).
        patience: bad epochs tolerated before reducing (default 10).
        threshold: the smallest change counted as improvement (default 1e-4).
        threshold_mode: 'rel' (default) or 'abs'.
        cooldown: epochs to wait after a reduction before counting again (default 0).
        min_lr: lower bound on the rate, or one per group (default 0).
        eps: reductions smaller than this are skipped (default 1e-8).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim
        >>> from neuronet.nn import Parameter
        >>> opt = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
        >>> sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
        >>> for val_loss in [1.0, 0.9, 0.95, 0.95]:
        ...     sched.step(val_loss)
        >>> sched.get_last_lr()
        [0.5]
    """

    needs_metric = True

    def __init__(
        self,
        optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr=0.0,
        eps: float = 1e-8,
    ):
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, got factor={factor}.")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown! Use 'min' or 'max'.")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown! Use 'rel' or 'abs'.")
        self.optimizer = optimizer
        self.factor = factor
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(f"expected {n_groups} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n_groups
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.last_epoch = 0
        self._step_count = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def lr_at(self, step: int) -> list:
        raise TypeError("ReduceLROnPlateau has no closed form: its rates depend on the metric")

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric value ``a`` improves on ``best`` under mode and threshold."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics, epoch: int | None = None) -> None:
        """Record this epoch's metric value and reduce the rates if it has plateaued."""
        value = metrics.item() if hasattr(metrics, "item") else metrics
        if isinstance(value, (bool, str)) or not isinstance(value, (int, float)):
            raise TypeError(
                f"ReduceLROnPlateau.step: metrics must be a number (e.g. the validation loss), "
                f"got {metrics!r}"
            )
        current = float(value)
        self._step_count += 1
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the optimizer ({len(groups)}) differs from "
                    f"when ReduceLROnPlateau was initialized ({len(self.min_lrs)}), usually "
                    "because a param group was added; set `min_lrs` to one value per group."
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for i, group in enumerate(groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr


__all__ = ["ReduceLROnPlateau"]
