"""Decay schedules (per epoch): LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ExponentialLR,
LinearLR, ConstantLR, PolynomialLR."""

from __future__ import annotations

from neuronet.optim.lr_scheduler import schedules
from neuronet.optim.lr_scheduler.base import LRScheduler, lr_lambdas


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(step)``, one function for all groups or one per group.

    Note: ``state_dict()`` cannot store the functions (they are code, and checkpoints hold no
    code): it stores the step count and base rates; build the scheduler with the same
    functions before ``load_state_dict``.

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the step count returning a factor, or a list of them (one per
            parameter group).
        last_epoch: the step count to resume from (-1: start).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim
        >>> from neuronet.nn import Parameter
        >>> opt = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
        >>> sched = optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5 ** step)
        >>> sched.step(); sched.step(); sched.get_last_lr()
        [0.25]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        self.lr_lambdas = lr_lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, step: int) -> list:
        return [base * fn(step) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def _unsaved(self) -> tuple:
        return ("optimizer", "lr_lambdas")


class MultiplicativeLR(LRScheduler):
    """Multiply the rate by ``lr_lambda(t)`` at every step t >= 1:
    ``lr = base_lr * lr_lambda(1) * ... * lr_lambda(t)`` (one function, or one per group).

    Like LambdaLR's, the functions are not in ``state_dict()``: build the scheduler with the
    same functions before ``load_state_dict``.

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the step count returning a factor, or a list of them (one per
            parameter group).
        last_epoch: the step count to resume from (-1: start).
    """

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        self.lr_lambdas = lr_lambdas(optimizer, lr_lambda)
        self._products = [[1.0] for _ in self.lr_lambdas]  # products up to each step, cached
        super().__init__(optimizer, last_epoch)

    def lr_at(self, step: int) -> list:
        lrs = []
        for fn, products, base in zip(self.lr_lambdas, self._products, self.base_lrs):
            while len(products) <= step:
                products.append(products[-1] * fn(len(products)))
            lrs.append(base * products[max(step, 0)])
        return lrs

    def _unsaved(self) -> tuple:
        return ("optimizer", "lr_lambdas", "_products")


class StepLR(LRScheduler):
    """Decay by ``gamma`` every ``step_size`` epochs: ``lr = base_lr * gamma ** (t // step_size)``.

    Args:
        optimizer: the optimizer.
        step_size: period of the decay, in epochs.
        gamma: multiplicative factor (default 0.1).
        last_epoch: the step count to resume from (-1: start).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim
        >>> from neuronet.nn import Parameter
        >>> opt = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
        >>> sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(sched.get_last_lr()[0]); sched.step()
        >>> lrs
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, step: int) -> list:
        return [schedules.step_lr(step, base, self.step_size, self.gamma) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Decay by ``gamma`` at each milestone epoch: ``lr = base_lr * gamma ** #{m <= t}``.

    Args:
        optimizer: the optimizer.
        milestones: epoch indices (a milestone listed twice decays twice).
        gamma: multiplicative factor (default 0.1).
        last_epoch: the step count to resume from (-1: start).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim
        >>> from neuronet.nn import Parameter
        >>> opt = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
        >>> sched = optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 3], gamma=0.1)
        >>> for _ in range(3):
        ...     sched.step()
        >>> round(sched.get_last_lr()[0], 6)
        0.01
    """

    def __init__(self, optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, step: int) -> list:
        return [
            schedules.multistep_lr(step, base, self.milestones, self.gamma)
            for base in self.base_lrs
        ]


class ExponentialLR(LRScheduler):
    """Decay by ``gamma`` every epoch: ``lr = base_lr * gamma ** t``.

    Args:
        optimizer: the optimizer.
        gamma: multiplicative factor.
        last_epoch: the step count to resume from (-1: start).
    """

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, step: int) -> list:
        return [schedules.exponential_lr(step, base, self.gamma) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale by a factor moving linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps, then constant: the usual linear warmup (with ``SequentialLR``)::

        lr = base_lr * (start + (end - start) * min(t, total_iters) / total_iters)

    Args:
        optimizer: the optimizer.
        start_factor: factor at step 0, in (0, 1] (default 1/3).
        end_factor: factor from step total_iters on, in [0, 1] (default 1.0).
        total_iters: number of steps of the ramp (default 5).
        last_epoch: the step count to resume from (-1: start).
    """

    def __init__(
        self,
        optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or "
                f"equal to 1, got start_factor={start_factor}."
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError(
                f"Ending multiplicative factor expected to be between 0 and 1, got "
                f"end_factor={end_factor}."
            )
        if isinstance(total_iters, bool) or not isinstance(total_iters, int) or total_iters <= 0:
            raise ValueError(
                f"LinearLR: total_iters must be a positive integer, got {total_iters!r}"
            )
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, step: int) -> list:
        return [
            schedules.linear_lr(step, base, self.start_factor, self.end_factor, self.total_iters)
            for base in self.base_lrs
        ]


class ConstantLR(LRScheduler):
    """Scale by ``factor`` for the first ``total_iters`` steps, then use the base rate:
    ``lr = base_lr * factor`` for t < total_iters, else ``base_lr`` (a constant warmup).

    Args:
        optimizer: the optimizer.
        factor: the factor before total_iters, in [0, 1] (default 1/3).
        total_iters: steps at the reduced rate (default 5).
        last_epoch: the step count to resume from (-1: start).
    """

    def __init__(
        self, optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ):
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: factor must be a number between 0 and 1, got {factor!r}")
        if isinstance(total_iters, bool) or not isinstance(total_iters, int) or total_iters < 0:
            raise ValueError(
                f"ConstantLR: total_iters must be a non-negative integer, got {total_iters!r}"
            )
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, step: int) -> list:
        return [
            schedules.constant_lr(step, base, self.factor, self.total_iters)
            for base in self.base_lrs
        ]


class PolynomialLR(LRScheduler):
    """Decay to 0 over ``total_iters`` steps as a polynomial of the remaining fraction:
    ``lr = base_lr * (1 - min(t, total_iters) / total_iters) ** power``.

    Args:
        optimizer: the optimizer.
        total_iters: steps until the rate reaches 0 (default 5).
        power: the polynomial's power (default 1.0: linear).
        last_epoch: the step count to resume from (-1: start).
    """

    def __init__(self, optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        if isinstance(total_iters, bool) or not isinstance(total_iters, int) or total_iters <= 0:
            raise ValueError(
                f"PolynomialLR: total_iters must be a positive integer, got {total_iters!r}"
            )
        if isinstance(power, bool) or not isinstance(power, (int, float)):
            raise ValueError(f"PolynomialLR: power must be a number, got {power!r}")
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def lr_at(self, step: int) -> list:
        return [
            schedules.polynomial_lr(step, base, self.total_iters, self.power)
            for base in self.base_lrs
        ]


__all__ = [
    "ConstantLR",
    "ExponentialLR",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "PolynomialLR",
    "StepLR",
]
