"""LRMonitor: record the learning rate of every parameter group at every step."""

from __future__ import annotations

from neuronet.train.callbacks.base import Callback


class LRMonitor(Callback):
    """Keeps ``lrs`` (one list of group learning rates per step) and puts ``lr`` (group 0)
    and ``lr_group{i}`` into the batch and epoch logs."""

    def __init__(self):
        self.lrs: list[list[float]] = []

    def _current(self) -> list:
        return [float(g["lr"]) for g in self.trainer.optimizer.param_groups]

    def on_train_batch_end(self, step, logs=None):
        lrs = self._current()
        self.lrs.append(lrs)
        if logs is not None and len(lrs) > 1:
            for i, lr in enumerate(lrs):
                logs[f"lr_group{i}"] = lr

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = self._current()[0]
