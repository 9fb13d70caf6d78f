"""Closed-form schedules: the value at a step, as a plain function (MLX style).

Each scheduler class in this package evaluates one of these at its ``last_epoch`` for each
parameter group's base learning rate. They are testable alone and usable without an optimizer
(plots, custom loops). ``step`` is the scheduler's step count: 0 at construction, +1 per
``scheduler.step()``.
"""

from __future__ import annotations

import math
from bisect import bisect_right


def step_lr(step: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """``base_lr * gamma ** (step // step_size)``: decay by gamma every step_size steps.

    Example:
        >>> [round(step_lr(t, 1.0, 2, 0.5), 3) for t in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    return base_lr * gamma ** (step // step_size)


def multistep_lr(step: int, base_lr: float, milestones, gamma: float = 0.1) -> float:
    """``base_lr * gamma ** (number of milestones <= step)``; a milestone listed twice counts
    twice. ``milestones`` must be sorted.

    Example:
        >>> [multistep_lr(t, 1.0, [1, 3], 0.5) for t in range(4)]
        [1.0, 0.5, 0.5, 0.25]
    """
    return base_lr * gamma ** bisect_right(milestones, step)


def exponential_lr(step: int, base_lr: float, gamma: float) -> float:
    """``base_lr * gamma ** step``.

    Example:
        >>> exponential_lr(2, 1.0, 0.5)
        0.25
    """
    return base_lr * gamma**step


def linear_lr(
    step: int,
    base_lr: float,
    start_factor: float = 1.0 / 3,
    end_factor: float = 1.0,
    total_iters: int = 5,
) -> float:
    """``base_lr * (start + (end - start) * min(step, total_iters) / total_iters)``: a factor
    moving linearly from start_factor to end_factor over total_iters steps, then constant.

    Example:
        >>> [linear_lr(t, 1.0, 0.25, 1.0, 3) for t in range(5)]
        [0.25, 0.5, 0.75, 1.0, 1.0]
    """
    progress = min(total_iters, step) / total_iters
    return base_lr * (start_factor + (end_factor - start_factor) * progress)


def constant_lr(step: int, base_lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> float:
    """``base_lr * factor`` for the first total_iters steps, then ``base_lr``.

    Example:
        >>> [constant_lr(t, 1.0, 0.5, 2) for t in range(4)]
        [0.5, 0.5, 1.0, 1.0]
    """
    return base_lr * factor if step < total_iters else base_lr


def polynomial_lr(step: int, base_lr: float, total_iters: int = 5, power: float = 1.0) -> float:
    """``base_lr * (1 - min(step, total_iters) / total_iters) ** power``: down to 0 at
    total_iters (linearly for power 1), then 0.

    Example:
        >>> [polynomial_lr(t, 1.0, 4, 2.0) for t in range(6)]
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    return base_lr * (1.0 - min(total_iters, step) / total_iters) ** power


def cosine_annealing_lr(step: int, base_lr: float, T_max: int, eta_min: float = 0.0) -> float:
    """``eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2``: half a cosine
    from base_lr down to eta_min over T_max steps; past T_max it rises again (period 2 T_max),
    as PyTorch's CosineAnnealingLR does.

    Example:
        >>> [round(cosine_annealing_lr(t, 1.0, 4), 4) for t in range(5)]
        [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * step / T_max)) / 2


def warm_restart_position(step: int, T_0: int, T_mult: int = 1) -> tuple:
    """``(t_cur, t_i)`` at ``step`` of SGDR's restarts: the first cycle is T_0 steps, each next
    one T_mult times longer; t_cur counts the steps since the last restart, t_i is the length
    of the cycle in progress. With ``cosine_annealing_lr(t_cur, base_lr, t_i, eta_min)`` it is
    PyTorch's CosineAnnealingWarmRestarts stepped once per step.

    Example:
        >>> [warm_restart_position(t, 2, 2) for t in (0, 1, 2, 5, 6)]
        [(0, 2), (1, 2), (0, 4), (3, 4), (0, 8)]
    """
    t_cur, t_i = step, T_0
    while t_cur >= t_i:
        t_cur -= t_i
        t_i *= T_mult
    return t_cur, t_i


def anneal(start: float, end: float, pct: float, strategy: str = "cos") -> float:
    """From ``start`` (pct 0) to ``end`` (pct 1): along half a cosine, or linearly."""
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def one_cycle_phases(total_steps: int, pct_start: float, three_phase: bool) -> list:
    """The last step of each phase of the one-cycle policy (floats, as torch computes them)."""
    if three_phase:
        return [
            float(pct_start * total_steps) - 1,
            float(2 * pct_start * total_steps) - 2,
            total_steps - 1,
        ]
    return [float(pct_start * total_steps) - 1, total_steps - 1]


def one_cycle(
    step: int,
    total_steps: int,
    start: float,
    peak: float,
    end: float,
    pct_start: float = 0.3,
    three_phase: bool = False,
    anneal_strategy: str = "cos",
) -> float:
    """The one-cycle shape (Smith & Topin, 2018) at ``step``.

    Two phases: start -> peak over the first ``pct_start`` of the steps, then peak -> end.
    Three phases: start -> peak, peak -> start (same length), then start -> end.
    The learning rate uses (initial_lr, max_lr, min_lr); the momentum the cycle
    (max_momentum, base_momentum, max_momentum).

    Example:
        >>> [round(one_cycle(t, 10, 1.0, 10.0, 0.0, pct_start=0.2), 3) for t in (0, 1, 5, 9)]
        [1.0, 10.0, 5.0, 0.0]
    """
    ends = one_cycle_phases(total_steps, pct_start, three_phase)
    values = (
        [(start, peak), (peak, start), (start, end)]
        if three_phase
        else [(start, peak), (peak, end)]
    )
    begin = 0.0
    for i, last in enumerate(ends):
        if step <= last or i == len(ends) - 1:
            pct = (step - begin) / (last - begin)
            return anneal(values[i][0], values[i][1], pct, anneal_strategy)
        begin = last
    raise AssertionError("unreachable")


__all__ = [
    "anneal",
    "cosine_annealing_lr",
    "exponential_lr",
    "linear_lr",
    "multistep_lr",
    "one_cycle",
    "one_cycle_phases",
    "step_lr",
]
