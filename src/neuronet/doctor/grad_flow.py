"""Gradient flow: per-layer activations and gradients from one forward/backward, and the checks
that read them (``grad.vanishing``, ``grad.exploding``, ``act.dead_relu``, ``act.saturated``).

``measure`` runs one batch through a copy of the model with a forward hook on every leaf module
(its output's mean/std, and a tensor hook for the gradient reaching that output) and, through
anomaly mode's op observer, the output of every ReLU/sigmoid/tanh op, named by the module it ran
in (so ``F.relu`` inside a custom ``forward`` is seen as well as ``nn.ReLU``).

The measures and thresholds (why, in docs/doctor.md):
- relative gradient of a layer, rho = ||dL/dW|| / ||W|| (Frobenius norms of its weight): how
  fast plain SGD changes that layer. ``grad.vanishing`` when the first weighted layer's rho is
  below ``VANISH`` = 1e-2 times the last one's: early layers learn 100x slower.
- backpropagated signal, ||dL/dh|| per sample at each layer's output. ``grad.exploding`` when it
  grows more than ``EXPLODE`` = 100x from the last layer to the first (each layer multiplies the
  gradient by a factor above 1, as in a deep net initialised too large).
- dead ReLU units: a unit (feature, or channel of a convolution) whose output is 0 for every
  sample of every measured batch (at least 128 samples at init; the sampled steps of a run
  together). ``act.dead_relu`` when more than ``DEAD`` = 50% of a layer's units are
  dead (an error when all are: no gradient passes that layer).
- saturated sigmoid/tanh: outputs where the derivative is below ~4% of its maximum (sigmoid
  outside [0.01, 0.99], |tanh| > 0.99). ``act.saturated`` when more than ``SATURATED`` = 50% of a
  layer's outputs are.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.anomaly import observe, site_names
from neuronet.autograd.tensor import Tensor
from neuronet.ops.fast import reference_of

VANISH = 1e-2
EXPLODE = 1e2
DEAD = 0.5
SATURATED = 0.5
_SKIP_TYPES = ("Embedding", "EmbeddingBag")


def _unit_axis(y: np.ndarray) -> int:
    return y.ndim - 1 if y.ndim == 3 else 1


def _act_stats(name: str, y: np.ndarray) -> dict:
    if name == "ReLU":
        if y.ndim < 2:
            return {}
        axis = _unit_axis(y)
        other = tuple(i for i in range(y.ndim) if i != axis)
        alive = (y > 0).any(axis=other)
        return {
            "units": int(alive.size),
            "dead": float(1.0 - alive.mean()),
            "alive": alive,
            "samples": int(y.shape[0]),
        }
    if name == "Sigmoid":
        return {"saturated": float(((y < 0.01) | (y > 0.99)).mean())}
    if name == "Tanh":
        return {"saturated": float((np.abs(y) > 0.99).mean())}
    return {}


class Measurement:
    """One batch's per-layer numbers.

    Attributes:
        layers: {path: {'type', 'out_mean', 'out_std', 'grad_norm', 'rho', 'weighted'}} in
            call order (leaf modules).
        acts: {(path, op): {'dead' or 'saturated', 'units'}}.
        loss: the batch's loss value.
        step: the optimizer steps taken before it (0: at init).
        update_ratios: {path: |w_after - w_before| / |w_before|} over the step that followed
            (filled by ``watch`` on its sampled steps).
    """

    def __init__(self, step: int = 0):
        self.layers = {}
        self.acts = {}
        self.update_ratios = {}
        self.loss = None
        self.step = step


def _merge(acts: dict, key, stats: dict) -> None:
    """Record an activation op's statistics; a second call of the same op in the same module
    (a module used twice, a loop) adds its samples."""
    old = acts.get(key)
    if (
        old is None
        or "alive" not in stats
        or "alive" not in old
        or old["alive"].shape != stats["alive"].shape
    ):
        acts[key] = stats
        return
    alive = old["alive"] | stats["alive"]
    acts[key] = {
        "units": int(alive.size),
        "dead": float(1.0 - alive.mean()),
        "alive": alive,
        "samples": old["samples"] + stats["samples"],
    }


def record_layers(model, result: Measurement, root=None) -> tuple:
    """Hooks that fill ``result`` during one forward and backward of ``model``: a forward hook on
    every leaf module (output mean and std, and dL/d(output) per sample through a tensor hook)
    for ``result.layers``, and an observer for ``anomaly.observe`` that collects dead or
    saturated units of the ReLU/Sigmoid/Tanh ops into ``result.acts`` (module paths relative to
    ``root`` when given). Returns (hook handles to remove afterwards, the observer)."""
    handles = []
    for path, module in model.named_modules():
        if any(True for _ in module.children()):
            continue

        def hook(m, args, out, path=path):
            if isinstance(out, (tuple, list)):
                out = out[0] if out and isinstance(out[0], Tensor) else None
            if not isinstance(out, Tensor) or out.dtype.kind != "f" or out.ndim == 0:
                return
            row = result.layers.setdefault(path, {"type": type(m).__name__, "calls": 0})
            row["calls"] += 1
            arr = out.array
            row["out_mean"] = float(arr.mean())
            row["out_std"] = float(arr.std())
            if out.requires_grad:

                def grad_hook(g, row=row):
                    a = g.array.reshape(g.shape[0], -1) if g.ndim > 1 else g.array[None]
                    row["grad_norm"] = float(np.sqrt((a.astype(np.float64) ** 2).sum(1).mean()))

                out.register_hook(grad_hook)

        handles.append(module.register_forward_hook(hook))

    def observer(fn, raw, site):
        name = reference_of(fn).__name__  # CompiledReLU (ops/fast/) is a ReLU
        if name in ("ReLU", "Sigmoid", "Tanh") and isinstance(raw, np.ndarray):
            stats = _act_stats(name, raw)
            if stats:
                path = site_names(site, root=root)[0]
                _merge(result.acts, (path or "(model)", name), stats)

    return handles, observer


def measure(exam, model, batch, check_nan: bool = True) -> Measurement:
    """Forward and backward one batch through ``model`` (a copy) and record the layer numbers.
    Raises ``AnomalyError`` at the first NaN/Inf when ``check_nan``."""
    result = Measurement()
    handles, observer = record_layers(model, result)
    try:
        with observe(observer, check_nan=check_nan):
            model.train()
            loss = exam.loss_of(model, batch)
            result.loss = float(loss.item())
            loss.backward()
    finally:
        for h in handles:
            h.remove()
    for path, module in model.named_modules():
        row = result.layers.get(path)
        weight = module._parameters.get("weight") if path in result.layers else None
        if row is None:
            continue
        row["weighted"] = weight is not None and weight.ndim >= 2 and row["type"] not in _SKIP_TYPES
        if row["weighted"] and weight.grad is not None:
            w = float(np.linalg.norm(weight.array))
            g = float(np.linalg.norm(weight.grad.array))
            row["rho"] = g / w if w > 0 else None
            row["weight_norm"] = w
    return result


def _mean_over(measurements, path, key):
    vals = [m.layers[path].get(key) for m in measurements if path in m.layers]
    vals = [v for v in vals if v is not None and np.isfinite(v)]
    return float(np.exp(np.mean(np.log(np.maximum(vals, 1e-30))))) if vals else None


def summarise(measurements) -> dict:
    """Per-layer geometric means over several measurements (the stage's table)."""
    first = measurements[0]
    rows = []
    for path, row in first.layers.items():
        entry = {
            "layer": path,
            "type": row["type"],
            "out_mean": row.get("out_mean"),
            "out_std": row.get("out_std"),
            "grad_norm": _mean_over(measurements, path, "grad_norm"),
        }
        if row.get("weighted"):
            entry["rho"] = _mean_over(measurements, path, "rho")
        rows.append(entry)
    acts = {}
    for m in measurements:
        for key, stats in m.acts.items():
            acts.setdefault(key, []).append(stats)
    act_rows = []
    for (path, op), stats in acts.items():
        entry = {"layer": path, "op": op, "units": stats[0].get("units")}
        masks = [s["alive"] for s in stats if "alive" in s]
        if masks and all(m.shape == masks[0].shape for m in masks):
            # a unit is dead only if it was silent on every sample of every measurement
            alive = np.logical_or.reduce(masks)
            entry["dead"] = float(1.0 - alive.mean())
            entry["samples"] = int(sum(s["samples"] for s in stats if "samples" in s))
        vals = [s["saturated"] for s in stats if "saturated" in s]
        if vals:
            entry["saturated"] = float(np.mean(vals))
        act_rows.append(entry)
    return {"layers": rows, "acts": act_rows}


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.2e}"


