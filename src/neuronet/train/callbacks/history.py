"""History: every step's and every epoch's logs, saved as CSV and JSON."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

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


def pack_rows(rows: list) -> dict:
    """Log rows as columns, for checkpoints: one float64 or int64 array per key that every row
    holds with one number type (stored as a tensor, so a long run's header stays small), else
    a list of the values with the rows that lack the key marked in ``missing``."""
    keys: dict = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    columns = {}
    for key in keys:
        values = [row.get(key) for row in rows]
        kinds = {type(v) for v in values}
        present = all(key in row for row in rows)
        if present and kinds == {float}:
            columns[key] = np.array(values, dtype=np.float64)
        elif present and kinds == {int} and all(abs(v) < 2**62 for v in values):
            columns[key] = np.array(values, dtype=np.int64)
        else:
            missing = [i for i, row in enumerate(rows) if key not in row]
            columns[key] = {"values": values, "missing": missing}
    return {"rows": len(rows), "keys": list(keys), "columns": columns}


def unpack_rows(packed: dict) -> list:
    """The rows ``pack_rows`` packed, with their values and key order."""
    n = int(packed["rows"])
    rows: list = [{} for _ in range(n)]
    for key in packed["keys"]:
        column = packed["columns"][key]
        if isinstance(column, np.ndarray):
            values, missing = column.tolist(), ()
        else:
            values, missing = column["values"], set(column["missing"])
        if len(values) != n or not isinstance(key, str):
            raise ValueError(f"the history column {key!r} does not have {n} rows")
        for i, (row, value) in enumerate(zip(rows, values)):
            if i not in missing:
                row[key] = value
    return rows


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
        return {"steps": pack_rows(self.steps), "epochs": [dict(row) for row in self.epochs]}

    def load_state_dict(self, state: dict) -> None:
        steps = unpack_rows(state["steps"])
        epochs = [dict(row) for row in state["epochs"]]
        self.steps, self.epochs = steps, epochs

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
