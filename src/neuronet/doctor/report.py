"""Report: the doctor's findings (most likely cause first), each stage's numbers, and the files
it can write (``doctor.md``, ``doctor.json`` and the PNGs)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from neuronet.doctor.findings import level, rank


def _write_text(path: Path, text: str) -> None:
    """Write atomically: a half-written report never replaces a whole one."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class Report:
    """What ``diagnose`` or ``watch(...).report()`` found.

    Attributes:
        findings: list of ``Finding``, most likely cause first.
        stages: list of ``Stage`` (each with its summary lines, numbers and table).
        meta: the model, the data and the budget that were examined.
        plots: the data behind the PNGs (samples, range test, gradient flow, loss curve).
    """

    def __init__(self, findings, stages=(), meta=None, plots=None):
        self.findings = rank(list(findings))
        self.stages = list(stages)
        self.meta = dict(meta or {})
        self.plots = dict(plots or {})

    def codes(self, min_severity: str = "info") -> list:
        """The findings' codes, in rank order, at ``min_severity`` or above."""
        floor = level(min_severity)
        return [f.code for f in self.findings if level(f.severity) >= floor]

    def by_severity(self, severity: str) -> list:
        return [f for f in self.findings if f.severity == severity]

    @property
    def errors(self) -> list:
        return self.by_severity("error")

    @property
    def warnings(self) -> list:
        return self.by_severity("warning")

    def to_dict(self) -> dict:
        """JSON-able: meta, findings and stages (the PNG data is left out, the range test's
        curve is kept)."""
        data = {
            "meta": self.meta,
            "findings": [f.to_dict() for f in self.findings],
            "stages": [s.to_dict() for s in self.stages],
        }
        lr = self.plots.get("lr_find")
        if lr:
            data["lr_find"] = {
                k: lr.get(k)
                for k in (
                    "lrs",
                    "losses",
                    "smoothed",
                    "suggestion",
                    "lr_min",
                    "diverged_at",
                    "user_lr",
                )
            }
        return _jsonable(data)

    def to_json(self, indent: int = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def write(self, out_dir) -> list:
        """Write ``doctor.md``, ``doctor.json`` and the PNGs into ``out_dir`` (created if
        needed). Without matplotlib the report is still written, without PNGs, and says so.
        Returns the paths written."""
        from neuronet.doctor import plots, render

        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise NotADirectoryError(
                f"Report.write: '{out}' is a file; give a folder (created if missing) for "
                "doctor.md, doctor.json and the PNGs"
            )
        out.mkdir(parents=True, exist_ok=True)
        images, note = plots.write_all(self, out)
        written = [out / name for name in images]
        _write_text(out / "doctor.md", render.markdown(self, images, note))
        _write_text(out / "doctor.json", self.to_json())
        return [out / "doctor.md", out / "doctor.json", *written]

    def __str__(self) -> str:
        from neuronet.doctor import render

        return render.terminal(self)

    def __repr__(self) -> str:
        counts = ", ".join(f"{len(self.by_severity(s))} {s}s" for s in ("error", "warning"))
        return f"<doctor Report: {counts}; {self.codes('warning')[:5]}>"


def _jsonable(value):
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if np.isfinite(v) else str(v)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)
