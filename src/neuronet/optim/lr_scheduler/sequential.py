"""SequentialLR (run schedules one after another) and warmup_cosine (linear warmup + cosine)."""

from __future__ import annotations

from bisect import bisect_right

from neuronet.optim.lr_scheduler.base import LRScheduler
from neuronet.optim.lr_scheduler.cosine import CosineAnnealingLR
from neuronet.optim.lr_scheduler.decay import LinearLR
from neuronet.optim.lr_scheduler.plateau import ReduceLROnPlateau


class SequentialLR(LRScheduler):
    """Hand over from one scheduler to the next at the milestones, exactly as PyTorch does.

    Scheduler ``i`` runs from ``milestones[i-1]`` (restarting at its own step 0 there) until
    ``milestones[i]``. Building the sub-schedulers moved the optimizer's rates; SequentialLR puts
    them back to ``initial_lr``, rewinds every sub-scheduler by one step and re-applies step 0 of
    the first one, as PyTorch's constructor does.

    Args:
        optimizer: the optimizer all schedulers belong to.
        schedulers: the schedulers, in order (not ReduceLROnPlateau).
        milestones: len(schedulers) - 1 increasing step counts.
        last_epoch: the step count to resume from (-1: start).

    Attributes:
        interval: taken from the first scheduler ("epoch" unless it says otherwise).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim
        >>> from neuronet.nn import Parameter
        >>> from neuronet.optim.lr_scheduler import ExponentialLR, LinearLR, SequentialLR
        >>> opt = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
        >>> warm = LinearLR(opt, start_factor=0.5, total_iters=2)
        >>> decay = ExponentialLR(opt, gamma=0.5)
        >>> sched = SequentialLR(opt, [warm, decay], milestones=[2])
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(sched.get_last_lr()[0]); sched.step()
        >>> lrs
        [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch: int = -1):
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
        for i, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{name} at index {i} should have `optimizer` as its attribute.")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    f"{name} does not support `ReduceLROnPlateau` scheduler as it requires "
                    "additional kwargs to be specified when calling `step`, but got one at "
                    f"index {i} in the given schedulers sequence."
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"{name} expects all schedulers to belong to the same optimizer, but got "
                    f"scheduler {type(scheduler).__name__} at index {i} with another optimizer."
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more than "
                f"the number of milestone points, but got number of schedulers {len(schedulers)} "
                f"and the number of milestones to be equal to {len(milestones)}"
            )
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.interval = getattr(schedulers[0], "interval", "epoch")
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self._step_count = 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            _rewind(scheduler)
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def lr_at(self, step: int) -> list:
        idx = bisect_right(self._milestones, step)
        start = self._milestones[idx - 1] if idx > 0 else 0
        return self._schedulers[idx].lr_at(step - start)

    def step(self) -> None:  # noqa: D102  (no epoch argument, as PyTorch)
        self._step_count += 1
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for scheduler, saved in zip(self._schedulers, state_dict["_schedulers"]):
            scheduler.load_state_dict(saved)

    def _unsaved(self) -> tuple:
        return ("optimizer", "_schedulers")


def _rewind(scheduler) -> None:
    if hasattr(scheduler, "_schedulers"):
        for s in scheduler._schedulers:
            _rewind(s)
    elif hasattr(scheduler, "last_epoch"):
        scheduler.last_epoch -= 1


def warmup_cosine(
    optimizer,
    warmup_steps: int,
    total_steps: int,
    min_lr: float = 0.0,
    start_factor: float | None = None,
) -> LRScheduler:
    """Linear warmup then cosine decay, stepped per batch: the common large-model recipe.

    Built exactly as in PyTorch::

        SequentialLR(optimizer,
                     [LinearLR(optimizer, start_factor, 1.0, total_iters=warmup_steps),
                      CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps,
                                        eta_min=min_lr)],
                     milestones=[warmup_steps])

    so the rate rises from ``start_factor * lr`` (default ``1 / warmup_steps``) to ``lr`` over
    ``warmup_steps`` steps, then follows half a cosine down to ``min_lr`` at ``total_steps``.
    With ``warmup_steps=0`` it is the CosineAnnealingLR alone. The result has
    ``interval == "step"``.

    Args:
        optimizer: the optimizer (its ``lr`` is the peak rate).
        warmup_steps: steps of linear warmup (>= 0).
        total_steps: total number of steps (> warmup_steps).
        min_lr: the final rate (absolute, default 0).
        start_factor: the warmup's first factor, in (0, 1] (default 1 / warmup_steps).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim
        >>> from neuronet.nn import Parameter
        >>> opt = optim.AdamW([Parameter(np.zeros(1))], lr=1.0)
        >>> sched = optim.lr_scheduler.warmup_cosine(opt, warmup_steps=4, total_steps=8)
        >>> lrs = []
        >>> for _ in range(9):
        ...     lrs.append(round(sched.get_last_lr()[0], 4)); sched.step()
        >>> lrs
        [0.25, 0.4375, 0.625, 0.8125, 1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ValueError(
            f"warmup_cosine: warmup_steps must be an integer >= 0, got {warmup_steps!r}"
        )
    if not isinstance(total_steps, int) or total_steps <= warmup_steps:
        raise ValueError(
            f"warmup_cosine: total_steps ({total_steps!r}) must be an integer larger than "
            f"warmup_steps ({warmup_steps}); it counts the warmup too"
        )
    cosine_steps = total_steps - warmup_steps
    if warmup_steps == 0:
        scheduler = CosineAnnealingLR(optimizer, T_max=cosine_steps, eta_min=min_lr)
    else:
        factor = 1.0 / warmup_steps if start_factor is None else start_factor
        warmup = LinearLR(optimizer, start_factor=factor, end_factor=1.0, total_iters=warmup_steps)
        cosine = CosineAnnealingLR(optimizer, T_max=cosine_steps, eta_min=min_lr)
        scheduler = SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])
    scheduler.interval = "step"
    return scheduler


__all__ = ["SequentialLR", "warmup_cosine"]
