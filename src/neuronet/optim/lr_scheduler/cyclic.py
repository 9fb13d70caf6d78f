"""CyclicLR (Smith, 2017, "Cyclical Learning Rates for Training Neural Networks"), stepped
after every batch, PyTorch's form."""

from __future__ import annotations

import math

from neuronet.optim.lr_scheduler.base import LRScheduler, per_group, uses_beta1


class CyclicLR(LRScheduler):
    """The rate goes up from ``base_lr`` to ``max_lr`` over ``step_size_up`` steps and back
    down over ``step_size_down``, again and again; the momentum (SGD's ``momentum``, or Adam's
    beta1) cycles the other way, between ``max_momentum`` and ``base_momentum``::

        cycle = floor(1 + t / (up + down)),  x = 1 + t / (up + down) - cycle
        s = x / r if x <= r else (x - 1) / (r - 1),   r = up / (up + down)
        lr = base_lr + (max_lr - base_lr) * s * scale(cycle, or t)

    with ``scale`` 1 ('triangular'), 1 / 2^(cycle - 1) ('triangular2') or gamma^t
    ('exp_range'), or your ``scale_fn`` of the cycle or of t (``scale_mode``).

    Note: as in PyTorch, building it sets each group's ``lr`` to ``base_lr`` (and its momentum
    to ``max_momentum``), and it is stepped per batch (``interval = "step"``). A ``scale_fn``
    is code, so ``state_dict()`` does not store it: pass the same one before loading.

    Args:
        optimizer: the optimizer.
        base_lr, max_lr: the rate's bounds (or one per group).
        step_size_up: steps from base_lr up to max_lr (default 2000).
        step_size_down: steps back down (default: step_size_up).
        mode: 'triangular' (default), 'triangular2' or 'exp_range'.
        gamma: exp_range's factor per step (default 1.0).
        scale_fn, scale_mode: a custom scale of the cycle ('cycle') or of the step
            ('iterations'), in place of mode's.
        cycle_momentum: cycle the momentum inversely to the rate (default True).
        base_momentum, max_momentum: the momentum's bounds (default 0.8, 0.9).
        last_epoch: the step count to resume from (-1: start).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim
        >>> from neuronet.nn import Parameter
        >>> opt = optim.SGD([Parameter(np.zeros(1))], lr=0.1, momentum=0.9)
        >>> sched = optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2)
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(round(sched.get_last_lr()[0], 3)); sched.step()
        >>> lrs
        [0.01, 0.055, 0.1, 0.055, 0.01]
    """

    interval = "step"

    def __init__(
        self,
        optimizer,
        base_lr,
        max_lr,
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn=None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum=0.8,
        max_momentum=0.9,
        last_epoch: int = -1,
    ):
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(
                f"CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range' (or give "
                f"scale_fn), got {mode!r}"
            )
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(
                f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}"
            )
        for name, size in (("step_size_up", step_size_up), ("step_size_down", step_size_down)):
            if size is not None and (isinstance(size, bool) or not size > 0):
                raise ValueError(f"CyclicLR: {name} must be a positive number, got {size!r}")
        base_lrs = per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = per_group("max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else _MODE_SCALE[mode]
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = uses_beta1("CyclicLR", optimizer)
            self.base_momentums = per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = per_group("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                for m_max, m_base, group in zip(
                    self.max_momentums, self.base_momentums, optimizer.param_groups
                ):
                    self._set_momentum(group, m_max)
                    group["max_momentum"] = m_max
                    group["base_momentum"] = m_base
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """The scale of the cycle's height: mode's, or the ``scale_fn`` given."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def _position(self, step: int) -> tuple:
        """(the height's fraction s, the scale's argument) at ``step``."""
        cycle = math.floor(1 + step / self.total_size)
        x = 1.0 + step / self.total_size - cycle
        s = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        return s, cycle if self.scale_mode == "cycle" else step

    def lr_at(self, step: int) -> list:
        s, arg = self._position(step)
        return [b + (m - b) * s * self.scale_fn(arg) for b, m in zip(self.base_lrs, self.max_lrs)]

    def get_lr(self) -> list:
        lrs = self.lr_at(self.last_epoch)
        if self.cycle_momentum:
            s, arg = self._position(self.last_epoch)
            pairs = zip(self.base_momentums, self.max_momentums, self.optimizer.param_groups)
            for m_base, m_max, group in pairs:
                self._set_momentum(group, m_max - (m_max - m_base) * s * self.scale_fn(arg))
        return lrs

    def _set_momentum(self, group: dict, momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def _unsaved(self) -> tuple:
        return ("optimizer", "_scale_fn_custom")


_MODE_SCALE = {"triangular": "cycle", "triangular2": "cycle", "exp_range": "iterations"}

__all__ = ["CyclicLR"]
