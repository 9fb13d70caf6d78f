"""Stage 5, the learning-rate range test (Smith 2015; fastai's ``lr_find``), made stable.

On a copy of the model and of the user's optimizer (its state cleared), the rate grows
exponentially from ``LR_START`` to ``LR_END`` over the sweep, one optimizer step per rate on a
fresh batch. The sweep stops when the loss diverges: non-finite, or a running (causal) average
more than ``DIVERGE`` = 4 times its lowest value.

Why the suggestion is stable: the recorded losses (capped at twice their starting level, so the
last diverging steps do not dominate) are smoothed with a *centred* Gaussian kernel of 0.2
decades (a causal moving average, as most LR finders use, lags by tens of steps), and the rule
reads a landmark on the steep part of the smoothed curve, not its noisy slope or its minimum (the
bottom of the valley is flat, so its argmin wanders by 3x or more between seeds): the rate
``lr_edge`` where the smoothed loss has made ``EDGE`` = 70% of its total fall. The suggestion is
``lr_edge / 3``, a little below the steepest descent and about a decade below the minimum.
``tests/doctor`` checks that five seeds agree within 3x.

Findings (thresholds explained in docs/doctor.md):
- ``lr.too_high``: the user's rate is more than ``HIGH_FACTOR`` = 10x the suggestion (about
  where the smoothed loss stops falling and starts to rise) or past the divergence point.
- ``lr.too_low``: the user's rate is more than ``LOW_FACTOR`` = 30x below the suggestion (a decade,
  times the 3x the suggestion itself may vary) *and* the smoothed loss at that rate had not yet
  fallen 10% of the way from its start to its minimum.
No finding is made when the loss never clearly falls (its drop is within twice its noise).
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.doctor import loops

LR_START = 1e-6
LR_END = 10.0
DIVERGE = 4.0
LOW_FACTOR = 30.0  # a decade, times the suggestion's own 3x uncertainty
LOW_PROGRESS = 0.1
EDGE = 0.7  # the landmark: where the smoothed loss has made 70% of its fall
EDGE_FACTOR = 3.0  # the suggestion is a third of the landmark rate
HIGH_FACTOR = 10.0  # too high: a decade above the suggestion (about where the fall stops)
SMOOTH_DECADES = 0.2  # the smoothing kernel's sigma, in decades of learning rate


def smooth(values: np.ndarray, sigma: float) -> np.ndarray:
    """Centred Gaussian smoothing (edges use the weights that fall inside)."""
    n = len(values)
    idx = np.arange(n)
    weights = np.exp(-0.5 * ((idx[:, None] - idx[None, :]) / sigma) ** 2)
    return (weights @ values) / weights.sum(axis=1)


def sweep(exam, model, optimizer, batches, steps: int, start: float, end: float) -> dict:
    """Run the range test; returns the rates, raw and smoothed losses and the landmarks."""
    optimizer.state.clear()
    base = [g["lr"] for g in optimizer.param_groups]
    ratio = [b / base[0] if base[0] else 1.0 for b in base]
    rates = start * (end / start) ** (np.arange(steps) / max(steps - 1, 1))
    model.train()
    losses = []
    avg = None
    best = math.inf
    diverged_at = None
    for i, lr in enumerate(rates):
        for g, r in zip(optimizer.param_groups, ratio):
            g["lr"] = float(lr * r)
        value = loops.step(exam, model, optimizer, next(batches))
        if not math.isfinite(value):
            diverged_at = float(lr)
            break
        losses.append(value)
        avg = value if avg is None else 0.7 * avg + 0.3 * value
        best = min(best, avg)
        if i > 5 and avg > DIVERGE * best:
            diverged_at = float(lr)
            break
    n = len(losses)
    rates = rates[:n]
    result = {"lrs": rates.tolist(), "losses": losses, "diverged_at": diverged_at}
    if n < 10:
        return result
    raw = np.asarray(losses, dtype=np.float64)
    start_level = float(np.median(raw[: max(5, n // 10)]))
    capped = np.minimum(raw, 2 * start_level) if start_level > 0 else raw  # diverged points
    per_decade = (n - 1) / max(math.log10(rates[-1] / rates[0]), 1e-12)
    sigma = max(2.0, SMOOTH_DECADES * per_decade)
    smoothed = smooth(capped, sigma)
    k = int(np.argmin(smoothed))
    resid = (capped - smoothed)[: k + 1]
    noise = float(1.4826 * np.median(np.abs(resid - np.median(resid))))
    drop = float(smoothed[0] - smoothed[k])
    result.update(
        smoothed=smoothed.tolist(),
        noise=noise,
        drop=drop,
        lr_min=float(rates[k]),
        loss_min=float(smoothed[k]),
        loss_start=float(smoothed[0]),
    )
    if drop > 2 * noise and drop > 0.02 * abs(smoothed[0]):
        edge = int(np.argmax(smoothed <= smoothed[k] + (1 - EDGE) * drop))
        result["lr_edge"] = float(rates[edge])
        result["suggestion"] = float(rates[edge]) / EDGE_FACTOR
    return result


def progress_at(result: dict, lr: float) -> float | None:
    """How far (0..1) the smoothed loss had fallen from its start to its minimum at rate ``lr``."""
    rates = np.asarray(result["lrs"])
    if "smoothed" not in result or lr < rates[0] or lr > rates[-1]:
        return None
    i = int(np.searchsorted(rates, lr))
    i = min(i, len(rates) - 1)
    drop = result["loss_start"] - result["loss_min"]
    return float((result["loss_start"] - result["smoothed"][i]) / drop) if drop > 0 else None


def run(exam) -> None:
    """Stage 5: the range test on a copy, the suggestion, and lr.too_high / lr.too_low."""
    stage = exam.stage("lr_find", "5. Learning-rate range test")
    if exam.blocked:
        stage.skipped = exam.blocked
        return
    model, optimizer = exam.fresh()
    user = exam.user_lr
    start = min(LR_START, user / 1e3) if user else LR_START
    end = max(LR_END, user * 100) if user else LR_END
    decades = math.log10(end / start)
    steps = max(20, int(round(exam.budget.lr_steps_per_decade * decades)))
    batches = exam.rows.batches(exam.generator(8))
    result = sweep(exam, model, optimizer, batches, steps, start, end)
    result["user_lr"] = user
    exam.plots["lr_find"] = result
    stage.numbers.update(
        {k: v for k, v in result.items() if k not in ("lrs", "losses", "smoothed")}
    )
    opt_name = type(optimizer).__name__
    n = len(result["losses"])
    div = result["diverged_at"]
    if "suggestion" not in result:
        stage.lines.append(
            f"{opt_name}, {n} steps from {start:.0e}: the loss never clearly fell "
            "(no suggestion)" + (f"; diverged at {div:.2e}" if div else "")
        )
        if user and div is not None and user >= div:
            exam.add(
                "lr.too_high",
                f"your learning rate {user:.2e} is past the point where the "
                f"range test diverged ({div:.2e})",
                evidence={"user_lr": user, "diverged_at": div},
                strength=float(math.log10(user / div)) + 1.0,
            )
        return
    sug = result["suggestion"]
    lr_min = result["lr_min"]
    exam.lr_suggestion = sug
    stage.lines.append(
        f"{opt_name}, {n} steps from {start:.0e}: loss {result['loss_start']:.4g} -> "
        f"{result['loss_min']:.4g} at lr {lr_min:.2e}"
        + (f", diverged at {div:.2e}" if div else "")
        + f"; suggested lr {sug:.2e}"
        + (f", yours {user:.2e}" if user else "")
    )
    exam.add(
        "lr.suggestion",
        f"suggested learning rate {sug:.2e} for {opt_name} (the loss "
        f"bottoms out at {lr_min:.2e})" + (f"; yours is {user:.2e}" if user else ""),
        evidence={"suggestion": sug, "lr_min": lr_min, "user_lr": user},
        strength=0.0,
    )
    if not user:
        return
    high = HIGH_FACTOR * sug
    if user > high or (div is not None and user >= div):
        past = (
            f"past the divergence point ({div:.2e})"
            if div is not None and user >= div
            else f"{user / sug:.0f}x the suggested {sug:.2e}, where the loss stops falling"
        )
        exam.add(
            "lr.too_high",
            f"your learning rate {user:.2e} is {past} (in the range test the loss bottoms out at "
            f"{lr_min:.2e}" + (f" and diverges at {div:.2e}" if div else "") + ")",
            evidence={"user_lr": user, "lr_min": lr_min, "suggestion": sug, "diverged_at": div},
            strength=float(math.log10(user / high)) + 1.0,
        )
        return
    progress = progress_at(result, user)
    if user < sug / LOW_FACTOR and progress is not None and progress < LOW_PROGRESS:
        exam.add(
            "lr.too_low",
            f"your learning rate {user:.2e} is {sug / user:.0f}x below the suggested {sug:.2e}; "
            f"in the range test the loss had fallen only {max(progress, 0):.0%} of the way to its "
            "minimum at your rate",
            evidence={"user_lr": user, "suggestion": sug, "progress_at_user_lr": progress},
            strength=float(math.log10(sug / user / LOW_FACTOR)) + 1.0,
        )
