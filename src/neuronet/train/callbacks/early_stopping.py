"""EarlyStopping: stop when a monitored value has stopped improving."""

from __future__ import annotations

import copy
import math

from neuronet.train.callbacks.base import Callback


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Args:
        monitor: a key of the epoch logs ('val_loss', 'val_accuracy', ...).
        mode: 'min', 'max' or 'auto' (max for names containing acc/f1/precision/recall/r2).
        patience: epochs without improvement before stopping.
        min_delta: the smallest change that counts as an improvement.
        restore_best_weights: load the best epoch's weights when stopping.
    """

    def __init__(
        self, monitor="val_loss", mode="auto", patience=5, min_delta=0.0, restore_best_weights=False
    ):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        if mode == "auto":
            higher = any(s in monitor for s in ("acc", "f1", "precision", "recall", "r2"))
            mode = "max" if higher else "min"
        self.monitor = monitor
        self.mode = mode
        self.patience = patience
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if mode == "min" else -math.inf
        self.wait = 0
        self.best_epoch = None
        self.stopped_epoch = None
        self._best_state = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(
                f"EarlyStopping monitors {self.monitor!r}, which is not in the epoch logs "
                f"{sorted(logs)}; pass validation data to fit() or monitor another key"
            )
        value = float(logs[self.monitor])
        if self._improved(value):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self._best_state = copy.deepcopy(
                    {k: v.array.copy() for k, v in self.trainer.model.state_dict().items()}
                )
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            if self.restore_best_weights and self._best_state is not None:
                self.trainer.model.load_state_dict(self._best_state)

    def state_dict(self) -> dict:
        best = self.best if math.isfinite(self.best) else None
        return {"best": best, "wait": self.wait, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict) -> None:
        if state.get("best") is not None:
            self.best = state["best"]
        self.wait = state.get("wait", 0)
        self.best_epoch = state.get("best_epoch")
