"""Cosine-shaped schedules: CosineAnnealingLR and CosineAnnealingWarmRestarts (per epoch, or
per batch with fractional epochs) and OneCycleLR (per batch)."""

from __future__ import annotations

import math

from neuronet.optim.lr_scheduler import schedules
from neuronet.optim.lr_scheduler.base import LRScheduler, per_group, uses_beta1


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the base rate down to ``eta_min`` over ``T_max`` steps
    (SGDR without restarts, Loshchilov & Hutter, 2017)::

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2

    Past ``T_max`` the cosine continues (the rate rises again, period 2 T_max), as in PyTorch.
    PyTorch computes these values recursively from the previous rate; this closed form equals
    them to rounding (the tests check 1e-5 relative over 200 steps).

    Args:
        optimizer: the optimizer.
        T_max: number of steps of the half cosine.
        eta_min: the minimum rate (default 0).
        last_epoch: the step count to resume from (-1: start).
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, step: int) -> list:
        return [
            schedules.cosine_annealing_lr(step, base, self.T_max, self.eta_min)
            for base in self.base_lrs
        ]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): half cosines from the base rate down to ``eta_min``,
    restarting at the base rate after T_0 steps, then after T_0 * T_mult more, and so on::

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2

    T_cur counts the steps since the last restart and T_i is the current cycle's length. As
    in PyTorch, ``step(epoch)`` also takes a fractional epoch, for stepping every batch:
    ``scheduler.step(epoch + i / batches)``; without an argument it advances one step.

    Args:
        optimizer: the optimizer.
        T_0: steps of the first cycle.
        T_mult: each cycle is this many times longer than the one before (default 1).
        eta_min: the minimum rate (default 0).
        last_epoch: the step count to resume from (-1: start).
    """

    def __init__(
        self, optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1
    ):
        name = "CosineAnnealingWarmRestarts"
        if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"{name}: T_0 must be a positive integer, got {T_0!r}")
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"{name}: T_mult must be an integer >= 1, got {T_mult!r}")
        if isinstance(eta_min, bool) or not isinstance(eta_min, (int, float)):
            raise ValueError(f"{name}: eta_min must be a number, got {eta_min!r}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def lr_at(self, step: int) -> list:
        t_cur, t_i = schedules.warm_restart_position(step, self.T_0, self.T_mult)
        return [schedules.cosine_annealing_lr(t_cur, b, t_i, self.eta_min) for b in self.base_lrs]

    def get_lr(self) -> list:
        """The rates at the current position (T_cur of T_i), which a fractional epoch sets."""
        return [
            schedules.cosine_annealing_lr(self.T_cur, b, self.T_i, self.eta_min)
            for b in self.base_lrs
        ]

    def step(self, epoch=None) -> None:
        """One step on, or to ``epoch`` (a float is a position inside an epoch), as PyTorch."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or epoch < 0:
                raise ValueError(
                    f"CosineAnnealingWarmRestarts.step: epoch must be a number >= 0, got {epoch!r}"
                )
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())

    def _restart(self) -> None:
        self.step(0)  # as PyTorch's SequentialLR at a milestone: the cycle starts afresh


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018), stepped after every batch.

    The rate goes from ``max_lr / div_factor`` up to ``max_lr`` over the first ``pct_start`` of
    ``total_steps``, then anneals down to ``initial_lr / final_div_factor``; the momentum (SGD's
    ``momentum``, or Adam's beta1 in ``betas``) cycles the other way, from ``max_momentum`` to
    ``base_momentum`` and back. ``three_phase=True`` comes back to the initial rate first, then
    anneals to the minimum. Each group keeps ``initial_lr``, ``max_lr``, ``min_lr``,
    ``max_momentum`` and ``base_momentum``, as in PyTorch.

    Note: PyTorch's defaults (docs/semantics.md, "One-cycle schedule"): ``pct_start=0.3``,
    ``div_factor=25``, ``final_div_factor=1e4``, cosine, momentum 0.95 -> 0.85 -> 0.95; fastai's
    ``fit_one_cycle`` uses pct_start 0.25 and final division 1e5.

    Args:
        optimizer: the optimizer.
        max_lr: the peak rate (or one per group).
        total_steps: number of steps in the cycle (or give epochs and steps_per_epoch).
        epochs, steps_per_epoch: total_steps = epochs * steps_per_epoch.
        pct_start: fraction of the cycle spent increasing the rate (default 0.3).
        anneal_strategy: 'cos' (default) or 'linear'.
        cycle_momentum: cycle the momentum inversely to the rate (default True).
        base_momentum, max_momentum: the momentum's bounds (default 0.85, 0.95).
        div_factor: initial_lr = max_lr / div_factor (default 25).
        final_div_factor: min_lr = initial_lr / final_div_factor (default 1e4).
        three_phase: the three-phase variant (default False).
        last_epoch: the step count to resume from (-1: start).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim
        >>> from neuronet.nn import Parameter
        >>> opt = optim.SGD([Parameter(np.zeros(1))], lr=0.1, momentum=0.9)
        >>> sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
        >>> sched.interval, round(sched.get_last_lr()[0], 6), opt.param_groups[0]["momentum"]
        ('step', 0.04, 0.95)
    """

    interval = "step"

    def __init__(
        self,
        optimizer,
        max_lr,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ):
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(
                    f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}"
                )
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self.pct_start = pct_start
        self.anneal_strategy = anneal_strategy
        self.three_phase = three_phase
        self.cycle_momentum = cycle_momentum
        max_lrs = per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for lr, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if cycle_momentum:
            self.use_beta1 = uses_beta1("OneCycleLR", optimizer)
            max_ms = per_group("max_momentum", optimizer, max_momentum)
            base_ms = per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for m_max, m_base, group in zip(max_ms, base_ms, optimizer.param_groups):
                    group["max_momentum"] = m_max
                    group["base_momentum"] = m_base
        super().__init__(optimizer, last_epoch)

    def _value(self, step: int, start: float, peak: float, end: float) -> float:
        return schedules.one_cycle(
            step,
            self.total_steps,
            start,
            peak,
            end,
            self.pct_start,
            self.three_phase,
            self.anneal_strategy,
        )

    def lr_at(self, step: int) -> list:
        if step > self.total_steps:
            raise ValueError(
                f"Tried to step {step} times. The specified number of total steps is "
                f"{self.total_steps}"
            )
        return [
            self._value(step, g["initial_lr"], g["max_lr"], g["min_lr"])
            for g in self.optimizer.param_groups
        ]

    def momentum_at(self, step: int) -> list:
        """The momentum (or beta1) of each group at ``step``."""
        return [
            self._value(step, g["max_momentum"], g["base_momentum"], g["max_momentum"])
            for g in self.optimizer.param_groups
        ]

    def get_lr(self) -> list:
        lrs = self.lr_at(self.last_epoch)
        if self.cycle_momentum:
            for group, m in zip(self.optimizer.param_groups, self.momentum_at(self.last_epoch)):
                if self.use_beta1:
                    group["betas"] = (m, *group["betas"][1:])
                else:
                    group["momentum"] = m
        return lrs


__all__ = ["CosineAnnealingLR", "OneCycleLR"]
