"""LRScheduler: the base of every learning-rate schedule, PyTorch-compatible.

A scheduler owns a step count ``last_epoch`` (0 right after construction, +1 per ``step()``) and
writes ``group["lr"]`` of each parameter group from a closed form ``lr_at(step)``. Construction
records ``group["initial_lr"]`` (the base rates ``base_lrs``) as PyTorch does and applies step 0.

``interval`` says when the training loop should call ``step()``: ``"epoch"`` (once per epoch,
after the epoch's optimizer steps: StepLR, MultiStepLR, ...) or ``"step"`` (after every
``optimizer.step()``: OneCycleLR, warmup_cosine). Set ``scheduler.interval = "step"`` to run an
epoch-style schedule per batch (its step counts are then batches). ``needs_metric`` says whether
the loop passes the monitored value (``step(val_loss)``), as ``ReduceLROnPlateau`` needs.

Note: the value at each step is computed in closed form from the base rates, not recursively
from the current ``group["lr"]`` as PyTorch's chainable forms do. The values are the same (to
rounding) for every schedule used alone or inside ``SequentialLR``; what differs is stepping two
schedulers on the same optimizer at once (PyTorch multiplies their effects, here the last one
wins): compose with ``SequentialLR`` or one ``LambdaLR`` instead.
"""

from __future__ import annotations

import copy

from neuronet.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement ``lr_at(step) -> list`` (one lr per param group).

    Args:
        optimizer: the optimizer whose learning rates it sets.
        last_epoch: the step count to resume from; -1 (default) starts a new schedule.

    Attributes:
        base_lrs: each group's ``initial_lr``.
        last_epoch: steps taken (0 after construction).
        interval: ``"epoch"`` or ``"step"``, when the training loop steps it.
        needs_metric: whether ``step`` takes the monitored value (``step(val_loss)``): True
            for ``ReduceLROnPlateau``; the training loop passes it.
    """

    interval = "epoch"
    needs_metric = False

    def __init__(self, optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                        f"a scheduler with last_epoch={last_epoch}; load the optimizer's state "
                        "dict first, or use last_epoch=-1 for a new run"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self.step()

    def lr_at(self, step: int) -> list:
        """The learning rate of each parameter group at step ``step`` (closed form)."""
        raise NotImplementedError(f"{type(self).__name__} must implement lr_at(step)")

    def get_lr(self) -> list:
        """The learning rates for the current ``last_epoch``."""
        return self.lr_at(self.last_epoch)

    def step(self, epoch: int | None = None) -> None:
        """Advance one step (call after ``optimizer.step()``) and write the new rates.
        ``epoch`` (as PyTorch's deprecated argument) jumps to that step count instead."""
        self._step_count += 1
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        self._set_lrs(self.get_lr())

    def _restart(self) -> None:
        """Go back to step 0 (``SequentialLR`` does this at the milestone where it starts)."""
        self.last_epoch = 0
        self._set_lrs(self.get_lr())

    def _set_lrs(self, lrs) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        """The learning rates written by the last ``step()`` (one per group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimizer, as JSON-able values (ints, floats, strings, lists)."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in self._unsaved()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state from ``state_dict()`` (the optimizer's own state is separate)."""
        state = {k: copy.deepcopy(v) for k, v in state_dict.items() if k not in self._unsaved()}
        self.__dict__.update(state)

    def _unsaved(self) -> tuple:
        return ("optimizer",)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


def per_group(name: str, optimizer, value) -> list:
    """``value`` repeated for each param group, or a list checked to have one per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. {name} has "
                f"{len(value)} values, param_groups has {len(optimizer.param_groups)}."
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


def uses_beta1(owner: str, optimizer) -> bool:
    """Whether a momentum-cycling schedule sets Adam's beta1 (``betas``) rather than SGD's
    ``momentum``; an optimizer with neither is refused, naming the way out."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            "optimizer must support momentum or beta1 with `cycle_momentum` option enabled; "
            f"{type(optimizer).__name__} has neither (pass cycle_momentum=False to {owner})"
        )
    return "betas" in optimizer.defaults


def lr_lambdas(optimizer, lr_lambda) -> list:
    """One callable per param group, from one callable or a list of them (LambdaLR's and
    MultiplicativeLR's argument)."""
    n_groups = len(optimizer.param_groups)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != n_groups:
            raise ValueError(f"Expected {n_groups} lr_lambdas, but got {len(lr_lambda)}")
        fns = list(lr_lambda)
    else:
        fns = [lr_lambda] * n_groups
    for fn in fns:
        if not callable(fn):
            raise TypeError(f"lr_lambda must be callable, got {type(fn).__name__}")
    return fns
