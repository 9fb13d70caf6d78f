"""Stages 6 and 7: a short training run with the user's optimizer (a copy, at the user's rate),
under ``watch``: gradient flow and activations sampled along the way (stage 6) and the loss curve
read for stuck / diverging / oscillating / overfitting (stage 7).

The validation loss (when ``val`` is given) is measured in eval mode on a fixed sample (at most
256 rows, or four batches) eight times during the run.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.grad_mode import no_grad
from neuronet.doctor import grad_flow, loops
from neuronet.doctor.inputs import as_tensors
from neuronet.doctor.watch import watch
from neuronet.doctor.watch_report import build_report

VAL_SAMPLES = 256  # validation rows scored (at most 4 batches' worth)...
VAL_POINTS = 8  # ...this many times during the run


def trivial_loss(exam) -> float | None:
    """The loss of the best constant prediction: the entropy of the class frequencies, or the
    loss of predicting the targets' mean."""
    data = next((s for s in exam.stages if s.name == "data"), None)
    counts = data.numbers.get("class_counts") if data else None
    if exam.task.kind in ("classification", "binary") and counts:
        c = np.asarray(list(counts.values()), dtype=np.float64)
        p = c / c.sum()
        return float(-(p * np.log(p)).sum())
    if exam.task.kind == "regression" and exam.probe_batch is not None:
        return loops.constant_loss(exam, exam.probe_batch)
    return None


def _val_loss(exam, model, batch) -> float:
    model.eval()
    try:
        with no_grad():
            return float(exam.loss_of(model, batch).item())
    finally:
        model.train()


def _fixed_loss(exam, model, batch, w) -> float:
    """The loss of ``batch`` at the current weights, in training mode as the run is, without
    recording a graph. The watch ``w`` is told it is the doctor's own forward: not evaluation
    in training mode."""
    inputs, target = batch
    with no_grad(), w.own_forward():
        return float(exam.loss.fn(model(*inputs), target).item())


def run(exam) -> None:
    """Stages 6 and 7."""
    flow = exam.stage("grad_flow", "6. Gradient flow during training")
    stage = exam.stage("run", "7. Short training run")
    if exam.blocked:
        flow.skipped = stage.skipped = exam.blocked
        return
    steps = exam.budget.run_steps
    model, optimizer = exam.fresh()
    batches = exam.rows.batches(exam.generator(9))
    val_batch = None
    if exam.val is not None:
        size = min(VAL_SAMPLES, 4 * exam.rows.batch_size, exam.val.n)
        val_batch = as_tensors(exam.val.sample(size, exam.generator(10)))
    every_val = max(1, steps // VAL_POINTS)
    probe = next(batches)  # the fixed batch whose loss tells oscillation from minibatch noise
    fixed = []
    with watch(model, optimizer, every=max(1, steps // 8)) as w:
        model.train()
        for i in range(steps):
            value = loops.step(exam, model, optimizer, next(batches))
            if not math.isfinite(value):
                break
            fixed.append(_fixed_loss(exam, model, probe, w))
            if val_batch is not None and (i + 1) % every_val == 0:
                w.record(val_loss=_val_loss(exam, model, val_batch))
    sub = build_report(
        w,
        where=f"the short run with {type(optimizer).__name__} at lr {exam.user_lr or 1e-3:g}",
        trivial=trivial_loss(exam),
        fixed=fixed,
    )
    for f in sub.findings:
        exam.findings.append(f)
    finite = [v for v in w.losses if math.isfinite(v)]
    stage.numbers.update(
        steps=len(w.losses),
        first=finite[0] if finite else None,
        last=finite[-1] if finite else None,
        best=min(finite) if finite else None,
    )
    if finite:
        stage.lines.append(
            f"{len(w.losses)} steps of {type(optimizer).__name__} at lr "
            f"{exam.user_lr or 1e-3:g}: loss {np.median(finite[:10]):.4g} -> "
            f"{np.median(finite[-10:]):.4g} (median of first/last 10 steps; best {min(finite):.4g})"
        )
    if w.val:
        stage.lines.append(
            f"validation loss {w.val[0][1]:.4g} -> {w.val[-1][1]:.4g} "
            f"(best {min(v for _, v in w.val):.4g})"
        )
        stage.numbers["val"] = w.val
    norms = [n for n in w.grad_norms if math.isfinite(n)]
    if norms:
        flow.lines.append(
            f"gradient norm over the run: median {np.median(norms):.3g}, max {max(norms):.3g}"
        )
    ratios = sub.stages[0].numbers.get("update_ratio")
    if ratios:
        flow.numbers["update_ratio"] = ratios
        top = max(ratios.items(), key=lambda kv: kv[1])
        low = min(ratios.items(), key=lambda kv: kv[1])
        flow.lines.append(
            f"update/weight ratio per step: {low[1]:.1e} ('{low[0]}') to "
            f"{top[1]:.1e} ('{top[0]}'); about 1e-3 is typical"
        )
    if w.measurements:  # after the first updates (the state at init is stage 3's)
        later = [m for m in w.measurements if m.step > 0] or w.measurements
        summary = grad_flow.summarise(later)
        flow.table = grad_flow.table(summary)
        exam.plots["grad_flow"] = summary
        flow.lines.append(f"per-layer statistics from {len(w.measurements)} sampled steps")
    exam.plots["loss"] = sub.plots["loss"]
