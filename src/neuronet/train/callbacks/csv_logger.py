"""CSVLogger: append one row per epoch to a CSV file as training goes."""

from __future__ import annotations

import csv
from pathlib import Path

from neuronet.train.callbacks.base import Callback


class CSVLogger(Callback):
    """Write the epoch logs to ``path`` (header from the first epoch), flushing each epoch.

    Args:
        path: the CSV file.
        append: keep existing rows (for resumed runs) instead of starting a new file.
    """

    rank_zero_only = True  # under MPI only rank 0 writes

    def __init__(self, path, append: bool = False):
        self.path = Path(path)
        self.append = append
        self._keys = None

    def on_train_begin(self, logs=None):
        if not self.append and self.path.exists():
            self.path.unlink()
        if self.path.exists():
            with open(self.path, newline="") as f:
                header = next(csv.reader(f), None)
            self._keys = header

    def on_epoch_end(self, epoch, logs=None):
        row = {
            "epoch": epoch,
            **{k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))},
        }
        new = self._keys is None
        if new:
            self._keys = list(row)
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(
                f, fieldnames=self._keys, extrasaction="ignore", lineterminator="\n"
            )
            if new:
                writer.writeheader()
            writer.writerow(row)
