"""ProgressBar: a tqdm bar per epoch with live loss, metrics, learning rate and samples/s."""

from __future__ import annotations

import sys
import time

from neuronet.train.callbacks.base import Callback


def format_logs(logs: dict) -> str:
    parts = []
    for k, v in logs.items():
        if k in ("epoch", "step", "batch_size"):
            continue
        if isinstance(v, float):
            parts.append(f"{k} {v:.4g}" if k == "lr" else f"{k} {v:.4f}")
        elif isinstance(v, int):
            parts.append(f"{k} {v}")
    return "  ".join(parts)


class ProgressBar(Callback):
    """Shows training progress; prints one summary line per epoch.

    Args:
        epochs: total epochs (for the "epoch 3/10" label).
        stream: where to write (stderr for the bar, stdout for summary lines by default).
        bar: show the live bar (False still prints the epoch summaries).
    """

    rank_zero_only = True  # under MPI only rank 0 prints

    def __init__(self, epochs: int | None = None, bar: bool = True, stream=None):
        self.epochs = epochs
        self.bar = bar
        self.stream = stream
        self._pbar = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._seen = 0
        if not self.bar:
            return
        from tqdm.auto import tqdm

        total = getattr(self.trainer, "batches_this_epoch", None)
        label = f"epoch {epoch + 1}" + (f"/{self.epochs}" if self.epochs else "")
        self._pbar = tqdm(
            total=total,
            desc=label,
            leave=False,
            dynamic_ncols=True,
            file=self.stream or sys.stderr,
            unit="batch",
        )

    def on_train_batch_end(self, step, logs=None):
        logs = logs or {}
        self._seen += int(logs.get("batch_size", 0))
        if self._pbar is None:
            return
        elapsed = max(time.perf_counter() - self._start, 1e-9)
        post = {"loss": f"{logs.get('loss', float('nan')):.4f}"}
        for k, v in logs.items():
            if k not in ("loss", "lr", "batch_size", "step", "epoch") and isinstance(v, float):
                post[k] = f"{v:.4f}"
        if "lr" in logs:
            post["lr"] = f"{logs['lr']:.3g}"
        post["samples/s"] = f"{self._seen / elapsed:.0f}"
        self._pbar.set_postfix(post, refresh=False)
        self._pbar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None
        elapsed = time.perf_counter() - self._start
        label = f"epoch {epoch + 1}" + (f"/{self.epochs}" if self.epochs else "")
        rate = self._seen / max(elapsed, 1e-9)
        print(
            f"{label}  {format_logs(logs or {})}  ({elapsed:.1f}s, {rate:.0f} samples/s)",
            file=self.stream or sys.stdout,
            flush=True,
        )

    def on_train_end(self, logs=None):
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None