# Measured after training has moved the weights, these are symptoms the rate (or a loop bug)
# can cause, and they explain nothing themselves: at init they are causes.
TRAINING_CAUSES = ("lr.too_high", "opt.missing_zero_grad")


def check(exam, summary: dict, when: str, during_training: bool = False) -> None:
    """Add the gradient-flow and activation findings for a summary (``when``: 'at init' or
    'during training'; ``during_training`` marks them as symptoms of the rate)."""
    if during_training:
        exam = _AsSymptoms(exam)
    weighted = [r for r in summary["layers"] if r.get("rho") is not None]
    if len(weighted) >= 2:
        first, last = weighted[0], weighted[-1]
        rhos = {r["layer"]: r["rho"] for r in weighted}
        if last["rho"] > 0:
            ratio = first["rho"] / last["rho"]
            if ratio < VANISH:
                exam.add(
                    "grad.vanishing",
                    f"{when}, the first layer '{first['layer']}' ({first['type']}) "
                    + (
                        "gets no gradient at all"
                        if first["rho"] < 1e-20
                        else f"gets a relative gradient ||dL/dW||/||W|| of {first['rho']:.2e}, "
                        f"{1 / ratio:.0e}x smaller than"
                    )
                    + (
                        f" (the last layer '{last['layer']}' gets {last['rho']:.2e})"
                        if first["rho"] < 1e-20
                        else f" the last layer '{last['layer']}' ({last['rho']:.2e})"
                    ),
                    module=first["layer"],
                    evidence={"ratio_first_to_last": ratio, "relative_gradients": rhos},
                    strength=float(np.log10(VANISH / max(ratio, 1e-30))) + 1.0,
                )
    signal = [
        r
        for r in summary["layers"]
        if r.get("grad_norm") and r["layer"] in {w["layer"] for w in weighted}
    ]
    if len(signal) >= 2 and signal[-1]["grad_norm"] > 0:
        growth = signal[0]["grad_norm"] / signal[-1]["grad_norm"]
        if growth > EXPLODE:
            exam.add(
                "grad.exploding",
                f"{when}, the gradient reaching '{signal[0]['layer']}' is {growth:.0e}x larger "
                f"than at the last layer '{signal[-1]['layer']}' "
                f"({signal[0]['grad_norm']:.2e} vs {signal[-1]['grad_norm']:.2e} per sample)",
                module=signal[0]["layer"],
                evidence={
                    "growth_first_to_last": growth,
                    "grad_norms": {r["layer"]: r["grad_norm"] for r in signal},
                },
                strength=float(np.log10(growth / EXPLODE)) + 1.0,
            )
    _check_acts(exam, summary["acts"], when)


