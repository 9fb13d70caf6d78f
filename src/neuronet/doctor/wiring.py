"""Stage 2, shapes and loss wiring: one dry batch through a copy of the model with every layer's
output shape, then the checks that a loss is fed what it expects.

- ``loss.broadcast``: output and target shapes differ and broadcast to a larger shape. Confirmed
  by behaviour, not only by shapes: a *perfect* prediction (the target itself, in the output's
  shape) must score lower than the same prediction shuffled against the targets. A loss that
  compares every output with every target scores both the same.
- ``loss.double_softmax``: a loss that applies softmax/sigmoid itself (cross_entropy,
  bce_with_logits, or a custom loss invariant to adding a constant to every logit) is fed outputs
  that are already probabilities (every row in [0, 1] summing to 1, or every value in (0, 1)).
- ``loss.mismatch``: regression losses on integer class indices, cross-entropy on continuous
  targets or on a single output, nll_loss on outputs that are not log-probabilities, BCE on
  targets outside [0, 1], a loss that is not a scalar, or a loss that rejects the pair.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.grad_mode import no_grad
from neuronet.autograd.tensor import Tensor
from neuronet.doctor.inputs import infer_task

_TOL = 1e-3


def _shape_of(out):
    if isinstance(out, Tensor):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return [_shape_of(o) for o in out if isinstance(o, Tensor)]
    return type(out).__name__


def _first_line(err: Exception) -> str:
    return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"


def probe(exam) -> None:
    """Run one batch through a copy of the model, recording each module's output shape; set
    ``exam.task`` and ``exam.output_shape`` (or ``exam.blocked`` when the model fails)."""
    model, _ = exam.fresh()
    gen = exam.generator(3)
    batch = next(exam.rows.batches(gen, min(exam.rows.batch_size, 64)))
    exam.probe_batch = batch
    layers = []
    handles = []
    for path, module in model.named_modules():

        def hook(m, args, out, path=path):
            n = sum(p.numel() for p in m.parameters(recurse=False))
            layers.append(
                {
                    "layer": path or "(model)",
                    "type": type(m).__name__,
                    "output": str(_shape_of(out)),
                    "params": int(n),
                    "leaf": not any(True for _ in m.children()),
                }
            )

        handles.append(module.register_forward_hook(hook))
    exam.layers = layers
    try:
        with no_grad():
            out = exam.forward(model, batch[0])
    except (ValueError, RuntimeError, TypeError, IndexError) as err:
        last = layers[-1]["layer"] if layers else None
        exam.blocked = f"the model fails on a batch: {_first_line(err)}"
        exam.add(
            "shape.mismatch",
            f"the model cannot run a batch of inputs {[tuple(x.shape) for x in batch[0]]}: "
            f"{_first_line(err)}" + (f" (last layer that ran: '{last}')" if last else ""),
            evidence={"error": str(err)[:500], "layers_ran": len(layers)},
            strength=3.0,
        )
        return
    finally:
        for h in handles:
            h.remove()
    exam.probe_raw = out  # as the loss receives it (a tuple for some models)
    if isinstance(out, (tuple, list)):
        out = out[0]
    exam.probe_output = out
    exam.output_shape = tuple(out.shape)
    target = batch[1]
    exam.task = infer_task(exam.loss, out.array, None if target is None else target.array)


def _loss(exam, out: np.ndarray, target: Tensor):
    with no_grad():
        value = exam.loss.fn(Tensor(out.astype(np.float32, copy=False)), target)
    return value


def _is_probabilities(out: np.ndarray, axis: int) -> bool:
    if out.size < 16 or out.min() < 0 or out.max() > 1:
        return False
    return bool(np.allclose(out.sum(axis=axis), 1.0, atol=_TOL))


def _check_broadcast(exam, out: np.ndarray, y: np.ndarray) -> bool:
    try:
        shape = np.broadcast_shapes(out.shape, y.shape)
    except ValueError:
        return False
    if int(np.prod(shape)) <= max(out.size, y.size):
        return False
    evidence = {
        "output_shape": list(out.shape),
        "target_shape": list(y.shape),
        "broadcast_shape": list(shape),
    }
    if out.size == y.size and y.dtype.kind == "f" and np.std(y) > 0:
        perfect = y.reshape(out.shape).astype(np.float32)
        perm = exam.generator(4).permutation(len(perfect))
        try:
            matched = float(_loss(exam, perfect, Tensor(y)).item())
            shuffled = float(_loss(exam, perfect[perm], Tensor(y)).item())
        except (ValueError, RuntimeError, TypeError, IndexError):
            matched = shuffled = None
        if matched is not None:
            evidence.update(perfect_prediction_loss=matched, shuffled_prediction_loss=shuffled)
            if abs(matched - shuffled) > _TOL * max(abs(shuffled), 1e-12):
                return False  # the loss does pair outputs with their own targets
            detail = (
                f"; a perfect prediction scores {matched:.4g}, the same as the "
                f"shuffled one ({shuffled:.4g})"
            )
        else:
            detail = ""
    else:
        detail = ""
    exam.add(
        "loss.broadcast",
        f"output {tuple(out.shape)} and target {tuple(y.shape)} broadcast to "
        f"{tuple(shape)} in the loss: each output is compared with every target{detail}",
        evidence=evidence,
        strength=3.0,
    )
    return True


def _look_like_class_indices(out: np.ndarray, y: np.ndarray) -> bool:
    """Float targets that are whole numbers 0..C-1, one per sample, while the model gives C > 1
    scores per sample: class indices stored as floats, fed to a regression loss."""
    if out.ndim != 2 or out.shape[1] < 2 or y.ndim != 1 or y.shape[0] != out.shape[0]:
        return False
    if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
        return False
    return bool(y.min() >= 0 and y.max() < out.shape[1])


def _check_mismatch(exam, out: np.ndarray, y: np.ndarray) -> None:
    kind = exam.loss.kind
    integer = y.dtype.kind in "iub"
    msg = None
    if kind == "regression" and (integer or _look_like_class_indices(out, y)):
        msg = (
            f"{exam.loss.name} (a regression loss) is given "
            f"{'integer' if integer else 'whole-number'} targets "
            f"{np.unique(y)[:10].tolist()}..."
            + (
                f" for {out.shape[1]} outputs per sample: these are class indices; use "
                "cross_entropy with integer targets (y.long())"
                if out.ndim == 2 and out.shape[1] > 1
                else ": class indices need cross_entropy"
            )
        )
    elif kind in ("cross_entropy", "nll") and not integer and y.shape != out.shape:
        whole = bool(np.all(np.isfinite(y)) and np.all(y == np.round(y)))
        msg = (
            f"{exam.loss.name} needs integer class indices (or class probabilities of the "
            f"output's shape {tuple(out.shape)}), but the targets are {y.dtype} values "
            f"{np.unique(y)[:5].tolist()}..."
            + (
                ": convert them with target.long()"
                if whole
                else ": continuous targets need a regression loss (mse, l1, huber)"
            )
        )
    elif kind == "cross_entropy" and out.ndim >= 2 and out.shape[1] == 1 and integer:
        msg = (
            "cross_entropy over a single output is always 0: use 2+ outputs, or one output "
            "with binary_cross_entropy_with_logits"
        )
    elif kind == "nll" and (
        out.max() > _TOL
        or not np.allclose(np.log(np.exp(out.astype(np.float64)).sum(axis=1)), 0, atol=1e-2)
    ):
        msg = (
            f"nll_loss expects log-probabilities, but the outputs are not (values up to "
            f"{out.max():.3g}, rows of exp() do not sum to 1): add LogSoftmax or use "
            "cross_entropy on the logits"
        )
    elif kind in ("bce", "bce_logits") and y.dtype.kind == "f" and (y.min() < 0 or y.max() > 1):
        msg = f"{exam.loss.name} needs targets in [0, 1]; they range {y.min():.3g}..{y.max():.3g}"
    if msg:
        exam.add(
            "loss.mismatch",
            msg,
            evidence={
                "loss": exam.loss.name,
                "target_dtype": str(y.dtype),
                "output_shape": list(out.shape),
            },
            strength=3.0,
        )
    return msg is not None


def _check_double_softmax(exam, out: np.ndarray, y: np.ndarray, last) -> None:
    kind = exam.loss.kind
    task = exam.task
    probs = False
    if task.kind == "classification" and out.ndim >= 2:
        probs = _is_probabilities(out, task.class_axis)
    elif task.kind == "binary":
        probs = out.size >= 16 and out.min() > 0 and out.max() < 1
    if not probs:
        return
    expects_logits = kind in ("cross_entropy", "bce_logits")
    if kind == "custom" and task.kind == "classification":
        try:
            base = float(_loss(exam, out, Tensor(y)).item())
            shifted = float(_loss(exam, out + 1.0, Tensor(y)).item())
            expects_logits = abs(base - shifted) <= _TOL * max(abs(base), 1e-12)
        except (ValueError, RuntimeError, TypeError, IndexError):
            expects_logits = False
    if not expects_logits:
        return
    module = last["layer"] if last and last["type"] in ("Softmax", "Sigmoid") else None
    exam.add(
        "loss.double_softmax",
        "the model's outputs are already probabilities (all in [0, 1]"
        + (", rows summing to 1" if task.kind == "classification" else "")
        + f"{', from ' + last['type'] + ' ' + repr(module) if module else ''}) and "
        f"{exam.loss.name} applies softmax/sigmoid again",
        module=module,
        evidence={"output_min": float(out.min()), "output_max": float(out.max())},
        strength=3.0,
    )


def run(exam) -> None:
    """Stage 2: report the layer shapes and check the loss wiring."""
    stage = exam.stage("wiring", "2. Shapes and loss wiring")
    stage.table = [{k: v for k, v in row.items() if k != "leaf"} for row in exam.layers]
    if exam.output_shape is None:
        stage.skipped = exam.blocked
        return
    batch = exam.probe_batch
    out = exam.probe_output.array
    target = batch[1]
    stage.numbers.update(
        output_shape=list(out.shape),
        loss=exam.loss.name,
        loss_kind=exam.loss.kind,
        task=exam.task.kind,
        num_classes=exam.task.num_classes,
    )
    if target is None:
        stage.lines.append(f"output {tuple(out.shape)}; the data has no targets")
        exam.blocked = "the data has no targets"
        return
    y = target.array
    stage.numbers["target_shape"] = list(y.shape)
    stage.lines.append(
        f"output {tuple(out.shape)} for target {tuple(y.shape)} ({y.dtype}); loss "
        f"{exam.loss.name} ({exam.loss.kind}); task {exam.task.kind}"
        + (f" with {exam.task.num_classes} classes" if exam.task.num_classes else "")
    )
    plain = isinstance(exam.probe_raw, Tensor)  # synthetic outputs only replace a plain one
    mismatch = _check_mismatch(exam, out, y)
    broadcast = (
        plain
        and not mismatch
        and exam.loss.kind not in ("cross_entropy", "nll")
        and _check_broadcast(exam, out, y)
    )
    try:
        with no_grad():
            value = exam.loss.fn(exam.probe_raw, target)
    except (ValueError, RuntimeError, TypeError, IndexError) as err:
        text = _first_line(err)
        exam.blocked = f"the loss rejects the model's output: {text}"
        known = {f.code for f in exam.findings}
        if "data.label_out_of_range" in known or "loss.mismatch" in known or broadcast:
            return
        code = "loss.broadcast" if "broadcast" in text else "loss.mismatch"
        extra = {}
        if _classes_last(exam, out, y):
            c = out.shape[-1]
            extra["prescription"] = (
                f"the output holds its {c} classes on the last axis, as a sequence model's "
                f"(N, T, {c}) logits do, while {exam.loss.name} takes them on axis 1 (PyTorch's "
                "rule): flatten both, loss=lambda out, y: F.cross_entropy(out.reshape(-1, "
                "out.shape[-1]), y.reshape(-1)), or pass out.transpose(1, 2)"
            )
        exam.add(
            code,
            f"{exam.loss.name} fails on output {tuple(out.shape)} and target "
            f"{tuple(y.shape)} ({y.dtype}): {text}",
            evidence={"error": str(err)[:500]},
            strength=3.0,
            **extra,
        )
        return
    if not isinstance(value, Tensor) or value.array.size != 1:
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        exam.blocked = f"the loss returns {shape}, not a scalar"
        exam.add(
            "loss.mismatch",
            f"the loss returns {shape}, not a scalar: reduce it "
            "(.mean()) so backward() has one value to differentiate",
            evidence={"loss_shape": str(shape)},
            strength=3.0,
        )
        return
    stage.numbers["loss_on_probe"] = float(value.item())
    leaves = [row for row in exam.layers if row["leaf"]]
    if plain:
        _check_double_softmax(exam, out, y, leaves[-1] if leaves else None)


def _classes_last(exam, out, y) -> bool:
    """Class indices (N, T, ...) against logits with the classes on the last axis."""
    return (
        exam.loss.kind in ("cross_entropy", "nll")
        and y.dtype.kind in "iu"
        and out.ndim == y.ndim + 1
        and out.ndim >= 3
        and tuple(out.shape[:-1]) == tuple(y.shape)
    )
