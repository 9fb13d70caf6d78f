"""Turning what a ``watch`` saw into findings and a ``Report``.

Thresholds (why, in docs/doctor.md):
- ``opt.missing_zero_grad``: the gradients an optimizer step used were still in ``.grad`` (same
  tensor, not zeroed) when the next ``backward()`` started: the new gradients are added to them.
  Deliberate accumulation zeroes after each step, so one occurrence is a bug.
- ``opt.params_not_updated``: a parameter that requires grad is bit-for-bit unchanged after at
  least one optimizer step. The reason is named: not in the optimizer, no gradient reached it
  (and whether its module ever ran), or a zero gradient.
- ``grad.exploding`` during training: the global gradient norm jumps above ``SPIKE`` = 10 times
  the median of the previous 20 steps at least 3 times, or once by 100 times (minibatch noise
  moves it by tens of percent, not by 10x).
"""

from __future__ import annotations

import numpy as np

from neuronet.doctor import curves, grad_flow
from neuronet.doctor.exam import Stage
from neuronet.doctor.findings import CODES, Collector, finding

# Spikes during training are a symptom of the rate as well as of what explains any explosion.
SPIKE_CAUSES = CODES["grad.exploding"].causes + ("lr.too_high", "opt.missing_zero_grad")


def _unchanged(w) -> list:
    found = []
    if w.steps < 1:
        return found
    by_module = {}
    for name, p in w._trainable:
        if np.array_equal(p.array, w._initial[name]):
            module = name.rsplit(".", 1)[0] if "." in name else ""
            if id(p) not in w._in_optimizer and w.optimizer is not None:
                reason = "not in the optimizer"
            elif p.grad is None:
                reason = "no gradient reaches it"
            elif not p.grad.array.any():
                reason = "its gradient is zero"
            else:
                reason = (
                    "its gradient is too small to change it in float32 (vanishing "
                    "gradient or too low a learning rate)"
                )
            by_module.setdefault((module, reason), []).append(name)
    for (module, reason), names in by_module.items():
        severity = "error"
        found.append(
            finding(
                "opt.params_not_updated",
                f"after {w.steps} optimizer steps, {', '.join(repr(n) for n in names[:4])}"
                + (f" and {len(names) - 4} more" if len(names) > 4 else "")
                + f" never changed: {reason}",
                severity=severity,
                module=module or None,
                evidence={"parameters": names, "reason": reason, "steps": w.steps},
                strength=2.0 + len(names) / 10,
                causes=() if reason == "not in the optimizer" else None,
            )
        )
    return found


def _loop_findings(w) -> list:
    found = []
    if w.accumulating:
        found.append(
            finding(
                "opt.missing_zero_grad",
                f"the gradients used by optimizer step {w.accumulating[0]} were still in .grad "
                f"when "
                f"the next backward() ran ({len(w.accumulating)} of {w.steps} steps)",
                evidence={"steps": w.accumulating[:20], "gradient_resets": w.grad_resets},
                strength=3.0,
            )
        )
    if w.eval_in_train:
        found.append(
            finding(
                "train.eval_in_train_mode",
                f"{len(w.eval_in_train)} forward passes without gradients (evaluation) ran with "
                f"the "
                f"model in training mode, so {', '.join(repr(p) for p in w._stochastic[:3])} "
                "stayed active (dropout drops units; BatchNorm uses and updates batch statistics)",
                evidence={
                    "count": len(w.eval_in_train),
                    "at_steps": w.eval_in_train[:20],
                    "modules": w._stochastic[:20],
                },
                strength=2.0,
            )
        )
    if w.batch_of_one:
        first = w.batch_of_one[0]
        single = first["values_per_channel"] == 1
        found.append(
            finding(
                "norm.batch_of_one",
                f"'{first['module']}' (BatchNorm) got a batch of one sample in training mode at "
                f"step "
                f"{first['step']} ({len(w.batch_of_one)} times)"
                + (
                    "; with one value per channel it cannot normalise at all"
                    if single
                    else f"; its statistics come from {first['values_per_channel']} positions of "
                    f"one "
                    "sample"
                ),
                severity="error" if single else "warning",
                module=first["module"],
                evidence={"events": w.batch_of_one[:20]},
                strength=2.0,
            )
        )
    big = [s for s in w.spikes if s["ratio"] >= 10 * 10]
    if len(w.spikes) >= 3 or big:
        worst = max(w.spikes, key=lambda s: s["ratio"])
        found.append(
            finding(
                "grad.exploding",
                f"the gradient norm spiked {len(w.spikes)} times above 10x its running median; "
                f"worst {worst['norm']:.3g} at step {worst['step']} ({worst['ratio']:.0f}x)",
                evidence={"spikes": w.spikes[:20]},
                strength=1.0 + np.log10(worst["ratio"] / 10),
                causes=SPIKE_CAUSES,
                can_explain=False,
            )
        )
    return found


