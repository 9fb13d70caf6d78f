"""The training doctor: the debugging playbook as one call, a live monitor, and every NaN traced
to its module.

    from neuronet import doctor
    report = doctor.diagnose(model, data, loss, optimizer, val=None, batch_size=32, seed=0,
                             budget="quick")          # or "full"
    with doctor.watch(model, optimizer) as w:         # your own training loop, unchanged
        ...
    report = w.report()
    report.findings                  # list of Finding, most likely cause first
    report.codes(min_severity="warning")
    report.write(out_dir)            # doctor.md, doctor.json and the PNGs
    print(report)

Every code, how it is measured and its thresholds: docs/doctor.md. Layout: ``findings.py`` (the
vocabulary and the ranking), ``inputs.py`` (data, loss and task), ``exam.py`` (one
examination's state), one file per stage (``data_checks``, ``wiring``, ``init_checks``,
``overfit``, ``lr_finder``, ``grad_flow``, ``short_run``), ``curves.py`` (reading a loss
curve), ``watch.py`` (its gradient checks in ``watch_gradients.py``, its per-layer sampling
in ``watch_sampling.py``) and ``watch_report.py``, ``numerics.py`` (locating a NaN after the fact),
``monitor.py`` (the Trainer callback), ``report.py``, ``render.py`` and ``plots.py``.
"""

from __future__ import annotations

from neuronet.doctor.diagnose import BUDGETS, Budget, diagnose
from neuronet.doctor.findings import CODES, ORDER, Finding
from neuronet.doctor.monitor import Monitor
from neuronet.doctor.report import Report
from neuronet.doctor.watch import watch

__all__ = [
    "BUDGETS",
    "Budget",
    "CODES",
    "Finding",
    "Monitor",
    "ORDER",
    "Report",
    "diagnose",
    "watch",
]
