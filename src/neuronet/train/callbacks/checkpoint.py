"""ModelCheckpoint: save the model's weights after each epoch — the last, and the best."""

from __future__ import annotations

import math
from pathlib import Path

from neuronet.train.callbacks.base import Callback


class ModelCheckpoint(Callback):
    """Write ``last.safetensors`` every epoch and ``best.safetensors`` when ``monitor`` improves.

    Files are written atomically (a crash mid-write keeps the previous file) and hold the
    ``state_dict`` under its own key names, so PyTorch's safetensors reader can open them.

    Args:
        directory: where the files go.
        monitor: the epoch-log key that decides "best" ('val_loss', 'val_accuracy', ...).
        mode: 'min', 'max' or 'auto' (max for accuracy-like names).
        save_last: also write last.safetensors every epoch.
    """

    rank_zero_only = True  # under MPI only rank 0 writes

    def __init__(self, directory, monitor="val_loss", mode="auto", save_last=True):
        if mode == "auto":
            higher = any(s in monitor for s in ("acc", "f1", "precision", "recall", "r2"))
            mode = "max" if higher else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"ModelCheckpoint: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.directory = Path(directory)
        self.monitor = monitor
        self.mode = mode
        self.save_last = save_last
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None

    @property
    def best_path(self) -> Path:
        return self.directory / "best.safetensors"

    @property
    def last_path(self) -> Path:
        return self.directory / "last.safetensors"

    def on_epoch_end(self, epoch, logs=None):
        from neuronet.io import save

        logs = logs or {}
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.save_last:
            save(self.trainer.model, self.last_path, metadata={"epoch": str(epoch)})
        value = logs.get(self.monitor, logs.get(self.monitor.replace("val_", "")))
        if value is None:
            return
        value = float(value)
        better = value < self.best if self.mode == "min" else value > self.best
        if better:
            self.best = value
            self.best_epoch = epoch
            save(
                self.trainer.model,
                self.best_path,
                metadata={"epoch": str(epoch), self.monitor: repr(value)},
            )

    def state_dict(self) -> dict:
        return {
            "best": self.best if math.isfinite(self.best) else None,
            "best_epoch": self.best_epoch,
        }

    def load_state_dict(self, state: dict) -> None:
        if state.get("best") is not None:
            self.best = state["best"]
        self.best_epoch = state.get("best_epoch")
