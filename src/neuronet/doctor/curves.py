"""Reading a loss curve: stuck, diverging, oscillating, overfitting.

The curve is the training loss of every step (and optionally validation losses at some steps).
Robust statistics only, so minibatch noise is not mistaken for a symptom (why, in
docs/doctor.md):

- the *trend* is a running median (window ~5% of the run, at least 5 steps); *head* and *tail* are
  the medians of the first 5% (at least 5 steps) and the last 20% of the steps; *best* is the
  lowest median of the first four fifths of the run; the *noise* sigma is 1.4826 times
  the median absolute deviation of the loss around its trend.
- ``train.diverging``: a NaN/Inf loss; a tail above the head by more than the noise floor below
  (the run ends worse than it started); or a run that gained more than that floor and then gave
  back more than half of it (tail > best + 0.5 (head - best)), ending at least 1.5x above its
  best.
- ``train.stuck``: the tail is not below the head by more than ``max(2%, 3 standard errors)``
  (the standard error of a median of k values is about 1.25 sigma / sqrt(k)), or the tail is
  still at the loss of the best *constant* prediction (the class frequencies, or the targets'
  mean) within 5%: nothing that depends on the input was learned.
- ``train.oscillating``: in the second half, the typical swing around the trend (1.4826 MAD of
  the residuals) exceeds ``SWING`` = 10% of the starting loss, while the loss does not settle
  (the last fifth's median is at least ``SETTLE`` = 80% of the middle third's; a healthy run
  still halves its loss between the two). Minibatch noise
  near convergence is large relative to a small loss, never to the starting loss, and a run that
  is still improving is not flagged. On data whose loss stays high (noisy labels) minibatch noise
  alone can reach 10% of the starting loss, so where the caller has it (diagnose's short run)
  the check reads the loss of one *fixed* batch after every step (``fixed``): it swings only when
  the weights do.
- ``train.overfitting``: the validation loss ends more than 10% above its minimum while the
  training loss kept falling after that minimum.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.doctor.findings import finding

MIN_STEPS = 20
SWING = 0.1  # oscillating: swings above 10% of the starting loss...
SETTLE = 0.8  # ...while the last fifth is not below 80% of the middle third


def running_median(x: np.ndarray, window: int) -> np.ndarray:
    half = window // 2
    padded = np.pad(x, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)
    return np.median(windows, axis=1)


def _autocorr1(r: np.ndarray) -> float:
    r = r - r.mean()
    denom = float((r * r).sum())
    return float((r[1:] * r[:-1]).sum() / denom) if denom > 0 else 0.0


def analyse(losses, val=None, trivial=None, where="the run", fixed=None) -> list:
    """Findings for a loss curve. ``val``: [(step, loss)]; ``trivial``: the loss of the best
    constant prediction (or None); ``fixed``: the loss of one fixed batch after every step
    (or None), which ``train.oscillating`` then reads instead of the training losses."""
    out = []
    losses = list(losses)
    bad = [i for i, v in enumerate(losses) if not math.isfinite(v)]
    if bad:
        i = bad[0]
        out.append(
            finding(
                "train.diverging",
                f"in {where}, the training loss became {losses[i]} at step {i} (last finite value "
                f"{next((v for v in reversed(losses[:i]) if math.isfinite(v)), float('nan')):.4g})",
                evidence={"step": i, "value": str(losses[i])},
                strength=3.0,
            )
        )
        return out  # the curve before the blow-up says nothing more
    n = len(losses)
    if val:
        out += overfitting(losses, val, where)
    if n < MIN_STEPS:
        return out
    x = np.asarray(losses, dtype=np.float64)
    window = max(5, (n // 20) | 1)
    trend = running_median(x, window)
    k_head = max(5, n // 20)
    k_tail = max(5, n // 5)
    head = float(np.median(x[:k_head]))
    tail = float(np.median(x[-k_tail:]))
    segments = [float(np.median(part)) for part in np.array_split(x, 5)]
    best = min(segments[:-1])
    resid = x - trend
    sigma = float(1.4826 * np.median(np.abs(resid - np.median(resid))))
    evidence = {"steps": n, "head": head, "tail": tail, "best": best, "noise": sigma}
    floor = max(0.02 * abs(head), 3 * 1.2533 * sigma * math.sqrt(1 / k_head + 1 / k_tail))
    rose = tail - head > floor
    relapsed = (
        head - best > floor
        and tail - best > max(floor, 0.5 * (head - best))
        and tail > 1.5 * best
        and best > 0
    )
    if rose or relapsed:
        how = (
            f"rose from {head:.4g} to {tail:.4g}"
            if rose
            else f"fell to {best:.4g} and then rose to {tail:.4g} (it started at {head:.4g})"
        )
        out.append(
            finding(
                "train.diverging",
                f"in {where}, the training loss {how}",
                evidence=evidence,
                strength=float(math.log10(max(tail, 1e-12) / max(min(best, head), 1e-12))) + 1.0,
            )
        )
        return out
    gain = head - tail
    if gain < floor:
        out.append(
            finding(
                "train.stuck",
                f"in {where} ({n} steps), the training loss went {head:.4g} -> {tail:.4g} "
                f"(medians of the first 5% and last 20% of steps): no decrease beyond its noise "
                f"({sigma:.2g})",
                evidence=evidence,
                strength=1.0 + float(floor > 0 and (floor - gain) / floor),
            )
        )
    elif trivial is not None and trivial > 0 and tail >= 0.95 * trivial:
        out.append(
            finding(
                "train.stuck",
                f"in {where} ({n} steps), the training loss ended at {tail:.4g}, still the loss "
                f"of "
                f"a constant prediction ({trivial:.4g}): nothing that depends on the input was "
                "learned",
                evidence={**evidence, "constant_prediction_loss": trivial},
                strength=1.0,
            )
        )
    if fixed is not None and len(fixed) == n and np.all(np.isfinite(fixed)):
        f = np.asarray(fixed, dtype=np.float64)
        f_head = float(np.median(f[:k_head]))
        _oscillation(out, f, running_median(f, window), n, f_head, where, " on a fixed batch")
    else:
        _oscillation(out, x, trend, n, head, where)
    return out


def _oscillation(out, x, trend, n, head, where, which="") -> None:
    half = n // 2
    r = (x - trend)[half:]
    swing = float(1.4826 * np.median(np.abs(r - np.median(r))))
    mid = float(np.median(x[n // 3 : 2 * n // 3]))
    tail = float(np.median(x[-max(5, n // 5) :]))
    if head > 0 and swing > SWING * head and tail >= SETTLE * mid:
        out.append(
            finding(
                "train.oscillating",
                f"in {where}, the training loss{which} swings by {swing:.3g} from step to step in "
                f"the second "
                f"half ({swing / head:.0%} of its starting level {head:.3g}) and does not settle "
                f"(middle third {mid:.3g}, last fifth {tail:.3g})",
                evidence={"swing": swing, "head": head, "middle": mid, "tail": tail},
                strength=1.0 + swing / head,
            )
        )


def overfitting(losses, val, where="the run") -> list:
    """``train.overfitting`` from the training losses and ``val`` = [(step, loss)]."""
    x = np.asarray(losses, dtype=np.float64)
    if len(val) < 3 or x.size == 0:
        return []
    steps = [s for s, _ in val]
    values = np.asarray([v for _, v in val], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return []
    k = int(np.argmin(values))
    last = float(values[-1])
    low = float(values[k])
    if k == len(values) - 1 or last <= 1.1 * low:
        return []
    at_min = min(max(steps[k], 0), len(x) - 1)
    window = max(1, len(x) // 20)
    train_then = float(np.median(x[max(0, at_min - window) : at_min + 1]))
    train_now = float(np.median(x[-window:]))
    if not train_now < train_then:
        return []
    return [
        finding(
            "train.overfitting",
            f"in {where}, the validation loss reached {low:.4g} at step {steps[k]} and rose to "
            f"{last:.4g} ({last / low - 1:.0%} higher) while the training loss kept falling "
            f"({train_then:.4g} -> {train_now:.4g})",
            evidence={
                "val_best": low,
                "val_best_step": steps[k],
                "val_last": last,
                "train_at_val_best": train_then,
                "train_last": train_now,
            },
            strength=float(math.log10(last / low)) * 10,
        )
    ]