def _schedule_finding(w):
    """The schedule raised the rate more than 10x and the loss then diverged: lr.too_high."""
    finite = [(i, v) for i, v in enumerate(w.losses) if np.isfinite(v)]
    best_step = min(finite, key=lambda iv: iv[1])[0] if finite else 0
    # the rate of the last full step at or before the best one (the watch reads the rate there)
    at = max(int(np.searchsorted(w.lr_steps, best_step, side="right")) - 1, 0)
    at_best = w.lrs[at]
    return finding(
        "lr.too_high",
        f"the learning rate grew from {w.lrs[0]:.2e} to {w.lrs[-1]:.2e} during the run and the "
        f"loss diverged; it was lowest at step {best_step}, with a rate of {at_best:.2e}",
        evidence={"lr_first": w.lrs[0], "lr_last": w.lrs[-1], "lr_at_best_loss": at_best},
        strength=float(np.log10(w.lrs[-1] / max(at_best, 1e-30))) + 1.0,
        prescription=f"cap the schedule's rate near {at_best:.1e} (where the loss was lowest), "
        "or warm up more slowly",
    )


def _lr_note(w) -> str:
    if len(w.lrs) >= 2 and w.lrs[0] > 0 and w.lrs[-1] > 10 * w.lrs[0]:
        return f" (the learning rate grew from {w.lrs[0]:.2e} to {w.lrs[-1]:.2e})"
    return ""


def build_report(w, where: str = "the watched loop", trivial=None, fixed=None):
    """The ``Report`` of a watch (also used by diagnose's short run and the Monitor)."""
    from neuronet.doctor.report import Report

    found = [f for f in w.live if f.code != "opt.missing_zero_grad"]  # remade in full below
    found += _loop_findings(w)
    found += _unchanged(w)
    curve = curves.analyse(w.losses, w.val, trivial=trivial, where=where, fixed=fixed)
    note = _lr_note(w)
    for f in curve:
        if f.code == "train.diverging" and note:
            f.message += note
            f.evidence["lr_first"], f.evidence["lr_last"] = w.lrs[0], w.lrs[-1]
    found += curve
    if note and any(f.code in ("train.diverging", "numerics.non_finite") for f in found):
        found.append(_schedule_finding(w))
    summary = None
    if w.measurements:
        summary = grad_flow.summarise(w.measurements)
        start = [m for m in w.measurements if m.step == 0]
        later = [m for m in w.measurements if m.step != 0]
        sink = Collector()
        if start:  # sampled before any update: what the model brings to the loop
            grad_flow.check(sink, grad_flow.summarise(start), "at the first step")
        if later:
            grad_flow.check(
                sink, grad_flow.summarise(later), "during training", during_training=True
            )
        found += sink.findings
    stage = Stage("watch", "Watched loop")
    finite = [v for v in w.losses if np.isfinite(v)]
    stage.numbers = {
        "steps": w.steps,
        "backwards": w.backwards,
        "gradient_resets": w.grad_resets,
        "sampled_steps": len(w.measurements),
    }
    stage.lines.append(
        f"{w.steps} optimizer steps, {w.backwards} backward passes; gradients cleared after "
        f"{w.grad_resets} of the {w.steps_checked} checked steps followed by a backward()"
    )
    if finite:
        stage.lines.append(
            f"loss {finite[0]:.4g} -> {finite[-1]:.4g} (best {min(finite):.4g})"
            + (f"; {len(w.losses) - len(finite)} non-finite" if len(finite) < len(w.losses) else "")
        )
    norms = [n for n in w.grad_norms if np.isfinite(n)]
    if norms:
        stage.lines.append(f"gradient norm median {np.median(norms):.3g}, max {max(norms):.3g}")
    merged = {}
    for m in w.measurements:
        for k, v in m.update_ratios.items():
            merged.setdefault(k, []).append(v)
    if merged:
        stage.numbers["update_ratio"] = {k: float(np.median(v)) for k, v in merged.items()}
    if summary is not None:
        stage.table = grad_flow.table(summary)
        later = [m for m in w.measurements if m.step != 0]
        if later:  # what the pictures show: the state during training
            summary = grad_flow.summarise(later)
    plots = {
        "loss": {
            "losses": list(w.losses),
            "val": list(w.val),
            "grad_norms": list(w.grad_norms),
            "grad_norm_steps": list(w.grad_norm_steps),
        }
    }
    if summary is not None:
        plots["grad_flow"] = summary
    return Report(found, [stage], meta={"source": where}, plots=plots)
