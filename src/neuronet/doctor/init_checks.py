"""Stage 3, initialisation: the loss at init against what an uninformed model should score, each
layer's activations and gradients at init, and the first NaN/Inf in anomaly mode.

Expected loss at init (why, in docs/doctor.md):
- C classes, cross-entropy: a network whose logits are small and unrelated to the input predicts
  close to uniform, so its loss is ln C whatever the class balance. Logits with a spread s add
  about s^2 / 2, so ``init.bad_initial_loss`` fires when the loss exceeds ln C by more than
  ``max(1, ln C / 2)`` nats (a logit spread of ~1.4 or more: the model is confidently wrong
  before it has seen any data).
- binary targets: ln 2 by the same argument.
- regression: the outputs at init should be small next to the targets; the finding fires when
  their RMS is more than ``REGRESSION_RATIO`` = 3 times the targets' RMS.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.anomaly import AnomalyError
from neuronet.autograd.grad_mode import no_grad
from neuronet.doctor import grad_flow, numerics

REGRESSION_RATIO = 3.0
FLOW_SAMPLES = 128  # samples per batch for the per-layer statistics at init


def nonfinite_finding(exam, err: AnomalyError, when: str) -> None:
    """``numerics.non_finite`` from an ``AnomalyError``, with its op, module, phase and line."""
    exam.findings.append(numerics.from_error(err, when))


def _expected(exam):
    task = exam.task
    if task.kind == "classification" and task.num_classes and task.num_classes > 1:
        c = task.num_classes
        return math.log(c), max(1.0, math.log(c) / 2), f"ln {c} = {math.log(c):.3f}"
    if task.kind == "binary":
        return math.log(2), 1.0, "ln 2 = 0.693"
    return None, None, None


def _regression_scale(exam, stage, model, batches) -> None:
    outs, ys = [], []
    with no_grad():
        for inputs, target in batches:
            out = exam.output(model, inputs)
            outs.append(out.array.reshape(-1))
            ys.append(target.array.reshape(-1))
    out_rms = float(np.sqrt(np.mean(np.concatenate(outs).astype(np.float64) ** 2)))
    y_rms = float(np.sqrt(np.mean(np.concatenate(ys).astype(np.float64) ** 2)))
    stage.numbers.update(output_rms=out_rms, target_rms=y_rms)
    stage.lines.append(f"output RMS at init {out_rms:.3g} vs target RMS {y_rms:.3g}")
    if y_rms > 0 and out_rms > REGRESSION_RATIO * y_rms:
        exam.add(
            "init.bad_initial_loss",
            f"at init the outputs have RMS {out_rms:.3g}, {out_rms / y_rms:.0f}x the targets' "
            f"({y_rms:.3g}): the first steps only undo the initialisation",
            evidence={"output_rms": out_rms, "target_rms": y_rms},
            strength=float(np.log10(out_rms / y_rms / REGRESSION_RATIO)) + 1.0,
        )


def run(exam) -> None:
    """Stage 3: loss at init, layer statistics at init, anomaly check of one step."""
    stage = exam.stage("init", "3. Initialisation")
    if exam.blocked:
        stage.skipped = exam.blocked
        return
    budget = exam.budget
    gen = exam.generator(5)
    batches = exam.rows.batches(gen)
    sample = [next(batches) for _ in range(budget.init_batches)]
    model, _ = exam.fresh()
    model.train()
    with no_grad():
        losses = [float(exam.loss_of(model, b).item()) for b in sample]
    finite = [v for v in losses if np.isfinite(v)]
    loss0 = float(np.mean(finite)) if finite else float("nan")
    exam.init_loss = loss0
    stage.numbers["loss_at_init"] = loss0
    expected, margin, label = _expected(exam)
    if expected is not None:
        stage.numbers["expected_loss"] = expected
        stage.lines.append(
            f"loss at init {loss0:.4g} (mean of {len(sample)} batches); an "
            f"uninformed model scores {label}"
        )
        excess = loss0 - expected
        if np.isfinite(loss0) and excess > margin:
            exam.add(
                "init.bad_initial_loss",
                f"the loss at init is {loss0:.3g}, {excess:.3g} nats above {label}: the "
                "untrained model is confidently wrong",
                evidence={"loss": loss0, "expected": expected, "excess": excess},
                strength=float(np.log2(excess / margin)) + 1.0,
            )
    elif exam.task.kind == "regression":
        stage.lines.append(f"loss at init {loss0:.4g} (mean of {len(sample)} batches)")
        _regression_scale(exam, stage, model, sample)
    else:
        stage.lines.append(f"loss at init {loss0:.4g}")
    measurements = []
    big = max(FLOW_SAMPLES, exam.rows.batch_size)
    flow_batches = exam.rows.batches(exam.generator(12), min(big, exam.rows.n))
    try:
        for _ in range(budget.flow_batches):
            fresh, _ = exam.fresh()
            measurements.append(grad_flow.measure(exam, fresh, next(flow_batches), check_nan=True))
    except AnomalyError as err:
        nonfinite_finding(exam, err, "at init")
        exam.blocked = f"{err.op}.{err.phase} produces {err.kind} at init"
        exam.nonfinite_at_init = True
    if len(finite) < len(losses) and not exam.nonfinite_at_init:
        exam.add(
            "numerics.non_finite",
            f"the loss at init is not finite on {len(losses) - len(finite)} of "
            f"{len(losses)} batches",
            evidence={"losses": [str(v) for v in losses]},
        )
        exam.blocked = "the loss is not finite at init"
        exam.nonfinite_at_init = True
    if measurements:
        summary = grad_flow.summarise(measurements)
        stage.table = grad_flow.table(summary)
        grad_flow.check(exam, summary, "at init")
        exam.plots["grad_flow_init"] = summary
