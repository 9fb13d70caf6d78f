"""ModelCheckpoint: where the training loop's files go — the full training state for resuming,
the last weights and the best weights."""

from __future__ import annotations

import math
from pathlib import Path

from neuronet.train.callbacks.base import Callback


class ModelCheckpoint(Callback):
    """Write the training state and the model's weights into ``directory``.

    ``checkpoint.safetensors`` (``save_state``)
        everything ``Trainer.fit(..., resume=path)`` needs to continue bitwise: written after
        every epoch, and when the run stops inside one (Ctrl-C, a step cap, ``stop_training``).
    ``last.safetensors`` (``save_last``)
        the weights after every epoch.
    ``best.safetensors`` (``monitor``)
        the weights of the epoch with the best ``monitor`` value.

    Weights files hold the ``state_dict`` under its own key names, so PyTorch's safetensors
    reader opens them. Every write is atomic (a crash keeps the previous file), and nothing is
    written once training has gone non-finite: the files keep the last finite state (the
    Trainer decides, see ``Trainer.checkpoint_refusal``).

    Args:
        directory: where the files go (created when first needed).
        monitor: the epoch-log key that decides "best" ('val_loss', 'val_accuracy', ...); None
            writes no best file.
        mode: 'min', 'max' or 'auto' (max for accuracy-like names).
        save_last: write last.safetensors every epoch.
        save_state: write checkpoint.safetensors (the resumable training state).
    """

    STATE_NAME = "checkpoint.safetensors"
    rank_zero_only = True  # under MPI only rank 0 writes

    def __init__(self, directory, monitor="val_loss", mode="auto", save_last=True, save_state=True):
        if monitor is not None and not isinstance(monitor, str):
            raise TypeError(f"ModelCheckpoint: monitor must be a log key or None, got {monitor!r}")
        if mode == "auto":
            higher = monitor is not None and any(
                s in monitor for s in ("acc", "f1", "precision", "recall", "r2")
            )
            mode = "max" if higher else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"ModelCheckpoint: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.directory = Path(directory)
        self.monitor = monitor
        self.mode = mode
        self.save_last = save_last
        self.save_state = save_state
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None

    @property
    def best_path(self) -> Path:
        return self.directory / "best.safetensors"

    @property
    def last_path(self) -> Path:
        return self.directory / "last.safetensors"

    @property
    def state_path(self) -> Path:
        return self.directory / self.STATE_NAME

    def _save_weights(self, path: Path, metadata: dict) -> bool:
        from neuronet.io import save

        if self.trainer.checkpoint_refusal() is not None:
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        save(self.trainer.model, path, metadata=metadata)
        return True

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_last:
            self._save_weights(self.last_path, {"epoch": str(epoch)})
        if self.monitor is None:
            return
        value = logs.get(self.monitor, logs.get(self.monitor.replace("val_", "")))
        if value is None or not math.isfinite(float(value)):
            return
        value = float(value)
        better = value < self.best if self.mode == "min" else value > self.best
        if better and self._save_weights(
            self.best_path, {"epoch": str(epoch), self.monitor: repr(value)}
        ):
            self.best = value
            self.best_epoch = epoch

    def on_checkpoint(self, logs=None):
        if self.save_state:
            self.trainer.save_checkpoint(self.state_path)

    def state_dict(self) -> dict:
        return {
            "best": self.best if math.isfinite(self.best) else None,
            "best_epoch": self.best_epoch,
        }

    def load_state_dict(self, state: dict) -> None:
        if state.get("best") is not None:
            self.best = float(state["best"])
        self.best_epoch = state.get("best_epoch")
