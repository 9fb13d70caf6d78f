"""LRMonitor: record the learning rate of every parameter group at every step."""

from __future__ import annotations

import numpy as np

from neuronet.train.callbacks.base import Callback


class LRMonitor(Callback):
    """Keeps ``lrs``: for each optimizer step, the learning rate of every parameter group that
    step used (read before the step, so a per-step schedule's next value is not mixed in).
    With several groups it puts ``lr_group{i}`` into the batch and epoch logs; the ``lr`` of
    the epoch logs is left as the Trainer wrote it (the rate the epoch used), so the console
    line and ``history.csv`` agree."""

    def __init__(self):
        self.lrs: list[list[float]] = []
        self._pending = None

    def _current(self) -> list:
        return [float(g["lr"]) for g in self.trainer.optimizer.param_groups]

    def on_train_batch_begin(self, step, logs=None):
        self._pending = self._current()

    def on_train_batch_end(self, step, logs=None):
        lrs = self._pending if self._pending is not None else self._current()
        self._pending = None
        self.lrs.append(lrs)
        if logs is not None and len(lrs) > 1:
            for i, lr in enumerate(lrs):
                logs[f"lr_group{i}"] = lr

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.lrs and len(self.lrs[-1]) > 1:
            for i, lr in enumerate(self.lrs[-1]):
                logs.setdefault(f"lr_group{i}", lr)

    def state_dict(self) -> dict:
        """``lrs`` as a (steps, groups) float64 array (a list if the group count changed)."""
        if len({len(row) for row in self.lrs}) > 1:
            return {"lrs": [list(row) for row in self.lrs]}
        groups = len(self.lrs[0]) if self.lrs else 0
        return {"lrs": np.array(self.lrs, dtype=np.float64).reshape(len(self.lrs), groups)}

    def load_state_dict(self, state: dict) -> None:
        lrs = state["lrs"]
        if isinstance(lrs, np.ndarray) and lrs.ndim == 2:
            self.lrs = lrs.tolist()
        elif isinstance(lrs, list) and all(
            isinstance(row, list) and all(isinstance(v, (int, float)) for v in row) for row in lrs
        ):
            self.lrs = [list(row) for row in lrs]
        else:
            raise ValueError("LRMonitor: the saved learning rates are not a (steps, groups) table")
