"""History: every step's and every epoch's logs, saved as CSV and JSON."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from neuronet.train.callbacks.base import Callback


def _clean(logs: dict) -> dict:
    out = {}
    for k, v in logs.items():
        if isinstance(v, (int, float, str)) or v is None:
            out[k] = v
        else:
            try:
                out[k] = float(v)
            except (TypeError, ValueError):
                continue
    return out


def _write_csv(path: Path, rows: list) -> None:
    keys = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)


class History(Callback):
    """Records logs: ``steps`` (one dict per optimizer step) and ``epochs`` (one per epoch).

    ``history.history`` is the Keras-style dict of per-epoch lists (``history.history['loss']``).
    Added to every ``Trainer`` by default; ``fit`` returns it.
    """

    def __init__(self):
        self.steps: list[dict] = []
        self.epochs: list[dict] = []

    @property
    def history(self) -> dict:
        out: dict = {}
        for row in self.epochs:
            for k, v in row.items():
                if k != "epoch":
                    out.setdefault(k, []).append(v)
        return out

    def on_train_batch_end(self, step, logs=None):
        self.steps.append(_clean(logs or {}))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(_clean({"epoch": epoch, **(logs or {})}))

    def state_dict(self) -> dict:
        return {"steps": self.steps, "epochs": self.epochs}

    def load_state_dict(self, state: dict) -> None:
        self.steps = list(state.get("steps", []))
        self.epochs = list(state.get("epochs", []))

    def to_csv(self, path, per: str = "epoch") -> None:
        """Write one row per epoch (``per='epoch'``) or per step (``per='step'``)."""
        _write_csv(Path(path), self.epochs if per == "epoch" else self.steps)

    def to_json(self, path) -> None:
        def safe(rows):
            return [
                {
                    k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                    for k, v in r.items()
                }
                for r in rows
            ]

        Path(path).write_text(
            json.dumps({"epochs": safe(self.epochs), "steps": safe(self.steps)}, indent=1)
        )
