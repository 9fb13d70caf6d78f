"""Stage 4, overfit one batch: a model that cannot memorise a handful of samples has a bug in the
model, the loss or the data, whatever the learning rate. Then, when it can, whether what it
learns carries over to held-out data at all (``data.no_signal``).

Method (why, in docs/doctor.md):
- A copy of the model, dropout off, trained with Adam on one batch of ``OVERFIT_BATCH`` = 16
  samples (fewer, at least 2, when each sample has many targets: about 64 predictions for a
  sequence model), trying the rates 3e-3, 1e-2 and 1e-3 (stopping at the first that succeeds).
  Success: every sample of the batch classified correctly, or the loss below ``FRACTION`` = 5% of
  its baseline (the loss at the start, or for regression the loss of predicting the batch mean).
- On failure the report says where the evidence points: outputs that do not depend on the input
  (the model ignores it: a dead layer, a detached path), conflicting labels for identical inputs
  (the data), a loss that rises or turns NaN (numerics), or a loss that fell but plateaued (too
  little capacity, or a loss that cannot reach zero on these targets).
- No signal: a fresh copy trained with Adam on the training rows for a short run is scored on
  held-out rows (the validation data, or 20% of the training rows held back). The labels look
  unrelated to the inputs when *both* tests fail: its accuracy is not significantly above the
  majority-class rate p0 (z = (acc - p0) / sqrt(p0 (1 - p0) / n) below ``Z_SIGNAL`` = 2), and its
  held-out log-likelihood of the true labels does not beat the training class frequencies (the
  mean per-sample gain in nats, over its standard error, below 2; this paired test keeps its power
  on imbalanced data, where the majority rate is high). For regression: no better than
  predicting the mean (R^2 <= 0).
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.grad_mode import no_grad
from neuronet.doctor import loops
from neuronet.optim import Adam

OVERFIT_BATCH = 16
OVERFIT_TARGETS = 64
FRACTION = 0.05
RATES = (3e-3, 1e-2, 1e-3)
Z_SIGNAL = 2.0


def batch_size(exam) -> int:
    """16 samples, or fewer (at least 2) when each sample has many targets (a sequence), so
    that about ``OVERFIT_TARGETS`` = 64 predictions are memorised."""
    target = exam.probe_batch[1] if exam.probe_batch is not None else None
    per_sample = int(np.prod(target.shape[1:])) if target is not None and target.ndim > 1 else 1
    return int(min(OVERFIT_BATCH, max(2, math.ceil(OVERFIT_TARGETS / per_sample))))


def _attempt(exam, batch, lr, steps, baseline):
    model, _ = exam.fresh()
    loops.without_dropout(model)
    opt = Adam(model.parameters(), lr=lr)
    batches = iter(lambda: batch, None)

    def done(i, value):  # stop early once memorised (checked every 10 steps)
        if i % 10 != 9:
            return False
        limit = FRACTION * (baseline if baseline is not None else math.inf)
        return value <= limit or loops.accuracy(exam, model, batch) == 1.0

    losses = loops.train(exam, model, opt, batches, steps, on_step=done)
    acc = loops.accuracy(exam, model, batch)
    with no_grad():
        model.train()
        final = float(exam.loss_of(model, batch).item())
    return model, losses, final, acc


def _evidence_for_failure(exam, model, batch, losses, final) -> str:
    inputs, target = batch
    with no_grad():
        out = exam.output(model, inputs).array.astype(np.float64)
    spread = float(out.std(axis=0).mean()) if out.ndim > 1 else float(out.std())
    scale = float(np.abs(out).mean()) + 1e-12
    if not math.isfinite(final) or any(not math.isfinite(v) for v in losses):
        return "numerics: the loss became NaN/Inf while memorising"
    if spread < 1e-4 * scale or spread < 1e-7:
        return (
            "the model: its outputs are the same for every sample (the input does not reach "
            "the output: a dead layer, a detached path, or an input that is never used)"
        )
    x = inputs[0].array.reshape(len(inputs[0].array), -1)
    if target is not None:
        keys = {}
        for row, label in zip(x, target.array.reshape(len(x), -1)):
            keys.setdefault(row.tobytes(), set()).add(label.tobytes())
        if any(len(v) > 1 for v in keys.values()):
            return "the data: identical inputs in the batch carry different labels"
    if len(losses) > 10 and losses[-1] > losses[0]:
        return "the loss or the rate: the loss rose while memorising"
    return (
        "the model's capacity or the loss: the loss fell but stalled, so the model cannot "
        "fit even these few samples (too small, or a loss that cannot reach zero on them)"
    )


def run(exam) -> None:
    """Stage 4: overfit one small batch; then check that the labels carry signal."""
    stage = exam.stage("overfit", "4. Overfit one batch")
    if exam.blocked:
        stage.skipped = exam.blocked
        return
    size = min(batch_size(exam), exam.rows.n)
    gen = exam.generator(6)
    batch = next(exam.rows.batches(gen, size))
    tried = []
    success = False
    with no_grad():
        fresh, _ = exam.fresh()
        start = float(exam.loss_of(fresh, batch).item())
    const = loops.constant_loss(exam, batch) if exam.task.kind == "regression" else None
    baseline = min(start, const) if const is not None else start
    scale = exam.budget_scale
    rates = RATES if scale >= 0.5 else RATES[:2] if scale >= 0.2 else RATES[:1]
    for lr in rates:
        model, losses, final, acc = _attempt(exam, batch, lr, exam.budget.overfit_steps, baseline)
        start = losses[0] if losses else float("nan")
        ok = (acc is not None and acc >= 1.0) or (
            math.isfinite(final) and final <= FRACTION * baseline
        )
        tried.append(
            {"lr": lr, "start": start, "final": final, "accuracy": acc, "steps": len(losses)}
        )
        if ok:
            success = True
            break
    best = min(tried, key=lambda t: t["final"] if math.isfinite(t["final"]) else math.inf)
    stage.numbers.update(batch=size, attempts=tried, success=success)
    acc_text = f", batch accuracy {best['accuracy']:.0%}" if best["accuracy"] is not None else ""
    stage.lines.append(
        f"{size} samples, Adam: loss {best['start']:.4g} -> {best['final']:.4g} in "
        f"{best['steps']} steps at lr {best['lr']:g}{acc_text} "
        + ("(memorised)" if success else "(NOT memorised)")
    )
    exam.overfit_lr = best["lr"] if success else None
    if not success:
        points = _evidence_for_failure(exam, model, batch, losses, final)
        rates = ", ".join(format(t["lr"], "g") for t in tried)
        cut = exam.budget_scale < 1.0
        exam.add(
            "train.cannot_overfit",
            f"after {best['steps']} Adam steps on {size} samples (rates {rates}) the loss only "
            f"went "
            f"{best['start']:.4g} -> {best['final']:.4g}{acc_text}; the evidence points to "
            f"{points}"
            + (
                " (few steps: the budget was cut for this slow model; "
                "budget='full' gives a firmer answer)"
                if cut
                else ""
            ),
            evidence={"attempts": tried, "baseline": baseline, "points_to": points},
            severity="warning" if cut else None,
            strength=2.0,
        )
        return
    if exam.task.kind in ("classification", "binary", "regression"):
        _signal(exam, stage)


def _signal(exam, stage) -> None:
    rows = exam.rows
    gen = exam.generator(7)
    if exam.val is not None:
        train_idx = np.arange(rows.n)
        held = exam.val
        held_idx = np.sort(gen.permutation(held.n)[: exam.budget.data_rows])
    else:
        if rows.n < 50:
            return
        order = gen.permutation(rows.n)
        cut = max(1, rows.n // 5)
        held, held_idx, train_idx = rows, np.sort(order[:cut][: exam.budget.data_rows]), order[cut:]
    model, _ = exam.fresh()
    opt = Adam(model.parameters(), lr=exam.overfit_lr or 1e-3)
    batches = rows.batches(gen, indices=train_idx)
    loops.train(exam, model, opt, batches, exam.budget.signal_steps)
    model.eval()
    xs, y = held.get(held_idx)
    from neuronet.doctor.inputs import as_tensors

    inputs, target = as_tensors((xs, y))
    with no_grad():
        out = exam.output(model, inputs).array
    model.train()
    n = int(held_idx.size)
    if exam.task.kind == "regression":
        err = float(np.mean((out.reshape(y.shape) - y) ** 2)) if out.size == y.size else None
        var = float(np.var(y))
        if err is None or var == 0:
            return
        skill = 1.0 - err / var
        stage.lines.append(
            f"held-out after {exam.budget.signal_steps} Adam steps: R^2 {skill:.3f} on {n} rows"
        )
        stage.numbers["heldout_r2"] = skill
        if skill <= 0.0:
            exam.add(
                "data.no_signal",
                f"the model memorises a batch, but on {n} held-out rows it does no better "
                f"than predicting the mean (R^2 {skill:.3f}) after "
                f"{exam.budget.signal_steps} steps",
                evidence={"heldout_r2": skill, "rows": n},
                strength=1.0,
            )
        return
    pred = loops.predictions(exam, out)
    if pred is None or pred.size != y.size:
        return
    pred = pred.reshape(y.shape)
    mask = y != -100
    labels = y[mask]
    acc = float((pred[mask] == labels).mean())
    values, counts = np.unique(labels, return_counts=True)
    p0 = float(counts.max() / counts.sum())
    m = int(labels.size)
    z_acc = (acc - p0) / math.sqrt(max(p0 * (1 - p0), 1e-12) / m)
    gain = _information_gain(exam, out, y, mask)
    z_gain = None
    if gain is not None and gain.size > 1:
        z_gain = float(gain.mean() / max(gain.std(ddof=1) / math.sqrt(gain.size), 1e-12))
    stage.numbers.update(
        heldout_accuracy=acc,
        majority_rate=p0,
        z_accuracy=z_acc,
        heldout_rows=n,
        z_information=z_gain,
        information_nats=None if gain is None else float(gain.mean()),
    )
    stage.lines.append(
        f"held-out after {exam.budget.signal_steps} Adam steps: accuracy {acc:.1%} on {n} rows "
        f"vs majority class {p0:.1%} (z = {z_acc:.1f})"
        + (
            ""
            if gain is None
            else f"; log-likelihood {gain.mean():+.3f} nats/sample over the "
            f"class frequencies (z = {z_gain:.1f})"
        )
    )
    if z_acc < Z_SIGNAL and (z_gain is None or z_gain < Z_SIGNAL):
        exam.add(
            "data.no_signal",
            f"the model memorises a batch, but after {exam.budget.signal_steps} training steps "
            f"it scores {acc:.1%} on {n} held-out rows, no better than always predicting the "
            f"majority class ({p0:.1%}, z = {z_acc:.1f})"
            + (
                ""
                if gain is None
                else f", and its held-out log-likelihood does not beat the "
                f"class frequencies ({gain.mean():+.3f} nats/sample, z = {z_gain:.1f})"
            ),
            evidence={
                "heldout_accuracy": acc,
                "majority_rate": p0,
                "z_accuracy": z_acc,
                "z_information": z_gain,
                "rows": n,
            },
            severity="warning" if exam.budget_scale < 1.0 else None,
            strength=float(Z_SIGNAL - z_acc),
        )


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _information_gain(exam, out, y, mask):
    """Per held-out sample: log p_model(true label) - log p_prior(true label), in nats; the prior
    is the training labels' frequencies (add-one smoothed). None when it cannot be computed."""
    data = next((s for s in exam.stages if s.name == "data"), None)
    counts = data.numbers.get("class_counts") if data else None
    if not counts:
        return None
    out = out.astype(np.float64)
    task = exam.task
    classes = task.num_classes or (max(int(k) for k in counts) + 1)
    freq = np.ones(max(classes, 2))
    for k, c in counts.items():
        if 0 <= int(k) < freq.size:
            freq[int(k)] += c
    log_prior = np.log(freq / freq.sum())
    labels = np.where(mask, y, 0).astype(np.int64)
    if task.kind == "binary":
        o = out.reshape(y.shape)
        p = 1 / (1 + np.exp(-o)) if exam.loss.kind != "bce" else o
        p = np.clip(p, 1e-7, 1 - 1e-7)
        logp = np.where(labels == 1, np.log(p), np.log(1 - p))
    else:
        axis = task.class_axis
        if exam.loss.kind == "nll":
            logp_all = out
        elif out.min() >= 0 and np.allclose(out.sum(axis=axis), 1, atol=1e-3):
            logp_all = np.log(np.clip(out, 1e-12, None))
        else:
            logp_all = _log_softmax(out, axis)
        if logp_all.shape[axis] != freq.size and task.kind == "classification":
            freq = freq[: logp_all.shape[axis]]
            log_prior = np.log(freq / freq.sum())
        inside = np.clip(labels, 0, logp_all.shape[axis] - 1)
        logp = np.take_along_axis(logp_all, np.expand_dims(inside, axis), axis).squeeze(axis)
    gain = logp - log_prior[np.clip(labels, 0, log_prior.size - 1)]
    return gain[mask]
