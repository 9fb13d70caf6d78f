"""Naming the first NaN/Inf of a real training loop after the fact (``numerics.non_finite``).

A watched loop runs at full speed, without anomaly mode. When its loss turns non-finite, or a
gradient does, ``locate`` replays the failing step on a deep copy of the model in anomaly mode,
with the batch the loop just used (and, for a gradient, the gradient that reached the model's
output), and reports what ``detect_anomaly`` raises: the op, the phase, the module and the line.
The global RNG is saved and restored around the replay, so dropout draws do not shift.
"""

from __future__ import annotations

import copy

import numpy as np

from neuronet.autograd.anomaly import AnomalyError, detect_anomaly
from neuronet.autograd.tensor import Tensor
from neuronet.doctor.findings import finding
from neuronet.random import get_rng_state, set_rng_state


def _nonfinite_rows(value) -> np.ndarray:
    if not isinstance(value, Tensor) or value.dtype.kind != "f" or value.ndim == 0:
        return np.zeros(0, np.int64)
    a = value.array.reshape(len(value.array), -1)
    return np.flatnonzero(~np.isfinite(a).all(axis=1))


def describe(err: AnomalyError) -> str:
    """``'Exp.forward produced Inf in module 'head' (Linear), called from train.py:42'``."""
    kind = {"nan": "NaN", "inf": "Inf"}[err.kind]
    where = f", called from {err.where}" if err.where else ""
    place = (
        f" in module '{err.module}' ({err.module_type})"
        if err.module
        else f" in the model itself ({err.module_type})"
        if err.module_type
        else " outside any module"
    )
    source = "" if err.inputs_finite else " (its input already held NaN/Inf)"
    return f"{err.op}.{err.phase} produced {kind}{place}{where}{source}"


def from_error(err: AnomalyError, when: str):
    return finding(
        "numerics.non_finite",
        f"{when}: {describe(err)}",
        module=err.module or None,
        evidence={
            "op": err.op,
            "phase": err.phase,
            "kind": err.kind,
            "where": err.where,
            "shapes": {k: str(v) for k, v in err.shapes.items()},
            "inputs_finite": err.inputs_finite,
        },
        strength=3.0 if err.inputs_finite else 1.0,
    )


def bad_parameters(model) -> list:
    """Dotted names of parameters holding NaN/Inf."""
    return [n for n, p in model.named_parameters() if not np.isfinite(p.array).all()]


def locate(model, inputs, when: str, output_grad=None) -> list:
    """Findings that explain a non-finite loss (``output_grad`` None) or gradient of the step that
    ran ``model(*inputs)``."""
    found = []
    for i, x in enumerate(inputs or ()):
        rows = _nonfinite_rows(x)
        if rows.size:
            found.append(
                finding(
                    "data.non_finite",
                    f"{when}: input {i} of the batch holds NaN/Inf in rows {rows[:20].tolist()}",
                    evidence={"rows_in_batch": rows[:200].tolist()},
                    strength=3.0,
                )
            )
    if found:
        return found
    params = bad_parameters(model)
    if params:
        # An update wrote them, from a gradient that went non-finite somewhere in the backward
        # pass and then reached every parameter before that point: the deepest one (the last
        # in registration order, which is usually the forward order) is nearest its source.
        deepest = params[-1]
        module = deepest.rsplit(".", 1)[0] if "." in deepest else None
        more = f" (and {len(params) - 1} earlier ones)" if len(params) > 1 else ""
        found.append(
            finding(
                "numerics.non_finite",
                f"{when}: parameter '{deepest}'{more} already holds NaN/Inf: an earlier update "
                "wrote it, from a non-finite or huge gradient that arose in the backward pass at "
                "or after this module",
                module=module,
                evidence={"parameters": params[:20]},
                strength=2.0,
            )
        )
        return found
    if inputs is None:
        return found
    state = get_rng_state()
    replica = copy.deepcopy(model)
    try:
        with detect_anomaly():
            out = replica(*inputs)
            if output_grad is not None and isinstance(out, Tensor) and out.requires_grad:
                g = np.asarray(output_grad)
                if g.shape != out.shape:  # from an earlier step: a unit gradient stands in
                    g = np.ones(out.shape, dtype=out.dtype)
                out.backward(Tensor(g.astype(out.dtype, copy=False)))
    except AnomalyError as err:
        found.append(from_error(err, when))
    except Exception:  # the replay is best effort: never hide the user's own error
        pass
    finally:
        set_rng_state(state)
    if not found:
        what = "gradient reaching the model's output" if output_grad is not None else "loss"
        found.append(
            finding(
                "numerics.non_finite",
                f"{when}: the {what} is NaN/Inf while the model's forward pass is finite: the loss "
                "computation produced it (run the step under neuronet.autograd.detect_anomaly() to "
                "name the op)",
                evidence={},
                strength=1.5,
            )
        )
    return found