class _AsSymptoms:
    """Adds findings through ``sink`` with the training-time causes and ``can_explain=False``."""

    def __init__(self, sink):
        self.sink = sink

    def add(self, code, message, **kwargs):
        from neuronet.doctor.findings import CODES

        kwargs.setdefault("causes", CODES[code].causes + TRAINING_CAUSES)
        kwargs.setdefault("can_explain", False)
        return self.sink.add(code, message, **kwargs)


def _check_acts(exam, acts, when) -> None:
    dead = sorted((a for a in acts if a.get("dead", 0) > DEAD), key=lambda a: -a["dead"])
    if dead:
        worst = dead[0]
        others = ", ".join(f"'{a['layer']}' {a['dead']:.0%}" for a in dead[1:4])
        exam.add(
            "act.dead_relu",
            f"{when}, {worst['dead']:.0%} of the {worst['units']} ReLU units in "
            f"'{worst['layer']}' output 0 for every one of {worst.get('samples', '?')} samples"
            + (f" (also {others})" if others else ""),
            severity="error" if worst["dead"] >= 0.99 else "warning",
            module=worst["layer"],
            evidence={
                "dead_fraction": {a["layer"]: a["dead"] for a in dead},
                "samples": worst.get("samples"),
            },
            strength=float(worst["dead"]) * 2,
        )
    sat = sorted(
        (a for a in acts if a.get("saturated", 0) > SATURATED), key=lambda a: -a["saturated"]
    )
    if sat:
        worst = sat[0]
        others = ", ".join(f"'{a['layer']}' {a['saturated']:.0%}" for a in sat[1:4])
        exam.add(
            "act.saturated",
            f"{when}, {worst['saturated']:.0%} of the {worst['op'].lower()} outputs in "
            f"'{worst['layer']}' sit where its derivative is under 4% of its maximum"
            + (f" (also {others})" if others else ""),
            module=worst["layer"],
            evidence={"saturated_fraction": {a["layer"]: a["saturated"] for a in sat}},
            strength=float(worst["saturated"]) * 2,
        )


def table(summary: dict) -> list:
    """Rows for the report: one per leaf layer, with its activation statistics merged in."""
    by_layer = {}
    for a in summary["acts"]:
        by_layer.setdefault(a["layer"], a)
    rows = []
    for r in summary["layers"]:
        act = by_layer.get(r["layer"], {})
        rows.append(
            {
                "layer": r["layer"],
                "type": r["type"],
                "out mean": None if r["out_mean"] is None else round(r["out_mean"], 4),
                "out std": None if r["out_std"] is None else round(r["out_std"], 4),
                "grad/sample": _fmt(r.get("grad_norm")),
                "||dW||/||W||": _fmt(r.get("rho")),
                "dead": f"{act['dead']:.0%}" if "dead" in act else "",
                "saturated": f"{act['saturated']:.0%}" if "saturated" in act else "",
            }
        )
    return rows
